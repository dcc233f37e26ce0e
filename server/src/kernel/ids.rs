//! Identifiers and secrets: short random ids like Statuspage's, typed per
//! kind of thing so an incident id cannot be passed where a component id
//! belongs, and random tokens for links, cookies and secrets.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::Rng;
use subtle::ConstantTimeEq;

pub use plaster_engine::CustomerId;

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A new 12-character identifier (about 62 bits of randomness).
pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// 256 random bits, URL-safe: session cookies, e-mail links, webhook secrets.
pub fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Bytes as lowercase hex: hashes as they are stored and shown.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Compares secrets without leaking how much of them matched.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Declares an id type over the text the database stores. Ids come from
/// URLs, forms and the command line, where any string may arrive; what the
/// type buys is that an incident id is never passed as a component's.
macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id.
            pub fn generate() -> Self {
                $name(new_id())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_string())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        /// Shown as the plain string, as error messages always showed ids.
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        /// Reads as the text it is, so store functions that take `&str`
        /// accept it; the other way round (a bare string where an id is
        /// wanted) still needs a conversion.
        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// An incident of the status page.
    IncidentId
);
string_id!(
    /// A component of the status page (`login`, `betting`, ...), chosen by an admin.
    ComponentId
);
string_id!(
    /// A staff account.
    AccountId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_and_url_safe() {
        let id = IncidentId::generate();
        assert_eq!(id.as_str().len(), 12);
        assert!(id.as_str().bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(IncidentId::generate(), id);
    }

    #[test]
    fn tokens_compare_in_full() {
        let t = random_token();
        assert_eq!(t.len(), 43);
        assert!(same_secret(&t, &t.clone()));
        assert!(!same_secret(&t, &random_token()));
        assert!(!same_secret(&t, &t[..42]));
    }
}
