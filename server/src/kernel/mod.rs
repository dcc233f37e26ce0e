//! Leaves every domain may use: ids and tokens, texts per language, money,
//! form fields, Markdown, the audit entry's shape, the outgoing HTTP client. Nothing here imports a
//! domain, the store or the web layer.

pub mod audit;
pub mod change;
pub mod client;
pub mod cookies;
pub mod email;
pub mod forms;
pub mod ids;
pub mod markdown;
pub mod money;
pub mod outgoing;
pub mod texts;
