//! Text per language: incident titles, bodies, component names, apologies.

use std::collections::BTreeMap;

use app::dto::Lang;

/// One text in each language it was written in; a missing language falls
/// back when shown (see `status::view::localize`).
pub type Texts = BTreeMap<Lang, String>;

/// The language a customer's locale asks for (`sv-SE`, `no`, `nb_NO`, ...);
/// English when Plaster does not speak it.
pub fn lang_for_locale(locale: &str) -> Lang {
    let primary = locale
        .split(['-', '_'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    match primary.as_str() {
        "sv" => Lang::Sv,
        "nb" | "no" | "nn" => Lang::Nb,
        _ => Lang::En,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locales_pick_a_language() {
        assert_eq!(lang_for_locale("sv-SE"), Lang::Sv);
        assert_eq!(lang_for_locale("no"), Lang::Nb);
        assert_eq!(lang_for_locale("nb_NO"), Lang::Nb);
        assert_eq!(lang_for_locale("fi"), Lang::En);
        assert_eq!(lang_for_locale(""), Lang::En);
    }
}
