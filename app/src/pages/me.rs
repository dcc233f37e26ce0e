//! `/me`: a customer's own page. Signed out, it asks for an e-mail address
//! (the server mails a sign-in link). Signed in, it shows each incident
//! that touched them in their own records, what they get with the
//! arithmetic, and where it stands (found → approved → paid), and their
//! claims; once hydrated it reloads every few seconds, so a payout or a
//! decision shows up while the page is open.

use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::use_query_map;

use crate::dto::{Lang, MyClaim, MyCompensation, MyIncident, MyPageView, MyStage};
use crate::islands::{Freshness, PageLive};
use crate::pages::common::{document_title, set_language_headers, PageFooter, PageHeader, Time};
use crate::server_fns::my_page;

struct Words {
    title: &'static str,
    intro: &'static str,
    email: &'static str,
    send: &'static str,
    sent: &'static str,
    too_soon: &'static str,
    too_many: &'static str,
    bad_email: &'static str,
    link_used: &'static str,
    claim_first: &'static str,
    hello: &'static str,
    sign_out: &'static str,
    download: &'static str,
    nothing_found: &'static str,
    claim_hint: &'static str,
    file_claim: &'static str,
    what_happened: &'static str,
    no_records: &'static str,
    blocked: &'static str,
    you_get: &'static str,
    nothing_to_pay: &'static str,
    total: &'static str,
    payouts: &'static str,
    claims: &'static str,
    no_claims: &'static str,
    filed: &'static str,
    stage: [&'static str; 3],
    progress: &'static str,
    claim_about: &'static str,
}

fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::Sv => &Words {
            title: "Min kompensation",
            intro: "Ange e-postadressen till ditt konto så skickar vi en inloggningslänk.",
            email: "E-postadress",
            send: "Skicka länk",
            sent: "Om adressen hör till ett konto har vi skickat en länk dit. Den gäller i 15 minuter.",
            too_soon: "Vi skickade nyss en länk. Vänta en minut och försök igen.",
            too_many: "För många försök. Försök igen om en timme.",
            bad_email: "Det där ser inte ut som en e-postadress.",
            link_used: "Länken är använd, för gammal eller ogiltig. Be om en ny nedan.",
            claim_first: "Logga in först, så kan du anmäla ett ärende: ange din e-postadress och öppna länken vi skickar.",
            hello: "Hej",
            sign_out: "Logga ut",
            download: "Ladda ner allt vi har om dig (JSON)",
            nothing_found: "Vi hittade dig inte bland de drabbade i någon störning.",
            claim_hint: "Drabbades du ändå? Anmäl det, så går vi igenom det mot våra loggar.",
            file_claim: "Anmäl ett ärende",
            what_happened: "Det här hände dig",
            no_records: "Våra loggar visar inget om dig under störningen.",
            blocked: "Tid utan åtkomst",
            you_get: "Det här får du",
            nothing_to_pay: "Enligt reglerna för störningen får du ingen ersättning.",
            total: "Totalt",
            payouts: "Utbetalningar",
            claims: "Dina ärenden",
            no_claims: "Du har inga ärenden.",
            filed: "Anmält",
            stage: ["Hittad", "Godkänd", "Utbetald"],
            progress: "Status",
            claim_about: "Anmäl ett ärende om den här störningen",
        },
        Lang::Nb => &Words {
            title: "Min kompensasjon",
            intro: "Skriv inn e-postadressen til kontoen din, så sender vi en innloggingslenke.",
            email: "E-postadresse",
            send: "Send lenke",
            sent: "Hvis adressen hører til en konto, har vi sendt en lenke dit. Den gjelder i 15 minutter.",
            too_soon: "Vi sendte nettopp en lenke. Vent et minutt og prøv igjen.",
            too_many: "For mange forsøk. Prøv igjen om en time.",
            bad_email: "Det ser ikke ut som en e-postadresse.",
            link_used: "Lenken er brukt, for gammel eller ugyldig. Be om en ny nedenfor.",
            claim_first: "Logg inn først, så kan du melde inn en sak: skriv inn e-postadressen din og åpne lenken vi sender.",
            hello: "Hei",
            sign_out: "Logg ut",
            download: "Last ned alt vi har om deg (JSON)",
            nothing_found: "Vi fant deg ikke blant de berørte i noen hendelse.",
            claim_hint: "Ble du likevel berørt? Meld fra, så går vi gjennom det mot loggene våre.",
            file_claim: "Meld inn en sak",
            what_happened: "Dette skjedde med deg",
            no_records: "Loggene våre viser ingenting om deg under hendelsen.",
            blocked: "Tid uten tilgang",
            you_get: "Dette får du",
            nothing_to_pay: "Etter reglene for hendelsen får du ingen kompensasjon.",
            total: "Totalt",
            payouts: "Utbetalinger",
            claims: "Sakene dine",
            no_claims: "Du har ingen saker.",
            filed: "Meldt",
            stage: ["Funnet", "Godkjent", "Utbetalt"],
            progress: "Status",
            claim_about: "Meld inn en sak om denne hendelsen",
        },
        Lang::En => &Words {
            title: "My compensation",
            intro: "Enter your account's e-mail address and we will send you a sign-in link.",
            email: "E-mail address",
            send: "Send link",
            sent: "If the address belongs to an account, a link is on its way there. It works for 15 minutes.",
            too_soon: "We sent a link a moment ago. Wait a minute and try again.",
            too_many: "Too many attempts. Try again in an hour.",
            bad_email: "That does not look like an e-mail address.",
            link_used: "That link was used, is too old or is not valid. Ask for a new one below.",
            claim_first: "Sign in first to file a claim: enter your e-mail address and open the link we send.",
            hello: "Hello",
            sign_out: "Sign out",
            download: "Download everything we hold about you (JSON)",
            nothing_found: "We did not find you among those affected by any incident.",
            claim_hint: "Were you affected anyway? Tell us, and we will check it against our logs.",
            file_claim: "File a claim",
            what_happened: "What happened to you",
            no_records: "Our logs show nothing about you during the incident.",
            blocked: "Time without access",
            you_get: "What you get",
            nothing_to_pay: "Under the incident's rules you get no compensation.",
            total: "Total",
            payouts: "Payouts",
            claims: "Your claims",
            no_claims: "You have no claims.",
            filed: "Filed",
            stage: ["Found", "Approved", "Paid"],
            progress: "Progress",
            claim_about: "File a claim about this incident",
        },
    }
}

#[component]
pub fn MyPage(lang: Option<Lang>) -> impl IntoView {
    let page = Resource::new(move || lang, my_page);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(view) => view! { <MyBody page=view route_lang=lang/> }.into_any(),
                    Err(e) => view! {
                        <p class="error" role="alert">{format!("This page is unavailable: {e}")}</p>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
        <PageLive freshness=Freshness::Poll/>
    }
}

#[component]
fn MyBody(page: MyPageView, route_lang: Option<Lang>) -> impl IntoView {
    let lang = page.lang;
    set_language_headers(lang);
    let w = words(lang);
    let content = match page.me {
        None => view! { <SignInForm lang=lang/> }.into_any(),
        Some(me) => view! { <Compensation me=me lang=lang/> }.into_any(),
    };
    view! {
        <Html attr:lang=lang.code()/>
        <Title text=document_title(format!("{} · {}", w.title, page.page_name))/>
        <PageHeader page_name=page.page_name.clone() lang=lang route_lang=route_lang/>
        <main id="main" tabindex="-1" class="me">
            <h1>{w.title}</h1>
            {content}
        </main>
        <PageFooter lang=lang time_zone=page.time_zone/>
    }
}

#[component]
fn SignInForm(lang: Lang) -> impl IntoView {
    let w = words(lang);
    let query = use_query_map();
    let notice = move || {
        let q = query.read();
        let (text, is_error) = match q.get("notice").as_deref() {
            Some("sent") => (w.sent, false),
            Some("too_soon") => (w.too_soon, true),
            Some("too_many") => (w.too_many, true),
            Some("email") => (w.bad_email, true),
            Some("link") => (w.link_used, true),
            Some("claim") => (w.claim_first, false),
            _ => return None,
        };
        Some(if is_error {
            view! { <p class="error" role="alert" data-testid="notice">{text}</p> }.into_any()
        } else {
            view! { <p class="notice" role="status" data-testid="notice">{text}</p> }.into_any()
        })
    };
    view! {
        {notice}
        <p>{w.intro}</p>
        <form method="post" action="/me/sign-in" class="stack">
            <input type="hidden" name="lang" value=lang.code()/>
            <label for="me-email">{w.email}</label>
            <input id="me-email" name="email" type="email" autocomplete="email" required/>
            <button type="submit">{w.send}</button>
        </form>
    }
}

#[component]
fn Compensation(me: MyCompensation, lang: Lang) -> impl IntoView {
    let w = words(lang);
    let nothing = me.incidents.is_empty().then(|| {
        view! {
            <section class="card" data-testid="not-found-affected">
                <p>{w.nothing_found}</p>
                <p>{w.claim_hint}</p>
            </section>
        }
    });
    view! {
        <div class="me-head">
            <p data-testid="me-name">{w.hello} " " {me.name.clone()}</p>
            <form method="post" action="/me/sign-out">
                <input type="hidden" name="csrf" value=me.csrf.clone()/>
                <button type="submit" class="secondary">{w.sign_out}</button>
            </form>
        </div>
        {nothing}
        {me
            .incidents
            .into_iter()
            .map(|i| view! { <IncidentSection incident=i lang=lang/> })
            .collect_view()}
        <section aria-labelledby="claims-h" data-testid="my-claims">
            <h2 id="claims-h">{w.claims}</h2>
            <Claims claims=me.claims lang=lang/>
            <p>
                <a class="button" href=format!("/me/claims/new?lang={}", lang.code()) rel="external" data-testid="file-claim">
                    {w.file_claim}
                </a>
            </p>
        </section>
        <p><a href="/me/export.json" rel="external" download="my-data.json">{w.download}</a></p>
    }
}

/// Found → approved → paid, the reached steps filled.
#[component]
fn Stepper(stage: MyStage, lang: Lang) -> impl IntoView {
    let w = words(lang);
    view! {
        <ol class="stepper" aria-label=w.progress data-testid="stage" data-stage=stage.as_str()>
            {MyStage::ALL
                .into_iter()
                .enumerate()
                .map(|(i, s)| {
                    let reached = s <= stage;
                    let current = (s == stage).then_some("step");
                    view! {
                        <li class:reached=reached aria-current=current>{w.stage[i]}</li>
                    }
                })
                .collect_view()}
        </ol>
    }
}

#[component]
fn IncidentSection(incident: MyIncident, lang: Lang) -> impl IntoView {
    let w = words(lang);
    let heading_id = format!("inc-{}", incident.incident_id);
    let records = if incident.records.is_empty() {
        view! { <p>{w.no_records}</p> }.into_any()
    } else {
        view! {
            <ul class="records">
                {incident
                    .records
                    .into_iter()
                    .map(|r| {
                        view! {
                            <li class:failed=r.failed>
                                <Time ms=r.ms display=r.display/>
                                " " {r.what}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        }
        .into_any()
    };
    let lines = if incident.lines.is_empty() {
        view! { <p>{w.nothing_to_pay}</p> }.into_any()
    } else {
        view! {
            <table class="lines">
                <tbody>
                    {incident
                        .lines
                        .into_iter()
                        .map(|l| {
                            view! {
                                <tr data-stage=l.stage.as_str()>
                                    <td>{l.words}</td>
                                    <td class="num">{l.amount}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
                {incident.total.map(|t| view! {
                    <tfoot><tr><th scope="row">{w.total}</th><td class="num" data-testid="total">{t}</td></tr></tfoot>
                })}
            </table>
        }
        .into_any()
    };
    let payouts = (!incident.payouts.is_empty()).then(|| {
        view! {
            <h3>{w.payouts}</h3>
            <ul class="payouts" data-testid="payouts">
                {incident
                    .payouts
                    .into_iter()
                    .map(|p| view! {
                        <li class:paid=p.paid><code>{p.id}</code> " " {p.amount} " · " {p.state}</li>
                    })
                    .collect_view()}
            </ul>
        }
    });
    let labelled_by = heading_id.clone();
    view! {
        <section class="card my-incident" aria-labelledby=labelled_by data-testid="my-incident">
            <h2 id=heading_id>{incident.title}</h2>
            {incident.stage.map(|s| view! { <Stepper stage=s lang=lang/> })}
            <h3>{w.what_happened}</h3>
            {records}
            {incident.blocked.map(|b| view! { <p>{w.blocked} ": " <strong data-testid="blocked">{b}</strong></p> })}
            <h3>{w.you_get}</h3>
            {lines}
            {payouts}
            <p>
                <a href=format!("/me/claims/new?incident={}&lang={}", incident.incident_id, lang.code()) rel="external">
                    {w.claim_about}
                </a>
            </p>
        </section>
    }
}

#[component]
fn Claims(claims: Vec<MyClaim>, lang: Lang) -> impl IntoView {
    let w = words(lang);
    if claims.is_empty() {
        return view! { <p>{w.no_claims}</p> }.into_any();
    }
    view! {
        <ul class="claims">
            {claims
                .into_iter()
                .map(|c| {
                    view! {
                        <li data-testid="my-claim" data-state=c.state.clone()>
                            <strong>{c.incident_title}</strong> " · " {c.kind} " · "
                            {w.filed} " " {c.filed} " · "
                            <span class=format!("claim-state claim-{}", c.state)>{c.state_words}</span>
                            {c.decision.map(|d| view! { <p class="decision" data-testid="decision">{d}</p> })}
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
    .into_any()
}
