//! E-mail addresses as people type them.

/// A checked, lower-cased e-mail address, or `None`.
pub fn parse_address(raw: &str) -> Option<String> {
    let email = raw.trim().to_lowercase();
    let valid = email.len() <= 254
        && email.matches('@').count() == 1
        && !email.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, ',' | '<' | '>' | '"' | ';')
        })
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        });
    valid.then_some(email)
}
