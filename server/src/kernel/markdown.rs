//! Incident texts are written in Markdown and shown as HTML on the public
//! page. Staff type under stress and paste from anywhere, so the HTML is
//! built to be safe whatever they type: raw HTML is shown as text, links
//! keep only web and mail addresses, and images become their alt text.
//! Nothing can carry a script or an event handler into the page.

use pulldown_cmark::{html, CowStr, Event, Options, Parser, Tag, TagEnd};

/// Markdown to HTML that is safe to insert into a page as is.
pub fn to_safe_html(markdown: &str) -> String {
    let options = Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TABLES;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        // Escaped by the writer like any other text.
        Event::Html(raw) | Event::InlineHtml(raw) => Event::Text(raw),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: safe_url(dest_url),
            title,
            id,
        }),
        // An image could fetch from anywhere when the page opens.
        Event::Start(Tag::Image { .. }) => Event::Start(Tag::Emphasis),
        Event::End(TagEnd::Image) => Event::End(TagEnd::Emphasis),
        other => other,
    });
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, events);
    out
}

/// Web, mail and same-site links pass; anything else (`javascript:`,
/// `data:`, `vbscript:`, tricks with control characters) becomes `#`.
fn safe_url(url: CowStr<'_>) -> CowStr<'_> {
    let cleaned: String = url
        .chars()
        .filter(|c| !c.is_control() && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let scheme_end = cleaned.find(':');
    let path_start = cleaned.find(['/', '?', '#']);
    let relative = match (scheme_end, path_start) {
        (None, _) => true,
        (Some(colon), Some(slash)) => slash < colon,
        (Some(_), None) => false,
    };
    let allowed = ["http:", "https:", "mailto:"]
        .iter()
        .any(|s| cleaned.starts_with(s));
    if relative || allowed {
        url
    } else {
        CowStr::Borrowed("#")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_web_links_survive() {
        let html = to_safe_html(
            "We are **investigating**. See [the FAQ](https://example.com/faq?a=1&b=2).",
        );
        assert!(html.contains("<strong>investigating</strong>"), "{html}");
        assert!(
            html.contains("href=\"https://example.com/faq?a=1&amp;b=2\""),
            "{html}"
        );
    }

    #[test]
    fn scripts_handlers_and_dangerous_links_do_not_survive() {
        let attacks = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "hello <b onmouseover=\"alert(1)\">x</b>",
            "[click](javascript:alert(1))",
            "[click](JaVaScRiPt:alert(1))",
            "[click](java\tscript:alert(1))",
            "[click](data:text/html;base64,PHNjcmlwdD4=)",
            "![x](javascript:alert(1))",
            "<a href=\"javascript:alert(1)\">x</a>",
            "<svg onload=alert(1)>",
            "<iframe src=//evil></iframe>",
        ];
        for attack in attacks {
            let html = to_safe_html(attack);
            for tag in tags(&html) {
                let name = tag
                    .trim_start_matches('/')
                    .split([' ', '>'])
                    .next()
                    .unwrap_or("");
                assert!(ALLOWED.contains(&name), "{attack} -> {html}");
                let attributes = tag
                    .split_once(' ')
                    .map_or("", |(_, a)| a)
                    .to_ascii_lowercase();
                assert!(
                    !attributes.split_whitespace().any(|a| a.starts_with("on")),
                    "{attack} -> {html}"
                );
                assert!(!attributes.contains("javascript"), "{attack} -> {html}");
                assert!(!attributes.contains("data:"), "{attack} -> {html}");
            }
        }
    }

    const ALLOWED: [&str; 8] = ["p", "em", "strong", "a", "code", "del", "ul", "li"];

    /// Every markup tag in the output: escaped text holds no raw `<`.
    fn tags(html: &str) -> Vec<&str> {
        html.split('<')
            .skip(1)
            .map(|rest| rest.split('>').next().unwrap_or(rest))
            .collect()
    }

    #[test]
    fn relative_links_stay() {
        let html = to_safe_html("[history](/history) [top](#main)");
        assert!(html.contains("href=\"/history\""), "{html}");
        assert!(html.contains("href=\"#main\""), "{html}");
    }
}
