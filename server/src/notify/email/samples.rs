//! Every template rendered with sample data, for the console's preview.

use app::dto::{IncidentStage, Lang};

use crate::kernel::money;
use crate::notify::email::customer::{
    claim_notice, compensation_notice, sign_in_link, ClaimMail, CompensationMail, NoticeLine,
};
use crate::notify::email::layout::RenderedEmail;
use crate::notify::email::status::{apology, incident_update, Apology, IncidentMail};

/// Every kind of message with sample data, for the staff preview.
pub fn samples(lang: Lang) -> Result<Vec<(&'static str, RenderedEmail)>, askama::Error> {
    let page = "Driftstatus";
    let url = "https://status.example/incidents/atg-2024-08-24-v75";
    Ok(vec![
        (
            "Incident opened",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: true,
                stage: IncidentStage::Investigating,
                title: "Spelstopp inför V75",
                body_markdown: "Vi **undersöker** varför spel inte går att lämna in.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Incident updated",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: false,
                stage: IncidentStage::Identified,
                title: "Spelstopp inför V75",
                body_markdown: "Felet är hittat; en rättning rullas ut.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Incident resolved",
            incident_update(&IncidentMail {
                lang,
                page_name: page,
                opened: false,
                stage: IncidentStage::Resolved,
                title: "Spelstopp inför V75",
                body_markdown: "Allt fungerar igen.",
                incident_url: url,
                unsubscribe_url: "https://status.example/unsubscribe?token=sample",
            })?,
        ),
        (
            "Apology",
            apology(&Apology {
                lang,
                page_name: page,
                incident_title: "Spelstopp inför V75",
                body_markdown: "Vi ber om ursäkt. **Alla som drabbades** får insatsen tillbaka.",
                incident_url: url,
                unsubscribe_url: Some("https://status.example/unsubscribe?token=sample"),
            })?,
        ),
        (
            "Compensation notice",
            compensation_notice(&CompensationMail {
                lang,
                page_name: page,
                customer_name: "Ada",
                incident_title: "Spelstopp inför V75",
                what_happened: "Your V75 coupon could not be submitted at 15:52.",
                lines: &[
                    NoticeLine {
                        words: "Refund of the stake of bet b-17".into(),
                        amount: money::sek(12_500),
                    },
                    NoticeLine {
                        words: "7 days of your 149,00 kr monthly fee (plus)".into(),
                        amount: money::sek(3_477),
                    },
                ],
                jackpot: None,
                when: "It is paid to your account within 3 days.",
                incident_url: url,
            })?,
        ),
        (
            "Claim received",
            claim_notice(&ClaimMail {
                lang,
                page_name: page,
                reference: "C-1042",
                decision: None,
                claim_url: "https://status.example/claims/C-1042",
            })?,
        ),
        (
            "Claim decided",
            claim_notice(&ClaimMail {
                lang,
                page_name: page,
                reference: "C-1042",
                decision: Some((true, "125,00 kr")),
                claim_url: "https://status.example/claims/C-1042",
            })?,
        ),
        (
            "Sign-in link",
            sign_in_link(
                lang,
                page,
                "https://status.example/staff/login?token=sample",
                15,
            )?,
        ),
    ])
}
