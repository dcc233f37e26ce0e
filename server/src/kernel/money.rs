//! Money: the engine's `Money` (minor units + ISO currency, never a float),
//! shared by the engine, the notices and, later, the ledger, and how readers
//! of each language write it.

use app::dto::Lang;

pub use plaster_engine::{Currency, Money};

/// The largest amount one ledger line, payout or claim may carry: ten
/// billion in major units. Bounding each line keeps every sum the ledger,
/// its pages and exports make within 64 bits for up to 9.2 million such
/// lines; a larger amount is refused where it is written, never wrapped.
pub const MAX_LINE_MINOR: i64 = 1_000_000_000_000;

/// An amount as readers of `lang` write money: "1 250,50 kr" in Swedish and
/// Norwegian, "SEK 1,250.50" in English.
pub fn format(lang: Lang, money: Money) -> String {
    let sign = if money.minor < 0 { "-" } else { "" };
    let (whole, cents) = (
        money.minor.unsigned_abs() / 100,
        money.minor.unsigned_abs() % 100,
    );
    let digits = whole.to_string();
    let sep = if lang == Lang::En { ',' } else { '\u{a0}' };
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(sep);
        }
        grouped.push(c);
    }
    let currency = money.currency.as_str();
    let kr = matches!(currency, "SEK" | "NOK" | "DKK");
    match lang {
        Lang::En => format!("{sign}{currency} {grouped}.{cents:02}"),
        _ if kr => format!("{sign}{grouped},{cents:02}\u{a0}kr"),
        _ => format!("{sign}{grouped},{cents:02}\u{a0}{currency}"),
    }
}

/// An amount typed by staff in major units ("150", "150.50" or "150,50")
/// as minor units; `None` for anything else (signs, three decimals, text).
pub fn parse_minor(text: &str) -> Option<i64> {
    let t = text.trim().replace([' ', '\u{a0}'], "");
    let (whole, frac) = match t.split_once(['.', ',']) {
        Some((_, "")) => return None,
        Some((w, f)) => (w.to_string(), f.to_string()),
        None => (t.clone(), String::new()),
    };
    if whole.is_empty()
        || !whole.chars().all(|c| c.is_ascii_digit())
        || frac.len() > 2
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

/// Test and sample data: an amount in a currency known to be valid.
pub fn sek(minor: i128) -> Money {
    Money {
        minor,
        currency: Currency::parse("SEK").unwrap_or_else(|| unreachable!("SEK is three capitals")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_per_language() {
        assert_eq!(format(Lang::Sv, sek(125_050)), "1\u{a0}250,50\u{a0}kr");
        assert_eq!(format(Lang::En, sek(125_050)), "SEK 1,250.50");
        let eur = Money {
            minor: -5,
            currency: Currency::parse("EUR").expect("valid"),
        };
        assert_eq!(format(Lang::Nb, eur), "-0,05\u{a0}EUR");
    }
}

#[cfg(test)]
mod parse_tests {
    use super::parse_minor;

    #[test]
    fn amounts_in_major_units() {
        assert_eq!(parse_minor("150"), Some(15_000));
        assert_eq!(parse_minor("150.5"), Some(15_050));
        assert_eq!(parse_minor(" 1 250,05 "), Some(125_005));
        for bad in ["", "-5", "1.234", "abc", "1.", "9999999999999999999"] {
            assert_eq!(parse_minor(bad), None, "{bad:?}");
        }
    }
}
