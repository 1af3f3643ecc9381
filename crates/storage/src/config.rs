//! Storage settings, embedded by the service configuration (`[storage]` in `clipforge.toml`).

use std::path::PathBuf;

use secrecy::SecretString;
use serde::Deserialize;

/// Where media lives and how download links are made.
///
/// ```toml
/// [storage]
/// backend = "s3"                 # "local" (the default) or "s3"
/// public_base_url = "https://clips.example.com"
///
/// [storage.s3]
/// bucket = "clips"
/// endpoint = "https://<account>.r2.cloudflarestorage.com"
/// region = "auto"
/// access_key_id = "..."
/// secret_access_key = "..."
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "RawStorageConfig")]
pub struct StorageConfig {
    /// The backend and its settings; a local folder unless configured.
    pub backend: BackendConfig,
    /// The app's public URL, the base of signed links to local files.
    pub public_base_url: String,
    /// The secret that signs links to local files; `None` keeps a generated one in
    /// `<data-dir>/url-signing.key` so links survive restarts.
    pub signing_secret: Option<SecretString>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        Self {
            backend: BackendConfig::default(),
            public_base_url: default_public_base_url(),
            signing_secret: None,
        }
    }
}

fn default_public_base_url() -> String {
    "http://127.0.0.1:8080".to_string()
}

/// The storage backend.
#[derive(Debug, Clone)]
pub enum BackendConfig {
    /// A folder on this machine.
    Local {
        /// The media folder; `<data-dir>/media` when unset.
        root: Option<PathBuf>,
    },
    /// Any S3-compatible bucket (AWS, R2, MinIO, …).
    S3(S3Config),
}

impl Default for BackendConfig {
    fn default() -> Self {
        Self::Local { root: None }
    }
}

/// The settings as written: flat keys and an optional `[storage.s3]` table, so that each
/// maps to one `CLIPFORGE_STORAGE_*` variable and switching backends is one line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStorageConfig {
    #[serde(default)]
    backend: Option<BackendKind>,
    #[serde(default)]
    root: Option<PathBuf>,
    #[serde(default)]
    s3: Option<S3Config>,
    #[serde(default = "default_public_base_url")]
    public_base_url: String,
    #[serde(default)]
    signing_secret: Option<SecretString>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum BackendKind {
    Local,
    S3,
}

impl TryFrom<RawStorageConfig> for StorageConfig {
    type Error = String;

    fn try_from(raw: RawStorageConfig) -> Result<Self, Self::Error> {
        // An `[storage.s3]` table alone selects S3; `backend = "local"` keeps it on file
        // so a bucket can be configured before switching.
        let kind = raw.backend.unwrap_or(if raw.s3.is_some() {
            BackendKind::S3
        } else {
            BackendKind::Local
        });
        let backend = match (kind, raw.s3) {
            (BackendKind::Local, _) => BackendConfig::Local { root: raw.root },
            (BackendKind::S3, Some(s3)) => BackendConfig::S3(s3),
            (BackendKind::S3, None) => {
                return Err(
                    "backend = \"s3\" needs a [storage.s3] table with at least `bucket`".into(),
                )
            }
        };
        Ok(Self {
            backend,
            public_base_url: raw.public_base_url,
            signing_secret: raw.signing_secret,
        })
    }
}

/// An S3-compatible bucket.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct S3Config {
    /// The bucket name.
    pub bucket: String,
    /// The region (`auto` for R2; anything the server accepts for MinIO).
    #[serde(default = "default_region")]
    pub region: String,
    /// The endpoint for S3-compatible services; AWS when unset.
    #[serde(default)]
    pub endpoint: Option<String>,
    /// The access key id; AWS's instance or web-identity credentials when unset.
    #[serde(default)]
    pub access_key_id: Option<String>,
    /// The secret access key.
    #[serde(default)]
    pub secret_access_key: Option<SecretString>,
    /// Allows a plain `http://` endpoint (local MinIO and test servers).
    #[serde(default)]
    pub allow_http: bool,
    /// Addresses the bucket as `endpoint/bucket/key` instead of `bucket.endpoint/key`;
    /// most self-hosted servers need it.
    #[serde(default)]
    pub path_style: bool,
}

fn default_region() -> String {
    "us-east-1".to_string()
}

impl S3Config {
    /// The endpoint named in errors and URLs.
    pub fn endpoint_display(&self) -> String {
        match &self.endpoint {
            Some(e) => e.clone(),
            None => format!("https://s3.{}.amazonaws.com", self.region),
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[derive(Deserialize)]
    struct Wrapper {
        storage: StorageConfig,
    }

    #[test]
    fn defaults_to_local_storage() {
        let w: Wrapper = toml::from_str("[storage]\n").unwrap();
        assert!(matches!(
            w.storage.backend,
            BackendConfig::Local { root: None }
        ));
        assert_eq!(w.storage.public_base_url, "http://127.0.0.1:8080");
    }

    #[test]
    fn reads_s3_settings_and_hides_the_secret() {
        let w: Wrapper = toml::from_str(
            r#"
            [storage]
            public_base_url = "https://clips.example.com"

            [storage.s3]
            bucket = "clips"
            endpoint = "http://127.0.0.1:9000"
            access_key_id = "AKIDEXAMPLE"
            secret_access_key = "very-secret-value"
            allow_http = true
            path_style = true
            "#,
        )
        .unwrap();
        let BackendConfig::S3(s3) = &w.storage.backend else {
            panic!("expected S3")
        };
        assert_eq!(s3.bucket, "clips");
        assert_eq!(s3.region, "us-east-1");
        assert!(s3.allow_http && s3.path_style);
        assert_eq!(w.storage.public_base_url, "https://clips.example.com");
        assert_eq!(
            s3.secret_access_key.as_ref().unwrap().expose_secret(),
            "very-secret-value"
        );
        let debug = format!("{:?}", w.storage);
        assert!(!debug.contains("very-secret-value"), "{debug}");
    }

    #[test]
    fn local_backend_keeps_a_configured_bucket_aside() {
        let w: Wrapper = toml::from_str(
            "[storage]\nbackend = \"local\"\nroot = \"/srv/media\"\n[storage.s3]\nbucket = \"b\"\n",
        )
        .unwrap();
        let BackendConfig::Local { root } = w.storage.backend else {
            panic!("expected local")
        };
        assert_eq!(root.unwrap(), PathBuf::from("/srv/media"));
    }

    #[test]
    fn refuses_settings_that_cannot_work() {
        for text in [
            "[storage]\nbackend = \"s3\"\n",
            "[storage]\nbackend = \"gcs\"\n",
            "[storage]\nbucket = \"b\"\n",
            "[storage.s3]\nbucket = \"b\"\nsecret_key = \"x\"\n",
        ] {
            assert!(toml::from_str::<Wrapper>(text).is_err(), "{text}");
        }
    }
}
