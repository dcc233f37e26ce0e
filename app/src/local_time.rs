//! Times in the reader's own time zone, in the browser only. The server
//! renders the page's zone; this rewrites each `<time data-ms>` after
//! hydration, keeping the server's layout ("2024-08-24 16:06 CEST").

use js_sys::{Array, Date, Intl::DateTimeFormat, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

fn options() -> Object {
    let options = Object::new();
    for (key, value) in [
        ("year", "numeric"),
        ("month", "2-digit"),
        ("day", "2-digit"),
        ("hour", "2-digit"),
        ("minute", "2-digit"),
        ("hourCycle", "h23"),
        ("timeZoneName", "short"),
    ] {
        // Setting a property on a fresh plain object cannot fail.
        let _ = Reflect::set(&options, &key.into(), &value.into());
    }
    options
}

fn part(parts: &Array, kind: &str) -> String {
    parts
        .iter()
        .find(|p| {
            Reflect::get(p, &"type".into())
                .ok()
                .and_then(|t| t.as_string())
                .is_some_and(|t| t == kind)
        })
        .and_then(|p| Reflect::get(&p, &"value".into()).ok())
        .and_then(|v| v.as_string())
        .unwrap_or_default()
}

/// The reader's IANA zone, e.g. "Europe/Oslo".
fn reader_zone(format: &DateTimeFormat) -> Option<String> {
    Reflect::get(&format.resolved_options(), &"timeZone".into())
        .ok()
        .and_then(|z| z.as_string())
}

pub fn rewrite_times() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let lang = document
        .document_element()
        .and_then(|html| html.get_attribute("lang"))
        .unwrap_or_else(|| "en".into());
    let locales = Array::of1(&JsValue::from_str(&lang));
    let format = DateTimeFormat::new(&locales, &options());
    let Ok(times) = document.query_selector_all("time[data-ms]") else {
        return;
    };
    for i in 0..times.length() {
        let Some(element) = times
            .item(i)
            .and_then(|n| n.dyn_into::<web_sys::Element>().ok())
        else {
            continue;
        };
        let Some(ms) = element
            .get_attribute("data-ms")
            .and_then(|ms| ms.parse::<f64>().ok())
        else {
            continue;
        };
        let parts = format.format_to_parts(&Date::new(&JsValue::from_f64(ms)));
        let text = format!(
            "{}-{}-{} {}:{} {}",
            part(&parts, "year"),
            part(&parts, "month"),
            part(&parts, "day"),
            part(&parts, "hour"),
            part(&parts, "minute"),
            part(&parts, "timeZoneName"),
        );
        element.set_text_content(Some(&text));
        let _ = element.set_attribute("data-local", "true");
    }
    if let (Some(zone), Ok(Some(label))) = (
        reader_zone(&format),
        document.query_selector("[data-testid=time-zone]"),
    ) {
        label.set_text_content(Some(&zone));
    }
}
