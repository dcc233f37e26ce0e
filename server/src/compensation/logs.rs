//! Event log files: checked to be what their names say, stored once per
//! content, and read back by any node.
//!
//! Storage is the database itself, in chunks of [`CHUNK_BYTES`] keyed by the
//! content's SHA-256 (tables `log_blobs`, `log_chunks`). Why not a folder:
//! two nodes on one PostgreSQL share no disk, and each must read every file
//! a run has; an object store would be one more thing to install and run
//! for the demo and the tests, where the database is already there. The
//! cost is database size, which a log's retention governs like any table's
//! (docs/architecture.md, "Event log storage").

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use plaster_engine::record::CsvHeader;
use plaster_engine::{EventSource, Format};
use sha2::{Digest, Sha256};

use crate::compensation::log_records::{index_file, IndexError};
use crate::kernel::ids::hex;
use crate::store::compensation as table;
use crate::store::{Store, StoreError};

/// One stored chunk: big enough that a several-GB file is a few thousand
/// rows, small enough that a row never strains either database.
pub const CHUNK_BYTES: usize = 4 << 20;

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The file is not what its name says, or has no name we read.
    #[error("{name}: {reason}")]
    Refused { name: String, reason: String },
    #[error("{name}: cannot read: {error}")]
    Read { name: String, error: io::Error },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl LogError {
    pub fn is_bad_input(&self) -> bool {
        matches!(self, LogError::Refused { .. })
    }
}

/// A file that passed the checks, with its content's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedLog {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

fn refused(name: &str, reason: impl Into<String>) -> LogError {
    LogError::Refused {
        name: name.to_string(),
        reason: reason.into(),
    }
}

/// The file name as stored and shown: its last path part, which must name
/// a format the engine reads.
pub fn file_name(given: &str) -> Result<(String, Format, bool), LogError> {
    let name = given
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_string();
    if name.is_empty() || name.len() > 255 || name.chars().any(char::is_control) {
        return Err(refused(
            given,
            "a log file needs a name of 1 to 255 printable characters",
        ));
    }
    let Some((format, gzip)) = Format::from_file_name(&name) else {
        return Err(refused(
            &name,
            "unknown file type (expected .jsonl, .ndjson or .csv, optionally .gz)",
        ));
    };
    Ok((name, format, gzip))
}

/// Reads the file once (on a blocking thread): its SHA-256 and size, and
/// whether it is what its name says. A `.gz` must be a whole gzip stream; a
/// CSV must have a header with `ts`, `kind`, `customer_id` and `outcome`; a
/// JSON Lines file must start with a JSON object. Records that are merely
/// malformed are not checked here: the engine skips and reports them.
pub fn check(given_name: &str, path: &Path) -> Result<CheckedLog, LogError> {
    let (name, format, gzip) = file_name(given_name)?;
    let read_err = |error: io::Error| LogError::Read {
        name: name.clone(),
        error,
    };
    let file = File::open(path).map_err(read_err)?;
    let mut raw = Hashing {
        inner: BufReader::with_capacity(1 << 18, file),
        hasher: Sha256::new(),
        bytes: 0,
    };
    if gzip {
        let mut magic = [0u8; 2];
        let got = read_up_to(&mut raw, &mut magic).map_err(read_err)?;
        if got < 2 || magic != [0x1f, 0x8b] {
            return Err(refused(
                &name,
                "not gzip: a .gz file must start with the gzip signature (1f 8b)",
            ));
        }
        let mut content = BufReader::with_capacity(
            1 << 18,
            MultiGzDecoder::new(Prefixed {
                prefix: magic,
                at: 0,
                inner: &mut raw,
            }),
        );
        check_content(&name, format, &mut content).map_err(|e| match e {
            LogError::Read { name, error } => refused(
                &name,
                format!("not a valid gzip stream ({error}); was it cut short?"),
            ),
            other => other,
        })?;
    } else {
        let mut content = BufReader::with_capacity(1 << 18, &mut raw);
        check_content(&name, format, &mut content)?;
    }
    if raw.bytes == 0 {
        return Err(refused(&name, "the file is empty"));
    }
    Ok(CheckedLog {
        name,
        bytes: raw.bytes,
        sha256: hex(&raw.hasher.finalize()),
    })
}

/// Checks the start of the (decompressed) content and reads it to the end,
/// so that a gzip stream is verified whole and every byte is hashed.
fn check_content(name: &str, format: Format, content: &mut impl BufRead) -> Result<(), LogError> {
    let read_err = |error: io::Error| LogError::Read {
        name: name.to_string(),
        error,
    };
    let mut first = Vec::new();
    // Blank lines before the first record are allowed in JSON Lines.
    loop {
        first.clear();
        let n = content
            .take(plaster_engine::MAX_RECORD_BYTES as u64)
            .read_until(b'\n', &mut first)
            .map_err(read_err)?;
        if n == 0 || format == Format::Csv || !first.trim_ascii().is_empty() {
            break;
        }
    }
    let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&first);
    match format {
        Format::Csv => {
            let row = first.trim_ascii_end();
            if row.is_empty() {
                return Err(refused(name, "a CSV event file needs a header row"));
            }
            let header = CsvHeader::parse(row)
                .map_err(|m| refused(name, format!("line 1: the header row: {}", m.0)))?;
            let missing = header.missing_required();
            if !missing.is_empty() {
                return Err(refused(
                    name,
                    format!(
                        "line 1: the header row lacks {} (every record needs ts, kind, customer_id and outcome)",
                        missing.join(", ")
                    ),
                ));
            }
        }
        Format::JsonLines => {
            if !first.trim_ascii().is_empty() && !first.trim_ascii_start().starts_with(b"{") {
                return Err(refused(
                    name,
                    "not JSON Lines: the first record is not a JSON object",
                ));
            }
        }
    }
    io::copy(content, &mut io::sink()).map_err(read_err)?;
    Ok(())
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..])? {
            0 => break,
            n => got += n,
        }
    }
    Ok(got)
}

/// Hashes and counts the bytes read through it.
struct Hashing<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
}

impl<R: Read> Read for Hashing<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// Gives back the two signature bytes already read, then the rest.
struct Prefixed<R> {
    prefix: [u8; 2],
    at: usize,
    inner: R,
}

impl<R: Read> Read for Prefixed<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at < self.prefix.len() && !buf.is_empty() {
            let n = (self.prefix.len() - self.at).min(buf.len());
            buf[..n].copy_from_slice(&self.prefix[self.at..self.at + n]);
            self.at += n;
            return Ok(n);
        }
        self.inner.read(buf)
    }
}

/// Stores a checked file's content unless it is stored already (the same
/// content twice is kept once). Chunks are written one by one, outside any
/// long transaction; the content counts only once marked complete, so an
/// upload that dies halfway leaves nothing a run can read.
pub async fn store_content(store: &Store, log: &CheckedLog, path: &Path) -> Result<(), LogError> {
    use tokio::io::AsyncReadExt;
    if table::blob_is_complete(store, &log.sha256).await? {
        return Ok(());
    }
    let chunks = log.bytes.div_ceil(CHUNK_BYTES as u64) as i64;
    let now = chrono::Utc::now().timestamp_millis();
    table::begin_blob(store, &log.sha256, log.bytes as i64, chunks, now).await?;
    let read_err = |error: io::Error| LogError::Read {
        name: log.name.clone(),
        error,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(read_err)?;
    let mut hasher = Sha256::new();
    for seq in 0..chunks {
        let mut buf = Vec::with_capacity(CHUNK_BYTES);
        (&mut file)
            .take(CHUNK_BYTES as u64)
            .read_to_end(&mut buf)
            .await
            .map_err(read_err)?;
        hasher.update(&buf);
        table::insert_chunk(store, &log.sha256, seq, buf).await?;
    }
    // The file was checked a moment ago; a file changed since is not stored.
    if hex(&hasher.finalize()) != log.sha256 {
        return Err(refused(
            &log.name,
            "the file changed while it was being stored; add it again",
        ));
    }
    let (name, format, gzip) = file_name(&log.name)?;
    index_file(store, &log.sha256, (&name, format, gzip), path)
        .await
        .map_err(|e| match e {
            IndexError::Read(error) => LogError::Read { name, error },
            IndexError::Content(reason) => LogError::Refused { name, reason },
            IndexError::Store(e) => LogError::Store(e),
        })?;
    table::complete_blob(store, &log.sha256).await?;
    Ok(())
}

/// A stored content as an engine source, read a chunk at a time from the
/// database. Meant for a blocking thread: each chunk is fetched with
/// `block_on` on the given runtime. `cancel` set makes the next read fail,
/// which stops the engine; `bytes` counts stored bytes read, for progress.
pub fn source(
    runtime: tokio::runtime::Handle,
    store: Store,
    log: &table::RunLog,
    chunks: i64,
    bytes: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
) -> Result<EventSource<'static>, LogError> {
    let (name, format, gzip) = file_name(&log.name)?;
    let reader = ChunkReader {
        runtime,
        store,
        sha256: log.sha256.clone(),
        chunks,
        next: 0,
        buf: Vec::new(),
        at: 0,
        bytes,
        cancel,
    };
    Ok(if gzip {
        EventSource::new(
            name,
            format,
            MultiGzDecoder::new(BufReader::with_capacity(1 << 18, reader)),
        )
    } else {
        EventSource::new(name, format, reader)
    })
}

struct ChunkReader {
    runtime: tokio::runtime::Handle,
    store: Store,
    sha256: String,
    chunks: i64,
    next: i64,
    buf: Vec<u8>,
    at: usize,
    bytes: Arc<AtomicU64>,
    cancel: Arc<AtomicBool>,
}

/// The error a cancelled preview's reads fail with.
pub const CANCELLED: &str = "the preview was cancelled";

impl Read for ChunkReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::other(CANCELLED));
        }
        while self.at == self.buf.len() {
            if self.next == self.chunks {
                return Ok(0);
            }
            let chunk = self
                .runtime
                .block_on(table::chunk(&self.store, &self.sha256, self.next))
                .map_err(io::Error::other)?;
            self.next += 1;
            self.bytes.fetch_add(chunk.len() as u64, Ordering::Relaxed);
            self.buf = chunk;
            self.at = 0;
        }
        let n = (self.buf.len() - self.at).min(out.len());
        out[..n].copy_from_slice(&self.buf[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        path
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("gzip");
        enc.finish().expect("gzip")
    }

    #[test]
    fn files_that_are_not_what_their_names_say_are_refused_with_the_reason() {
        let dir = tempfile::tempdir().expect("dir");
        let jsonl = b"{\"ts\":\"2024-08-24T16:10:00+02:00\",\"kind\":\"login\",\"customer_id\":\"c-1\",\"outcome\":\"failure\"}\n";
        let reason = |name: &str, bytes: &[u8]| match check(name, &write(&dir, name, bytes)) {
            Err(LogError::Refused { reason, .. }) => reason,
            other => panic!("{name}: expected a refusal, got {other:?}"),
        };
        assert!(reason("a.jsonl.gz", jsonl).contains("not gzip"));
        let mut cut = gzip(jsonl);
        cut.truncate(cut.len() - 6);
        assert!(reason("b.jsonl.gz", &cut).contains("not a valid gzip stream"));
        assert!(
            reason("c.csv", b"when,who\n1,2\n").contains("lacks ts, kind, customer_id, outcome")
        );
        assert!(reason("d.csv.gz", &gzip(b"ts,kind\n")).contains("lacks customer_id, outcome"));
        assert!(reason("e.jsonl", b"ts,kind\n").contains("not JSON Lines"));
        assert!(reason("f.txt", jsonl).contains("unknown file type"));
        assert!(reason("g.jsonl", b"").contains("empty"));

        let ok = check("dir/h.jsonl.gz", &write(&dir, "h.jsonl.gz", &gzip(jsonl))).expect("ok");
        assert_eq!(ok.name, "h.jsonl.gz");
        assert_eq!(ok.sha256, hex(&Sha256::digest(gzip(jsonl))));
        let csv = b"\xef\xbb\xbfts,kind,customer_id,outcome,bet_id\n";
        assert!(check("i.csv", &write(&dir, "i.csv", csv)).is_ok());
    }
}
