//! Money: the engine's `Money` (minor units + ISO currency, never a float),
//! shared by the engine, the notices and, later, the ledger, and how readers
//! of each language write it.

use app::dto::Lang;

pub use plaster_engine::{Currency, Money};

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
