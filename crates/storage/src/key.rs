//! Object keys: the only way a caller names an object, checked so that a key can never
//! point outside the media root or the bucket prefix it was meant for.

use crate::StorageError;

/// Longest key accepted; S3 allows 1,024 bytes and keys here are short generated paths.
pub const MAX_KEY_LEN: usize = 1024;

/// Checks that `key` is a relative, `/`-separated path of plain segments.
///
/// Segments may hold ASCII letters, digits, `-`, `_`, `.` and `=`, and may not start with a
/// dot: that rules out `.`/`..`, hidden files (the readiness probe lives there) and
/// characters that S3, URLs or `object_store`'s local staging files (`name#N`) treat
/// specially, so a key means the same file on every backend and in every signed URL.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    let invalid = |reason: &str| StorageError::InvalidKey {
        key: key.chars().take(200).collect(),
        reason: reason.to_string(),
    };
    if key.is_empty() {
        return Err(invalid("it is empty"));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(invalid("it is longer than 1024 bytes"));
    }
    if key.starts_with('/') {
        return Err(invalid("it is an absolute path"));
    }
    for segment in key.split('/') {
        if segment.is_empty() {
            return Err(invalid("it has an empty segment (`//` or a trailing `/`)"));
        }
        if segment == ".." || segment == "." {
            return Err(invalid("it has a `.` or `..` segment"));
        }
        if segment.starts_with('.') {
            return Err(invalid("a segment starts with `.`"));
        }
        if let Some(c) = segment
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=')))
        {
            return Err(invalid(&format!(
                "it contains {c:?}; use letters, digits, `-`, `_`, `.`, `=` and `/`"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_generated_keys() {
        for key in [
            "videos/0192f3a0-7c1e-7d2b-9a8e-3f2b1c0d9e8f/source.mp4",
            "renders/abc/clip_1.mp4",
            "a",
            "thumbs/w=320/x.jpg",
        ] {
            assert!(validate_key(key).is_ok(), "{key}");
        }
    }

    #[test]
    fn refuses_keys_that_could_escape_or_be_ambiguous() {
        for key in [
            "",
            "/etc/passwd",
            "..",
            "../x",
            "videos/../../x",
            "videos/./x",
            "videos//x",
            "videos/",
            ".hidden",
            "videos/.ping",
            "a\\b",
            "a b",
            "a#1",
            "a?b",
            "a%2e%2e",
            "vidéo",
            "a\0b",
            "C:x",
        ] {
            let err = validate_key(key).expect_err(key);
            assert!(
                matches!(err, StorageError::InvalidKey { .. }),
                "{key}: {err}"
            );
        }
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN + 1)).is_err());
        assert!(validate_key(&"a".repeat(MAX_KEY_LEN)).is_ok());
    }

    #[test]
    fn error_names_the_reason() {
        let err = validate_key("videos/../x").unwrap_err().to_string();
        assert!(err.contains("videos/../x") && err.contains("`..`"), "{err}");
    }
}
