//! Reading posted HTML forms: fields in order, repeated names kept.

use app::dto::Lang;

use crate::kernel::texts::Texts;

/// A form as posted: every field in order, repeated names kept (roles).
pub type Fields = Vec<(String, String)>;

/// The first value of a form field, "" when absent.
pub fn field<'a>(body: &'a [(String, String)], name: &str) -> &'a str {
    body.iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Texts per language from fields `{prefix}_sv`, `{prefix}_nb`, `{prefix}_en`:
/// trimmed, with browser line ends made plain; blank ones are left out.
pub fn texts_field(body: &[(String, String)], prefix: &str) -> Texts {
    Lang::ALL
        .into_iter()
        .filter_map(|lang| {
            let text = field(body, &format!("{prefix}_{}", lang.code())).trim();
            (!text.is_empty()).then(|| (lang, text.replace("\r\n", "\n")))
        })
        .collect()
}
