//! Media storage for clipforge: a local folder by default or any S3-compatible bucket,
//! through `object_store`, with streaming uploads and downloads and expiring signed
//! download links (S3 presigned URLs; HMAC-signed app URLs for local files).

mod config;
mod error;
mod key;
mod signing;
mod storage;

pub use config::{BackendConfig, S3Config, StorageConfig};
pub use error::StorageError;
pub use key::{validate_key, MAX_KEY_LEN};
pub use signing::{content_disposition, sanitize_filename};
pub use storage::{SignedUrl, Storage, MAX_S3_LINK_LIFETIME, PART_SIZE};
