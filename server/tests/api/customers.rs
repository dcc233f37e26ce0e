//! Importing customers and subscriptions: the command line and the console,
//! an upsert, and a file with bad rows refused whole with each row named.

use plaster_server::staff::roles::Role;
use plaster_server::store::customers;
use reqwest::multipart::{Form, Part};

use crate::fixtures::StaffClient;
use crate::helpers::{plaster, run, TestApp};
use crate::on_both_backends;

on_both_backends!(
    the_cli_imports_and_upserts,
    a_file_with_bad_rows_is_refused_whole_with_every_row_named,
    finance_imports_in_the_console_and_support_only_looks,
    an_upload_without_its_csrf_field_is_refused,
);

const CUSTOMERS: &str = "customer_id,email,name,locale,currency
c-1,Anna@Example.se,Anna Andersson,sv,SEK
c-2,ola@example.no,\"Nordmann, Ola\",nb,NOK
c-3,sam@example.com,Sam Smith,en,EUR
";

const SUBSCRIPTIONS: &str = "customer_id,plan,monthly_fee_minor,currency,status
c-1,sport,39900,SEK,active
c-2,film,12900,NOK,cancelled
";

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.display().to_string()
}

async fn stored(app: &TestApp, id: &str) -> Option<customers::CustomerRecord> {
    customers::find(&app.store, id, 5)
        .await
        .expect("find")
        .into_iter()
        .next()
}

/// Customers in the database before the test's import (the demo's).
async fn customer_count(app: &TestApp) -> i64 {
    customers::counts(&app.store)
        .await
        .expect("counts")
        .customers
}

async fn the_cli_imports_and_upserts(app: TestApp) {
    let demo = customers::counts(&app.store).await.expect("counts");
    let dir = tempfile::tempdir().expect("tempdir");
    let c = write(&dir, "customers.csv", CUSTOMERS);
    let s = write(&dir, "subscriptions.csv", SUBSCRIPTIONS);
    let args = [
        "customers",
        "import",
        "--customers",
        &c,
        "--subscriptions",
        &s,
    ];
    let out = run(plaster(&app, &args)).await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let printed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(
        printed,
        serde_json::json!({"customers": 3, "subscriptions": 2})
    );
    let anna = stored(&app, "c-1").await.expect("c-1 stored");
    assert_eq!(anna.email, "anna@example.se", "e-mail lower-cased");
    assert_eq!(anna.subscriptions[0].plan, "sport");
    assert_eq!(anna.subscriptions[0].monthly_fee_minor, 39_900);
    let ola = stored(&app, "ola@example.no")
        .await
        .expect("found by e-mail");
    assert_eq!(ola.name, "Nordmann, Ola");
    assert_eq!(ola.subscriptions[0].status, "cancelled");

    // The same ids again with a change: updated in place, nothing doubled.
    let changed = CUSTOMERS.replace("Anna Andersson", "Anna Berg");
    let c2 = write(&dir, "customers2.csv", &changed);
    let s2 = write(
        &dir,
        "subs2.csv",
        "customer_id,plan,monthly_fee_minor,currency,status\nc-3,sport,999,EUR,active\n",
    );
    let out = run(plaster(
        &app,
        &[
            "customers",
            "import",
            "--customers",
            &c2,
            "--subscriptions",
            &s2,
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let counts = customers::counts(&app.store).await.expect("counts");
    assert_eq!(counts.customers, demo.customers + 3);
    assert_eq!(counts.active_subscriptions, demo.active_subscriptions + 2);
    assert_eq!(stored(&app, "c-1").await.expect("c-1").name, "Anna Berg");
}

async fn a_file_with_bad_rows_is_refused_whole_with_every_row_named(app: TestApp) {
    let before = customer_count(&app).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let bad = "customer_id,email,name,locale,currency
c-1,anna@example.se,Anna,sv,SEK
c-2,ola@example.no,Ola,nb,kronor
c-3,not-an-address,Sam,en,EUR
c-1,anna2@example.se,Anna again,sv,SEK
c-5,eva@example.se,Eva,sv
";
    let c = write(&dir, "customers.csv", bad);
    let s = write(
        &dir,
        "subscriptions.csv",
        "customer_id,plan,monthly_fee_minor,currency,status\nc-9,sport,100,SEK,active\nc-1,sport,-5,SEK,active\n",
    );
    let out = run(plaster(
        &app,
        &[
            "customers",
            "import",
            "--customers",
            &c,
            "--subscriptions",
            &s,
        ],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    let positions: Vec<usize> = ["line 3:", "line 4:", "line 5:", "line 6:"]
        .iter()
        .map(|l| err.find(l).unwrap_or(usize::MAX))
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "in file order:\n{err}"
    );
    for expected in [
        "customers.csv: line 3: currency: not an ISO 4217 currency code",
        "customers.csv: line 4: email: \"not-an-address\" is not an e-mail address",
        "customers.csv: line 5: customer_id: \"c-1\" appears twice",
        "customers.csv: line 6: row: expected 5 fields, found 4",
        "subscriptions.csv: line 3: monthly_fee_minor: must be an integer >= 0",
        "5 bad rows refused: nothing was imported",
    ] {
        assert!(err.contains(expected), "{expected:?} missing from:\n{err}");
    }
    // Nothing of the good rows was written, nor any audit entry.
    assert_eq!(customer_count(&app).await, before);
    assert!(stored(&app, "c-1").await.is_none());

    // A file that is not the table at all: named, exit 2.
    let wrong = write(
        &dir,
        "events.csv",
        "ts,kind,customer_id\n2024-08-24T16:00:00Z,login,c-1\n",
    );
    let out = run(plaster(
        &app,
        &["customers", "import", "--customers", &wrong],
    ))
    .await;
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("header has no column \"email\""), "{err}");
}

fn upload_form(staff: &StaffClient, files: &[(&str, &str, &str)]) -> Form {
    let mut form = Form::new().text("csrf", staff.csrf.clone());
    for (field, name, text) in files {
        form = form.part(
            field.to_string(),
            Part::bytes(text.as_bytes().to_vec()).file_name(name.to_string()),
        );
    }
    form
}

async fn upload(staff: &StaffClient, form: Form) -> (u16, String) {
    let response = staff
        .client
        .post(staff.url("/staff/customers/import"))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn finance_imports_in_the_console_and_support_only_looks(app: TestApp) {
    let finance = app.staff(&[Role::Finance]).await;
    let page = finance
        .get("/staff/customers")
        .await
        .text()
        .await
        .expect("page");
    assert!(page.contains("enctype=\"multipart/form-data\""), "{page}");
    assert!(
        page.contains("refused whole"),
        "the page says what a bad file does"
    );

    let form = upload_form(
        &finance,
        &[
            ("customers", "customers.csv", CUSTOMERS),
            ("subscriptions", "subscriptions.csv", SUBSCRIPTIONS),
        ],
    );
    let (status, page) = upload(&finance, form).await;
    assert_eq!(status, 200, "{page}");
    assert!(
        page.contains("Imported 3 customers and 2 subscriptions."),
        "{page}"
    );
    let found = finance.get("/staff/customers?q=anna%40example.se").await;
    let found = found.text().await.expect("page");
    assert!(
        found.contains("Anna Andersson") && found.contains("sport"),
        "{found}"
    );

    // A bad file: 422, each bad row in the table, and the good ones not applied.
    let bad =
        CUSTOMERS.replace("Sam Smith,en,EUR", "Sam Smith,en,euro") + "c-4,x@example.se,X,,SEK\n";
    let bad = bad.replace("Anna Andersson", "Anna Changed");
    let (status, page) = upload(
        &finance,
        upload_form(&finance, &[("customers", "c.csv", &bad)]),
    )
    .await;
    assert_eq!(status, 422, "{page}");
    assert!(
        page.contains("2 bad rows refused: nothing was imported"),
        "{page}"
    );
    assert_eq!(page.matches("data-testid=\"bad-row\"").count(), 2, "{page}");
    assert!(
        page.contains("<td>c.csv</td><td>4</td><td>currency</td>"),
        "{page}"
    );
    assert!(
        page.contains("<td>c.csv</td><td>5</td><td>locale</td>"),
        "{page}"
    );
    assert_eq!(
        stored(&app, "c-1").await.expect("c-1").name,
        "Anna Andersson"
    );

    // Every import is in the audit log, with its figures.
    let admin = app.staff(&[Role::Admin]).await;
    let audit = admin.get("/staff/audit?action=customers.import").await;
    let audit = audit.text().await.expect("page");
    // One entry for the import that was written (the demo's seeding has its
    // own, by the command line), none for the refused one.
    let by_finance = audit
        .split("data-testid=\"audit-row\"")
        .filter(|row| row.contains(&finance.email))
        .count();
    assert_eq!(by_finance, 1, "{audit}");

    // Support finds customers (for claims) but may not import.
    let support = app.staff(&[Role::Support]).await;
    let page = support.get("/staff/customers?q=c-2").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.expect("page");
    assert!(
        page.contains("Nordmann, Ola") && !page.contains("multipart/form-data"),
        "{page}"
    );
    let (status, _) = upload(
        &support,
        upload_form(&support, &[("customers", "c.csv", CUSTOMERS)]),
    )
    .await;
    assert_eq!(status, 403);
}

async fn an_upload_without_its_csrf_field_is_refused(app: TestApp) {
    let before = customer_count(&app).await;
    let finance = app.staff(&[Role::Finance]).await;
    let no_token = Form::new().part(
        "customers",
        Part::bytes(CUSTOMERS.as_bytes().to_vec()).file_name("customers.csv"),
    );
    let (status, _) = upload(&finance, no_token).await;
    assert_eq!(status, 403);
    let wrong = Form::new().text("csrf", "not the token").part(
        "customers",
        Part::bytes(CUSTOMERS.as_bytes().to_vec()).file_name("c.csv"),
    );
    let (status, _) = upload(&finance, wrong).await;
    assert_eq!(status, 403);
    assert_eq!(customer_count(&app).await, before);
}
