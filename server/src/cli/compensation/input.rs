//! Opening event files: format by extension, gzip by `.gz`, bytes counted for progress.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flate2::read::MultiGzDecoder;
use plaster_engine::{EventSource, Format};

/// Counts bytes as they come off the disk (before decompression), so progress
/// is measured against the files' sizes.
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) bytes: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Why an event file cannot be used.
pub(crate) enum OpenError {
    /// Not a name we know how to read: an argument error.
    UnknownExtension(String),
    Io(String, io::Error),
}

/// Opens one event file as an engine source. Returns the source and its size on disk.
pub(crate) fn open_event_file(
    path: &Path,
    bytes: Arc<AtomicU64>,
) -> Result<(EventSource<'static>, u64), OpenError> {
    let shown = path.display().to_string();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some((format, gzip)) = Format::from_file_name(&file_name) else {
        return Err(OpenError::UnknownExtension(shown));
    };
    let file = File::open(path).map_err(|e| OpenError::Io(shown.clone(), e))?;
    let size = file
        .metadata()
        .map_err(|e| OpenError::Io(shown.clone(), e))?
        .len();
    let counted = Counting { inner: file, bytes };
    let source = if gzip {
        // Concatenated gzip members (as `cat a.gz b.gz` makes) are one stream.
        EventSource::new(
            shown,
            format,
            MultiGzDecoder::new(BufReader::with_capacity(1 << 18, counted)),
        )
    } else {
        EventSource::new(shown, format, counted)
    };
    Ok((source, size))
}
