//! Parsing command-line input (`sv=…,en=…`, `login=major_outage`) into
//! the typed commands.

use app::dto::Lang;

use crate::status::commands::common::{ComponentChange, WriteError};
use crate::store::status::Texts;

fn lang_prefix(s: &str) -> Option<(Lang, &str)> {
    let (code, rest) = s.split_once('=')?;
    if code.len() > 3 || code.contains(' ') {
        return None;
    }
    Some((code.parse().ok()?, rest))
}

/// Texts per language from `sv=…,en=…` arguments (repeatable). A comma
/// starts a new language only when a language code and `=` follow it, so
/// the texts themselves may contain commas.
pub fn parse_texts(field: &'static str, args: &[String]) -> Result<Texts, WriteError> {
    let mut out = Texts::new();
    for arg in args {
        let mut current: Option<(Lang, String)> = None;
        for piece in arg.split(',') {
            match (lang_prefix(piece), current.as_mut()) {
                (Some((lang, text)), _) => {
                    if let Some((l, t)) = current.take() {
                        insert_text(field, &mut out, l, t)?;
                    }
                    current = Some((lang, text.to_string()));
                }
                (None, Some((_, text))) => {
                    text.push(',');
                    text.push_str(piece);
                }
                (None, None) => {
                    return Err(WriteError::invalid(
                        field,
                        format!("expected LANG=TEXT with LANG one of sv, nb, en, got {arg:?}"),
                    ))
                }
            }
        }
        if let Some((l, t)) = current {
            insert_text(field, &mut out, l, t)?;
        }
    }
    Ok(out)
}

fn insert_text(
    field: &'static str,
    out: &mut Texts,
    lang: Lang,
    text: String,
) -> Result<(), WriteError> {
    if out.insert(lang, text.trim().to_string()).is_some() {
        return Err(WriteError::invalid(
            field,
            format!("the {lang} text is given twice"),
        ));
    }
    Ok(())
}

/// `login=major_outage` pairs (comma-separated or repeated).
pub fn parse_component_changes(args: &[String]) -> Result<Vec<ComponentChange>, WriteError> {
    args.iter()
        .flat_map(|a| a.split(','))
        .filter(|s| !s.trim().is_empty())
        .map(|pair| {
            let (id, status) = pair.split_once('=').ok_or_else(|| {
                WriteError::invalid(
                    "component",
                    format!("expected ID=STATUS, e.g. login=major_outage, got {pair:?}"),
                )
            })?;
            Ok(ComponentChange {
                component_id: id.trim().into(),
                status: parse_value("component", status.trim())?,
            })
        })
        .collect()
}

/// A status, impact or stage, with the field named in the error.
pub fn parse_value<T>(field: &'static str, s: &str) -> Result<T, WriteError>
where
    T: std::str::FromStr<Err = app::dto::UnknownValue>,
{
    s.parse()
        .map_err(|e: app::dto::UnknownValue| WriteError::invalid(field, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::dto::ComponentStatus;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn texts_may_contain_commas() {
        let t = parse_texts("title", &s(&["sv=Inloggning, spel,en=Login, betting"])).expect("ok");
        assert_eq!(t[&Lang::Sv], "Inloggning, spel");
        assert_eq!(t[&Lang::En], "Login, betting");
        let t = parse_texts("body", &s(&["sv=A", "nb=B"])).expect("ok");
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn bad_texts_name_the_field() {
        let e = parse_texts("title", &s(&["hello"])).expect_err("no lang");
        assert!(e.to_string().starts_with("title:"), "{e}");
        let e = parse_texts("body", &s(&["en=a", "en=b"])).expect_err("twice");
        assert!(e.to_string().contains("twice"), "{e}");
    }

    #[test]
    fn component_changes_parse_and_refuse_bad_statuses() {
        let c =
            parse_component_changes(&s(&["login=major_outage,betting=operational"])).expect("ok");
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].status, ComponentStatus::MajorOutage);
        let e = parse_component_changes(&s(&["login=down"])).expect_err("bad");
        assert!(e.to_string().contains("component status"), "{e}");
    }
}
