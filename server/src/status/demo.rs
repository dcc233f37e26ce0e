//! Demo content: the three outages Plaster was born from, as resolved
//! incidents with their timelines in Swedish, Norwegian and English, a
//! plausible set of components, two smaller recent incidents so the 90-day
//! uptime bars have something to show, and an upcoming maintenance window.

use app::dto::{ComponentStatus, Impact, IncidentStage, Lang};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Europe::{Oslo, Stockholm};
use chrono_tz::Tz;

use crate::kernel::ids::new_id;
use crate::store::status::NewMaintenance;
use crate::store::status::{
    clear_status_content, insert_component, insert_group, insert_incident, record_component_status,
    set_setting, AffectedComponent, ComponentRecord, GroupRecord, IncidentRecord, Texts,
    UpdateRecord,
};
use crate::store::{Store, StoreError};

use ComponentStatus::{DegradedPerformance, MajorOutage, Operational, PartialOutage};

fn texts(sv: &str, nb: &str, en: &str) -> Texts {
    [(Lang::Sv, sv), (Lang::Nb, nb), (Lang::En, en)]
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(l, t)| (l, t.to_string()))
        .collect()
}

fn local(tz: Tz, y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Result<DateTime<Utc>, StoreError> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            StoreError::Corrupt(format!(
                "demo time {y}-{mo}-{d} {h}:{mi} is not a local time"
            ))
        })
}

struct Step {
    at: DateTime<Utc>,
    stage: IncidentStage,
    body: Texts,
    changes: Vec<(&'static str, ComponentStatus)>,
}

struct DemoIncident {
    id: &'static str,
    impact: Impact,
    title: Texts,
    steps: Vec<Step>,
}

const GROUPS: [(&str, &str, &str, &str); 3] = [
    (
        "account",
        "Konto och betalningar",
        "Konto og betalinger",
        "Account and payments",
    ),
    ("betting", "Spel", "Spill", "Betting"),
    (
        "streaming",
        "TV och streaming",
        "TV og strømming",
        "TV and streaming",
    ),
];

/// (id, group, sv, nb, en, description in en)
const COMPONENTS: [(&str, &str, &str, &str, &str, &str); 8] = [
    (
        "login",
        "account",
        "Inloggning",
        "Innlogging",
        "Login",
        "Signing in on web and app, BankID included",
    ),
    (
        "payments",
        "account",
        "Insättningar och uttag",
        "Innskudd og uttak",
        "Deposits and withdrawals",
        "Card, Swish and bank transfers",
    ),
    (
        "bet-placement",
        "betting",
        "Spelinlämning",
        "Spillinnlevering",
        "Bet placement",
        "Handing in coupons for all games",
    ),
    (
        "trotting",
        "betting",
        "Trav och galopp",
        "Trav og galopp",
        "Trotting and galloping",
        "V75, V86, V5 and the other pools",
    ),
    (
        "sport",
        "betting",
        "Sportspel",
        "Sportsspill",
        "Sports betting",
        "Odds and live betting",
    ),
    (
        "casino",
        "betting",
        "Kasino",
        "Kasino",
        "Casino",
        "Slots and live casino",
    ),
    (
        "sumo-login",
        "streaming",
        "Sumo inloggning",
        "Sumo innlogging",
        "Sumo sign-in",
        "Signing in to TV 2 Sumo",
    ),
    (
        "sumo-streaming",
        "streaming",
        "Sumo direktsändning",
        "Sumo direktesending",
        "Sumo live streaming",
        "Live sport and channels",
    ),
];

fn incidents(now: DateTime<Utc>) -> Result<Vec<DemoIncident>, StoreError> {
    let s = |mo, d, h, mi| local(Stockholm, 2023, mo, d, h, mi);
    let v75_2023 = DemoIncident {
        id: "atg-2023-09-16-v75",
        impact: Impact::Critical,
        title: texts(
            "Inloggning och spel fungerar inte före V75 på Färjestad",
            "Innlogging og spill fungerer ikke før V75 på Färjestad",
            "Login and betting unavailable before V75 at Färjestad",
        ),
        steps: vec![
            Step {
                at: s(9, 16, 15, 58)?,
                stage: IncidentStage::Investigating,
                body: texts(
                    "Många kunder kan inte logga in eller lämna in spel. Vi undersöker orsaken.",
                    "Mange kunder får ikke logget inn eller levert spill. Vi undersøker årsaken.",
                    "Many customers cannot sign in or hand in bets. We are investigating.",
                ),
                changes: vec![("login", MajorOutage), ("bet-placement", MajorOutage), ("trotting", MajorOutage)],
            },
            Step {
                at: s(9, 16, 16, 35)?,
                stage: IncidentStage::Identified,
                body: texts(
                    "Felet sitter i vår inloggningstjänst. Spel som redan lämnats in är giltiga. Vi arbetar på en lösning.",
                    "Feilen ligger i innloggingstjenesten vår. Spill som allerede er levert er gyldige. Vi jobber med en løsning.",
                    "The fault is in our sign-in service. Bets already handed in are valid. We are working on a fix.",
                ),
                changes: vec![],
            },
            Step {
                at: s(9, 16, 17, 30)?,
                stage: IncidentStage::Monitoring,
                body: texts(
                    "Inloggning och spel fungerar igen men kan vara långsamma under kvällen.",
                    "Innlogging og spill fungerer igjen, men kan være trege utover kvelden.",
                    "Login and betting work again but may be slow during the evening.",
                ),
                changes: vec![("login", DegradedPerformance), ("bet-placement", DegradedPerformance), ("trotting", DegradedPerformance)],
            },
            Step {
                at: s(9, 16, 22, 10)?,
                stage: IncidentStage::Resolved,
                body: texts(
                    "Alla system fungerar normalt igen. Vi ber om ursäkt för problemen före V75.",
                    "Alle systemer fungerer normalt igjen. Vi beklager problemene før V75.",
                    "All systems are back to normal. We apologise for the problems before V75.",
                ),
                changes: vec![("login", Operational), ("bet-placement", Operational), ("trotting", Operational)],
            },
        ],
    };

    let a = |d, h, mi| local(Stockholm, 2024, 8, d, h, mi);
    let v75_2024 = DemoIncident {
        id: "atg-2024-08-24-v75",
        impact: Impact::Critical,
        title: texts(
            "Spelstopp före V75 med drömjackpot",
            "Spillstopp før V75 med drømmejackpot",
            "Betting stopped before the V75 dream jackpot deadline",
        ),
        steps: vec![
            Step {
                at: a(24, 16, 6)?,
                stage: IncidentStage::Investigating,
                body: texts(
                    "Allt spel är stängt. Vi undersöker orsaken med högsta prioritet.",
                    "Alt spill er stengt. Vi undersøker årsaken med høyeste prioritet.",
                    "All betting is closed. We are investigating with the highest priority.",
                ),
                changes: vec![("bet-placement", MajorOutage), ("trotting", MajorOutage), ("sport", MajorOutage), ("casino", MajorOutage)],
            },
            Step {
                at: a(24, 16, 31)?,
                stage: IncidentStage::Identified,
                body: texts(
                    "En felaktig stängningssignal från Svensk Travsports sportsystem stängde spelet. När spelet öppnades igen orsakade den stora trafiken följdfel.",
                    "Et feilaktig stengesignal fra Svensk Travsports sportssystem stengte spillet. Da spillet ble åpnet igjen, ga den store trafikken følgefeil.",
                    "A false close signal from Svensk Travsport's sport system shut betting. When it was reopened, the rush of traffic caused follow-on failures.",
                ),
                changes: vec![("login", PartialOutage)],
            },
            Step {
                at: a(24, 19, 15)?,
                stage: IncidentStage::Monitoring,
                body: texts(
                    "Inloggning fungerar igen. Trav, sport och kasino öppnas stegvis.",
                    "Innlogging fungerer igjen. Trav, sport og kasino åpnes gradvis.",
                    "Login works again. Trotting, sport and casino are reopening step by step.",
                ),
                changes: vec![("login", Operational), ("trotting", PartialOutage), ("sport", PartialOutage), ("casino", PartialOutage), ("bet-placement", DegradedPerformance)],
            },
            Step {
                at: a(24, 20, 41)?,
                stage: IncidentStage::Resolved,
                body: texts(
                    "Allt spel är öppet igen. Insatser som dragits utan registrerat spel betalas tillbaka automatiskt.",
                    "Alt spill er åpent igjen. Innsatser som er trukket uten registrert spill betales automatisk tilbake.",
                    "All betting is open again. Stakes taken without a registered bet are refunded automatically.",
                ),
                changes: vec![("bet-placement", Operational), ("trotting", Operational), ("sport", Operational), ("casino", Operational)],
            },
            Step {
                at: a(26, 10, 0)?,
                stage: IncidentStage::Postmortem,
                body: texts(
                    "Vi ber om ursäkt. Nästa lördag lägger vi en ny drömjackpot på V75, påfylld ur vår fond så att en ensam vinnare får 75 miljoner kronor.",
                    "Vi beklager. Neste lørdag legger vi en ny drømmejackpot på V75, fylt opp fra fondet vårt slik at en enslig vinner får 75 millioner kroner.",
                    "We apologise. Next Saturday we put a new dream jackpot on V75, topped up from our fund so that a single winner gets SEK 75 million.",
                ),
                changes: vec![],
            },
        ],
    };

    let o = |h, mi| local(Oslo, 2018, 8, 20, h, mi);
    let sumo = DemoIncident {
        id: "tv2-2018-08-20-sumo",
        impact: Impact::Major,
        title: texts(
            "Sumo: inloggning fungerar inte vid avspark Crystal Palace – Liverpool",
            "Sumo: innlogging fungerer ikke ved avspark Crystal Palace – Liverpool",
            "Sumo: sign-in failing at kick-off of Crystal Palace – Liverpool",
        ),
        steps: vec![
            Step {
                at: o(21, 2)?,
                stage: IncidentStage::Investigating,
                body: texts(
                    "Många tittare kan inte logga in. Den som redan är inloggad kan fortsätta titta.",
                    "Mange seere får ikke logget inn. De som allerede er innlogget kan fortsette å se.",
                    "Many viewers cannot sign in. Viewers already signed in can keep watching.",
                ),
                changes: vec![("sumo-login", MajorOutage), ("sumo-streaming", PartialOutage)],
            },
            Step {
                at: o(21, 40)?,
                stage: IncidentStage::Identified,
                body: texts(
                    "Inloggningslagret klarar inte trafiken vid avspark. Vi lägger till kapacitet.",
                    "Innloggingslaget tåler ikke trafikken ved avspark. Vi legger til kapasitet.",
                    "The sign-in layer cannot cope with the kick-off traffic. We are adding capacity.",
                ),
                changes: vec![],
            },
            Step {
                at: o(22, 30)?,
                stage: IncidentStage::Monitoring,
                body: texts(
                    "Inloggning fungerar igen för de flesta. Vi bevakar.",
                    "Innlogging fungerer igjen for de fleste. Vi følger med.",
                    "Sign-in works again for most viewers. We are monitoring.",
                ),
                changes: vec![("sumo-login", DegradedPerformance), ("sumo-streaming", Operational)],
            },
            Step {
                at: o(23, 15)?,
                stage: IncidentStage::Resolved,
                body: texts(
                    "Allt fungerar normalt. Berörda kunder kompenseras automatiskt.",
                    "Alt fungerer normalt. Berørte kunder kompenseres automatisk.",
                    "Everything works normally. Affected customers are compensated automatically.",
                ),
                changes: vec![("sumo-login", Operational)],
            },
        ],
    };

    // Recent, smaller incidents at fixed local hours so reseeding looks the same.
    let day = |days_ago: i64, h: u32, mi: u32| -> Result<DateTime<Utc>, StoreError> {
        let date = (now - Duration::days(days_ago))
            .with_timezone(&Stockholm)
            .date_naive();
        let t = date
            .and_hms_opt(h, mi, 0)
            .and_then(|t| Stockholm.from_local_datetime(&t).earliest())
            .ok_or_else(|| StoreError::Corrupt("demo time out of range".into()))?;
        Ok(t.with_timezone(&Utc))
    };
    let payouts = DemoIncident {
        id: "recent-slow-withdrawals",
        impact: Impact::Minor,
        title: texts("Långsamma uttag", "Trege uttak", "Slow withdrawals"),
        steps: vec![
            Step {
                at: day(12, 9, 20)?,
                stage: IncidentStage::Investigating,
                body: texts(
                    "Uttag tar längre tid än vanligt. Pengarna är säkra.",
                    "",
                    "Withdrawals take longer than usual. Your money is safe.",
                ),
                changes: vec![("payments", DegradedPerformance)],
            },
            Step {
                at: day(12, 11, 5)?,
                stage: IncidentStage::Resolved,
                body: texts(
                    "Uttag går som vanligt igen.",
                    "Uttak går som normalt igjen.",
                    "Withdrawals are back to normal.",
                ),
                changes: vec![("payments", Operational)],
            },
        ],
    };
    let casino = DemoIncident {
        id: "recent-casino-loading",
        impact: Impact::Major,
        title: texts(
            "Kasinospel startar inte",
            "Kasinospill starter ikke",
            "Casino games fail to start",
        ),
        steps: vec![
            Step {
                at: day(37, 20, 10)?,
                stage: IncidentStage::Investigating,
                body: texts(
                    "Många kasinospel startar inte. Vi undersöker.",
                    "Mange kasinospill starter ikke. Vi undersøker.",
                    "Many casino games fail to start. We are investigating.",
                ),
                changes: vec![("casino", PartialOutage)],
            },
            Step {
                at: day(37, 20, 55)?,
                stage: IncidentStage::Resolved,
                body: texts(
                    "En spelleverantör hade driftstörning. Allt fungerar igen.",
                    "En spilleverandør hadde driftsforstyrrelser. Alt fungerer igjen.",
                    "A game supplier had an outage. Everything works again.",
                ),
                changes: vec![("casino", Operational)],
            },
        ],
    };
    Ok(vec![sumo, v75_2023, v75_2024, casino, payouts])
}

/// Seeds the demo into an empty status side, or replaces the status side
/// when `reset` is set. One transaction: a failure leaves the database as it was.
pub async fn seed(store: &Store, reset: bool) -> Result<bool, StoreError> {
    if !reset && store.has_components().await? {
        return Ok(false);
    }
    let now = Utc::now();
    let created = local(Stockholm, 2018, 1, 1, 0, 0)?.timestamp_millis();
    let mut tx = store.begin_write().await?;
    if reset {
        clear_status_content(&mut tx).await?;
    }
    for (key, value) in [
        ("page_name.sv", "Driftstatus"),
        ("page_name.nb", "Driftsstatus"),
        ("page_name.en", "Service status"),
    ] {
        set_setting(&mut tx, key, value).await?;
    }
    for (position, (id, sv, nb, en)) in GROUPS.iter().enumerate() {
        insert_group(
            &mut tx,
            &GroupRecord {
                id: id.to_string(),
                position: position as i64,
                names: texts(sv, nb, en),
            },
        )
        .await?;
    }
    for (position, (id, group, sv, nb, en, description)) in COMPONENTS.iter().enumerate() {
        insert_component(
            &mut tx,
            &ComponentRecord {
                id: id.to_string(),
                group_id: Some(group.to_string()),
                position: position as i64,
                status: Operational,
                hidden: false,
                names: texts(sv, nb, en),
                descriptions: [(Lang::En, description.to_string())].into_iter().collect(),
                created_at: created,
                updated_at: created,
            },
        )
        .await?;
        record_component_status(&mut tx, id, Operational, created, None).await?;
    }

    for demo in incidents(now)? {
        let mut current: std::collections::BTreeMap<&str, ComponentStatus> =
            COMPONENTS.iter().map(|c| (c.0, Operational)).collect();
        let started = demo
            .steps
            .first()
            .map_or(created, |s| s.at.timestamp_millis());
        let resolved = demo
            .steps
            .iter()
            .find(|s| s.stage == IncidentStage::Resolved)
            .map(|s| s.at.timestamp_millis());
        let last = demo
            .steps
            .last()
            .map_or(started, |s| s.at.timestamp_millis());
        let updates = demo
            .steps
            .iter()
            .map(|step| UpdateRecord {
                id: new_id(),
                status: step.stage,
                display_at: step.at.timestamp_millis(),
                created_at: step.at.timestamp_millis(),
                bodies: step.body.clone(),
                components: step
                    .changes
                    .iter()
                    .map(|(component, new_status)| {
                        let old = current
                            .insert(component, *new_status)
                            .unwrap_or(Operational);
                        AffectedComponent {
                            component_id: component.to_string(),
                            old_status: old,
                            new_status: *new_status,
                        }
                    })
                    .collect(),
            })
            .collect();
        insert_incident(
            &mut tx,
            &IncidentRecord {
                id: demo.id.to_string(),
                impact: demo.impact,
                status: demo
                    .steps
                    .last()
                    .map_or(IncidentStage::Resolved, |s| s.stage),
                started_at: started,
                resolved_at: resolved,
                created_at: started,
                updated_at: last,
                titles: demo.title,
                updates,
                apology: Texts::new(),
                apology_published_at: None,
            },
        )
        .await?;
    }

    seed_maintenance(&mut tx, now).await?;
    seed_apology(&mut tx, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// The 2024 V75 stop came with a published apology; the demo shows one.
async fn seed_apology(
    conn: &mut sqlx::AnyConnection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let texts = [
        (Lang::Sv, "Vi ber om ursäkt för spelstoppet inför V75-stängningen. **Alla som inte kunde lämna in sitt spel** får insatsen tillbaka automatiskt, utan att behöva höra av sig."),
        (Lang::Nb, "Vi beklager spillstansen før V75-fristen. **Alle som ikke fikk levert spillet sitt** får innsatsen tilbake automatisk, uten å måtte ta kontakt."),
        (Lang::En, "We are sorry for the betting stop before the V75 deadline. **Everyone who could not place their bet** gets their stake back automatically, without having to ask."),
    ];
    let texts: Texts = texts
        .into_iter()
        .map(|(lang, body)| (lang, body.to_string()))
        .collect();
    crate::store::status::replace_apology(
        conn,
        "atg-2024-08-24-v75",
        &texts,
        now.timestamp_millis(),
    )
    .await?;
    Ok(())
}

async fn seed_maintenance(
    conn: &mut sqlx::AnyConnection,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let date = (now + Duration::days(3))
        .with_timezone(&Stockholm)
        .date_naive();
    let window = |h| {
        date.and_hms_opt(h, 0, 0)
            .and_then(|t| Stockholm.from_local_datetime(&t).earliest())
            .map(|t| t.timestamp_millis())
            .ok_or_else(|| StoreError::Corrupt("maintenance time out of range".into()))
    };
    let (from, until) = (window(2)?, window(4)?);
    let id = "payments-upgrade";
    let stamp = now.timestamp_millis();
    let text = [
        (
            Lang::Sv,
            "Uppgradering av betalsystemet",
            "Insättningar och uttag kan vara otillgängliga under arbetet.",
        ),
        (
            Lang::Nb,
            "Oppgradering av betalingssystemet",
            "Innskudd og uttak kan være utilgjengelige under arbeidet.",
        ),
        (
            Lang::En,
            "Payment system upgrade",
            "Deposits and withdrawals may be unavailable during the work.",
        ),
    ];
    let titles: Texts = text.iter().map(|(l, t, _)| (*l, t.to_string())).collect();
    let bodies: Texts = text.iter().map(|(l, _, b)| (*l, b.to_string())).collect();
    crate::store::status::insert_maintenance(
        conn,
        &NewMaintenance {
            id,
            titles: &titles,
            bodies: &bodies,
            from_ms: from,
            until_ms: until,
            component_ids: &["payments".into()],
        },
        stamp,
    )
    .await?;
    Ok(())
}
