//! The public machine-readable side: the Statuspage-compatible `/api/v2`
//! JSON, RSS and Atom feeds, an embeddable badge and the API's OpenAPI
//! document. All of it is built from one `StatusData` read when the snapshot
//! is rebuilt, serialised and compressed once, and served as [`Asset`]s.
//!
//! Languages: `/api/v2/...` is English, because Statuspage clients expect
//! English descriptions; `/sv/api/v2/...`, `/nb/api/v2/...` and
//! `/en/api/v2/...` carry the texts in that language (falling back per text
//! as the page does). Feeds and the badge without a prefix use the page's
//! default language, like `/` does.

pub mod api_v2;
pub mod asset;
pub mod assets;
pub mod badge;
pub mod context;
pub mod feeds;
pub mod openapi;

pub use asset::{Asset, AssetError};
pub use assets::{asset_paths, build_assets};
pub use context::{
    indicator_description, iso_time, overall, ApiDoc, Context, Indicator, PublicError,
    PublicSettings, API_DOCS, OPENAPI_PATH,
};
