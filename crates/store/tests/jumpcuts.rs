//! Jump cuts as the API and the worker use them, on SQLite and (when `DATABASE_URL_TEST`
//! is set) PostgreSQL: a request exists only with its job, another workspace sees nothing,
//! a run reports and completes with its outputs, and an ended jump cut stays ended.

mod common;

use std::collections::BTreeMap;

use clipforge_store::accounts::{self, NewUser, User};
use clipforge_store::jumpcuts::{self, JumpcutId, JumpcutOutput, JumpcutStatus, NewJumpcut};
use clipforge_store::videos::{self, NewVideo, VideoSource, VideoStatus};
use clipforge_store::workspaces::{self, NewWorkspace};
use clipforge_store::{JobStatus, Page, Queue, Store, StoreError, VideoId, WorkspaceId};
use serde_json::{json, Value};

async fn tenant(store: &Store, name: &str) -> (User, WorkspaceId) {
    let user = accounts::create_user(
        store,
        NewUser {
            email: &format!("{name}@example.com"),
            password_hash: "$argon2id$stub",
            full_name: name,
        },
    )
    .await
    .unwrap();
    let mut tx = store.begin().await.unwrap();
    let workspace = workspaces::create_workspace(
        &mut tx,
        NewWorkspace {
            name: &format!("{name}'s team"),
            slug: name,
            owner: user.id,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (user, workspace.id)
}

async fn ready_video(store: &Store, ws: WorkspaceId, title: &str) -> VideoId {
    videos::create(
        store,
        ws,
        NewVideo {
            project_id: None,
            created_by: None,
            title,
            source: VideoSource::Upload,
            source_url: None,
            original_filename: Some("talk.mp4"),
            storage_key: Some("videos/x/source.mp4"),
            status: VideoStatus::Ready,
            config: &json!({}),
        },
    )
    .await
    .unwrap()
    .id
}

fn settings() -> Value {
    json!({"mode": "loudness", "threshold_db": -25.0, "remove_fillers": false})
}

/// Requests a jump cut in a transaction of its own.
async fn request(
    store: &Store,
    queue: &Queue,
    ws: WorkspaceId,
    video: VideoId,
    user: &User,
) -> Result<jumpcuts::Jumpcut, StoreError> {
    let settings = settings();
    let exports = ["json".to_string(), "edl".to_string()];
    let mut tx = store.begin().await?;
    let jumpcut = jumpcuts::create(
        &mut tx,
        queue,
        ws,
        &NewJumpcut {
            video_id: video,
            requested_by: Some(user.id),
            settings: &settings,
            quality: "draft",
            exports: &exports,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(jumpcut)
}

#[tokio::test]
async fn a_request_exists_only_with_its_job() {
    for db in common::stores().await {
        let store = &db.store;
        let queue = Queue::new(store.clone());
        let (user, ws) = tenant(store, "ada").await;
        let video = ready_video(store, ws, "talk").await;

        // Dropped before commit: neither the row nor its job remains.
        let settings = settings();
        let mut tx = store.begin().await.unwrap();
        let lost = jumpcuts::create(
            &mut tx,
            &queue,
            ws,
            &NewJumpcut {
                video_id: video,
                requested_by: Some(user.id),
                settings: &settings,
                quality: "standard",
                exports: &[],
            },
        )
        .await
        .unwrap();
        drop(tx);
        assert!(
            jumpcuts::get(store, ws, lost.id).await.unwrap().is_none(),
            "{}",
            db.name
        );
        assert!(queue.get(lost.job_id.unwrap()).await.unwrap().is_none());

        let j = request(store, &queue, ws, video, &user).await.unwrap();
        assert_eq!(
            (j.status, j.progress, j.quality.as_str()),
            (JumpcutStatus::Queued, 0, "draft"),
            "{}",
            db.name
        );
        assert_eq!(j.exports, ["json", "edl"]);
        assert_eq!(j.settings, settings);
        assert!(j.export_keys.is_empty() && j.output_key.is_none());
        let job = queue.get(j.job_id.unwrap()).await.unwrap().unwrap();
        assert_eq!(job.kind, jumpcuts::JOB_KIND);
        assert_eq!(job.status, JobStatus::Queued);
        assert_eq!(job.workspace_id, Some(ws.0));
        assert_eq!(job.payload, json!({"jumpcut_id": j.id}));
        assert_eq!(jumpcuts::get(store, ws, j.id).await.unwrap(), Some(j));

        // No such video: no row and no job.
        let missing = request(store, &queue, ws, VideoId::new(), &user).await;
        assert!(
            matches!(missing, Err(StoreError::NotFound { what: "video" })),
            "{missing:?}"
        );
    }
}

#[tokio::test]
async fn another_workspace_sees_and_changes_nothing() {
    for db in common::stores().await {
        let store = &db.store;
        let queue = Queue::new(store.clone());
        let (ana, ws_a) = tenant(store, "ana").await;
        let (bo, ws_b) = tenant(store, "bo").await;
        let video = ready_video(store, ws_a, "talk").await;
        let j = request(store, &queue, ws_a, video, &ana).await.unwrap();

        // Bo cannot cut Ana's video, nor read, list, run or stop Ana's jump cut.
        let theirs = request(store, &queue, ws_b, video, &bo).await;
        assert!(
            matches!(theirs, Err(StoreError::NotFound { .. })),
            "{}",
            db.name
        );
        assert!(jumpcuts::get(store, ws_b, j.id).await.unwrap().is_none());
        let listed = jumpcuts::list_for_video(store, ws_b, video, Page::default())
            .await
            .unwrap();
        assert_eq!((listed.items.len(), listed.total), (0, 0));
        assert!(!jumpcuts::start(store, ws_b, j.id).await.unwrap());
        assert!(!jumpcuts::set_progress(store, ws_b, j.id, 50, Some("x"))
            .await
            .unwrap());
        assert!(!jumpcuts::fail(store, ws_b, j.id, "x").await.unwrap());
        assert!(!jumpcuts::cancel(store, ws_b, j.id).await.unwrap());
        let unchanged = jumpcuts::get(store, ws_a, j.id).await.unwrap().unwrap();
        assert_eq!(unchanged.status, JumpcutStatus::Queued);
    }
}

#[tokio::test]
async fn a_run_reports_completes_and_stays_completed() {
    for db in common::stores().await {
        let store = &db.store;
        let queue = Queue::new(store.clone());
        let (user, ws) = tenant(store, "cy").await;
        let video = ready_video(store, ws, "talk").await;
        let j = request(store, &queue, ws, video, &user).await.unwrap();

        assert!(jumpcuts::start(store, ws, j.id).await.unwrap());
        assert!(
            jumpcuts::set_progress(store, ws, j.id, 140, Some("cutting"))
                .await
                .unwrap()
        );
        let running = jumpcuts::get(store, ws, j.id).await.unwrap().unwrap();
        assert_eq!(
            (
                running.status,
                running.progress,
                running.current_step.as_deref()
            ),
            (JumpcutStatus::Processing, 100, Some("cutting")),
            "{}",
            db.name
        );
        assert!(running.started_at.is_some());

        let exports: BTreeMap<String, String> = [
            ("edl".to_string(), "ws/a/jumpcuts/x.edl".to_string()),
            ("json".to_string(), "ws/a/jumpcuts/x.json".to_string()),
        ]
        .into();
        let stats = json!({"cuts": 12, "fillers": 3, "pieces": 13, "removed_percent": 25.0, "has_audio": true});
        let output = JumpcutOutput {
            output_key: "ws/a/jumpcuts/x.mp4",
            export_keys: &exports,
            size_bytes: 1_234_567,
            duration_in: 60.0,
            duration_out: 45.0,
            removed_seconds: 15.0,
            stats: &stats,
        };
        assert!(jumpcuts::complete(store, ws, j.id, &output).await.unwrap());
        let done = jumpcuts::get(store, ws, j.id).await.unwrap().unwrap();
        assert_eq!(
            (
                done.status,
                done.progress,
                done.current_step.as_deref(),
                done.output_key.as_deref()
            ),
            (
                JumpcutStatus::Completed,
                100,
                None,
                Some("ws/a/jumpcuts/x.mp4")
            ),
            "{}",
            db.name
        );
        assert_eq!(done.export_keys, exports);
        assert_eq!(
            (
                done.size_bytes,
                done.duration_in,
                done.duration_out,
                done.removed_seconds
            ),
            (Some(1_234_567), Some(60.0), Some(45.0), Some(15.0))
        );
        assert_eq!(done.stats.as_ref(), Some(&stats));
        assert!(done.finished_at.is_some());

        // Late reports and a late failure change nothing.
        assert!(!jumpcuts::set_progress(store, ws, j.id, 10, Some("late"))
            .await
            .unwrap());
        assert!(!jumpcuts::fail(store, ws, j.id, "late").await.unwrap());
        assert!(!jumpcuts::cancel(store, ws, j.id).await.unwrap());
        assert!(!jumpcuts::start(store, ws, j.id).await.unwrap());
        assert_eq!(
            jumpcuts::get(store, ws, j.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            JumpcutStatus::Completed
        );

        // A failed one keeps its reason; a cancelled one cannot complete.
        let failing = request(store, &queue, ws, video, &user).await.unwrap();
        assert!(jumpcuts::start(store, ws, failing.id).await.unwrap());
        assert!(jumpcuts::fail(store, ws, failing.id, "no speech found")
            .await
            .unwrap());
        let failed = jumpcuts::get(store, ws, failing.id).await.unwrap().unwrap();
        assert_eq!(
            (failed.status, failed.error.as_deref()),
            (JumpcutStatus::Failed, Some("no speech found"))
        );
        let stopped = request(store, &queue, ws, video, &user).await.unwrap();
        assert!(jumpcuts::cancel(store, ws, stopped.id).await.unwrap());
        assert!(!jumpcuts::start(store, ws, stopped.id).await.unwrap());
        assert!(!jumpcuts::complete(store, ws, stopped.id, &output)
            .await
            .unwrap());
        let cancelled = jumpcuts::get(store, ws, stopped.id).await.unwrap().unwrap();
        assert_eq!(
            (cancelled.status, cancelled.output_key),
            (JumpcutStatus::Canceled, None)
        );
    }
}

#[tokio::test]
async fn lists_page_newest_first_and_go_with_their_video() {
    for db in common::stores().await {
        let store = &db.store;
        let queue = Queue::new(store.clone());
        let (user, ws) = tenant(store, "di").await;
        let video = ready_video(store, ws, "talk").await;
        let other = ready_video(store, ws, "other").await;
        let mut ids: Vec<JumpcutId> = Vec::new();
        for _ in 0..5 {
            ids.push(request(store, &queue, ws, video, &user).await.unwrap().id);
        }
        request(store, &queue, ws, other, &user).await.unwrap();

        let first = jumpcuts::list_for_video(store, ws, video, Page::new(1, 2))
            .await
            .unwrap();
        let second = jumpcuts::list_for_video(store, ws, video, Page::new(2, 2))
            .await
            .unwrap();
        let third = jumpcuts::list_for_video(store, ws, video, Page::new(3, 2))
            .await
            .unwrap();
        assert_eq!((first.total, first.total_pages()), (5, 3), "{}", db.name);
        let seen: Vec<JumpcutId> = [first.items, second.items, third.items]
            .into_iter()
            .flatten()
            .map(|j| j.id)
            .collect();
        let newest_first: Vec<JumpcutId> = ids.iter().rev().copied().collect();
        assert_eq!(seen, newest_first);

        // A deleted video's jump cuts are gone with it, and one running then cannot
        // complete (its files would belong to nobody).
        let running = ids[1];
        assert!(jumpcuts::start(store, ws, running).await.unwrap());
        let mut tx = store.begin().await.unwrap();
        assert!(videos::delete(&mut tx, ws, video).await.unwrap());
        tx.commit().await.unwrap();
        assert!(jumpcuts::get(store, ws, ids[0]).await.unwrap().is_none());
        let after = jumpcuts::list_for_video(store, ws, video, Page::default())
            .await
            .unwrap();
        assert_eq!(after.total, 0);
        let none = BTreeMap::new();
        let output = JumpcutOutput {
            output_key: "ws/a/jumpcuts/x.mp4",
            export_keys: &none,
            size_bytes: 1,
            duration_in: 2.0,
            duration_out: 1.0,
            removed_seconds: 1.0,
            stats: &json!({}),
        };
        assert!(!jumpcuts::complete(store, ws, running, &output)
            .await
            .unwrap());
    }
}
