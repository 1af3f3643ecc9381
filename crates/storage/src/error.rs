//! The one error type of this crate, and the translation of `object_store`'s errors into
//! messages that tell an operator what to check.

use std::path::PathBuf;

use object_store::client::{HttpError, HttpErrorKind};

/// Everything that can go wrong storing or fetching media.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key is not a safe relative path.
    #[error("invalid storage key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given (cut to 200 characters).
        key: String,
        /// Why it was refused.
        reason: String,
    },

    /// No object under this key.
    #[error("no stored object at {key:?} (deleted, or never uploaded)")]
    NotFound {
        /// The key looked up.
        key: String,
    },

    /// The configured bucket does not exist at the endpoint.
    #[error(
        "bucket {bucket:?} does not exist at {endpoint}: create it, or fix `bucket`, `endpoint` \
         and `path_style` in the storage settings"
    )]
    BucketNotFound {
        /// The configured bucket.
        bucket: String,
        /// The endpoint asked.
        endpoint: String,
    },

    /// The S3 server refused the access key or the signature made with the secret.
    #[error(
        "S3 at {endpoint} rejected the credentials: check `access_key_id` and \
         `secret_access_key` (and `region`, which is part of the signature): {detail}"
    )]
    BadCredentials {
        /// The endpoint asked.
        endpoint: String,
        /// The server's answer.
        detail: String,
    },

    /// The credentials are valid but may not do this.
    #[error(
        "access denied for {key:?} at {endpoint}: the key lacks permission on bucket \
         {bucket:?} (check its policy): {detail}"
    )]
    AccessDenied {
        /// The key operated on.
        key: String,
        /// The configured bucket.
        bucket: String,
        /// The endpoint asked.
        endpoint: String,
        /// The server's answer.
        detail: String,
    },

    /// The S3 endpoint did not answer.
    #[error(
        "cannot reach S3 endpoint {endpoint}: check the `endpoint` URL, that the server runs, \
         the network, and `allow_http` for plain-HTTP endpoints: {detail}"
    )]
    Unreachable {
        /// The endpoint asked.
        endpoint: String,
        /// What the connection attempt said.
        detail: String,
    },

    /// The media folder's file system is full.
    #[error("no space left on the disk holding {path}: free space or move the media folder")]
    DiskFull {
        /// The file or folder being written.
        path: PathBuf,
    },

    /// A local file or folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done, e.g. "cannot read".
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },

    /// The storage settings cannot work.
    #[error("invalid storage settings: {0}")]
    Config(String),

    /// A signed download link was altered or signed with another secret.
    #[error("the download link's signature does not match (altered link or rotated secret)")]
    SignatureInvalid,

    /// A signed download link is past its expiry time.
    #[error("the download link expired; ask for a new one")]
    SignatureExpired,

    /// Any other failure of the storage backend.
    #[error("storage {operation} failed for {key:?}: {source}")]
    Backend {
        /// The operation, e.g. "put".
        operation: &'static str,
        /// The key operated on.
        key: String,
        /// The backend's error.
        #[source]
        source: object_store::Error,
    },
}

/// Where an `object_store` error came from, to word the translated error.
pub(crate) struct Context<'a> {
    pub operation: &'static str,
    pub key: &'a str,
    /// `None` for the local backend.
    pub s3: Option<S3Context<'a>>,
    /// The local file the operation wrote, for disk-full errors.
    pub local_path: Option<PathBuf>,
}

/// The S3 settings named in error messages.
pub(crate) struct S3Context<'a> {
    pub bucket: &'a str,
    pub endpoint: &'a str,
}

/// Translates an `object_store` error into a [`StorageError`] that says what to check.
pub(crate) fn translate(err: object_store::Error, cx: Context<'_>) -> StorageError {
    let text = chain_text(&err);
    if let Some(path) = &cx.local_path {
        if find_io(&err).is_some_and(|e| e.kind() == std::io::ErrorKind::StorageFull) {
            return StorageError::DiskFull { path: path.clone() };
        }
    }
    if let Some(s3) = &cx.s3 {
        if text.contains("<Code>NoSuchBucket</Code>") {
            return StorageError::BucketNotFound {
                bucket: s3.bucket.to_string(),
                endpoint: s3.endpoint.to_string(),
            };
        }
        if is_connect_failure(&err) {
            return StorageError::Unreachable {
                endpoint: s3.endpoint.to_string(),
                detail: text,
            };
        }
        // `object_store` reports refusals as Unauthenticated/PermissionDenied on some
        // requests and as a generic error carrying the status and S3 error code on others
        // (listings, multipart), so the code in the text decides.
        let credential_codes = [
            "InvalidAccessKeyId",
            "SignatureDoesNotMatch",
            "InvalidToken",
            "ExpiredToken",
            "AuthorizationHeaderMalformed",
            // What s3s-based servers answer for an unknown access key.
            "NotSignedUp",
        ];
        if matches!(err, object_store::Error::Unauthenticated { .. })
            || credential_codes
                .iter()
                .any(|c| text.contains(&format!("<Code>{c}</Code>")))
        {
            return StorageError::BadCredentials {
                endpoint: s3.endpoint.to_string(),
                detail: text,
            };
        }
        if matches!(err, object_store::Error::PermissionDenied { .. })
            || text.contains("<Code>AccessDenied</Code>")
            || text.contains("403 Forbidden")
        {
            return StorageError::AccessDenied {
                key: cx.key.to_string(),
                bucket: s3.bucket.to_string(),
                endpoint: s3.endpoint.to_string(),
                detail: text,
            };
        }
    }
    if matches!(err, object_store::Error::NotFound { .. }) {
        return StorageError::NotFound {
            key: cx.key.to_string(),
        };
    }
    StorageError::Backend {
        operation: cx.operation,
        key: cx.key.to_string(),
        source: err,
    }
}

/// The error and all its causes on one line: S3 error codes sit deep in the chain.
fn chain_text(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let s = cause.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        source = cause.source();
    }
    text
}

fn causes<'a>(
    err: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(err), |e| e.source())
}

fn is_connect_failure(err: &object_store::Error) -> bool {
    causes(err).any(|e| {
        e.downcast_ref::<HttpError>()
            .is_some_and(|h| matches!(h.kind(), HttpErrorKind::Connect | HttpErrorKind::Timeout))
    })
}

fn find_io(err: &object_store::Error) -> Option<&std::io::Error> {
    causes(err).find_map(|e| e.downcast_ref::<std::io::Error>())
}

/// Translates a local file error, naming the file and spotting a full disk.
pub(crate) fn io_error(
    action: &'static str,
    path: &std::path::Path,
    source: std::io::Error,
) -> StorageError {
    if source.kind() == std::io::ErrorKind::StorageFull {
        return StorageError::DiskFull {
            path: path.to_path_buf(),
        };
    }
    StorageError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}
