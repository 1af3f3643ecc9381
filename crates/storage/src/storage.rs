//! [`Storage`]: the one handle the server and workers use to store and fetch media.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::{
    BackoffConfig, ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig,
    WriteMultipart,
};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretSlice};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use crate::error::{io_error, translate, Context, S3Context};
use crate::signing::{self, PresignRequest};
use crate::{validate_key, BackendConfig, S3Config, StorageConfig, StorageError};

/// Size of one multipart part: above S3's 5 MiB minimum, and small enough that
/// `UPLOAD_CONCURRENCY` parts in flight keep memory use flat for any file size.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// Parts uploaded at once by one upload.
const UPLOAD_CONCURRENCY: usize = 4;
/// Read size from files and request bodies.
const READ_CHUNK: usize = 256 * 1024;
/// S3 refuses presigned links valid for longer than seven days.
pub const MAX_S3_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);
/// The generated signing secret's file inside the data folder.
const SIGNING_KEY_FILE: &str = "url-signing.key";

/// A handle on the media store; clones share one connection pool.
#[derive(Clone)]
pub struct Storage {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    backend: Backend,
    signing_secret: SecretSlice<u8>,
    public_base_url: String,
}

enum Backend {
    Local {
        fs: Arc<LocalFileSystem>,
        root: PathBuf,
    },
    S3 {
        s3: Arc<AmazonS3>,
        config: S3Config,
        endpoint: String,
    },
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Hand-written so neither the signing secret nor S3 credentials can reach a log.
        let mut d = f.debug_struct("Storage");
        match &self.inner.backend {
            Backend::Local { root, .. } => d.field("backend", &"local").field("root", root),
            Backend::S3 {
                config, endpoint, ..
            } => d
                .field("backend", &"s3")
                .field("bucket", &config.bucket)
                .field("endpoint", endpoint),
        };
        d.field("public_base_url", &self.inner.public_base_url)
            .finish_non_exhaustive()
    }
}

/// A time-limited download link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    /// The link.
    pub url: String,
    /// When it stops working, as unix seconds.
    pub expires_at: u64,
}

impl Storage {
    /// Opens the configured storage; `data_dir` holds the default media folder and the
    /// generated link-signing secret. Makes no network request (see [`Storage::ping`]).
    pub fn new(config: &StorageConfig, data_dir: &Path) -> Result<Self, StorageError> {
        let signing_secret = match &config.signing_secret {
            Some(secret) if secret.expose_secret().len() < 16 => {
                return Err(StorageError::Config(
                    "`signing_secret` must be at least 16 characters".into(),
                ))
            }
            Some(secret) => SecretSlice::from(secret.expose_secret().as_bytes().to_vec()),
            None => load_or_create_signing_key(data_dir)?,
        };
        let public_base_url = config.public_base_url.trim_end_matches('/').to_string();
        url::Url::parse(&public_base_url).map_err(|e| {
            StorageError::Config(format!("`public_base_url` {public_base_url:?}: {e}"))
        })?;

        let (store, backend): (Arc<dyn ObjectStore>, Backend) = match &config.backend {
            BackendConfig::Local { root } => {
                let root = root.clone().unwrap_or_else(|| data_dir.join("media"));
                std::fs::create_dir_all(&root)
                    .map_err(|e| io_error("cannot create the media folder", &root, e))?;
                let root = root
                    .canonicalize()
                    .map_err(|e| io_error("cannot resolve the media folder", &root, e))?;
                // Removing emptied folders keeps `delete_prefix` from leaving a tree of
                // empty directories per deleted video.
                let fs = LocalFileSystem::new_with_prefix(&root)
                    .map_err(|e| StorageError::Config(format!("media folder: {e}")))?
                    .with_automatic_cleanup(true);
                let fs = Arc::new(fs);
                (fs.clone(), Backend::Local { fs, root })
            }
            BackendConfig::S3(s3) => {
                let s3_store = Arc::new(build_s3(s3)?);
                (
                    s3_store.clone(),
                    Backend::S3 {
                        s3: s3_store,
                        config: s3.clone(),
                        endpoint: s3.endpoint_display(),
                    },
                )
            }
        };
        Ok(Self {
            inner: Arc::new(Inner {
                store,
                backend,
                signing_secret,
                public_base_url,
            }),
        })
    }

    /// Whether media lives in a local folder (links point at the app's file route).
    pub fn is_local(&self) -> bool {
        matches!(self.inner.backend, Backend::Local { .. })
    }

    /// Uploads a file without loading it into memory (multipart, [`PART_SIZE`] parts);
    /// returns its size.
    #[tracing::instrument(level = "debug", skip(self), fields(backend = self.kind()))]
    pub async fn put_file(&self, key: &str, path: &Path) -> Result<u64, StorageError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|e| io_error("cannot open", path, e))?;
        self.put_stream_inner(key, file, Some(path)).await
    }

    /// Uploads everything `reader` yields (an HTTP request body, a pipe) as it arrives;
    /// returns the byte count. A failed read aborts the upload and stores nothing.
    #[tracing::instrument(level = "debug", skip(self, reader), fields(backend = self.kind()))]
    pub async fn put_stream<R>(&self, key: &str, reader: R) -> Result<u64, StorageError>
    where
        R: AsyncRead + Unpin + Send,
    {
        self.put_stream_inner(key, reader, None).await
    }

    async fn put_stream_inner<R>(
        &self,
        key: &str,
        mut reader: R,
        source: Option<&Path>,
    ) -> Result<u64, StorageError>
    where
        R: AsyncRead + Unpin + Send,
    {
        let location = object_path(key)?;
        let upload = self
            .inner
            .store
            .put_multipart(&location)
            .await
            .map_err(|e| self.translate(e, "start upload", key))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut buf = vec![0u8; READ_CHUNK];
        let mut total = 0u64;
        loop {
            let read = reader.read(&mut buf).await;
            let n = match read {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    // Abort so neither S3 nor the local staging file keeps the parts.
                    let _ = writer.abort().await;
                    return Err(match source {
                        Some(path) => io_error("cannot read", path, e),
                        None => StorageError::Io {
                            action: "cannot read the upload for",
                            path: PathBuf::from(key),
                            source: e,
                        },
                    });
                }
            };
            if let Err(e) = writer.wait_for_capacity(UPLOAD_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(self.translate(e, "upload", key));
            }
            writer.write(&buf[..n]);
            total += n as u64;
        }
        writer
            .finish()
            .await
            .map_err(|e| self.translate(e, "finish upload", key))?;
        tracing::debug!(bytes = total, "stored");
        Ok(total)
    }

    /// Stores a small object (thumbnails, JSON artifacts) in one request.
    #[tracing::instrument(level = "debug", skip(self, bytes), fields(backend = self.kind(), len = bytes.len()))]
    pub async fn put_bytes(&self, key: &str, bytes: Bytes) -> Result<(), StorageError> {
        let location = object_path(key)?;
        self.inner
            .store
            .put(&location, PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| self.translate(e, "put", key))?;
        Ok(())
    }

    /// Downloads an object into a file, streaming; returns its size. A failed download
    /// removes the partial file.
    #[tracing::instrument(level = "debug", skip(self), fields(backend = self.kind()))]
    pub async fn get_to_file(&self, key: &str, path: &Path) -> Result<u64, StorageError> {
        let location = object_path(key)?;
        let result = self
            .inner
            .store
            .get(&location)
            .await
            .map_err(|e| self.translate(e, "get", key))?;
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(|e| io_error("cannot create", path, e))?;
        let copied = async {
            let mut stream = result.into_stream();
            let mut total = 0u64;
            while let Some(chunk) = stream.next().await {
                let chunk = chunk.map_err(|e| self.translate(e, "get", key))?;
                file.write_all(&chunk)
                    .await
                    .map_err(|e| io_error("cannot write", path, e))?;
                total += chunk.len() as u64;
            }
            file.flush()
                .await
                .map_err(|e| io_error("cannot write", path, e))?;
            Ok::<_, StorageError>(total)
        }
        .await;
        if copied.is_err() {
            drop(file);
            let _ = tokio::fs::remove_file(path).await;
        }
        copied
    }

    /// A reader over an object's bytes, fetched as they are read.
    pub async fn open_read(
        &self,
        key: &str,
    ) -> Result<Box<dyn AsyncRead + Send + Unpin>, StorageError> {
        let location = object_path(key)?;
        let result = self
            .inner
            .store
            .get(&location)
            .await
            .map_err(|e| self.translate(e, "get", key))?;
        let stream = result.into_stream().map_err(std::io::Error::from);
        Ok(Box::new(tokio_util::io::StreamReader::new(stream)))
    }

    /// Reads `range` (byte offsets, end exclusive) of an object.
    pub async fn get_range(&self, key: &str, range: Range<u64>) -> Result<Bytes, StorageError> {
        let location = object_path(key)?;
        self.inner
            .store
            .get_range(&location, range)
            .await
            .map_err(|e| self.translate(e, "get range", key))
    }

    /// The object's size in bytes.
    pub async fn head(&self, key: &str) -> Result<u64, StorageError> {
        let location = object_path(key)?;
        let meta = self
            .inner
            .store
            .head(&location)
            .await
            .map_err(|e| self.translate(e, "head", key))?;
        Ok(meta.size)
    }

    /// Deletes an object; deleting a missing one succeeds, so retried jobs can clean up.
    #[tracing::instrument(level = "debug", skip(self), fields(backend = self.kind()))]
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let location = object_path(key)?;
        match self.inner.store.delete(&location).await {
            Ok(()) => Ok(()),
            Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(self.translate(e, "delete", key)),
        }
    }

    /// Deletes every object under `prefix` (whole segments: `videos/a` spares
    /// `videos/ab`); returns how many were deleted.
    #[tracing::instrument(level = "debug", skip(self), fields(backend = self.kind()))]
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let location = object_path(prefix)?;
        let store = &self.inner.store;
        let locations = store
            .list(Some(&location))
            .map_ok(|meta| meta.location)
            .boxed();
        let mut deleted = store.delete_stream(locations);
        let mut count = 0;
        while let Some(result) = deleted.next().await {
            match result {
                Ok(_) | Err(object_store::Error::NotFound { .. }) => count += 1,
                Err(e) => return Err(self.translate(e, "delete", prefix)),
            }
        }
        Ok(count)
    }

    /// Checks that the store answers: the bucket exists and the credentials work (S3),
    /// or the media folder is writable (local). For `/readyz`.
    pub async fn ping(&self) -> Result<(), StorageError> {
        match &self.inner.backend {
            Backend::Local { root, .. } => {
                // A random name, so concurrent probes never remove each other's file.
                let probe = root.join(format!(".ready-{:016x}", rand::random::<u64>()));
                tokio::fs::write(&probe, b"ok")
                    .await
                    .map_err(|e| io_error("the media folder is not writable:", root, e))?;
                tokio::fs::remove_file(&probe)
                    .await
                    .map_err(|e| io_error("cannot remove", &probe, e))?;
                Ok(())
            }
            Backend::S3 {
                s3,
                config,
                endpoint,
            } => {
                // A listing is the cheapest request that fails on a missing bucket and on
                // bad credentials alike (a HEAD of a missing object cannot tell the two
                // 404s apart).
                let probe = ObjectPath::from("clipforge-ready-probe");
                match s3.list_with_delimiter(Some(&probe)).await {
                    Ok(_) => Ok(()),
                    Err(object_store::Error::NotFound { .. }) => {
                        Err(StorageError::BucketNotFound {
                            bucket: config.bucket.clone(),
                            endpoint: endpoint.clone(),
                        })
                    }
                    Err(e) => Err(self.translate(e, "list", "")),
                }
            }
        }
    }

    /// A link that downloads the object until `expires_in` passes, saved as
    /// `download_filename` when given. S3: a presigned GET; local: an HMAC-signed app URL
    /// (`{public_base_url}/api/v1/files/{key}?expires=…&sig=…[&filename=…]`).
    pub async fn signed_url(
        &self,
        key: &str,
        expires_in: Duration,
        download_filename: Option<&str>,
    ) -> Result<SignedUrl, StorageError> {
        validate_key(key)?;
        let now = unix_now();
        let expires_at = now + expires_in.as_secs();
        let filename = download_filename.map(signing::sanitize_filename);
        match &self.inner.backend {
            Backend::Local { .. } => {
                let sig = signing::sign_local(
                    self.inner.signing_secret.expose_secret(),
                    key,
                    expires_at,
                    filename.as_deref(),
                );
                let mut url = format!(
                    "{}/api/v1/files/{key}?expires={expires_at}&sig={sig}",
                    self.inner.public_base_url
                );
                if let Some(name) = &filename {
                    url.push_str("&filename=");
                    url.push_str(&signing::aws_encode(name));
                }
                Ok(SignedUrl { url, expires_at })
            }
            Backend::S3 { s3, config, .. } => {
                if expires_in > MAX_S3_LINK_LIFETIME {
                    return Err(StorageError::Config(format!(
                        "S3 download links last at most 7 days, not {}s",
                        expires_in.as_secs()
                    )));
                }
                let location = object_path(key)?;
                let plain = s3
                    .signed_url(http::Method::GET, &location, expires_in)
                    .await
                    .map_err(|e| self.translate(e, "sign", key))?;
                let (Some(name), Some(id), Some(secret)) =
                    (&filename, &config.access_key_id, &config.secret_access_key)
                else {
                    // Without static keys (instance credentials) only `object_store`
                    // can sign, and it cannot add the file name.
                    return Ok(SignedUrl {
                        url: plain.to_string(),
                        expires_at,
                    });
                };
                let mut base = plain;
                base.set_query(None);
                let url = signing::presign_get(&PresignRequest {
                    url: &base,
                    access_key_id: id,
                    secret_access_key: secret.expose_secret(),
                    region: &config.region,
                    now,
                    expires_in,
                    extra: &[(
                        "response-content-disposition",
                        signing::content_disposition(name),
                    )],
                });
                Ok(SignedUrl {
                    url: url.to_string(),
                    expires_at,
                })
            }
        }
    }

    /// Checks a local download link's parameters (as the file route received them) in
    /// constant time; `now` is passed in so expiry can be tested.
    pub fn verify_local_signature(
        &self,
        key: &str,
        expires: u64,
        filename: Option<&str>,
        sig: &str,
        now: SystemTime,
    ) -> Result<(), StorageError> {
        validate_key(key)?;
        let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        signing::verify_local(
            self.inner.signing_secret.expose_secret(),
            key,
            expires,
            filename,
            sig,
            now,
        )
    }

    /// The file holding `key` on local storage, for the file route to stream (with
    /// ranges); `None` on S3, whose links go to the bucket directly.
    pub fn local_path(&self, key: &str) -> Result<Option<PathBuf>, StorageError> {
        validate_key(key)?;
        match &self.inner.backend {
            Backend::Local { fs, .. } => {
                let location = object_path(key)?;
                let path = fs
                    .path_to_filesystem(&location)
                    .map_err(|e| self.translate(e, "resolve", key))?;
                Ok(Some(path))
            }
            Backend::S3 { .. } => Ok(None),
        }
    }

    fn kind(&self) -> &'static str {
        match self.inner.backend {
            Backend::Local { .. } => "local",
            Backend::S3 { .. } => "s3",
        }
    }

    fn translate(
        &self,
        err: object_store::Error,
        operation: &'static str,
        key: &str,
    ) -> StorageError {
        let (s3, local_path) = match &self.inner.backend {
            Backend::Local { root, .. } => (None, Some(root.join(key))),
            Backend::S3 {
                config, endpoint, ..
            } => (
                Some(S3Context {
                    bucket: &config.bucket,
                    endpoint,
                }),
                None,
            ),
        };
        translate(
            err,
            Context {
                operation,
                key,
                s3,
                local_path,
            },
        )
    }
}

fn object_path(key: &str) -> Result<ObjectPath, StorageError> {
    validate_key(key)?;
    ObjectPath::parse(key).map_err(|e| StorageError::InvalidKey {
        key: key.to_string(),
        reason: e.to_string(),
    })
}

fn build_s3(config: &S3Config) -> Result<AmazonS3, StorageError> {
    if config.bucket.is_empty() {
        return Err(StorageError::Config("S3 `bucket` is empty".into()));
    }
    if config.access_key_id.is_some() != config.secret_access_key.is_some() {
        return Err(StorageError::Config(
            "set both `access_key_id` and `secret_access_key`, or neither (instance credentials)"
                .into(),
        ));
    }
    let client = ClientOptions::new()
        .with_allow_http(config.allow_http)
        .with_connect_timeout(Duration::from_secs(5))
        // One request carries at most one part; allow slow uplinks.
        .with_timeout(Duration::from_secs(300));
    // A dead endpoint should fail a readiness probe in seconds, not after the default
    // three minutes of retries.
    let retry = RetryConfig {
        backoff: BackoffConfig::default(),
        max_retries: 3,
        retry_timeout: Duration::from_secs(60),
    };
    let mut builder = AmazonS3Builder::new()
        .with_bucket_name(&config.bucket)
        .with_region(&config.region)
        .with_allow_http(config.allow_http)
        .with_virtual_hosted_style_request(!config.path_style)
        .with_client_options(client)
        .with_retry(retry);
    if let Some(endpoint) = &config.endpoint {
        builder = builder.with_endpoint(endpoint.trim_end_matches('/'));
    }
    if let (Some(id), Some(secret)) = (&config.access_key_id, &config.secret_access_key) {
        builder = builder
            .with_access_key_id(id)
            .with_secret_access_key(secret.expose_secret());
    }
    builder
        .build()
        .map_err(|e| StorageError::Config(format!("S3 settings: {e}")))
}

/// Reads the link-signing secret kept in the data folder, creating it on first start so
/// links stay valid across restarts and processes sharing the folder.
fn load_or_create_signing_key(data_dir: &Path) -> Result<SecretSlice<u8>, StorageError> {
    let path = data_dir.join(SIGNING_KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let key = hex::decode(text.trim()).map_err(|_| {
                StorageError::Config(format!(
                    "{} is not a hex key: delete it to generate a new one",
                    path.display()
                ))
            })?;
            if key.len() < 16 {
                return Err(StorageError::Config(format!(
                    "{} is too short: delete it to generate a new one",
                    path.display()
                )));
            }
            Ok(SecretSlice::from(key))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(data_dir)
                .map_err(|e| io_error("cannot create", data_dir, e))?;
            let mut key = vec![0u8; 32];
            rand::rng().fill_bytes(&mut key);
            write_private(&path, &hex::encode(&key))?;
            // Another process may have won the race to create it: use what is on disk.
            let on_disk =
                std::fs::read_to_string(&path).map_err(|e| io_error("cannot read", &path, e))?;
            let key = hex::decode(on_disk.trim()).unwrap_or(key);
            Ok(SecretSlice::from(key))
        }
        Err(e) => Err(io_error("cannot read", &path, e)),
    }
}

/// Creates `path` readable by its owner only; leaves an existing file alone.
fn write_private(path: &Path, contents: &str) -> Result<(), StorageError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(mut file) => file
            .write_all(contents.as_bytes())
            .map_err(|e| io_error("cannot write", path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(io_error("cannot create", path, e)),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
