//! `/staff/customers`: how many customers Plaster knows, one customer found
//! by id or e-mail, and the import of `customers.csv` / `subscriptions.csv`.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::Method;
use axum::response::Response;
use axum::routing::{get, post};
use axum::Extension;

use crate::customers::import::{BadRow, Import, ImportError, ImportReport, LISTED_BAD_ROWS};
use crate::staff::error::StaffError;
use crate::staff::page::{form_page, Frame};
use crate::staff::roles::{CUSTOMERS_IMPORT, CUSTOMERS_VIEW};
use crate::staff::route::{route, StaffRoute};
use crate::staff::session::StaffSession;
use crate::staff::upload::{Spooled, Upload};
use crate::store::customers::{self as table, CustomerCounts, CustomerRecord};
use crate::store::Store;

#[rustfmt::skip]
pub fn routes() -> Vec<StaffRoute> {
    use Method as M;
    vec![
        route(M::GET, "/staff/customers", CUSTOMERS_VIEW, get(list)).in_menu("Customers"),
        route(M::POST, "/staff/customers/import", CUSTOMERS_IMPORT, post(import)).uploads(),
    ]
}

/// Customers found by one search; an e-mail may be shared by a few.
const FOUND: i64 = 20;

#[derive(Template)]
#[template(path = "staff/customers.html")]
struct CustomersPage {
    frame: Frame,
    counts: CustomerCounts,
    /// Each currency's and locale's share as a whole percentage, for the bars.
    currency_bars: Vec<Bar>,
    locale_bars: Vec<Bar>,
    may_import: bool,
    query: String,
    found: Option<Vec<CustomerRecord>>,
    imported: Option<ImportReport>,
    error: Option<String>,
    bad_rows: Vec<BadRow>,
    bad_total: u64,
    listed_limit: usize,
    /// How many of the bad rows are listed.
    listed_total: u64,
}

struct Bar {
    label: String,
    count: i64,
    percent: i64,
}

fn bars(groups: &[(String, i64)], total: i64) -> Vec<Bar> {
    groups
        .iter()
        .map(|(label, count)| Bar {
            label: label.clone(),
            count: *count,
            percent: if total > 0 {
                (count * 100 + total / 2) / total
            } else {
                0
            },
        })
        .collect()
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct Search {
    #[serde(default)]
    q: String,
}

/// What the page shows below its counts, besides a search.
#[derive(Default)]
struct Outcome {
    imported: Option<ImportReport>,
    error: Option<String>,
    bad_rows: Vec<BadRow>,
    bad_total: u64,
}

async fn customers_page(
    store: &Store,
    session: &StaffSession,
    query: String,
    outcome: Outcome,
) -> Result<Response, StaffError> {
    let counts = table::counts(store).await?;
    let found = if query.trim().is_empty() {
        None
    } else {
        Some(table::find(store, &query, FOUND).await?)
    };
    let refused = outcome.error.is_some();
    Ok(form_page(
        &CustomersPage {
            frame: Frame::new(session, "/staff/customers"),
            currency_bars: bars(&counts.by_currency, counts.customers),
            locale_bars: bars(&counts.by_locale, counts.customers),
            counts,
            may_import: CUSTOMERS_IMPORT.allows(&session.roles),
            query,
            found,
            imported: outcome.imported,
            error: outcome.error,
            listed_total: outcome.bad_rows.len() as u64,
            bad_rows: outcome.bad_rows,
            bad_total: outcome.bad_total,
            listed_limit: LISTED_BAD_ROWS,
        },
        refused,
    ))
}

pub async fn list(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    Query(search): Query<Search>,
) -> Result<Response, StaffError> {
    customers_page(&store, &session, search.q, Outcome::default()).await
}

/// Multipart: `csrf` first, then `customers` (a file, required) and
/// `subscriptions` (a file, optional).
pub async fn import(
    State(store): State<Store>,
    Extension(session): Extension<StaffSession>,
    mut upload: Upload,
) -> Result<Response, StaffError> {
    // Spooled first, imported after: the import's transaction (SQLite's
    // write lock) lasts as long as parsing takes, not as long as the upload.
    let mut customers = Vec::new();
    let mut subscriptions = Vec::new();
    while let Some(field) = upload.next_field().await? {
        let name = field.name().unwrap_or_default().to_string();
        let file = field.file_name().unwrap_or_default().to_string();
        if file.is_empty() {
            // An optional file input left empty still sends its part.
            continue;
        }
        match name.as_str() {
            "customers" => customers.push((file, Spooled::from_field(field).await?)),
            "subscriptions" => subscriptions.push((file, Spooled::from_field(field).await?)),
            _ => continue,
        }
    }
    let mut result: Result<(), ImportError> = if customers.is_empty() {
        Err(ImportError::File(
            "choose a customers.csv file to import".into(),
        ))
    } else {
        Ok(())
    };
    let mut import = Import::begin(&store).await.map_err(internal)?;
    for (file, spooled) in &customers {
        if result.is_ok() {
            result = import.customers(file, spooled.open()?).await;
        }
    }
    for (file, spooled) in &subscriptions {
        if result.is_ok() {
            result = import.subscriptions(file, spooled.open()?).await;
        }
    }
    let outcome = match result {
        Ok(()) => import.finish(&session.actor()).await,
        Err(e) => Err(e),
    };
    let outcome = match outcome {
        Ok(report) => Outcome {
            imported: Some(report),
            ..Outcome::default()
        },
        Err(ImportError::Refused { rows, total }) => Outcome {
            error: Some(
                ImportError::Refused {
                    rows: Vec::new(),
                    total,
                }
                .to_string(),
            ),
            bad_rows: rows,
            bad_total: total,
            ..Outcome::default()
        },
        Err(e) if e.is_bad_input() || matches!(e, ImportError::Read(_)) => Outcome {
            error: Some(e.to_string()),
            ..Outcome::default()
        },
        Err(ImportError::Store(e)) => return Err(e.into()),
        Err(e) => return Err(internal(e)),
    };
    customers_page(&store, &session, String::new(), outcome).await
}

fn internal(e: ImportError) -> StaffError {
    match e {
        ImportError::Store(e) => e.into(),
        other => StaffError::Internal(other.to_string()),
    }
}
