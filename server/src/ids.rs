//! Identifiers: short, random, URL-safe, like Statuspage's.

use rand::Rng;

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// A new 12-character identifier (about 62 bits of randomness).
pub fn new_id() -> String {
    let mut rng = rand::rng();
    (0..12)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}
