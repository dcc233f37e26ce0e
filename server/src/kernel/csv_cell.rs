//! The one rule for a cell of a CSV that staff download and open in a
//! spreadsheet (OWASP's CSV-injection advice): a text starting with `=`,
//! `+`, `-`, `@`, a tab or a carriage return is a formula to Excel,
//! LibreOffice and Google Sheets, so it gets a leading `'` and shows as the
//! text it is. Ids, names, bet ids, reasons and other texts that customers
//! or staff typed go through [`inert`].
//!
//! A plain number (`-500`, `+3`, `12.50`) is left alone, so a writer may
//! pass every cell, amounts included: a spreadsheet reads it as the number
//! it is, never as a formula.
//!
//! The engine's `--details` CSV (`plaster compensation preview`, the worked
//! examples, a revision's digest) is written as it is; the console's
//! downloads and `plaster ledger …` / `plaster payouts export` use this.

use std::borrow::Cow;
use std::io::{self, Write};

/// `cell` as a spreadsheet will show it rather than run it.
pub fn inert(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !plain_number(cell) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// An optional sign, digits, and optionally a point and more digits: what
/// every spreadsheet reads as a number and nothing else.
fn plain_number(cell: &str) -> bool {
    let unsigned = cell.strip_prefix(['-', '+']).unwrap_or(cell);
    let (whole, fraction) = match unsigned.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (unsigned, None),
    };
    !whole.is_empty()
        && whole.bytes().all(|b| b.is_ascii_digit())
        && fraction.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

/// One cell, made [`inert`] and quoted as RFC 4180 wants (the engine's
/// quoting, so an ordinary cell is written byte for byte as the engine
/// writes it).
pub fn write_inert_cell(out: &mut impl Write, cell: &str) -> io::Result<()> {
    plaster_engine::report::write_cell(out, &inert(cell))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_looking_texts_get_a_leading_quote() {
        for (cell, shown) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"x\")",
                "'=HYPERLINK(\"http://evil.example\",\"x\")",
            ),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
            ("-.5", "'-.5"),
            ("-1e9", "'-1e9"),
            ("+1.", "'+1."),
        ] {
            assert_eq!(inert(cell), shown, "{cell:?}");
        }
    }

    #[test]
    fn numbers_and_ordinary_texts_are_left_alone() {
        for cell in [
            "-500",
            "+3",
            "12.50",
            "-12.50",
            "0",
            "",
            "b-4001",
            "s-004",
            "anna@example.se",
            "refund_failed_debits",
            "Nilsson, Johan",
            "a=b",
        ] {
            assert!(
                matches!(inert(cell), Cow::Borrowed(c) if c == cell),
                "{cell:?}"
            );
        }
    }

    #[test]
    fn cells_are_quoted_after_the_quote_is_added() {
        let mut out = Vec::new();
        write_inert_cell(&mut out, "=HYPERLINK(\"http://x\",\"y\")").expect("write");
        assert_eq!(
            String::from_utf8(out).expect("utf8"),
            "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""
        );
        let mut out = Vec::new();
        write_inert_cell(&mut out, "-500").expect("write");
        assert_eq!(out, b"-500");
    }
}
