//! An embeddable SVG badge: the page name, then the overall state as an icon
//! and words. The icon's shape differs per state, so the badge reads without
//! colour, and `<title>` gives screen readers the same sentence.

use std::fmt::Write;

use crate::status::public::context::{indicator_description, overall, Context, Indicator};
use crate::status::public::feeds::escape;

const HEIGHT: u32 = 20;
const PAD: u32 = 7;
const ICON: u32 = 12;
/// Rough advance of an 11 px sans-serif glyph; the text is also given a
/// `textLength`, so a wider font is squeezed rather than clipped.
const CHAR_WIDTH: u32 = 7;

/// (background, icon drawing) for a state. Each background keeps white text
/// above 4.5:1 contrast.
fn look(indicator: Indicator, maintenance: bool) -> (&'static str, &'static str) {
    match indicator {
        Indicator::None if maintenance => (
            "#1d5fa8",
            // A spanner: a ring and a handle.
            r##"<circle cx="4" cy="4" r="3" fill="none" stroke="#fff" stroke-width="2"/><path d="M6 6l5 5" stroke="#fff" stroke-width="2.5" stroke-linecap="round"/>"##,
        ),
        Indicator::None => (
            "#1e7b34",
            // A tick.
            r##"<path d="M1.5 6.5l3 3 6-7" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/>"##,
        ),
        Indicator::Minor => (
            "#8a5300",
            // A half-filled circle.
            r##"<circle cx="6" cy="6" r="5" fill="none" stroke="#fff" stroke-width="1.5"/><path d="M6 1a5 5 0 0 1 0 10z" fill="#fff"/>"##,
        ),
        Indicator::Major => (
            "#b23c00",
            // A warning triangle with an exclamation mark.
            r##"<path d="M6 0.5l5.5 10.5h-11z" fill="#fff"/><path d="M6 4v3.5" stroke="#b23c00" stroke-width="1.6"/><circle cx="6" cy="9.3" r="0.9" fill="#b23c00"/>"##,
        ),
        Indicator::Critical => (
            "#b3161b",
            // A cross.
            r##"<path d="M2 2l8 8M10 2l-8 8" stroke="#fff" stroke-width="2.2" stroke-linecap="round"/>"##,
        ),
    }
}

fn text_width(text: &str) -> u32 {
    u32::try_from(text.chars().count())
        .unwrap_or(u32::MAX / CHAR_WIDTH)
        .saturating_mul(CHAR_WIDTH)
}

pub fn svg(ctx: &Context<'_>) -> String {
    let (indicator, maintenance) = overall(ctx.data, ctx.now_ms);
    let state = indicator_description(ctx.lang, indicator, maintenance);
    let (colour, icon) = look(indicator, maintenance);
    let name = &ctx.page_name;
    let (name_w, state_w) = (text_width(name), text_width(state));
    let left = name_w + 2 * PAD;
    let right = PAD + ICON + 5 + state_w + PAD;
    let width = left + right;
    let label = escape(&format!("{name}: {state}"));

    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" viewBox="0 0 {width} {HEIGHT}" role="img" aria-label="{label}" data-indicator="{}">"##,
        indicator.as_str()
    );
    let _ = write!(s, "<title>{label}</title>");
    let _ = write!(
        s,
        r##"<rect width="{left}" height="{HEIGHT}" rx="3" fill="#4a4a4a"/><rect x="{left}" width="{right}" height="{HEIGHT}" fill="{colour}"/><rect x="{}" width="{}" height="{HEIGHT}" rx="3" fill="{colour}"/>"##,
        left + right / 2,
        right / 2,
    );
    let _ = write!(
        s,
        r##"<g fill="#fff" font-family="Verdana,DejaVu Sans,Geneva,sans-serif" font-size="11"><text x="{PAD}" y="14" textLength="{name_w}" lengthAdjust="spacingAndGlyphs">{}</text><text x="{}" y="14" textLength="{state_w}" lengthAdjust="spacingAndGlyphs">{}</text></g>"##,
        escape(name),
        left + PAD + ICON + 5,
        escape(state),
    );
    let _ = write!(
        s,
        r##"<g transform="translate({} 4)" aria-hidden="true">{icon}</g></svg>"##,
        left + PAD
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::public::assets::tests::{context, sample};
    use crate::status::public::PublicSettings;
    use app::dto::{ComponentStatus, Lang};

    #[test]
    fn badge_is_svg_with_a_title_and_a_shape_per_state() {
        let mut data = sample();
        let settings = PublicSettings::for_tests();
        let svg_of =
            |data: &crate::store::status::StatusData| svg(&context(data, &settings, Lang::En, ""));
        let partial = svg_of(&data);
        let doc = roxmltree::Document::parse(&partial).expect("well-formed SVG");
        let title = doc
            .descendants()
            .find(|n| n.has_tag_name("title"))
            .and_then(|n| n.text());
        assert_eq!(title, Some("Service status: Partial System Outage"));
        for colour in doc
            .descendants()
            .filter_map(|n| n.attribute("fill").or(n.attribute("stroke")))
        {
            let hex = colour.strip_prefix('#').unwrap_or("");
            assert!(
                colour == "none"
                    || (hex.len() == 6 || hex.len() == 3)
                        && hex.chars().all(|c| c.is_ascii_hexdigit()),
                "{colour}"
            );
        }
        data.components[0].status = ComponentStatus::Operational;
        let ok = svg_of(&data);
        assert!(ok.contains("All Systems Operational"));
        // Different states differ in shape, not only in colour.
        let shapes =
            |s: &str| s[s.find("translate").unwrap_or(0)..].replace(char::is_alphabetic, "");
        assert_ne!(shapes(&ok), shapes(&partial));
    }
}
