//! One story run against local storage and against a real S3 server (s3s-fs, started by
//! `scripts/s3.sh`; its settings come from `CLIPFORGE_TEST_S3_*`). Without those settings
//! the S3 runs are skipped with a note, except under `CI`, where they fail.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use clipforge_storage::{BackendConfig, S3Config, Storage, StorageConfig, StorageError, PART_SIZE};
use reqwest::Url;
use secrecy::SecretString;
use tokio::io::{AsyncRead, AsyncReadExt, ReadBuf};

/// Larger than one multipart part, and not a multiple of it, so the last part is short.
const BIG: usize = 12 * 1024 * 1024 + 4321;

struct S3Env {
    endpoint: String,
    bucket: String,
    access_key: String,
    secret_key: String,
}

fn s3_env() -> Option<S3Env> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("CLIPFORGE_TEST_S3_ENDPOINT"),
        var("CLIPFORGE_TEST_S3_BUCKET"),
        var("CLIPFORGE_TEST_S3_ACCESS_KEY"),
        var("CLIPFORGE_TEST_S3_SECRET_KEY"),
    ) {
        (Some(endpoint), Some(bucket), Some(access_key), Some(secret_key)) => Some(S3Env {
            endpoint,
            bucket,
            access_key,
            secret_key,
        }),
        _ if std::env::var_os("CI").is_some() => {
            panic!("CI must test S3: set CLIPFORGE_TEST_S3_* (scripts/s3.sh start DIR prints them)")
        }
        _ => {
            eprintln!(
                "note: S3 tests skipped; run `scripts/s3.sh start DIR` and export the \
                 CLIPFORGE_TEST_S3_* lines it prints to run them"
            );
            None
        }
    }
}

fn s3_config(env: &S3Env) -> S3Config {
    S3Config {
        bucket: env.bucket.clone(),
        region: "us-east-1".into(),
        endpoint: Some(env.endpoint.clone()),
        access_key_id: Some(env.access_key.clone()),
        secret_access_key: Some(SecretString::from(env.secret_key.clone())),
        allow_http: true,
        path_style: true,
    }
}

fn open(backend: BackendConfig, data_dir: &Path) -> Storage {
    let config = StorageConfig {
        backend,
        public_base_url: "https://clips.example.com/".into(),
        signing_secret: None,
    };
    Storage::new(&config, data_dir).unwrap()
}

/// Deterministic bytes that no compression or dedupe could shortcut.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// A prefix of its own per run, so runs against one bucket never see each other's objects.
fn run_prefix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("test-{nanos}-{}", std::process::id())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Yields `ok_bytes` of data, then fails, like a client that drops mid-upload.
struct FailingReader {
    left: usize,
}

impl AsyncRead for FailingReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        if self.left == 0 {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "client went away",
            )));
        }
        let n = self.left.min(buf.remaining()).min(64 * 1024);
        buf.put_slice(&vec![7u8; n]);
        self.left -= n;
        Poll::Ready(Ok(()))
    }
}

/// The story every backend must pass; `kind` names it in failures.
async fn story(storage: &Storage, work: &Path, kind: &str) {
    let prefix = run_prefix();
    storage
        .ping()
        .await
        .unwrap_or_else(|e| panic!("{kind}: ping: {e}"));

    // A multi-part upload comes back byte for byte.
    let data = pattern(BIG, 42);
    let src = work.join("source.mp4");
    std::fs::write(&src, &data).unwrap();
    let key = format!("{prefix}/videos/v1/source.mp4");
    let written = storage.put_file(&key, &src).await.unwrap();
    assert_eq!(written, BIG as u64, "{kind}");
    assert_eq!(storage.head(&key).await.unwrap(), BIG as u64, "{kind}");
    let dst = work.join("copy.mp4");
    assert_eq!(storage.get_to_file(&key, &dst).await.unwrap(), BIG as u64);
    assert!(
        std::fs::read(&dst).unwrap() == data,
        "{kind}: download differs"
    );

    // Ranges across the part boundary, and a streaming reader.
    let range = (PART_SIZE as u64 - 10)..(PART_SIZE as u64 + 10);
    let got = storage.get_range(&key, range.clone()).await.unwrap();
    assert_eq!(
        &got[..],
        &data[range.start as usize..range.end as usize],
        "{kind}"
    );
    let mut read_back = Vec::new();
    storage
        .open_read(&key)
        .await
        .unwrap()
        .read_to_end(&mut read_back)
        .await
        .unwrap();
    assert!(read_back == data, "{kind}: open_read differs");

    // A streamed upload (a request body) of unknown length.
    let streamed = pattern(PART_SIZE + 1000, 7);
    let stream_key = format!("{prefix}/uploads/u1.bin");
    let n = storage
        .put_stream(&stream_key, &streamed[..])
        .await
        .unwrap();
    assert_eq!(n, streamed.len() as u64);
    assert_eq!(storage.head(&stream_key).await.unwrap(), n);

    // A body that breaks mid-way stores nothing.
    let broken_key = format!("{prefix}/uploads/broken.bin");
    let err = storage
        .put_stream(
            &broken_key,
            FailingReader {
                left: 3 * 1024 * 1024,
            },
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("client went away"),
        "{kind}: {err}"
    );
    assert!(
        matches!(
            storage.head(&broken_key).await,
            Err(StorageError::NotFound { .. })
        ),
        "{kind}: a failed upload left an object"
    );

    // Small objects.
    let thumb_key = format!("{prefix}/videos/v1/thumb.jpg");
    storage
        .put_bytes(&thumb_key, Bytes::from_static(b"jpeg bytes"))
        .await
        .unwrap();
    assert_eq!(storage.head(&thumb_key).await.unwrap(), 10);

    // Missing objects say so, and a failed download leaves no partial file.
    let missing = format!("{prefix}/videos/none.mp4");
    let partial = work.join("missing.mp4");
    let err = storage.get_to_file(&missing, &partial).await.unwrap_err();
    assert!(
        matches!(err, StorageError::NotFound { .. }),
        "{kind}: {err}"
    );
    assert!(err.to_string().contains("none.mp4"), "{err}");
    assert!(!partial.exists());
    assert!(matches!(
        storage.head(&missing).await,
        Err(StorageError::NotFound { .. })
    ));

    // Keys that could leave the root are refused before any I/O.
    for bad in ["../escape", "a/../../escape", "/etc/passwd", "a//b", ""] {
        let err = storage
            .put_bytes(bad, Bytes::from_static(b"x"))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StorageError::InvalidKey { .. }),
            "{kind}: {bad}: {err}"
        );
        assert!(matches!(
            storage.get_to_file(bad, &partial).await,
            Err(StorageError::InvalidKey { .. })
        ));
        assert!(matches!(
            storage.signed_url(bad, Duration::from_secs(60), None).await,
            Err(StorageError::InvalidKey { .. })
        ));
    }

    // Deletes: idempotent, and prefix deletes respect segment boundaries.
    storage.delete(&thumb_key).await.unwrap();
    assert!(matches!(
        storage.head(&thumb_key).await,
        Err(StorageError::NotFound { .. })
    ));
    storage.delete(&thumb_key).await.unwrap();
    for k in ["p/a/1", "p/a/2", "p/a/b/3", "p/ab/4"] {
        storage
            .put_bytes(&format!("{prefix}/{k}"), Bytes::from_static(b"x"))
            .await
            .unwrap();
    }
    let deleted = storage
        .delete_prefix(&format!("{prefix}/p/a"))
        .await
        .unwrap();
    assert_eq!(deleted, 3, "{kind}");
    assert_eq!(storage.head(&format!("{prefix}/p/ab/4")).await.unwrap(), 1);
    assert!(matches!(
        storage.head(&format!("{prefix}/p/a/b/3")).await,
        Err(StorageError::NotFound { .. })
    ));
    assert_eq!(
        storage
            .delete_prefix(&format!("{prefix}/p/a"))
            .await
            .unwrap(),
        0
    );

    // Clean up the run; what remains is the big file's download, checked per backend.
    storage.delete_prefix(&format!("{prefix}/p")).await.unwrap();
    storage
        .delete_prefix(&format!("{prefix}/uploads"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_storage_story() {
    let dir = tempfile::tempdir().unwrap();
    let storage = open(BackendConfig::Local { root: None }, dir.path());
    assert!(storage.is_local());
    story(&storage, dir.path(), "local").await;

    // Objects are plain files under <data-dir>/media, where the file route streams them.
    let key = "renders/r1/clip.mp4";
    storage
        .put_bytes(key, Bytes::from_static(b"mp4 bytes"))
        .await
        .unwrap();
    let path = storage.local_path(key).unwrap().unwrap();
    assert!(path.starts_with(dir.path().canonicalize().unwrap().join("media")));
    assert_eq!(std::fs::read(&path).unwrap(), b"mp4 bytes");

    // The link points at the app, and its signature checks out until it expires.
    let link = storage
        .signed_url(key, Duration::from_secs(600), Some("My clip \"1\".mp4"))
        .await
        .unwrap();
    let url = Url::parse(&link.url).unwrap();
    assert_eq!(url.host_str(), Some("clips.example.com"));
    assert_eq!(url.path(), "/api/v1/files/renders/r1/clip.mp4");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    let expires: u64 = param("expires").unwrap().parse().unwrap();
    assert_eq!(expires, link.expires_at);
    assert!((unix_now() + 598..=unix_now() + 600).contains(&expires));
    let sig = param("sig").unwrap();
    let filename = param("filename");
    assert_eq!(filename.as_deref(), Some("My clip _1_.mp4"));
    let now = SystemTime::now();
    storage
        .verify_local_signature(key, expires, filename.as_deref(), &sig, now)
        .unwrap();

    let after = UNIX_EPOCH + Duration::from_secs(expires + 1);
    assert!(matches!(
        storage.verify_local_signature(key, expires, filename.as_deref(), &sig, after),
        Err(StorageError::SignatureExpired)
    ));
    for (k, e, f) in [
        ("renders/r2/clip.mp4", expires, filename.as_deref()),
        (key, expires + 3600, filename.as_deref()),
        (key, expires, Some("other.mp4")),
        (key, expires, None),
    ] {
        assert!(
            matches!(
                storage.verify_local_signature(k, e, f, &sig, now),
                Err(StorageError::SignatureInvalid)
            ),
            "{k} {e} {f:?}"
        );
    }
    assert!(matches!(
        storage.verify_local_signature("../media/x", expires, None, &sig, now),
        Err(StorageError::InvalidKey { .. })
    ));

    // Another process on the same data folder shares the generated secret.
    let other = open(BackendConfig::Local { root: None }, dir.path());
    other
        .verify_local_signature(key, expires, filename.as_deref(), &sig, now)
        .unwrap();
    // A different installation does not.
    let elsewhere = tempfile::tempdir().unwrap();
    let stranger = open(BackendConfig::Local { root: None }, elsewhere.path());
    assert!(matches!(
        stranger.verify_local_signature(key, expires, filename.as_deref(), &sig, now),
        Err(StorageError::SignatureInvalid)
    ));

    // The secret never shows in Debug output.
    let secret_hex = std::fs::read_to_string(dir.path().join("url-signing.key")).unwrap();
    let debug = format!("{storage:?}");
    assert!(
        !debug.contains(secret_hex.trim()) && debug.contains("local"),
        "{debug}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_storage_in_a_configured_root() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("elsewhere/media");
    let storage = open(
        BackendConfig::Local {
            root: Some(root.clone()),
        },
        &dir.path().join("data"),
    );
    storage.ping().await.unwrap();
    storage
        .put_bytes("a/b.txt", Bytes::from_static(b"hi"))
        .await
        .unwrap();
    assert_eq!(std::fs::read(root.join("a/b.txt")).unwrap(), b"hi");
    // The readiness probe leaves nothing behind.
    let names: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names, vec![std::ffi::OsString::from("a")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_storage_story() {
    let Some(env) = s3_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let storage = open(BackendConfig::S3(s3_config(&env)), dir.path());
    assert!(!storage.is_local());
    assert_eq!(storage.local_path("a/b").unwrap(), None);
    story(&storage, dir.path(), "s3").await;

    let prefix = run_prefix();
    let key = format!("{prefix}/renders/r1/clip.mp4");
    let body = pattern(300_000, 9);
    storage
        .put_bytes(&key, Bytes::from(body.clone()))
        .await
        .unwrap();
    let http = reqwest::Client::new();

    // A presigned link downloads the object with a plain GET, no credentials.
    let link = storage
        .signed_url(&key, Duration::from_secs(300), None)
        .await
        .unwrap();
    assert!(link.url.starts_with(&env.endpoint), "{}", link.url);
    assert!(link.url.contains("X-Amz-Signature="));
    let resp = http.get(&link.url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", link.url);
    assert!(resp.bytes().await.unwrap() == body);

    // With a download name the signature covers the extra parameter, and still works.
    let named = storage
        .signed_url(&key, Duration::from_secs(300), Some("My clip.mp4"))
        .await
        .unwrap();
    assert!(
        named.url.contains("response-content-disposition="),
        "{}",
        named.url
    );
    let resp = http.get(&named.url).send().await.unwrap();
    assert_eq!(resp.status(), 200, "{}", named.url);
    assert!(resp.bytes().await.unwrap() == body);

    // Altering the link breaks it: another key, or another file name.
    let tampered = link.url.replace("/r1/", "/r2/");
    let resp = http.get(&tampered).send().await.unwrap();
    assert_eq!(resp.status(), 403, "tampered key");
    let renamed = named.url.replace("My%20clip", "Other");
    assert_ne!(renamed, named.url);
    let resp = http.get(&renamed).send().await.unwrap();
    assert_eq!(resp.status(), 403, "tampered file name");

    // An expired link is refused.
    let short = storage
        .signed_url(&key, Duration::from_secs(1), None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let resp = http.get(&short.url).send().await.unwrap();
    assert_eq!(resp.status(), 403, "expired link");

    // S3 cannot sign links that long.
    assert!(matches!(
        storage
            .signed_url(&key, Duration::from_secs(8 * 24 * 3600), None)
            .await,
        Err(StorageError::Config(_))
    ));

    storage.delete_prefix(&prefix).await.unwrap();
    let debug = format!("{storage:?}");
    assert!(!debug.contains(&env.secret_key), "{debug}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_bad_credentials_say_so() {
    let Some(env) = s3_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = s3_config(&env);
    config.secret_access_key = Some(SecretString::from("not-the-secret".to_string()));
    let storage = open(BackendConfig::S3(config), dir.path());
    let err = storage.ping().await.unwrap_err();
    assert!(matches!(err, StorageError::BadCredentials { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("secret_access_key"), "{message}");
    assert!(!message.contains("not-the-secret"), "{message}");
    let err = storage
        .put_bytes("a/b", Bytes::from_static(b"x"))
        .await
        .unwrap_err();
    assert!(matches!(err, StorageError::BadCredentials { .. }), "{err}");

    let mut config = s3_config(&env);
    config.access_key_id = Some("AKIDUNKNOWN".into());
    let storage = open(BackendConfig::S3(config), dir.path());
    let err = storage.ping().await.unwrap_err();
    assert!(matches!(err, StorageError::BadCredentials { .. }), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_missing_bucket_says_so() {
    let Some(env) = s3_env() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut config = s3_config(&env);
    config.bucket = "no-such-bucket-here".into();
    let storage = open(BackendConfig::S3(config), dir.path());
    let err = storage.ping().await.unwrap_err();
    assert!(matches!(err, StorageError::BucketNotFound { .. }), "{err}");
    assert!(err.to_string().contains("no-such-bucket-here"), "{err}");
    // No write here: s3s-fs creates a missing bucket's folder on PUT, where real S3
    // answers NoSuchBucket, so a write would pass for the wrong reason (and create it).
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_s3_endpoint_fails_fast_and_names_it() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let storage = open(
        BackendConfig::S3(S3Config {
            bucket: "clips".into(),
            region: "us-east-1".into(),
            endpoint: Some(endpoint.clone()),
            access_key_id: Some("id".into()),
            secret_access_key: Some(SecretString::from("secret".to_string())),
            allow_http: true,
            path_style: true,
        }),
        dir.path(),
    );
    let started = std::time::Instant::now();
    let err = storage.ping().await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, StorageError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&endpoint), "{err}");
}

#[test]
fn s3_settings_that_cannot_work_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let half = StorageConfig {
        backend: BackendConfig::S3(S3Config {
            bucket: "clips".into(),
            region: "us-east-1".into(),
            endpoint: None,
            access_key_id: Some("id".into()),
            secret_access_key: None,
            allow_http: false,
            path_style: false,
        }),
        ..StorageConfig::default()
    };
    let err = Storage::new(&half, dir.path()).unwrap_err();
    assert!(err.to_string().contains("secret_access_key"), "{err}");

    let short_secret = StorageConfig {
        signing_secret: Some(SecretString::from("short".to_string())),
        ..StorageConfig::default()
    };
    assert!(matches!(
        Storage::new(&short_secret, dir.path()),
        Err(StorageError::Config(_))
    ));
}
