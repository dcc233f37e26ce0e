//! Interface strings in every language Plaster speaks. Incident texts come
//! from the database; these are the words around them.

use crate::dto::{ComponentStatus, Impact, IncidentStage, Lang};

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
    pub history: &'static str,
    pub back_to_status: &'static str,
    pub incident_not_found: &'static str,
    pub incident_not_found_hint: &'static str,
    pub duration: &'static str,
    pub impact: &'static str,
    pub timeline: &'static str,
    pub ongoing: &'static str,
    pub newer: &'static str,
    pub older: &'static str,
    pub page: &'static str,
    pub of: &'static str,
    pub pagination: &'static str,
    pub skip_to_content: &'static str,
    pub hours_short: &'static str,
    pub no_outage: &'static str,
    pub apology: &'static str,
    pub subscribe: &'static str,
    /// The incident page's way to a claim.
    pub were_you_affected: &'static str,
    pub were_you_affected_hint: &'static str,
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
    history: "Störningshistorik",
    back_to_status: "Tillbaka till driftstatus",
    incident_not_found: "Störningen finns inte",
    incident_not_found_hint: "Ingen störning har den adressen. Den kan ha tagits bort.",
    were_you_affected: "Drabbades du?",
    were_you_affected_hint: "Se vad vi hittade om dig, eller anmäl ett ärende.",
    duration: "Varaktighet",
    impact: "Påverkan",
    timeline: "Tidslinje",
    ongoing: "pågår",
    newer: "Nyare",
    older: "Äldre",
    page: "Sida",
    of: "av",
    pagination: "Sidor",
    skip_to_content: "Hoppa till innehållet",
    hours_short: "tim",
    no_outage: "inga störningar",
    apology: "Vi ber om ursäkt",
    subscribe: "Få besked via e-post",
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
    history: "Hendelseshistorikk",
    back_to_status: "Tilbake til driftsstatus",
    incident_not_found: "Hendelsen finnes ikke",
    incident_not_found_hint: "Ingen hendelse har den adressen. Den kan ha blitt fjernet.",
    were_you_affected: "Ble du berørt?",
    were_you_affected_hint: "Se hva vi fant om deg, eller meld inn en sak.",
    duration: "Varighet",
    impact: "Påvirkning",
    timeline: "Tidslinje",
    ongoing: "pågår",
    newer: "Nyere",
    older: "Eldre",
    page: "Side",
    of: "av",
    pagination: "Sider",
    skip_to_content: "Hopp til innholdet",
    hours_short: "t",
    no_outage: "ingen hendelser",
    apology: "Vi beklager",
    subscribe: "Få beskjed på e-post",
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
    history: "Incident history",
    back_to_status: "Back to service status",
    incident_not_found: "Incident not found",
    incident_not_found_hint: "No incident has this address. It may have been removed.",
    were_you_affected: "Were you affected?",
    were_you_affected_hint: "See what we found about you, or file a claim.",
    duration: "Duration",
    impact: "Impact",
    timeline: "Timeline",
    ongoing: "ongoing",
    newer: "Newer",
    older: "Older",
    page: "Page",
    of: "of",
    pagination: "Pages",
    skip_to_content: "Skip to content",
    hours_short: "h",
    no_outage: "no incidents",
    apology: "Our apology",
    subscribe: "Get updates by e-mail",
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

pub fn impact_label(lang: Lang, impact: Impact) -> &'static str {
    use Impact::*;
    match (lang, impact) {
        (Lang::Sv, None) => "Ingen",
        (Lang::Sv, Minor) => "Mindre",
        (Lang::Sv, Major) => "Större",
        (Lang::Sv, Critical) => "Kritisk",
        (Lang::Sv, Maintenance) => "Underhåll",
        (Lang::Nb, None) => "Ingen",
        (Lang::Nb, Minor) => "Mindre",
        (Lang::Nb, Major) => "Større",
        (Lang::Nb, Critical) => "Kritisk",
        (Lang::Nb, Maintenance) => "Vedlikehold",
        (Lang::En, None) => "None",
        (Lang::En, Minor) => "Minor",
        (Lang::En, Major) => "Major",
        (Lang::En, Critical) => "Critical",
        (Lang::En, Maintenance) => "Maintenance",
    }
}

/// The month's name in `lang`, `month` counted from 1. Swedish and
/// Norwegian write month names in lower case.
pub fn month_name(lang: Lang, month: u32) -> &'static str {
    const SV: [&str; 12] = [
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ];
    const NB: [&str; 12] = [
        "januar",
        "februar",
        "mars",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "desember",
    ];
    const EN: [&str; 12] = [
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ];
    let names = match lang {
        Lang::Sv => &SV,
        Lang::Nb => &NB,
        Lang::En => &EN,
    };
    let index = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    names[index]
}

/// Hundredths of a percent as readers of `lang` write a percentage:
/// "99,95 %" in Swedish and Norwegian (decimal comma, a no-break space
/// before the sign), "99.95%" in English.
pub fn format_percent(lang: Lang, basis_points: u32) -> String {
    let (whole, hundredths) = (basis_points / 100, basis_points % 100);
    match lang {
        Lang::En => format!("{whole}.{hundredths:02}%"),
        Lang::Sv | Lang::Nb => format!("{whole},{hundredths:02}\u{a0}%"),
    }
}

/// "4 h 35 min" (in the page's language); whole minutes.
pub fn format_duration(lang: Lang, minutes: i64) -> String {
    let minutes = minutes.max(0);
    let (h, m) = (minutes / 60, minutes % 60);
    match (h, m) {
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} {}", ui(lang).hours_short),
        (h, m) => format!("{h} {} {m} min", ui(lang).hours_short),
    }
}

/// Maps a language tag to a language Plaster speaks: any Norwegian
/// (`nb`, `no`, `nn`) reads bokmål, regional variants count as the language.
fn lang_of_tag(tag: &str) -> Option<Lang> {
    let primary = tag
        .split(['-', '_'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    match primary.as_str() {
        "sv" => Some(Lang::Sv),
        "nb" | "no" | "nn" => Some(Lang::Nb),
        "en" => Some(Lang::En),
        _ => None,
    }
}

/// The best language for an `Accept-Language` header: highest q-value
/// first, the header's order breaking ties, `*` meaning the default;
/// `default` when nothing matches.
pub fn negotiate(accept_language: &str, default: Lang) -> Lang {
    let mut best: Option<(u16, Lang)> = None;
    for entry in accept_language.split(',') {
        let mut parts = entry.split(';');
        let tag = parts.next().unwrap_or("").trim();
        if tag.is_empty() {
            continue;
        }
        // q-values have at most three decimals: compare them as thousandths.
        let mut q = 1000u16;
        for param in parts {
            if let Some(value) = param.trim().strip_prefix("q=") {
                q = value
                    .trim()
                    .parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .map_or(0, |v| (v * 1000.0).round() as u16);
            }
        }
        if q == 0 {
            continue;
        }
        let lang = if tag == "*" {
            Some(default)
        } else {
            lang_of_tag(tag)
        };
        if let Some(lang) = lang {
            if best.is_none_or(|(best_q, _)| q > best_q) {
                best = Some((q, lang));
            }
        }
    }
    best.map_or(default, |(_, lang)| lang)
}

/// `path` with its language prefix replaced by `lang`'s, so the language
/// switcher keeps the reader on the same page.
pub fn path_in_lang(path: &str, lang: Lang) -> String {
    let rest = path.trim_start_matches('/');
    let (first, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let tail = if Lang::ALL.iter().any(|l| l.code() == first) {
        tail
    } else {
        rest
    };
    if tail.is_empty() {
        format!("/{}", lang.code())
    } else {
        format!("/{}/{}", lang.code(), tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_written_the_reader_s_way() {
        assert_eq!(format_percent(Lang::Sv, 9995), "99,95\u{a0}%");
        assert_eq!(format_percent(Lang::Nb, 10_000), "100,00\u{a0}%");
        assert_eq!(format_percent(Lang::En, 9905), "99.05%");
    }

    #[test]
    fn accept_language_respects_q_values_and_norwegian_variants() {
        assert_eq!(negotiate("nb-NO,nb;q=0.9,en;q=0.8", Lang::Sv), Lang::Nb);
        assert_eq!(negotiate("nn", Lang::Sv), Lang::Nb);
        assert_eq!(negotiate("no;q=0.5, en;q=0.9", Lang::Sv), Lang::En);
        assert_eq!(negotiate("sv-SE", Lang::En), Lang::Sv);
        assert_eq!(negotiate("de-DE,fr;q=0.8", Lang::Sv), Lang::Sv);
        assert_eq!(negotiate("en;q=0, *", Lang::Nb), Lang::Nb);
        assert_eq!(negotiate("", Lang::En), Lang::En);
        assert_eq!(negotiate("da, sv;q=0.3, en;q=0.3", Lang::Nb), Lang::Sv);
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(format_duration(Lang::En, 275), "4 h 35 min");
        assert_eq!(format_duration(Lang::Sv, 45), "45 min");
        assert_eq!(format_duration(Lang::Nb, 120), "2 t");
    }

    #[test]
    fn switching_language_keeps_the_page() {
        assert_eq!(path_in_lang("/en/incidents/x", Lang::Sv), "/sv/incidents/x");
        assert_eq!(path_in_lang("/incidents/x", Lang::Nb), "/nb/incidents/x");
        assert_eq!(path_in_lang("/", Lang::En), "/en");
        assert_eq!(path_in_lang("/sv", Lang::Nb), "/nb");
        assert_eq!(path_in_lang("/history", Lang::En), "/en/history");
    }
}
