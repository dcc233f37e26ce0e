//! Interface strings in every language Plaster speaks. Incident texts come
//! from the database; these are the words around them.

use crate::dto::{ComponentStatus, IncidentStage, Lang};

pub struct Ui {
    pub all_operational: &'static str,
    pub some_degraded: &'static str,
    pub partial_outage: &'static str,
    pub major_outage: &'static str,
    pub maintenance: &'static str,
    pub active_incidents: &'static str,
    pub components: &'static str,
    pub recent_incidents: &'static str,
    pub no_incidents: &'static str,
    pub uptime: &'static str,
    pub days_ago_90: &'static str,
    pub today: &'static str,
    pub hide: &'static str,
    pub show: &'static str,
    pub times_in: &'static str,
    pub language: &'static str,
    pub fallback_note: &'static str,
    pub affected: &'static str,
    pub started: &'static str,
    pub resolved: &'static str,
    pub minutes_down: &'static str,
    pub updated: &'static str,
}

pub fn ui(lang: Lang) -> &'static Ui {
    match lang {
        Lang::Sv => &SV,
        Lang::Nb => &NB,
        Lang::En => &EN,
    }
}

const SV: Ui = Ui {
    all_operational: "Alla system fungerar",
    some_degraded: "Vissa system är långsamma",
    partial_outage: "Delvis avbrott",
    major_outage: "Större avbrott",
    maintenance: "Pågående underhåll",
    active_incidents: "Pågående störningar",
    components: "Tjänster",
    recent_incidents: "Tidigare störningar",
    no_incidents: "Inga störningar att visa.",
    uptime: "tillgänglighet",
    days_ago_90: "90 dagar sedan",
    today: "Idag",
    hide: "Dölj",
    show: "Visa",
    times_in: "Tider visas i",
    language: "Språk",
    fallback_note: "Texten finns inte på svenska; visas på",
    affected: "Berörda tjänster",
    started: "Började",
    resolved: "Löst",
    minutes_down: "minuter avbrott",
    updated: "Uppdaterad",
};

const NB: Ui = Ui {
    all_operational: "Alle systemer fungerer",
    some_degraded: "Noen systemer er trege",
    partial_outage: "Delvis brudd",
    major_outage: "Større brudd",
    maintenance: "Vedlikehold pågår",
    active_incidents: "Pågående hendelser",
    components: "Tjenester",
    recent_incidents: "Tidligere hendelser",
    no_incidents: "Ingen hendelser å vise.",
    uptime: "oppetid",
    days_ago_90: "90 dager siden",
    today: "I dag",
    hide: "Skjul",
    show: "Vis",
    times_in: "Tider vises i",
    language: "Språk",
    fallback_note: "Teksten finnes ikke på norsk; vises på",
    affected: "Berørte tjenester",
    started: "Startet",
    resolved: "Løst",
    minutes_down: "minutter nede",
    updated: "Oppdatert",
};

const EN: Ui = Ui {
    all_operational: "All systems operational",
    some_degraded: "Some systems are slow",
    partial_outage: "Partial outage",
    major_outage: "Major outage",
    maintenance: "Maintenance in progress",
    active_incidents: "Active incidents",
    components: "Services",
    recent_incidents: "Past incidents",
    no_incidents: "No incidents to show.",
    uptime: "uptime",
    days_ago_90: "90 days ago",
    today: "Today",
    hide: "Hide",
    show: "Show",
    times_in: "Times shown in",
    language: "Language",
    fallback_note: "Not available in English; shown in",
    affected: "Affected services",
    started: "Started",
    resolved: "Resolved",
    minutes_down: "minutes of outage",
    updated: "Updated",
};

/// The name of a component level in `lang`.
pub fn status_label(lang: Lang, status: ComponentStatus) -> &'static str {
    use ComponentStatus::*;
    match (lang, status) {
        (Lang::Sv, Operational) => "Fungerar",
        (Lang::Sv, DegradedPerformance) => "Långsam",
        (Lang::Sv, PartialOutage) => "Delvis avbrott",
        (Lang::Sv, MajorOutage) => "Avbrott",
        (Lang::Sv, UnderMaintenance) => "Underhåll",
        (Lang::Nb, Operational) => "Fungerer",
        (Lang::Nb, DegradedPerformance) => "Treg",
        (Lang::Nb, PartialOutage) => "Delvis brudd",
        (Lang::Nb, MajorOutage) => "Brudd",
        (Lang::Nb, UnderMaintenance) => "Vedlikehold",
        (Lang::En, Operational) => "Operational",
        (Lang::En, DegradedPerformance) => "Degraded performance",
        (Lang::En, PartialOutage) => "Partial outage",
        (Lang::En, MajorOutage) => "Major outage",
        (Lang::En, UnderMaintenance) => "Under maintenance",
    }
}

/// The banner text for the page's overall state.
pub fn overall_label(lang: Lang, overall: ComponentStatus) -> &'static str {
    let ui = ui(lang);
    match overall {
        ComponentStatus::Operational => ui.all_operational,
        ComponentStatus::DegradedPerformance => ui.some_degraded,
        ComponentStatus::PartialOutage => ui.partial_outage,
        ComponentStatus::MajorOutage => ui.major_outage,
        ComponentStatus::UnderMaintenance => ui.maintenance,
    }
}

pub fn stage_label(lang: Lang, stage: IncidentStage) -> &'static str {
    use IncidentStage::*;
    match (lang, stage) {
        (Lang::Sv, Investigating) => "Undersöker",
        (Lang::Sv, Identified) => "Orsak funnen",
        (Lang::Sv, Monitoring) => "Bevakar",
        (Lang::Sv, Resolved) => "Löst",
        (Lang::Sv, Postmortem) => "Efteranalys",
        (Lang::Nb, Investigating) => "Undersøker",
        (Lang::Nb, Identified) => "Årsak funnet",
        (Lang::Nb, Monitoring) => "Overvåker",
        (Lang::Nb, Resolved) => "Løst",
        (Lang::Nb, Postmortem) => "Etteranalyse",
        (Lang::En, Investigating) => "Investigating",
        (Lang::En, Identified) => "Identified",
        (Lang::En, Monitoring) => "Monitoring",
        (Lang::En, Resolved) => "Resolved",
        (Lang::En, Postmortem) => "Postmortem",
    }
}
