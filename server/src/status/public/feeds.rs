//! RSS 2.0 and Atom feeds of the incident history, one per language.
//! Written by hand: the documents are small and fixed, and escaping is the
//! only subtle part, tested below.

use std::fmt::Write;

use app::i18n::stage_label;

use crate::status::public::api_v2::LIST_LIMIT;
use crate::status::public::context::Context;
use crate::status::view::{format_time, localize};
use crate::store::status::IncidentRecord;

/// Escapes text for XML character data and attribute values alike.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters other than tab and newlines are not allowed in XML 1.0.
            c if c.is_control() && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

fn title(ctx: &Context<'_>, i: &IncidentRecord) -> String {
    localize(&i.titles, ctx.lang).map_or_else(|| i.id.clone(), |t| t.text)
}

/// The timeline as HTML (newest first), still to be escaped into the feed.
fn timeline_html(ctx: &Context<'_>, i: &IncidentRecord) -> String {
    let mut html = String::new();
    for u in i.updates.iter().rev() {
        let body = localize(&u.bodies, ctx.lang)
            .map(|t| t.text)
            .unwrap_or_default();
        let _ = write!(
            html,
            "<p><strong>{}</strong> ({}): {}</p>",
            escape(stage_label(ctx.lang, u.status)),
            escape(&format_time(u.display_at, ctx.tz)),
            escape(&body)
        );
    }
    html
}

fn feed_title(ctx: &Context<'_>) -> String {
    format!(
        "{} – {}",
        ctx.page_name,
        app::i18n::ui(ctx.lang).recent_incidents
    )
}

fn shown<'a>(ctx: &Context<'a>) -> impl Iterator<Item = &'a IncidentRecord> + use<'a> {
    ctx.data.incidents.iter().take(LIST_LIMIT)
}

fn rfc2822(ctx: &Context<'_>, ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .with_timezone(&ctx.tz)
        .to_rfc2822()
}

/// RSS 2.0; `self_path` is where the feed itself is served.
pub fn rss(ctx: &Context<'_>, self_path: &str) -> String {
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<rss version=\"2.0\" xmlns:atom=\"http://www.w3.org/2005/Atom\">\n<channel>\n");
    let _ = writeln!(x, "<title>{}</title>", escape(&feed_title(ctx)));
    let _ = writeln!(x, "<link>{}</link>", escape(&ctx.page_url()));
    let _ = writeln!(
        x,
        "<atom:link href=\"{}{}\" rel=\"self\" type=\"application/rss+xml\"/>",
        escape(&ctx.public_url),
        escape(self_path)
    );
    let _ = writeln!(x, "<description>{}</description>", escape(&feed_title(ctx)));
    let _ = writeln!(x, "<language>{}</language>", ctx.lang.code());
    let _ = writeln!(
        x,
        "<lastBuildDate>{}</lastBuildDate>",
        rfc2822(ctx, ctx.updated_at_ms())
    );
    for i in shown(ctx) {
        let link = escape(&ctx.incident_link(&i.id));
        x.push_str("<item>\n");
        let _ = writeln!(x, "<title>{}</title>", escape(&title(ctx, i)));
        let _ = writeln!(x, "<link>{link}</link>");
        let _ = writeln!(x, "<guid isPermaLink=\"true\">{link}</guid>");
        let _ = writeln!(x, "<pubDate>{}</pubDate>", rfc2822(ctx, i.started_at));
        let _ = writeln!(
            x,
            "<description>{}</description>",
            escape(&timeline_html(ctx, i))
        );
        x.push_str("</item>\n");
    }
    x.push_str("</channel>\n</rss>\n");
    x
}

/// Atom (RFC 4287); `self_path` is where the feed itself is served.
pub fn atom(ctx: &Context<'_>, self_path: &str) -> String {
    let self_url = format!("{}{self_path}", ctx.public_url);
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"{}\">",
        ctx.lang.code()
    );
    let _ = writeln!(x, "<id>{}</id>", escape(&self_url));
    let _ = writeln!(x, "<title>{}</title>", escape(&feed_title(ctx)));
    let _ = writeln!(x, "<updated>{}</updated>", ctx.iso(ctx.updated_at_ms()));
    let _ = writeln!(
        x,
        "<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        escape(&ctx.page_url())
    );
    let _ = writeln!(x, "<link rel=\"self\" href=\"{}\"/>", escape(&self_url));
    let _ = writeln!(
        x,
        "<author><name>{}</name></author>",
        escape(&ctx.page_name)
    );
    for i in shown(ctx) {
        let link = escape(&ctx.incident_link(&i.id));
        x.push_str("<entry>\n");
        let _ = writeln!(x, "<id>{link}</id>");
        let _ = writeln!(x, "<title>{}</title>", escape(&title(ctx, i)));
        let _ = writeln!(
            x,
            "<link rel=\"alternate\" type=\"text/html\" href=\"{link}\"/>"
        );
        let _ = writeln!(x, "<published>{}</published>", ctx.iso(i.started_at));
        let _ = writeln!(x, "<updated>{}</updated>", ctx.iso(i.updated_at));
        let _ = writeln!(
            x,
            "<content type=\"html\">{}</content>",
            escape(&timeline_html(ctx, i))
        );
        x.push_str("</entry>\n");
    }
    x.push_str("</feed>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::public::assets::tests::{context, sample};
    use crate::status::public::PublicSettings;
    use app::dto::Lang;

    #[test]
    fn escaping_covers_markup_quotes_and_control_characters() {
        assert_eq!(
            escape("a <b> & \"c\" 'd'\u{1}"),
            "a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"
        );
    }

    #[test]
    fn feeds_parse_and_keep_awkward_titles_intact() {
        let data = sample();
        let settings = PublicSettings::for_tests();
        let ctx = context(&data, &settings, Lang::En, "/en");
        for xml in [rss(&ctx, "/en/history.rss"), atom(&ctx, "/en/history.atom")] {
            let doc = roxmltree::Document::parse(&xml).expect("well-formed XML");
            let titles: Vec<&str> = doc
                .descendants()
                .filter(|n| n.has_tag_name("title"))
                .filter_map(|n| n.text())
                .collect();
            assert!(
                titles.contains(&"Betting stop <V75> & \"more\""),
                "{titles:?}"
            );
            let link = doc
                .descendants()
                .find(|n| {
                    n.has_tag_name("link") && n.text().is_some_and(|t| t.contains("/incidents/"))
                })
                .and_then(|n| n.text())
                .or_else(|| {
                    doc.descendants()
                        .filter(|n| n.has_tag_name("link"))
                        .filter_map(|n| n.attribute("href"))
                        .find(|h| h.contains("/incidents/"))
                });
            assert_eq!(link, Some("https://status.example/en/incidents/v75"));
            // The body was HTML-escaped, then XML-escaped: one unescape gives HTML.
            assert!(xml.contains("Looking &amp;lt;into&amp;gt; it &amp;amp; more"));
        }
    }
}
