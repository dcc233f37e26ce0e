//! What Sent mail shows of the secrets a message carries (#15.8).
//!
//! A mail's links hold tokens (`?token=…`: a subscriber's confirm, manage
//! and unsubscribe links, a customer's sign-in link, a staff member's
//! one-time link), and whoever holds one can act as its recipient. A
//! webhook's URL is often its receiver's only credential (chat services
//! put the key in the path). Communications staff read Sent mail to check
//! what went out, which needs neither, so they see placeholders; admins
//! see enough to tell messages apart (a token's first characters, the
//! URL's host), never enough to use one. Every page that shows a stored
//! message passes it through here.

use crate::staff::roles::{Role, Roles};

/// What a token becomes for a reader who is not an admin.
pub const TOKEN_HIDDEN: &str = "[token hidden]";
/// What a webhook's URL becomes for a reader who is not an admin.
pub const WEBHOOK_URL_HIDDEN: &str = "[webhook URL hidden]";
/// How many characters of a token an admin sees...
const TOKEN_SHOWN: usize = 4;
/// ...and only of a token longer than this, so that what stays hidden is
/// still far too much to guess.
const TOKEN_SHOWN_FROM: usize = 16;
/// Where a link's token starts.
const TOKEN_KEY: &str = "token=";

/// Who reads the message, which decides how much of a secret shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Admin,
    /// Anyone else allowed to read Sent mail.
    Staff,
}

impl Reader {
    pub fn of(roles: &Roles) -> Reader {
        if roles.has(Role::Admin) {
            Reader::Admin
        } else {
            Reader::Staff
        }
    }

    /// `text` (a plain-text or HTML body, a subject, a reply) with every
    /// link token in it masked.
    pub fn text(self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(TOKEN_KEY) {
            let (before, after) = rest.split_at(at + TOKEN_KEY.len());
            out.push_str(before);
            let end = after
                .find(|c: char| !is_token_char(c))
                .unwrap_or(after.len());
            let (token, tail) = after.split_at(end);
            if !token.is_empty() {
                out.push_str(&self.token(token));
            }
            rest = tail;
        }
        out.push_str(rest);
        out
    }

    /// A webhook's URL: `scheme://host[:port]/…` for admins, a placeholder
    /// for everyone else (and for a URL that does not parse, whose parts
    /// cannot be told apart).
    pub fn webhook_url(self, url: &str) -> String {
        if self != Reader::Admin {
            return WEBHOOK_URL_HIDDEN.to_string();
        }
        let Ok(parsed) = url::Url::parse(url) else {
            return WEBHOOK_URL_HIDDEN.to_string();
        };
        match parsed.host_str() {
            Some(host) => {
                let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
                format!("{}://{host}{port}/…", parsed.scheme())
            }
            None => WEBHOOK_URL_HIDDEN.to_string(),
        }
    }

    fn token(self, token: &str) -> String {
        match self {
            Reader::Staff => TOKEN_HIDDEN.to_string(),
            // Token characters are ASCII, so the slice ends on a character.
            Reader::Admin if token.len() > TOKEN_SHOWN_FROM => {
                format!("{}…", &token[..TOKEN_SHOWN])
            }
            Reader::Admin => "…".to_string(),
        }
    }
}

/// What a token in a URL may consist of: the unreserved characters, and
/// `%` for one that was percent-encoded. Anything else (`&`, a quote, a
/// space, `<`) ends it.
fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '%')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Xk3_p9-QwErTyUiOpAsDfGhJkLzXcVbNm1234567890";

    #[test]
    fn staff_see_no_token_and_admins_its_first_characters() {
        let text = format!(
            "Confirm: https://s.example/subscribe/confirm?token={TOKEN}\n\
             <a href=\"https://s.example/me/link?token={TOKEN}&amp;lang=sv\">Sign in</a>"
        );
        let staff = Reader::Staff.text(&text);
        assert!(!staff.contains("Xk3_"), "{staff}");
        assert_eq!(staff.matches("token=[token hidden]").count(), 2, "{staff}");
        assert!(
            staff.contains("[token hidden]&amp;lang=sv\">Sign in</a>"),
            "{staff}"
        );
        let admin = Reader::Admin.text(&text);
        assert!(!admin.contains(&TOKEN[..5]), "{admin}");
        assert_eq!(admin.matches("token=Xk3_…").count(), 2, "{admin}");
        assert!(admin.starts_with("Confirm: https://s.example/subscribe/confirm?"));
    }

    #[test]
    fn short_tokens_show_nothing_and_text_without_tokens_is_unchanged() {
        assert_eq!(
            Reader::Admin.text("/unsubscribe?token=t7 end"),
            "/unsubscribe?token=… end"
        );
        assert_eq!(Reader::Admin.text("a token= alone"), "a token= alone");
        assert_eq!(
            Reader::Staff.text("Läs mer på statussidan"),
            "Läs mer på statussidan"
        );
        assert_eq!(Reader::Staff.text(""), "");
        assert_eq!(
            Reader::Staff.text("?csrf_token=abc%2Fdef&x=1"),
            "?csrf_token=[token hidden]&x=1"
        );
    }

    #[test]
    fn webhook_urls_show_only_their_host_to_admins() {
        let url = "https://user:pw@hooks.example.com:8443/services/T00/B00/XXXX?key=s3cret";
        assert_eq!(
            Reader::Admin.webhook_url(url),
            "https://hooks.example.com:8443/…"
        );
        assert_eq!(Reader::Staff.webhook_url(url), WEBHOOK_URL_HIDDEN);
        assert_eq!(
            Reader::Admin.webhook_url("http://[::1]/hook"),
            "http://[::1]/…"
        );
        assert_eq!(Reader::Admin.webhook_url("not a url"), WEBHOOK_URL_HIDDEN);
    }

    #[test]
    fn the_reader_follows_the_admin_role() {
        assert_eq!(Reader::of(&Roles::new(vec![Role::Admin])), Reader::Admin);
        assert_eq!(
            Reader::of(&Roles::new(vec![Role::Communications])),
            Reader::Staff
        );
        assert_eq!(
            Reader::of(&Roles::new(vec![Role::Communications, Role::Admin])),
            Reader::Admin
        );
    }
}
