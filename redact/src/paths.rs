//! `paths=hash`: each component of a path replaced by a keyed hash, so that
//! equal paths (and equal directories) stay equal while their names are
//! gone. The key is secret: without it the hashes cannot be checked against
//! guessed names.

use std::io::Read;

/// Where `paths=hash` takes its key from when it should be reproducible
/// (two traces hashed with the same key can be compared): any text.
pub const KEY_VAR: &str = "PTREC_REDACT_KEY";

/// Hex digits of hash kept per component.
const DIGITS: usize = 16;

/// A keyed hash of path components.
#[derive(Clone)]
pub struct PathHasher {
    key: [u8; 32],
}

impl std::fmt::Debug for PathHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.write_str("PathHasher")
    }
}

impl PathHasher {
    /// A hasher with a key derived from `material`.
    pub fn with_key(material: &[u8]) -> PathHasher {
        PathHasher {
            key: blake3::derive_key("ptrec 2026 path redaction", material),
        }
    }

    /// The key of `$PTREC_REDACT_KEY`, else a random one (equal paths stay
    /// equal within the trace).
    pub fn from_env_or_random() -> std::io::Result<PathHasher> {
        if let Some(k) = std::env::var_os(KEY_VAR) {
            return Ok(PathHasher::with_key(k.as_encoded_bytes()));
        }
        let mut key = [0u8; 32];
        std::fs::File::open("/dev/urandom")?.read_exact(&mut key)?;
        Ok(PathHasher { key })
    }

    /// `path` with every component but `.` and `..` hashed; slashes (and
    /// so absolute or relative, depth, a trailing slash) are kept.
    pub fn hash(&self, path: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(path.len() + DIGITS);
        for (i, part) in path.split(|&c| c == b'/').enumerate() {
            if i > 0 {
                out.push(b'/');
            }
            if part.is_empty() || part == b"." || part == b".." {
                out.extend_from_slice(part);
                continue;
            }
            let h = blake3::keyed_hash(&self.key, part);
            out.extend_from_slice(&h.to_hex().as_bytes()[..DIGITS]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_components_hash_equal_and_structure_stays() {
        let h = PathHasher::with_key(b"k");
        let a = h.hash(b"/home/alice/notes.txt");
        let b = h.hash(b"/home/alice/other");
        let s = String::from_utf8(a.clone()).expect("hex");
        assert!(!s.contains("alice") && !s.contains("notes"), "{s}");
        assert_eq!(s.matches('/').count(), 3);
        assert!(s.starts_with('/'));
        // Same directory, same hashed prefix.
        assert_eq!(a[..2 * DIGITS + 2], b[..2 * DIGITS + 2]);
        assert_eq!(h.hash(b"../x/./"), {
            let mut v = b"../".to_vec();
            v.extend_from_slice(&h.hash(b"x"));
            v.extend_from_slice(b"/./");
            v
        });
        // Another key, other hashes.
        assert_ne!(
            PathHasher::with_key(b"other").hash(b"/home"),
            h.hash(b"/home")
        );
    }
}
