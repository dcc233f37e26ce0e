//! A revision's digest (runs.md §1): SHA-256 over the report and the lines
//! in `--details` order, as lowercase hex.
//!
//! The exact bytes hashed: the report as compact JSON with every object's
//! keys sorted (what `jq -cS` prints; without `revision` and `digest`), one
//! `\n`, then the `--details` CSV with its header, exactly as
//! `plaster compensation preview --details` writes it. Sorted keys make the
//! bytes independent of any printer's key order, so anyone can recompute it:
//! `(jq -cS 'del(.revision, .digest)' report.json; cat lines.csv) | sha256sum`.

use plaster_engine::Preview;
use sha2::{Digest as _, Sha256};

use crate::kernel::ids::hex;

pub fn digest(preview: &Preview) -> Result<String, std::io::Error> {
    let mut hasher = Sha256::new();
    // A `Value`'s objects are sorted maps: this is the sorted-key form.
    let report = serde_json::to_vec(&serde_json::to_value(&preview.report)?)?;
    hasher.update(&report);
    hasher.update(b"\n");
    preview.write_details(HashWriter(&mut hasher))?;
    Ok(hex(&hasher.finalize()))
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
