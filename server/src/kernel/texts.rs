//! Text per language: incident titles, bodies, component names, apologies.

use std::collections::BTreeMap;

use app::dto::Lang;

/// One text in each language it was written in; a missing language falls
/// back when shown (see `status::view::localize`).
pub type Texts = BTreeMap<Lang, String>;
