//! Tells an open page when its data changed. It follows the server's event
//! stream (`/api/live`) and calls the page back (which then fetches itself
//! again, see `page_refresh`) when a change arrives; where the stream cannot
//! be held open (no `EventSource`, or a proxy that refuses it), it polls
//! `/api/live/state.json` instead.
//!
//! The browser's `EventSource` reconnects by itself and sends
//! `Last-Event-ID`; the server answers every connection with its current
//! state first, so a page that was cut off catches up on reconnecting.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{EventSource, MessageEvent};

const STREAM_URL: &str = "/api/live";
const POLL_URL: &str = "/api/live/state.json";
/// Only used when the stream is unavailable; the stream itself is instant.
const POLL_EVERY_MS: i32 = 5_000;

/// What the page is told: "your data is out of date, load it again".
type OnChange = Rc<dyn Fn()>;
/// A browser callback taking one event.
type Callback = Closure<dyn FnMut(JsValue)>;

/// A running follower; dropping it closes the stream and stops polling.
pub struct Follower {
    inner: Rc<Inner>,
}

struct Inner {
    on_change: OnChange,
    /// The version the page was rendered from; see [`Inner::seen`].
    rendered: i64,
    /// Whether the first state (sent on every connect) has been compared.
    seen_first: Cell<bool>,
    stream: RefCell<Option<EventSource>>,
    poll_timer: Cell<Option<i32>>,
    last_poll_etag: RefCell<Option<String>>,
    // Kept alive for as long as the browser may call them.
    closures: RefCell<Vec<Callback>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        if let Some(stream) = self.inner.stream.borrow_mut().take() {
            stream.close();
        }
        if let (Some(timer), Some(window)) = (self.inner.poll_timer.take(), web_sys::window()) {
            window.clear_interval_with_handle(timer);
        }
    }
}

impl Inner {
    /// A state arrived with `version`. The first one after loading is news
    /// only if it is newer than what the page shows; the server sends later
    /// ones only when something changed, so they always are.
    fn seen(&self, version: i64) {
        let first = !self.seen_first.replace(true);
        if !first || version > self.rendered {
            (self.on_change)();
        }
    }
}

/// Starts following changes for a page rendered from `rendered_version`.
pub fn follow(rendered_version: i64, on_change: impl Fn() + 'static) -> Follower {
    let inner = Rc::new(Inner {
        on_change: Rc::new(on_change),
        rendered: rendered_version,
        seen_first: Cell::new(false),
        stream: RefCell::new(None),
        poll_timer: Cell::new(None),
        last_poll_etag: RefCell::new(None),
        closures: RefCell::new(Vec::new()),
    });
    if !open_stream(&inner) {
        start_polling(&inner);
    }
    Follower { inner }
}

/// Opens the event stream; false when the browser has no `EventSource`.
fn open_stream(inner: &Rc<Inner>) -> bool {
    let has_event_source = web_sys::window()
        .map(|w| js_sys::Reflect::has(&w, &JsValue::from_str("EventSource")).unwrap_or(false))
        .unwrap_or(false);
    if !has_event_source {
        return false;
    }
    let Ok(stream) = EventSource::new(STREAM_URL) else {
        return false;
    };
    let on_status = {
        let inner = Rc::downgrade(inner);
        Callback::new(move |event: JsValue| {
            let (Some(inner), Ok(event)) = (inner.upgrade(), event.dyn_into::<MessageEvent>())
            else {
                return;
            };
            let version = event.last_event_id().parse::<i64>().unwrap_or(i64::MAX);
            inner.seen(version);
        })
    };
    let on_error = {
        let inner = Rc::downgrade(inner);
        Callback::new(move |_event: JsValue| {
            let Some(inner) = inner.upgrade() else {
                return;
            };
            // CONNECTING means the browser is already retrying. CLOSED means
            // it gave up (an answer that was not an event stream): poll.
            let closed = inner
                .stream
                .borrow()
                .as_ref()
                .is_some_and(|s| s.ready_state() == EventSource::CLOSED);
            if closed {
                inner.stream.borrow_mut().take();
                start_polling(&inner);
            }
        })
    };
    let listened = stream
        .add_event_listener_with_callback("status", on_status.as_ref().unchecked_ref())
        .is_ok();
    stream.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    inner.closures.borrow_mut().extend([on_status, on_error]);
    *inner.stream.borrow_mut() = Some(stream);
    listened
}

fn start_polling(inner: &Rc<Inner>) {
    if inner.poll_timer.get().is_some() {
        return;
    }
    let Some(window) = web_sys::window() else {
        return;
    };
    let tick = {
        let inner = Rc::downgrade(inner);
        Callback::new(move |_: JsValue| {
            if let Some(inner) = inner.upgrade() {
                leptos::task::spawn_local(poll_once(inner));
            }
        })
    };
    if let Ok(timer) = window.set_interval_with_callback_and_timeout_and_arguments_0(
        tick.as_ref().unchecked_ref(),
        POLL_EVERY_MS,
    ) {
        inner.poll_timer.set(Some(timer));
        inner.closures.borrow_mut().push(tick);
        leptos::task::spawn_local(poll_once(inner.clone()));
    }
}

/// One conditional GET of the polled state. Failures are left to the next
/// tick: the server may be restarting.
async fn poll_once(inner: Rc<Inner>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let init = web_sys::RequestInit::new();
    let headers = web_sys::Headers::new().ok();
    if let (Some(headers), Some(etag)) = (&headers, inner.last_poll_etag.borrow().as_ref()) {
        let _ = headers.set("If-None-Match", etag);
    }
    if let Some(headers) = &headers {
        init.set_headers(headers);
    }
    let promise = window.fetch_with_str_and_init(POLL_URL, &init);
    let Ok(response) = wasm_bindgen_futures::JsFuture::from(promise).await else {
        return;
    };
    let Ok(response) = response.dyn_into::<web_sys::Response>() else {
        return;
    };
    if response.status() != 200 {
        return;
    }
    let etag = response.headers().get("ETag").ok().flatten();
    let Ok(json) = response.json() else {
        return;
    };
    let Ok(body) = wasm_bindgen_futures::JsFuture::from(json).await else {
        return;
    };
    let version = js_sys::Reflect::get(&body, &JsValue::from_str("version"))
        .ok()
        .and_then(|v| v.as_f64())
        .map_or(i64::MAX, |v| v as i64);
    *inner.last_poll_etag.borrow_mut() = etag;
    inner.seen(version);
}

/// Calls `tick` every `ms` milliseconds until dropped. Pages whose data
/// has no event stream of its own (a customer's page) poll themselves this
/// way.
pub struct Ticker {
    timer: i32,
    _closure: Closure<dyn FnMut()>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            window.clear_interval_with_handle(self.timer);
        }
    }
}

pub fn every(ms: i32, tick: impl Fn() + 'static) -> Option<Ticker> {
    let window = web_sys::window()?;
    let closure = Closure::<dyn FnMut()>::new(tick);
    let timer = window
        .set_interval_with_callback_and_timeout_and_arguments_0(
            closure.as_ref().unchecked_ref(),
            ms,
        )
        .ok()?;
    Some(Ticker {
        timer,
        _closure: closure,
    })
}
