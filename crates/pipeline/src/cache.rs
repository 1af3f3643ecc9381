//! Keys for cached artifacts: a cheap fingerprint of the input file and a hash of
//! everything that shaped an artifact, so a re-run reuses a stage exactly when nothing it
//! depends on changed.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::PipelineError;

/// Identifies an input file's content without reading all of it: its size and the
/// hash of its first and last MiB. Hours of video fingerprint in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fingerprint(pub String);

const SAMPLE: u64 = 1 << 20;

/// Fingerprints the file at `path`.
pub fn fingerprint(path: &Path) -> Result<Fingerprint, PipelineError> {
    let read = |e| PipelineError::io(format!("reading {}", path.display()), e);
    let mut file = std::fs::File::open(path).map_err(read)?;
    let size = file.metadata().map_err(read)?.len();
    let mut hash = Sha256::new();
    hash.update(size.to_le_bytes());
    let mut buf = vec![0u8; SAMPLE.min(size) as usize];
    file.read_exact(&mut buf).map_err(read)?;
    hash.update(&buf);
    if size > SAMPLE {
        let tail = SAMPLE.min(size - SAMPLE);
        file.seek(SeekFrom::End(-(tail as i64))).map_err(read)?;
        let mut buf = vec![0u8; tail as usize];
        file.read_exact(&mut buf).map_err(read)?;
        hash.update(&buf);
    }
    Ok(Fingerprint(hex(&hash.finalize())[..32].to_string()))
}

/// The key of one stage's artifact: a hash of the stage's name, format version and
/// everything it was made from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageKey(pub String);

impl StageKey {
    /// Hashes `inputs` (serialised as JSON) under `stage`.
    pub fn new(stage: &str, inputs: &impl Serialize) -> Self {
        let mut hash = Sha256::new();
        hash.update(stage.as_bytes());
        hash.update([0]);
        hash.update(serde_json::to_vec(inputs).unwrap_or_default());
        Self(hex(&hash.finalize())[..32].to_string())
    }

    /// Whether the key file at `path` holds this key.
    pub fn matches(&self, path: &Path) -> bool {
        std::fs::read_to_string(path).is_ok_and(|k| k.trim() == self.0)
    }

    /// Records this key at `path` (after the artifact itself is in place).
    pub fn store(&self, path: &Path) -> Result<(), PipelineError> {
        std::fs::write(path, &self.0)
            .map_err(|e| PipelineError::io(format!("writing {}", path.display()), e))
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_change_with_content_and_keys_with_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.bin");
        std::fs::write(&a, vec![1u8; 3 << 20]).unwrap();
        let first = fingerprint(&a).unwrap();
        let mut bytes = vec![1u8; 3 << 20];
        bytes[(3 << 20) - 10] = 2;
        std::fs::write(&a, bytes).unwrap();
        assert_ne!(fingerprint(&a).unwrap(), first);
        let small = dir.path().join("small.bin");
        std::fs::write(&small, b"hello").unwrap();
        fingerprint(&small).unwrap();

        let k1 = StageKey::new("render", &("x", 1));
        assert_eq!(k1, StageKey::new("render", &("x", 1)));
        assert_ne!(k1, StageKey::new("render", &("x", 2)));
        assert_ne!(k1, StageKey::new("faces", &("x", 1)));
        let key_file = dir.path().join("k");
        assert!(!k1.matches(&key_file));
        k1.store(&key_file).unwrap();
        assert!(k1.matches(&key_file));
    }
}
