//! The pipeline jobs as the service runs them: a real-speech video in local storage, its
//! row and `ingest` job in a real SQLite database, and a [`Worker`] with the handlers
//! running the chain with real ffmpeg and the real tiny.en model until it settles.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::accounts::{self, NewUser};
use clipforge_store::clips::{self, ClipFilter, ClipSortField};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::renders::{self, Render, RenderStatus};
use clipforge_store::videos::{self, NewVideo, Video, VideoSource, VideoStatus};
use clipforge_store::workspaces::{self, NewWorkspace};
use clipforge_store::{
    transcripts, Job, JobStatus, NewJob, Page, Queue, SortOrder, Store, VideoId, Worker,
    WorkspaceId,
};
use clipforge_worker::{Pipeline, WorkerSettings};
use serde_json::json;
use tokio_util::sync::CancellationToken;

const CREDITS: i64 = 20;

fn fixture(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/generated")
        .join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/fixtures.sh first",
        path.display()
    );
    path
}

fn model_dir() -> PathBuf {
    let dir = clipforge_asr::model::default_models_dir().join("tiny.en");
    assert!(
        dir.join("model.bin").is_file(),
        "{} is missing: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

/// A database, storage and a running worker with the pipeline's handlers, in a temp folder.
struct Service {
    _dir: tempfile::TempDir,
    store: Store,
    storage: Storage,
    queue: Queue,
    ws: WorkspaceId,
    stop: CancellationToken,
    worker: tokio::task::JoinHandle<()>,
}

impl Service {
    async fn start() -> Service {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let storage = Storage::new(&StorageConfig::default(), dir.path()).unwrap();
        let user = accounts::create_user(
            &store,
            NewUser {
                email: "ana@example.com",
                password_hash: "$argon2id$stub",
                full_name: "Ana",
            },
        )
        .await
        .unwrap();
        let mut tx = store.begin().await.unwrap();
        let ws = workspaces::create_workspace(
            &mut tx,
            NewWorkspace {
                name: "Ana's team",
                slug: "ana",
                owner: user.id,
            },
        )
        .await
        .unwrap()
        .id;
        tx.commit().await.unwrap();
        credits::grant(&store, ws, CREDITS, "plan", None)
            .await
            .unwrap();

        let pipeline = Pipeline::new(
            store.clone(),
            storage.clone(),
            WorkerSettings {
                temp_dir: dir.path().join("tmp"),
                model: Some(model_dir()),
                model_dir: None,
            },
        );
        let queue = Queue::new(store.clone());
        let worker = pipeline.register(
            Worker::new(queue.clone(), "test-worker")
                .concurrency(2)
                .poll_interval(Duration::from_millis(200)),
        );
        let stop = CancellationToken::new();
        let worker = tokio::spawn(worker.run(stop.clone()));
        Service {
            _dir: dir,
            store,
            storage,
            queue,
            ws,
            stop,
            worker,
        }
    }

    /// Stores `file` as an upload and queues its ingest, paying one credit as the upload
    /// route does; the video and the ingest job's ids.
    async fn upload(&self, file: &Path) -> (VideoId, uuid::Uuid) {
        let mut tx = self.store.begin().await.unwrap();
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let video = videos::create(
            &mut tx,
            self.ws,
            NewVideo {
                project_id: None,
                created_by: None,
                title: &name,
                source: VideoSource::Upload,
                source_url: None,
                original_filename: Some(&name),
                storage_key: None,
                status: VideoStatus::Queued,
                config: &json!({}),
            },
        )
        .await
        .unwrap();
        let key = format!("ws/{}/videos/{}/source.mp4", self.ws, video.id);
        self.storage.put_file(&key, file).await.unwrap();
        videos::set_stored_file(&mut tx, self.ws, video.id, &key, None)
            .await
            .unwrap();
        let job = NewJob::new("ingest", json!({ "video_id": video.id.to_string() }))
            .workspace(self.ws.0)
            .unique_key(format!("video:{}:ingest", video.id));
        let job = self.queue.enqueue_in(&mut tx, job).await.unwrap().id();
        let refs = CreditRefs {
            job_id: Some(job),
            render_id: None,
            video_id: Some(video.id),
        };
        credits::debit(&mut tx, self.ws, 1, "upload", refs)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        (video.id, job)
    }

    /// The video once its chain has settled (ready or failed).
    async fn settled(&self, id: VideoId) -> Video {
        let started = Instant::now();
        loop {
            let video = videos::get(&self.store, self.ws, id)
                .await
                .unwrap()
                .unwrap();
            if matches!(video.status, VideoStatus::Ready | VideoStatus::Failed) {
                return video;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "video still {:?}",
                video.status
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The job once its worker has let go of it. The handler fails the
    /// video before the queue records the job's outcome, so a settled video
    /// can still have a running job for a moment.
    async fn job_outcome(&self, id: uuid::Uuid) -> Job {
        let started = Instant::now();
        loop {
            let job = self.queue.get(id).await.unwrap().unwrap();
            if !matches!(job.status, JobStatus::Queued | JobStatus::Running) {
                return job;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "job still {:?}",
                job.status
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn rendered(&self, id: clipforge_store::RenderId) -> Render {
        let started = Instant::now();
        loop {
            let render = renders::get(&self.store, self.ws, id)
                .await
                .unwrap()
                .unwrap();
            if !render.status.is_active() {
                return render;
            }
            assert!(
                started.elapsed() < Duration::from_secs(300),
                "render still {:?}",
                render.status
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn stop(self) {
        self.stop.cancel();
        self.worker.await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_talk_becomes_scored_clips_and_a_rendered_mp4() {
    let service = Service::start().await;
    let ws = service.ws;
    let (id, _) = service.upload(&fixture("librivox-talk.mp4")).await;
    let video = service.settled(id).await;
    assert_eq!(video.status, VideoStatus::Ready, "{:?}", video.error);
    let media = video.media.expect("media info");
    assert!((media.duration_seconds - 28.4).abs() < 0.5, "{media:?}");
    assert_eq!(media.audio_codec.as_deref(), Some("aac"));
    assert!(media.width > 0 && media.height > 0);
    let thumb = video.thumbnail_key.expect("a thumbnail");
    assert!(service.storage.head(&thumb).await.unwrap() > 1000);

    let transcript = transcripts::get_for_video(&service.store, ws, id)
        .await
        .unwrap()
        .expect("a transcript")
        .transcript();
    let text = transcript.text().to_lowercase();
    assert!(transcript.words().count() > 40, "{text}");
    assert!(text.contains("dashwood"), "{text}");

    let clips = clips::list(
        &service.store,
        ws,
        &ClipFilter {
            video_id: Some(id),
            ..ClipFilter::default()
        },
        ClipSortField::ViralityScore,
        SortOrder::Desc,
        Page::new(1, 100),
    )
    .await
    .unwrap()
    .items;
    assert!(!clips.is_empty(), "no clips suggested");
    for c in &clips {
        assert!(c.is_ai_suggested);
        let score = c.score.expect("a score");
        assert!((0.0..=100.0).contains(&score));
        assert!(c.breakdown.is_some() && c.reason.is_some() && c.hook.is_some());
        assert!(
            c.end_seconds <= 28.5 && c.duration_seconds() >= 19.0,
            "{c:?}"
        );
    }
    // One credit per started minute: the upload's one covered the 28 s talk.
    assert_eq!(
        credits::balance(&service.store, ws).await.unwrap(),
        CREDITS - 1
    );

    // A render of the best clip, paid for as the API does.
    let clip = &clips[0];
    let mut tx = service.store.begin().await.unwrap();
    let render = renders::create(
        &mut tx,
        ws,
        clip.id,
        None,
        &json!({"quality": "draft", "reframe": "center"}),
    )
    .await
    .unwrap();
    let job = NewJob::new("render", json!({ "render_id": render.id.to_string() }))
        .workspace(ws.0)
        .unique_key(format!("render:{}", render.id));
    let job = service.queue.enqueue_in(&mut tx, job).await.unwrap().id();
    let refs = CreditRefs {
        job_id: Some(job),
        render_id: Some(render.id),
        video_id: None,
    };
    credits::debit(&mut tx, ws, 1, "render", refs)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let render = service.rendered(render.id).await;
    assert_eq!(render.status, RenderStatus::Completed, "{:?}", render.error);
    let key = render.output_key.expect("an output key");
    assert_eq!(key, format!("ws/{ws}/renders/{}.mp4", render.id));
    let path = service
        .storage
        .local_path(&key)
        .unwrap()
        .expect("a local file");
    let info = clipforge_media::probe(&path).await.expect("a playable MP4");
    let want = clip.duration_seconds();
    assert!(
        (info.duration - want).abs() < 0.3,
        "{} vs {want}",
        info.duration
    );
    assert!((render.duration_seconds.unwrap() - info.duration).abs() < 0.01);
    assert_eq!(
        render.size_bytes,
        Some(std::fs::metadata(&path).unwrap().len() as i64)
    );
    let v = info.video.expect("a picture");
    assert_eq!((v.codec.as_str(), v.width, v.height), ("h264", 540, 960));
    assert_eq!(info.audio.first().map(|a| a.codec.as_str()), Some("aac"));
    let thumb = format!("ws/{ws}/renders/{}.jpg", render.id);
    assert!(service.storage.head(&thumb).await.unwrap() > 1000);
    let clip = clips::get(&service.store, ws, clip.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(clip.status, clips::ClipStatus::Rendered);
    assert_eq!(
        credits::balance(&service.store, ws).await.unwrap(),
        CREDITS - 2
    );
    service.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bad_inputs_fail_with_what_is_wrong_and_get_their_credits_back() {
    let service = Service::start().await;
    let cases = [
        ("truncated.mp4", "damaged or incomplete"),
        ("notmedia.mp4", "not a video"),
        ("noaudio.mp4", "no audio track"),
        ("silence.mp4", "silent"),
    ];
    let mut uploads = Vec::new();
    for (name, expected) in cases {
        let (id, job) = service.upload(&fixture(name)).await;
        uploads.push((name, expected, id, job));
    }
    for (name, expected, id, job) in uploads {
        let video = service.settled(id).await;
        assert_eq!(video.status, VideoStatus::Failed, "{name}");
        let error = video.error.unwrap_or_default();
        assert!(error.contains(expected), "{name}: {error}");
        assert!(
            !error.contains("/tmp"),
            "{name}: the message shows a worker path: {error}"
        );
        let job = service.job_outcome(job).await;
        assert_eq!(
            job.status,
            JobStatus::Dead,
            "{name}: a bad file is not retried"
        );
        assert_eq!(job.attempts, 1, "{name}");
    }
    assert_eq!(
        credits::balance(&service.store, service.ws).await.unwrap(),
        CREDITS,
        "every upload's credit came back"
    );
    service.stop().await;
}
