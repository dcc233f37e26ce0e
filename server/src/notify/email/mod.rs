//! E-mail bodies: askama templates, HTML with a plain-text alternative, in
//! Swedish, Norwegian and English. The staff console previews exactly what
//! these render, and the outbox sends the same bytes.

pub mod customer;
pub mod layout;
pub mod samples;
pub mod status;

pub use crate::kernel::email::parse_address;
pub use customer::{
    claim_notice, compensation_notice, sign_in_link, ClaimMail, CompensationMail, NoticeLine,
};
pub use layout::{notice, words, Notice, RenderedEmail, Words};
pub use samples::samples;
pub use status::{
    apology, confirm_subscription, incident_update, manage_subscription, Apology, IncidentMail,
};
