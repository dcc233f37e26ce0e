//! Leaves every domain may use: ids and tokens, texts per language, money,
//! form fields, Markdown, the audit entry's shape, inert CSV cells, the
//! outgoing HTTP client, the budget for heavy work (password hashing), the
//! cross-site check of forms. Nothing here imports a domain, the store or
//! the web layer.

pub mod audit;
pub mod change;
pub mod client;
pub mod cookies;
pub mod csv_cell;
pub mod email;
pub mod forms;
pub mod ids;
pub mod markdown;
pub mod money;
pub mod origin;
pub mod outgoing;
pub mod public_writes;
pub mod slots;
pub mod texts;
