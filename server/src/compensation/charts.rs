//! Server-rendered SVG charts for the run pages: readable without
//! JavaScript, coloured by the page's own CSS variables (so dark mode and
//! contrast follow the theme), each with a title, a description, and the
//! same figures as a table for screen readers and for copying.

use std::fmt::Write as _;

use crate::compensation::revision::StoredReport;

/// Minor units as staff read money: `24,000.00 SEK`.
pub fn money(minor: i64, currency: &str) -> String {
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let major = (abs / 100).to_string();
    let mut grouped = String::with_capacity(major.len() + major.len() / 3);
    for (i, c) in major.chars().enumerate() {
        if i > 0 && (major.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02} {currency}", abs % 100)
}

/// One chart: the SVG markup (built here from numbers and escaped text
/// only) and its text alternative.
pub struct Chart {
    pub id: String,
    pub title: String,
    pub description: String,
    pub svg: String,
    /// Header and rows of the same figures as a table.
    pub columns: (String, String),
    pub rows: Vec<(String, String)>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const WIDTH: i64 = 640;
const BAR_H: i64 = 22;
const GAP: i64 = 14;
/// Room left of the bars for their labels.
const LABEL_W: i64 = 250;

/// Horizontal bars, one per labelled value, scaled to the largest; each
/// bar is labelled with its value. `values` are compared only within one chart.
fn bars(id: &str, title: &str, description: &str, items: &[(String, i64, String)]) -> String {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    let height = (items.len() as i64) * (BAR_H + GAP) + GAP;
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{id}-t {id}-d" preserveAspectRatio="xMinYMin meet"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(title),
        escape(description)
    );
    let room = WIDTH - LABEL_W - 10;
    for (n, (label, value, shown)) in items.iter().enumerate() {
        let y = GAP + n as i64 * (BAR_H + GAP);
        let w = ((*value).max(0) * room / max).max(2);
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="0" y="{}">{}</text><rect class="chart-bar" x="{LABEL_W}" y="{y}" width="{w}" height="{BAR_H}" rx="3"></rect><text class="chart-value" x="{}" y="{}"{}>{}</text>"#,
            y + BAR_H - 6,
            escape(label),
            if w > room / 2 {
                LABEL_W + w - 6
            } else {
                LABEL_W + w + 6
            },
            y + BAR_H - 6,
            if w > room / 2 {
                r#" text-anchor="end" data-inside="1""#
            } else {
                ""
            },
            escape(shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Totals per rule and currency.
pub fn totals_by_rule(report: &StoredReport) -> Chart {
    let mut items = Vec::new();
    for (i, rule) in report.rules.iter().enumerate() {
        for (currency, total) in &rule.total_minor {
            items.push((
                format!("{}. {} ({currency})", i + 1, rule.kind),
                *total,
                money(*total, currency),
            ));
        }
    }
    let id = "chart-rules".to_string();
    let title = "Totals per rule and currency".to_string();
    let description = if items.is_empty() {
        "No rule issued a line.".to_string()
    } else {
        format!(
            "{} bars; the longest is {}.",
            items.len(),
            items
                .iter()
                .max_by_key(|i| i.1)
                .map(|i| format!("{}: {}", i.0, i.2))
                .unwrap_or_default()
        )
    };
    Chart {
        svg: bars(&id, &title, &description, &items),
        rows: items.iter().map(|i| (i.0.clone(), i.2.clone())).collect(),
        columns: ("Rule (currency)".into(), "Total".into()),
        id,
        title,
        description,
    }
}

/// How many buckets a distribution is drawn in at most.
const BUCKETS: usize = 10;

/// The distribution of line amounts, one chart per currency: every amount
/// its own bar when there are few, else ten equal ranges.
pub fn amount_distribution(amounts: &[(String, i64, i64)]) -> Vec<Chart> {
    let mut currencies: Vec<&str> = amounts.iter().map(|a| a.0.as_str()).collect();
    currencies.dedup();
    currencies
        .into_iter()
        .map(|currency| {
            let of: Vec<(i64, i64)> = amounts
                .iter()
                .filter(|a| a.0 == currency)
                .map(|a| (a.1, a.2))
                .collect();
            let items: Vec<(String, i64, String)> = if of.len() <= BUCKETS {
                of.iter()
                    .map(|(amount, n)| (money(*amount, currency), *n, lines(*n)))
                    .collect()
            } else {
                let lo = of.first().map_or(0, |a| a.0);
                let hi = of.last().map_or(0, |a| a.0);
                let step = ((hi - lo) / BUCKETS as i64).max(1);
                let mut counts = [0i64; BUCKETS];
                for (amount, n) in &of {
                    let b = (((amount - lo) / step) as usize).min(BUCKETS - 1);
                    counts[b] += n;
                }
                counts
                    .iter()
                    .enumerate()
                    .map(|(b, n)| {
                        let from = lo + b as i64 * step;
                        let to = if b == BUCKETS - 1 {
                            hi
                        } else {
                            from + step - 1
                        };
                        (
                            format!("{} – {}", money(from, currency), money(to, currency)),
                            *n,
                            lines(*n),
                        )
                    })
                    .collect()
            };
            let id = format!("chart-amounts-{}", currency.to_ascii_lowercase());
            let title = format!("How many lines pay how much ({currency})");
            let total: i64 = of.iter().map(|a| a.1).sum();
            let description = format!(
                "{total} lines in {currency}, in {} groups by amount; the largest group is {}.",
                items.len(),
                items
                    .iter()
                    .max_by_key(|i| i.1)
                    .map(|i| format!("{} with {}", i.0, i.2))
                    .unwrap_or_default()
            );
            Chart {
                svg: bars(&id, &title, &description, &items),
                rows: items.iter().map(|i| (i.0.clone(), i.2.clone())).collect(),
                columns: ("Amount".into(), "Lines".into()),
                id,
                title,
                description,
            }
        })
        .collect()
}

/// What the incident chart marks: the window and the goodwill deadlines,
/// as Unix minutes.
pub struct Marks {
    pub started: i64,
    pub resolved: i64,
    pub deadlines: Vec<i64>,
}

impl Marks {
    pub fn of(plan: &plaster_engine::Plan) -> Marks {
        let minute = |t: plaster_engine::Instant| t.unix_seconds().div_euclid(60);
        Marks {
            started: minute(plan.started_at),
            resolved: minute(plan.resolved_at),
            deadlines: plan
                .rules
                .iter()
                .filter_map(|r| match r {
                    plaster_engine::Rule::GoodwillCredit {
                        deadline: Some(d), ..
                    } => Some(minute(*d)),
                    _ => None,
                })
                .collect(),
        }
    }
}

fn hhmm(minute: i64) -> String {
    chrono::DateTime::from_timestamp(minute * 60, 0)
        .map(|t| t.format("%H:%M").to_string())
        .unwrap_or_default()
}

/// Relevant failure records per minute across the incident, the window
/// shaded and each goodwill deadline marked (times in UTC).
pub fn failures_over_time(per_minute: &[(i64, u64)], marks: &Marks) -> Chart {
    const H: i64 = 240;
    const TOP: i64 = 24;
    const BOTTOM: i64 = 36;
    const LEFT: i64 = 48;
    let plot_h = H - TOP - BOTTOM;
    let first = per_minute
        .first()
        .map_or(marks.started, |m| m.0)
        .min(marks.started - 10);
    let last = per_minute
        .last()
        .map_or(marks.resolved, |m| m.0)
        .max(marks.resolved + 10);
    let span = (last - first + 1).max(1);
    let plot_w = WIDTH - LEFT - 10;
    let x = |minute: i64| LEFT + (minute - first) * plot_w / span;
    let max = per_minute.iter().map(|m| m.1).max().unwrap_or(0).max(1) as i64;
    let total: u64 = per_minute.iter().map(|m| m.1).sum();
    let peak = per_minute.iter().max_by_key(|m| m.1);
    let id = "chart-failures".to_string();
    let title = "Relevant failures per minute (UTC)".to_string();
    let description = format!(
        "{total} failure records from {} to {}; the window {}–{} is shaded{}{}.",
        hhmm(first),
        hhmm(last),
        hhmm(marks.started),
        hhmm(marks.resolved),
        if marks.deadlines.is_empty() {
            String::new()
        } else {
            format!(
                ", the goodwill deadline{} at {} is marked",
                if marks.deadlines.len() > 1 { "s" } else { "" },
                marks
                    .deadlines
                    .iter()
                    .map(|d| hhmm(*d))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
        peak.map_or(String::new(), |p| format!(
            "; the peak is {} a minute at {}",
            p.1,
            hhmm(p.0)
        ))
    );
    let mut svg = format!(
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {H}" role="img" aria-labelledby="{id}-t {id}-d" preserveAspectRatio="xMinYMin meet"><title id="{id}-t">{}</title><desc id="{id}-d">{}</desc>"#,
        escape(&title),
        escape(&description)
    );
    let (ws, we) = (x(marks.started), x(marks.resolved));
    let _ = write!(
        svg,
        r#"<rect class="chart-window" x="{ws}" y="{TOP}" width="{}" height="{plot_h}"></rect><text class="chart-label" x="{}" y="{}" text-anchor="end">window</text>"#,
        (we - ws).max(1),
        we - 4,
        TOP - 8
    );
    let bar_w = (plot_w / span).max(1);
    for (minute, n) in per_minute {
        let h = ((*n as i64) * plot_h / max).max(1);
        let _ = write!(
            svg,
            r#"<rect class="chart-bar" x="{}" y="{}" width="{bar_w}" height="{h}"></rect>"#,
            x(*minute),
            TOP + plot_h - h
        );
    }
    for d in &marks.deadlines {
        let dx = x(*d);
        let _ = write!(
            svg,
            r#"<line class="chart-mark" x1="{dx}" y1="{}" x2="{dx}" y2="{}"></line><text class="chart-label" x="{}" y="{}">deadline {}</text>"#,
            TOP - 4,
            TOP + plot_h,
            dx + 4,
            TOP - 8,
            hhmm(*d)
        );
    }
    let base = TOP + plot_h;
    let _ = write!(
        svg,
        r#"<line class="chart-axis" x1="{LEFT}" y1="{base}" x2="{}" y2="{base}"></line><text class="chart-label" x="{}" y="{}" text-anchor="end">{max}</text><text class="chart-label" x="{}" y="{base}" text-anchor="end">0</text>"#,
        LEFT + plot_w,
        LEFT - 6,
        TOP + 10,
        LEFT - 6
    );
    for m in [first, marks.started, marks.resolved, last] {
        let _ = write!(
            svg,
            r#"<text class="chart-label" x="{}" y="{}" text-anchor="middle">{}</text>"#,
            x(m).clamp(LEFT + 16, LEFT + plot_w - 16),
            base + 22,
            hhmm(m)
        );
    }
    svg.push_str("</svg>");
    Chart {
        svg,
        rows: per_minute
            .iter()
            .map(|(m, n)| (hhmm(*m), n.to_string()))
            .collect(),
        columns: ("Minute (UTC)".into(), "Failure records".into()),
        id,
        title,
        description,
    }
}

fn lines(n: i64) -> String {
    if n == 1 {
        "1 line".into()
    } else {
        format!("{n} lines")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_reads_as_major_units_and_charts_escape_their_text() {
        assert_eq!(money(2_400_000, "SEK"), "24,000.00 SEK");
        assert_eq!(money(-5, "EUR"), "-0.05 EUR");
        assert_eq!(money(100_000_000, "NOK"), "1,000,000.00 NOK");
        let svg = bars("x", "a<b", "d&", &[("<l>".into(), 10, "10".into())]);
        assert!(svg.contains("a&lt;b") && svg.contains("d&amp;") && svg.contains("&lt;l&gt;"));
        let many: Vec<(String, i64, i64)> = (1..=30).map(|a| ("SEK".into(), a * 100, 2)).collect();
        let charts = amount_distribution(&many);
        assert_eq!(charts.len(), 1);
        assert_eq!(charts[0].rows.len(), BUCKETS);
        let counted: i64 = charts[0]
            .rows
            .iter()
            .map(|r| {
                r.1.trim_end_matches(" lines")
                    .trim_end_matches(" line")
                    .parse::<i64>()
                    .expect("n")
            })
            .sum();
        assert_eq!(counted, 60);
    }
}
