//! Time-based one-time codes (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1,
//! six digits, 30-second steps, the defaults every authenticator app reads
//! from an `otpauth://` QR code. And the recovery codes that stand in for a
//! lost phone.

use data_encoding::BASE32_NOPAD;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

/// Seconds per code.
pub const STEP_SECS: i64 = 30;
const DIGITS: u32 = 6;
/// A phone's clock may be one step off either way.
const SKEW_STEPS: i64 = 1;
/// Recovery codes issued at a time.
pub const RECOVERY_CODES: usize = 10;

/// A new secret: 160 random bits (RFC 4226's recommended length), base32
/// without padding, as authenticator apps expect it.
pub fn new_secret() -> String {
    BASE32_NOPAD.encode(&rand::random::<[u8; 20]>())
}

/// The time step of a Unix time in seconds.
pub fn step_at(unix_secs: i64) -> i64 {
    unix_secs.div_euclid(STEP_SECS)
}

/// The code for one step, or `None` when the secret is not base32.
pub fn code_at(secret: &str, step: i64) -> Option<String> {
    let key = BASE32_NOPAD.decode(secret.as_bytes()).ok()?;
    let mut mac = Hmac::<Sha1>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    // RFC 4226 §5.3, dynamic truncation.
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let bin = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    Some(format!(
        "{:0width$}",
        bin % 10u32.pow(DIGITS),
        width = DIGITS as usize
    ))
}

/// The step a typed code belongs to, if it is right for `now` (within the
/// allowed skew) and newer than `last_used`: a code works once.
pub fn accepted_step(
    secret: &str,
    typed: &str,
    unix_secs: i64,
    last_used: Option<i64>,
) -> Option<i64> {
    let typed: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = step_at(unix_secs);
    (now - SKEW_STEPS..=now + SKEW_STEPS)
        .filter(|step| last_used.is_none_or(|last| *step > last))
        .find(|step| {
            code_at(secret, *step)
                .is_some_and(|code| crate::kernel::ids::same_secret(&code, &typed))
        })
}

/// Whether a typed answer looks like a six-digit code rather than a
/// password or a recovery code.
pub fn looks_like_code(typed: &str) -> bool {
    let digits: String = typed.chars().filter(|c| !c.is_whitespace()).collect();
    digits.len() == DIGITS as usize && digits.bytes().all(|b| b.is_ascii_digit())
}

/// The `otpauth://` address an authenticator app reads from the QR code.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &str) -> String {
    let enc = |s: &str| -> String { form_urlencoded::byte_serialize(s.as_bytes()).collect() };
    // Spaces as %20: some apps show a `+` literally.
    let label = enc(&format!("{issuer}:{account}")).replace('+', "%20");
    let issuer = enc(issuer).replace('+', "%20");
    format!(
        "otpauth://totp/{label}?secret={secret}&issuer={issuer}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECS}"
    )
}

/// The QR code of `text` as an inline SVG (dark modules on white, with the
/// quiet zone, so it scans in dark mode too).
pub fn qr_svg(text: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .dark_color(qrcode::render::svg::Color("#000000"))
            .light_color(qrcode::render::svg::Color("#ffffff"))
            .quiet_zone(true)
            .build(),
    )
}

/// A secret in groups of four, easier to type into an app by hand.
pub fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// New recovery codes, shown once: 80 random bits each, as four groups of
/// four lower-case base32 characters (`abcd-efgh-ijkl-mnop`).
pub fn new_recovery_codes() -> Vec<String> {
    (0..RECOVERY_CODES)
        .map(|_| {
            let raw = BASE32_NOPAD
                .encode(&rand::random::<[u8; 10]>())
                .to_lowercase();
            grouped(&raw).replace(' ', "-")
        })
        .collect()
}

/// What is stored of a recovery code: SHA-256 of its letters, so a code
/// typed with or without dashes, in any case, matches. 80 random bits need
/// no slow hash.
pub fn recovery_code_hash(typed: &str) -> String {
    let letters: String = typed
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    crate::kernel::ids::hex(&Sha256::digest(letters.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B's SHA-1 secret, "12345678901234567890".
    fn rfc_secret() -> String {
        BASE32_NOPAD.encode(b"12345678901234567890")
    }

    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        // The RFC lists eight digits; six are their last six.
        for (time, eight) in [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ] {
            assert_eq!(
                code_at(&rfc_secret(), step_at(time)).as_deref(),
                Some(&eight[2..]),
                "T={time}"
            );
        }
    }

    #[test]
    fn a_code_works_within_one_step_of_skew_and_only_once() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let code = code_at(&secret, step_at(now)).expect("code");
        assert_eq!(accepted_step(&secret, &code, now, None), Some(step_at(now)));
        assert_eq!(
            accepted_step(&secret, &code, now + STEP_SECS, None),
            Some(step_at(now))
        );
        assert_eq!(
            accepted_step(&secret, &code, now + 3 * STEP_SECS, None),
            None
        );
        // Used once: the same step is refused.
        assert_eq!(accepted_step(&secret, &code, now, Some(step_at(now))), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(accepted_step(&secret, &spaced, now, None).is_some());
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(accepted_step(&secret, bad, now, None), None, "{bad}");
        }
    }

    #[test]
    fn recovery_codes_are_distinct_and_match_however_typed() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(code.len(), 19, "{code}");
        assert_eq!(
            recovery_code_hash(code),
            recovery_code_hash(&code.replace('-', "").to_uppercase())
        );
        assert_ne!(recovery_code_hash(code), recovery_code_hash(&codes[1]));
    }

    #[test]
    fn the_otpauth_address_names_issuer_and_account() {
        let uri = otpauth_uri("Plaster", "ada@example.se", "ABCDEF");
        assert_eq!(
            uri,
            "otpauth://totp/Plaster%3Aada%40example.se?secret=ABCDEF&issuer=Plaster&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&uri).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("#000000"), "{svg}");
    }
}
