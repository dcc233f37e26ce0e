//! Server functions: the only way components reach data. Their bodies run on
//! the server, behind the ports in context.

use leptos::prelude::*;

use crate::dto::{Lang, StatusPageView};

/// The public front page in `lang` (the page's default language when `None`).
#[server(prefix = "/_sf", endpoint = "status_page")]
pub async fn status_page(lang: Option<Lang>) -> Result<StatusPageView, ServerFnError> {
    use crate::ports::SharedStatusSource;
    let source = use_context::<SharedStatusSource>()
        .ok_or_else(|| ServerFnError::new("status source missing from context"))?;
    let lang = lang.unwrap_or_else(|| source.default_lang());
    source
        .status_page(lang)
        .map(|page| (*page).clone())
        .ok_or_else(|| {
            ServerFnError::new("the status page is still starting; try again in a moment")
        })
}
