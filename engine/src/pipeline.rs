//! Streaming the event sources through worker threads.
//!
//! The calling thread reads each source in turn (decompression, if any, happens
//! in the reader it was given) and cuts it into chunks that end on a record
//! boundary. Worker threads parse chunks into their own [`Accumulator`]s, which
//! are merged at the end. Every chunk carries its source index and first line
//! number, so reading order (sources in the order given, then line number) is
//! known no matter which thread parsed what.

use std::borrow::Cow;
use std::io::{self, Read};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::matcher::{Accumulator, Params};
use crate::record::{
    last_csv_record_end, next_csv_record_end, parse_csv_row, parse_json_line, CsvHeader, Malformed,
    Record,
};

/// A record (line, or CSV record) longer than this is reported and skipped,
/// so one broken file cannot exhaust memory.
pub const MAX_RECORD_BYTES: usize = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    JsonLines,
    Csv,
}

impl Format {
    /// The format and compression a file name announces: `.jsonl`, `.ndjson`
    /// or `.csv`, each optionally followed by `.gz`. Returns `(format, gzip)`.
    pub fn from_file_name(name: &str) -> Option<(Format, bool)> {
        let lower = name.to_ascii_lowercase();
        let (stem, gz) = match lower.strip_suffix(".gz") {
            Some(s) => (s, true),
            None => (lower.as_str(), false),
        };
        if stem.ends_with(".jsonl") || stem.ends_with(".ndjson") {
            Some((Format::JsonLines, gz))
        } else if stem.ends_with(".csv") {
            Some((Format::Csv, gz))
        } else {
            None
        }
    }
}

/// One event file (or any byte stream), already decompressed.
pub struct EventSource<'a> {
    /// The name reported in `malformed_examples`.
    pub name: String,
    pub format: Format,
    pub reader: Box<dyn Read + Send + 'a>,
}

impl<'a> EventSource<'a> {
    pub fn new(name: impl Into<String>, format: Format, reader: impl Read + Send + 'a) -> Self {
        EventSource {
            name: name.into(),
            format,
            reader: Box::new(reader),
        }
    }
}

/// How to run a preview.
#[derive(Clone, Debug)]
pub struct Options {
    /// Parsing threads (the reading thread comes on top). 0 means one per core.
    pub threads: usize,
    /// Target chunk size in bytes.
    pub chunk_bytes: usize,
    /// Incremented by the number of records (well-formed or not) as they are parsed.
    pub records_done: Option<Arc<AtomicU64>>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threads: 0,
            chunk_bytes: 1 << 20,
            records_done: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{source_name}: cannot read: {error}")]
    Read {
        source_name: String,
        error: io::Error,
    },
    #[error("a worker thread failed")]
    Worker,
}

enum Body {
    JsonLines,
    Csv(Arc<Result<CsvHeader, Malformed>>),
    TooLong,
}

struct Chunk {
    source: u32,
    first_line: u64,
    data: Vec<u8>,
    body: Body,
}

pub(crate) fn run(
    params: Params,
    sources: Vec<EventSource<'_>>,
    options: &Options,
) -> Result<Accumulator, EngineError> {
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        options.threads
    };
    let chunk_bytes = options.chunk_bytes.clamp(4096, MAX_RECORD_BYTES);
    let (tx, rx) = crossbeam_channel::bounded::<Chunk>(threads * 2);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                let rx = rx.clone();
                let progress = options.records_done.clone();
                scope.spawn(move || {
                    let mut acc = Accumulator::new(params);
                    for chunk in rx.iter() {
                        let before = acc.records + acc.malformed;
                        parse_chunk(&mut acc, &chunk);
                        if let Some(p) = &progress {
                            p.fetch_add(acc.records + acc.malformed - before, Ordering::Relaxed);
                        }
                    }
                    acc
                })
            })
            .collect();
        drop(rx);
        let mut read_result = Ok(());
        for (i, src) in sources.into_iter().enumerate() {
            let name = src.name.clone();
            if let Err(error) = cut_source(i as u32, src, chunk_bytes, &tx) {
                read_result = Err(EngineError::Read {
                    source_name: name,
                    error,
                });
                break;
            }
        }
        drop(tx);
        let mut merged: Option<Accumulator> = None;
        for w in workers {
            let acc = w.join().map_err(|_| EngineError::Worker)?;
            match &mut merged {
                None => merged = Some(acc),
                Some(m) => m.merge(acc),
            }
        }
        read_result?;
        merged.ok_or(EngineError::Worker)
    })
}

/// Fills `buf` up to `want` bytes or the end of input; returns true at the end.
fn fill(reader: &mut dyn Read, buf: &mut Vec<u8>, want: usize) -> io::Result<bool> {
    while buf.len() < want {
        let start = buf.len();
        buf.resize(want, 0);
        match reader.read(&mut buf[start..]) {
            Ok(0) => {
                buf.truncate(start);
                return Ok(true);
            }
            Ok(n) => buf.truncate(start + n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => buf.truncate(start),
            Err(e) => {
                buf.truncate(start);
                return Err(e);
            }
        }
    }
    Ok(false)
}

fn count_lines(b: &[u8]) -> u64 {
    memchr::memchr_iter(b'\n', b).count() as u64
}

fn cut_source(
    source: u32,
    mut src: EventSource<'_>,
    chunk_bytes: usize,
    tx: &crossbeam_channel::Sender<Chunk>,
) -> io::Result<()> {
    let send = |c: Chunk| {
        // Workers only stop when the channel closes, so a send cannot fail
        // unless a worker died; the join reports that.
        let _ = tx.send(c);
    };
    let reader: &mut dyn Read = &mut *src.reader;
    let mut buf: Vec<u8> = Vec::with_capacity(chunk_bytes);
    let mut line: u64 = 1;
    let mut want = chunk_bytes;
    let mut first = true;
    let mut skipping = false;
    let mut header: Option<Arc<Result<CsvHeader, Malformed>>> = None;
    loop {
        let eof = fill(reader, &mut buf, want)?;
        if first && (buf.len() >= 3 || eof) {
            first = false;
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
            }
        }
        if skipping {
            match memchr::memchr(b'\n', &buf) {
                Some(k) => {
                    line += 1;
                    buf.drain(..=k);
                    skipping = false;
                }
                None => {
                    buf.clear();
                    if eof {
                        return Ok(());
                    }
                    continue;
                }
            }
        }
        if src.format == Format::Csv && header.is_none() {
            match next_csv_record_end(&buf, 0) {
                Some(k) => {
                    header = Some(Arc::new(CsvHeader::parse(&buf[..k])));
                    line += count_lines(&buf[..=k]);
                    buf.drain(..=k);
                }
                None if eof => {
                    // A header and nothing else: no records.
                    return Ok(());
                }
                None if buf.len() >= MAX_RECORD_BYTES => {
                    header = Some(Arc::new(Err(Malformed(Cow::Borrowed(
                        "CSV header longer than 64 MiB",
                    )))));
                    line += count_lines(&buf);
                    buf.clear();
                    skipping = true;
                    continue;
                }
                None => {
                    want = (buf.len() * 2).max(chunk_bytes);
                    continue;
                }
            }
        }
        let body = || match &header {
            Some(h) => Body::Csv(h.clone()),
            None => Body::JsonLines,
        };
        let boundary = match src.format {
            Format::JsonLines => memchr::memrchr(b'\n', &buf).map(|k| k + 1),
            Format::Csv => last_csv_record_end(&buf),
        };
        match boundary {
            Some(b) => {
                let mut next = Vec::with_capacity(chunk_bytes.max(buf.len() - b));
                next.extend_from_slice(&buf[b..]);
                buf.truncate(b);
                let data = std::mem::replace(&mut buf, next);
                let lines = count_lines(&data);
                send(Chunk {
                    source,
                    first_line: line,
                    data,
                    body: body(),
                });
                line += lines;
                want = chunk_bytes;
                if eof && buf.is_empty() {
                    return Ok(());
                }
            }
            None if eof => {
                if !buf.is_empty() {
                    send(Chunk {
                        source,
                        first_line: line,
                        data: std::mem::take(&mut buf),
                        body: body(),
                    });
                }
                return Ok(());
            }
            None if buf.len() >= MAX_RECORD_BYTES => {
                send(Chunk {
                    source,
                    first_line: line,
                    data: Vec::new(),
                    body: Body::TooLong,
                });
                line += count_lines(&buf);
                buf.clear();
                skipping = true;
            }
            None => want = (buf.len() * 2).max(chunk_bytes),
        }
    }
}

/// Where parsed records go: a preview's accumulator, or a visitor of
/// [`each_record`]. One parser serves both, so the two never disagree on
/// what a record is.
trait Sink {
    fn record(&mut self, line: u64, rec: &Record<'_>);
    fn malformed(&mut self, source: u32, line: u64, reason: Cow<'static, str>);
}

impl Sink for Accumulator {
    fn record(&mut self, _line: u64, rec: &Record<'_>) {
        self.add_record(rec);
    }
    fn malformed(&mut self, source: u32, line: u64, reason: Cow<'static, str>) {
        self.add_malformed(source, line, reason);
    }
}

struct Visitor<'f>(&'f mut (dyn FnMut(u64, &Record<'_>) + Send));

impl Sink for Visitor<'_> {
    fn record(&mut self, line: u64, rec: &Record<'_>) {
        (self.0)(line, rec);
    }
    fn malformed(&mut self, _source: u32, _line: u64, _reason: Cow<'static, str>) {}
}

/// Reads one source exactly as a preview does and hands each well-formed
/// record, with its line number, to `visit` in file order; malformed ones
/// are skipped (a preview reports them). Used to index who did what.
pub fn each_record(
    src: EventSource<'_>,
    visit: &mut (dyn FnMut(u64, &Record<'_>) + Send),
) -> Result<(), EngineError> {
    let (tx, rx) = crossbeam_channel::bounded::<Chunk>(2);
    let name = src.name.clone();
    let chunk_bytes = Options::default().chunk_bytes;
    std::thread::scope(|scope| {
        let cutter = scope.spawn(move || cut_source(0, src, chunk_bytes, &tx));
        let mut sink = Visitor(visit);
        for chunk in rx.iter() {
            parse_chunk(&mut sink, &chunk);
        }
        match cutter.join() {
            Ok(Ok(())) => Ok(()),
            Ok(Err(error)) => Err(EngineError::Read {
                source_name: name,
                error,
            }),
            Err(_) => Err(EngineError::Worker),
        }
    })
}

fn parse_chunk(acc: &mut impl Sink, chunk: &Chunk) {
    let data = &chunk.data[..];
    let mut line = chunk.first_line;
    match &chunk.body {
        Body::TooLong => acc.malformed(
            chunk.source,
            line,
            Cow::Borrowed("record longer than 64 MiB"),
        ),
        Body::JsonLines => {
            let mut start = 0;
            let mut handle = |l: &[u8], line: u64| {
                if l.iter().all(u8::is_ascii_whitespace) {
                    return;
                }
                match parse_json_line(l) {
                    Ok(rec) => acc.record(line, &rec),
                    Err(m) => acc.malformed(chunk.source, line, m.0),
                }
            };
            for k in memchr::memchr_iter(b'\n', data) {
                handle(&data[start..k], line);
                line += 1;
                start = k + 1;
            }
            if start < data.len() {
                handle(&data[start..], line);
            }
        }
        Body::Csv(header) => {
            let mut pos = 0;
            while pos < data.len() {
                let end = next_csv_record_end(data, pos).unwrap_or(data.len());
                let rec = &data[pos..end];
                let rec_lines = count_lines(rec) + 1;
                if !(rec.is_empty() || rec == b"\r") {
                    let parsed = match &**header {
                        Ok(h) => parse_csv_row(h, rec),
                        Err(m) => Err(Malformed(format!("bad CSV header: {m}").into())),
                    };
                    match parsed {
                        Ok(r) => acc.record(line, &r),
                        Err(m) => acc.malformed(chunk.source, line, m.0),
                    }
                }
                line += rec_lines;
                pos = end + 1;
            }
        }
    }
}
