//! One event record, parsed from a JSON line or a CSV row into typed values.
//!
//! Strings borrow from the input where they can (no escapes), so the hot path
//! allocates nothing for an ordinary line.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

use crate::time::Instant;

/// An ISO 4217 currency code: three ASCII capital letters.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(s: &str) -> Option<Currency> {
        let b = s.as_bytes();
        if b.len() == 3 && b.iter().all(u8::is_ascii_uppercase) {
            Some(Currency([b[0], b[1], b[2]]))
        } else {
            None
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII capitals ever get in, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("???")
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An amount in minor units of one currency. Wide enough that no sum of
/// 64-bit stakes or fee products can overflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Money {
    pub minor: i128,
    pub currency: Currency,
}

/// A customer id as the logs and reference files carry it: 1–64 characters.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CustomerId(compact_str::CompactString);

impl CustomerId {
    pub fn parse(s: &str) -> Option<CustomerId> {
        valid_customer_id(s).then(|| CustomerId(s.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CustomerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

pub(crate) fn valid_customer_id(s: &str) -> bool {
    // Length in characters; bytes bound it from above, so count only when needed.
    !s.is_empty() && (s.len() <= 64 || s.chars().count() <= 64)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Login,
    Bet,
    Stream,
}

/// Outcome of a login or stream record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Success,
    Failure,
}

/// Outcome of a bet record, ordered by the tie rule: on equal `ts`,
/// `placed` beats `failed_after_debit` beats `rejected`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BetOutcome {
    Rejected = 0,
    FailedAfterDebit = 1,
    Placed = 2,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BetFields<'a> {
    pub outcome: BetOutcome,
    pub bet_id: Cow<'a, str>,
    pub game: Cow<'a, str>,
    pub round_id: Cow<'a, str>,
    pub stake_minor: i64,
    pub currency: Currency,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event<'a> {
    Login {
        outcome: Access,
        channel: Option<Cow<'a, str>>,
    },
    Stream {
        outcome: Access,
        channel: Option<Cow<'a, str>>,
        event_id: Option<Cow<'a, str>>,
    },
    Bet(BetFields<'a>),
}

/// One well-formed event record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    pub ts: Instant,
    pub customer_id: Cow<'a, str>,
    pub error: Option<Cow<'a, str>>,
    pub event: Event<'a>,
}

impl Record<'_> {
    pub fn kind(&self) -> Kind {
        match self.event {
            Event::Login { .. } => Kind::Login,
            Event::Stream { .. } => Kind::Stream,
            Event::Bet(_) => Kind::Bet,
        }
    }
}

/// Why a record was skipped, in words a support agent can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub Cow<'static, str>);

impl Malformed {
    fn fixed(s: &'static str) -> Malformed {
        Malformed(Cow::Borrowed(s))
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Field names the parser knows; everything else is ignored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Field {
    Ts = 0,
    Kind,
    CustomerId,
    Outcome,
    Channel,
    Error,
    BetId,
    Game,
    RoundId,
    StakeMinor,
    Currency,
    EventId,
}

pub(crate) const FIELD_COUNT: usize = 12;
pub(crate) const FIELD_NAMES: [&str; FIELD_COUNT] = [
    "ts",
    "kind",
    "customer_id",
    "outcome",
    "channel",
    "error",
    "bet_id",
    "game",
    "round_id",
    "stake_minor",
    "currency",
    "event_id",
];
const FIELDS: [Field; FIELD_COUNT] = [
    Field::Ts,
    Field::Kind,
    Field::CustomerId,
    Field::Outcome,
    Field::Channel,
    Field::Error,
    Field::BetId,
    Field::Game,
    Field::RoundId,
    Field::StakeMinor,
    Field::Currency,
    Field::EventId,
];

impl Field {
    pub(crate) fn from_name(s: &str) -> Option<Field> {
        FIELD_NAMES.iter().position(|n| *n == s).map(|i| FIELDS[i])
    }

    fn name(self) -> &'static str {
        FIELD_NAMES[self as usize]
    }
}

/// A raw field value before validation.
#[derive(Clone, Debug, Default)]
pub(crate) enum Val<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Int(i64),
    /// A number that is not an integer in i64 range, or a boolean, array, object.
    Other,
}

/// Raw fields of one record, from either format.
#[derive(Default)]
pub(crate) struct RawFields<'a> {
    pub(crate) vals: [Val<'a>; FIELD_COUNT],
    /// Which fields came as text needing conversion (CSV) rather than typed JSON.
    pub(crate) text: bool,
}

impl<'a> RawFields<'a> {
    fn take_str(&mut self, f: Field) -> Result<Cow<'a, str>, Malformed> {
        match std::mem::take(&mut self.vals[f as usize]) {
            Val::Str(s) => Ok(s),
            Val::Absent => Err(Malformed(format!("missing field {}", f.name()).into())),
            _ => Err(Malformed(format!("{} is not a string", f.name()).into())),
        }
    }

    fn take_opt_str(&mut self, f: Field) -> Result<Option<Cow<'a, str>>, Malformed> {
        match std::mem::take(&mut self.vals[f as usize]) {
            Val::Str(s) => Ok(Some(s)),
            Val::Absent => Ok(None),
            _ => Err(Malformed(format!("{} is not a string", f.name()).into())),
        }
    }

    /// Validates the fields into a record. Checks run in a fixed order so the
    /// reason given for a record with several faults is always the same.
    pub(crate) fn into_record(mut self) -> Result<Record<'a>, Malformed> {
        let ts = self.take_str(Field::Ts)?;
        let ts = Instant::parse_rfc3339(&ts).map_err(|e| Malformed::fixed(e.reason()))?;
        let kind = self.take_str(Field::Kind)?;
        let kind = match &*kind {
            "login" => Kind::Login,
            "bet" => Kind::Bet,
            "stream" => Kind::Stream,
            other => return Err(Malformed(format!("unknown kind {}", quoted(other)).into())),
        };
        let customer_id = self.take_str(Field::CustomerId)?;
        if !valid_customer_id(&customer_id) {
            return Err(Malformed::fixed("customer_id must be 1-64 characters"));
        }
        let outcome = self.take_str(Field::Outcome)?;
        let error = self.take_opt_str(Field::Error)?;
        let event = match kind {
            Kind::Login | Kind::Stream => {
                let access = match &*outcome {
                    "success" => Access::Success,
                    "failure" => Access::Failure,
                    other => return Err(unknown_outcome(other, kind)),
                };
                let channel = self.take_opt_str(Field::Channel)?;
                if kind == Kind::Login {
                    Event::Login {
                        outcome: access,
                        channel,
                    }
                } else {
                    Event::Stream {
                        outcome: access,
                        channel,
                        event_id: self.take_opt_str(Field::EventId)?,
                    }
                }
            }
            Kind::Bet => {
                let outcome = match &*outcome {
                    "placed" => BetOutcome::Placed,
                    "rejected" => BetOutcome::Rejected,
                    "failed_after_debit" => BetOutcome::FailedAfterDebit,
                    other => return Err(unknown_outcome(other, kind)),
                };
                let bet_id = self.take_str(Field::BetId)?;
                let game = self.take_str(Field::Game)?;
                let round_id = self.take_str(Field::RoundId)?;
                let stake_minor = match std::mem::take(&mut self.vals[Field::StakeMinor as usize]) {
                    Val::Int(v) if v >= 0 && !self.text => v,
                    Val::Str(s) if self.text => parse_stake_text(&s)?,
                    Val::Absent => return Err(Malformed::fixed("missing field stake_minor")),
                    _ => return Err(Malformed::fixed("bad stake_minor")),
                };
                let currency = self.take_str(Field::Currency)?;
                let currency =
                    Currency::parse(&currency).ok_or(Malformed::fixed("bad currency"))?;
                Event::Bet(BetFields {
                    outcome,
                    bet_id,
                    game,
                    round_id,
                    stake_minor,
                    currency,
                })
            }
        };
        Ok(Record {
            ts,
            customer_id,
            error,
            event,
        })
    }
}

fn parse_stake_text(s: &str) -> Result<i64, Malformed> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Malformed::fixed("bad stake_minor"));
    }
    s.parse::<i64>()
        .map_err(|_| Malformed::fixed("bad stake_minor"))
}

fn unknown_outcome(other: &str, kind: Kind) -> Malformed {
    let k = match kind {
        Kind::Login => "login",
        Kind::Bet => "bet",
        Kind::Stream => "stream",
    };
    Malformed(format!("unknown outcome {} for kind {k}", quoted(other)).into())
}

/// Quotes a value for a reason, cut short so a huge field cannot bloat the report.
fn quoted(s: &str) -> String {
    let mut cut: String = s.chars().take(40).collect();
    if cut.len() < s.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

// ---------------------------------------------------------------- JSON

struct ValVisitor;

impl<'de> Visitor<'de> for ValVisitor {
    type Value = Val<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Val<'de>, E> {
        Ok(Val::Str(Cow::Owned(v)))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Val<'de>, E> {
        Ok(Val::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Val<'de>, E> {
        Ok(i64::try_from(v).map(Val::Int).unwrap_or(Val::Other))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Val<'de>, E> {
        Ok(Val::Other)
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Val<'de>, E> {
        Ok(Val::Other)
    }
    // JSON null means "no value": an optional field may be null, a required one may not.
    fn visit_unit<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Absent)
    }
    fn visit_none<E: de::Error>(self) -> Result<Val<'de>, E> {
        Ok(Val::Absent)
    }
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Val<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Val::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Val<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Val::Other)
    }
}

impl<'de> Deserialize<'de> for Val<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValVisitor)
    }
}

/// A key: a known field or something to ignore. Never allocates.
struct Key(Option<Field>);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a field name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key, E> {
                Ok(Key(Field::from_name(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = RawFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawFields<'de>, A::Error> {
        let mut raw = RawFields::default();
        let mut seen = 0u32;
        while let Some(Key(field)) = map.next_key::<Key>()? {
            match field {
                Some(f) => {
                    let bit = 1u32 << (f as u32);
                    if seen & bit != 0 {
                        return Err(de::Error::custom(format_args!(
                            "duplicate field {}",
                            f.name()
                        )));
                    }
                    seen |= bit;
                    raw.vals[f as usize] = map.next_value::<Val>()?;
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(raw)
    }
}

/// Parses one JSON line into a record.
pub fn parse_json_line(line: &[u8]) -> Result<Record<'_>, Malformed> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let raw = match de.deserialize_map(ObjectVisitor) {
        Ok(raw) => raw,
        Err(e) => return Err(json_reason(&e)),
    };
    if de.end().is_err() {
        return Err(Malformed::fixed("not JSON"));
    }
    raw.into_record()
}

fn json_reason(e: &serde_json::Error) -> Malformed {
    use serde_json::error::Category;
    match e.classify() {
        Category::Data => {
            let msg = e.to_string();
            if let Some(rest) = msg.strip_prefix("duplicate field ") {
                let name = rest.split(' ').next().unwrap_or("");
                Malformed(format!("duplicate field {name}").into())
            } else {
                Malformed::fixed("not a JSON object")
            }
        }
        _ => Malformed::fixed("not JSON"),
    }
}

// ---------------------------------------------------------------- CSV

/// The columns of a CSV event file, from its header row.
#[derive(Clone, Debug)]
pub struct CsvHeader {
    columns: Vec<Option<Field>>,
}

impl CsvHeader {
    /// Reads the header row. Unknown columns are ignored; a repeated known
    /// column counts only the first time.
    pub fn parse(row: &[u8]) -> Result<CsvHeader, Malformed> {
        let mut columns = Vec::new();
        let mut seen = 0u32;
        for cell in split_csv_row(row)? {
            let name = std::str::from_utf8(&cell).map_err(|_| Malformed::fixed("not UTF-8"))?;
            let f = Field::from_name(name.trim());
            columns.push(match f {
                Some(f) if seen & (1 << f as u32) == 0 => {
                    seen |= 1 << f as u32;
                    Some(f)
                }
                _ => None,
            });
        }
        Ok(CsvHeader { columns })
    }

    /// The columns every record needs (`ts`, `kind`, `customer_id`,
    /// `outcome`) that this header lacks: without them every row of the
    /// file would be malformed, so the portal refuses such a file whole.
    pub fn missing_required(&self) -> Vec<&'static str> {
        [Field::Ts, Field::Kind, Field::CustomerId, Field::Outcome]
            .into_iter()
            .filter(|f| !self.columns.contains(&Some(*f)))
            .map(Field::name)
            .collect()
    }
}

/// Parses one CSV record (without its final line break) into a record.
pub fn parse_csv_row<'a>(header: &CsvHeader, row: &'a [u8]) -> Result<Record<'a>, Malformed> {
    let cells = split_csv_row(row)?;
    if cells.len() != header.columns.len() {
        return Err(Malformed(
            format!(
                "expected {} fields, found {}",
                header.columns.len(),
                cells.len()
            )
            .into(),
        ));
    }
    let mut raw = RawFields {
        text: true,
        ..RawFields::default()
    };
    for (cell, col) in cells.into_iter().zip(&header.columns) {
        let Some(f) = col else { continue };
        if cell.is_empty() {
            continue;
        }
        let s = match cell {
            Cow::Borrowed(b) => {
                Cow::Borrowed(std::str::from_utf8(b).map_err(|_| Malformed::fixed("not UTF-8"))?)
            }
            Cow::Owned(v) => {
                Cow::Owned(String::from_utf8(v).map_err(|_| Malformed::fixed("not UTF-8"))?)
            }
        };
        raw.vals[*f as usize] = Val::Str(s);
    }
    raw.into_record()
}

/// Splits one RFC 4180 record into cells. A quote opens a quoted cell only at
/// the start of a cell; `""` inside is one quote; after the closing quote the
/// cell must end. A quote inside an unquoted cell is malformed.
pub(crate) fn split_csv_row(row: &[u8]) -> Result<Vec<Cow<'_, [u8]>>, Malformed> {
    let row = row.strip_suffix(b"\r").unwrap_or(row);
    let mut cells = Vec::with_capacity(16);
    let mut i = 0;
    loop {
        if i < row.len() && row[i] == b'"' {
            let mut owned: Option<Vec<u8>> = None;
            let start = i + 1;
            let mut j = start;
            loop {
                match memchr::memchr(b'"', &row[j..]) {
                    None => return Err(Malformed::fixed("unterminated quoted CSV field")),
                    Some(k) => {
                        let q = j + k;
                        if q + 1 < row.len() && row[q + 1] == b'"' {
                            let buf = owned.get_or_insert_with(Vec::new);
                            buf.extend_from_slice(&row[j..=q]);
                            j = q + 2;
                        } else {
                            let cell = match owned.take() {
                                Some(mut buf) => {
                                    buf.extend_from_slice(&row[j..q]);
                                    Cow::Owned(buf)
                                }
                                None => Cow::Borrowed(&row[start..q]),
                            };
                            cells.push(cell);
                            i = q + 1;
                            break;
                        }
                    }
                }
            }
            if i == row.len() {
                return Ok(cells);
            }
            if row[i] != b',' {
                return Err(Malformed::fixed("text after closing quote in CSV field"));
            }
            i += 1;
        } else {
            let end = memchr::memchr(b',', &row[i..]).map_or(row.len(), |k| i + k);
            let cell = &row[i..end];
            if memchr::memchr(b'"', cell).is_some() {
                return Err(Malformed::fixed("quote inside unquoted CSV field"));
            }
            cells.push(Cow::Borrowed(cell));
            if end == row.len() {
                return Ok(cells);
            }
            i = end + 1;
        }
    }
}

/// Finds where CSV records end in `buf`, using the same quoting rules as
/// [`split_csv_row`]: returns the offset just past the last record-ending
/// newline, or `None` when no record ends in `buf`. `buf` must start at the
/// start of a record.
pub(crate) fn last_csv_record_end(buf: &[u8]) -> Option<usize> {
    let mut last = None;
    let mut pos = 0;
    while let Some(k) = next_csv_record_end(buf, pos) {
        last = Some(k + 1);
        pos = k + 1;
    }
    last
}

/// The index of the newline that ends the CSV record starting at `from`, or
/// `None` when the record does not end inside `buf` (it runs to the end, or a
/// quoted cell is still open).
pub(crate) fn next_csv_record_end(buf: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < buf.len() {
        let k = memchr::memchr3(b'\n', b'"', b',', &buf[i..])?;
        let p = i + k;
        match buf[p] {
            b'\n' => return Some(p),
            b',' => i = p + 1,
            _ => {
                // A quote opens a quoted cell only at the start of a cell.
                if !(p == from || matches!(buf[p - 1], b',')) {
                    i = p + 1;
                    continue;
                }
                let mut j = p + 1;
                loop {
                    let q = j + memchr::memchr(b'"', &buf[j..])?;
                    if q + 1 == buf.len() {
                        // Cannot tell yet whether this quote is doubled.
                        return None;
                    }
                    if buf[q + 1] == b'"' {
                        j = q + 2;
                    } else {
                        i = q + 1;
                        break;
                    }
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_fast_path() {
        let r = parse_json_line(br#"{"ts":"2024-08-24T16:10:00+02:00","kind":"bet","customer_id":"s-003","outcome":"rejected","bet_id":"b-3001","game":"V75","round_id":"2024-08-24-V75","stake_minor":9600,"currency":"SEK","error":"POOL_CLOSED","x":[1,{"a":2}]}"#).unwrap();
        assert!(matches!(r.customer_id, Cow::Borrowed("s-003")));
        match r.event {
            Event::Bet(b) => {
                assert_eq!(b.stake_minor, 9600);
                assert_eq!(b.outcome, BetOutcome::Rejected);
            }
            _ => panic!(),
        }
    }

    #[test]
    fn json_reasons() {
        let reason = |s: &str| parse_json_line(s.as_bytes()).unwrap_err().0.into_owned();
        assert_eq!(reason("{\"ts\":"), "not JSON");
        assert_eq!(reason("[1]"), "not a JSON object");
        assert_eq!(
            reason(
                r#"{"ts":"2018-08-20 21:12:00","kind":"login","customer_id":"n","outcome":"failure"}"#
            ),
            "ts has no offset"
        );
        assert_eq!(
            reason(
                r#"{"ts":"2018-08-20T21:12:00Z","kind":"logout","customer_id":"n","outcome":"success"}"#
            ),
            "unknown kind \"logout\""
        );
        assert_eq!(
            reason(r#"{"ts":"2018-08-20T21:12:00Z","kind":"login","outcome":"success"}"#),
            "missing field customer_id"
        );
        assert_eq!(
            reason(
                r#"{"ts":"2018-08-20T21:12:00Z","kind":"bet","customer_id":"a","outcome":"placed","bet_id":"b","game":"V75","round_id":"r","stake_minor":-100,"currency":"SEK"}"#
            ),
            "bad stake_minor"
        );
        assert_eq!(
            reason(r#"{"ts":"2018-08-20T21:12:00Z","ts":"2018-08-20T21:12:00Z"}"#),
            "duplicate field ts"
        );
        assert_eq!(reason(r#"{"a":1} x"#), "not JSON");
    }

    #[test]
    fn csv_quoting() {
        let h = CsvHeader::parse(b"ts,kind,customer_id,outcome,error,extra").unwrap();
        let r = parse_csv_row(
            &h,
            b"2018-08-20T21:12:00Z,login,\"a,b\",failure,\"HTTP \"\"503\"\", retry\",",
        )
        .unwrap();
        assert_eq!(r.customer_id, "a,b");
        assert_eq!(r.error.as_deref(), Some("HTTP \"503\", retry"));
        assert!(parse_csv_row(&h, b"2018-08-20T21:12:00Z,login,a\"b,failure,,").is_err());
        assert!(parse_csv_row(&h, b"2018-08-20T21:12:00Z,login,a,failure").is_err());
    }

    #[test]
    fn csv_record_ends() {
        assert_eq!(last_csv_record_end(b"a,b\nc,\"d\ne\"\nf"), Some(12));
        assert_eq!(last_csv_record_end(b"a,\"b\n"), None);
        assert_eq!(last_csv_record_end(b"a,b\"c\nd"), Some(6));
        assert_eq!(last_csv_record_end(b"x\n\"\"\"\"\n"), Some(7));
    }
}
