//! The repositories as a user meets them, on SQLite and (when `DATABASE_URL_TEST` is set)
//! PostgreSQL: every test runs its story on each engine.

mod common;

use chrono::{Duration, Utc};
use clipforge_core::{AspectRatio, ReframeMode, ScoreBreakdown, Segment, Transcript, Word};
use clipforge_store::accounts::{self, NewApiKey, NewSession, NewUser, User};
use clipforge_store::audit::{self, NewAuditEntry};
use clipforge_store::clips::{self, ClipFilter, ClipSortField, ClipUpdate, NewClip};
use clipforge_store::credits::{self, CreditKind, CreditRefs};
use clipforge_store::projects::{self, NewProject, ProjectUpdate};
use clipforge_store::renders::{self, RenderOutput, RenderStatus};
use clipforge_store::templates::{self, NewTemplate, StyleInput, TemplateUpdate};
use clipforge_store::transcripts::{self, SegmentEdit};
use clipforge_store::videos::{
    self, MediaInfo, NewVideo, VideoFilter, VideoSortField, VideoSource, VideoStatus, VideoUpdate,
};
use clipforge_store::workspaces::{self, NewInvitation, NewWorkspace, Role, Workspace};
use clipforge_store::{
    ClipId, Page, SortOrder, Store, StoreError, TemplateId, VideoId, WorkspaceId,
};
use serde_json::json;

/// A user who owns a fresh workspace.
struct Tenant {
    user: User,
    workspace: Workspace,
}

impl Tenant {
    fn ws(&self) -> WorkspaceId {
        self.workspace.id
    }
}

async fn tenant(store: &Store, name: &str) -> Tenant {
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
    Tenant { user, workspace }
}

async fn upload(store: &Store, ws: WorkspaceId, title: &str) -> VideoId {
    videos::create(
        store,
        ws,
        NewVideo {
            project_id: None,
            created_by: None,
            title,
            source: VideoSource::Upload,
            source_url: None,
            original_filename: Some(&format!("{title}.mp4")),
            storage_key: Some("videos/x/source.mp4"),
            status: VideoStatus::Queued,
            config: &json!({}),
        },
    )
    .await
    .unwrap()
    .id
}

async fn clip(
    store: &Store,
    ws: WorkspaceId,
    video: VideoId,
    start: f64,
    score: Option<f64>,
) -> ClipId {
    clips::create(
        store,
        ws,
        NewClip {
            video_id: video,
            created_by: None,
            title: &format!("Moment at {start}"),
            hook: Some("Nobody talks about this"),
            start_seconds: start,
            end_seconds: start + 30.0,
            score,
            breakdown: Some(&ScoreBreakdown {
                hook: 0.8,
                emotion: 0.6,
                topic: 0.7,
                completeness: 0.9,
                pacing: 0.5,
                visual: 0.5,
            }),
            reason: Some("Strong hook"),
            highlights: &["Opens with a question".to_string()],
            is_ai_suggested: score.is_some(),
        },
    )
    .await
    .unwrap()
    .id
}

fn word(text: &str, start: f64, end: f64) -> Word {
    Word {
        start,
        end,
        text: text.into(),
        confidence: 0.9,
    }
}

fn sample_transcript() -> Transcript {
    let segment = |text: &str, words: Vec<Word>| Segment {
        start: words[0].start,
        end: words[words.len() - 1].end,
        text: text.into(),
        speaker: None,
        words,
    };
    Transcript {
        language: "en".into(),
        duration: 10.0,
        segments: vec![
            segment(
                "Welcome to the show.",
                vec![
                    word("Welcome", 0.0, 0.5),
                    word("to", 0.5, 0.7),
                    word("the", 0.7, 0.9),
                    word("show.", 0.9, 1.4),
                ],
            ),
            segment(
                "Their is a catch.",
                vec![
                    word("Their", 2.0, 2.3),
                    word("is", 2.3, 2.5),
                    word("a", 2.5, 2.6),
                    word("catch.", 2.6, 3.0),
                ],
            ),
        ],
    }
}

#[tokio::test]
async fn one_account_per_email_whatever_its_case() {
    for db in common::stores().await {
        let store = &db.store;
        let ann = accounts::create_user(
            store,
            NewUser {
                email: "Ann@Example.com",
                password_hash: "h1",
                full_name: "Ann",
            },
        )
        .await
        .unwrap();
        assert_eq!(ann.email, "ann@example.com", "{}", db.name);
        let again = accounts::create_user(
            store,
            NewUser {
                email: " ANN@example.COM",
                password_hash: "h2",
                full_name: "Impostor",
            },
        )
        .await;
        assert!(
            matches!(again, Err(StoreError::Conflict { .. })),
            "{}: {again:?}",
            db.name
        );

        let (user, hash) = accounts::user_for_login(store, "ann@EXAMPLE.com")
            .await
            .unwrap()
            .unwrap();
        assert_eq!((user.id, hash.as_str()), (ann.id, "h1"));

        // A closed account cannot sign in and frees the address.
        assert!(accounts::delete_user(store, ann.id).await.unwrap());
        assert!(accounts::user_for_login(store, "ann@example.com")
            .await
            .unwrap()
            .is_none());
        assert!(accounts::get_user(store, ann.id).await.unwrap().is_none());
        let new_ann = accounts::create_user(
            store,
            NewUser {
                email: "ann@example.com",
                password_hash: "h3",
                full_name: "Ann",
            },
        )
        .await
        .unwrap();
        assert_ne!(new_ann.id, ann.id);
    }
}

#[tokio::test]
async fn sessions_end_at_expiry_logout_and_account_closure() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "bob").await;
        let session = |hash: &'static str, expires_in: Duration| NewSession {
            user_id: t.user.id,
            token_hash: hash,
            expires_at: Utc::now() + expires_in,
            ip: Some("203.0.113.7"),
            user_agent: Some("curl/8"),
        };
        let live = accounts::create_session(store, session("live", Duration::hours(1)))
            .await
            .unwrap();
        accounts::create_session(store, session("stale", Duration::seconds(-1)))
            .await
            .unwrap();

        let (found, user) = accounts::session_by_token_hash(store, "live")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found, live, "{}", db.name);
        assert_eq!(user.id, t.user.id);
        assert!(accounts::session_by_token_hash(store, "stale")
            .await
            .unwrap()
            .is_none());
        assert!(accounts::session_by_token_hash(store, "unknown")
            .await
            .unwrap()
            .is_none());
        assert_eq!(accounts::delete_expired_sessions(store).await.unwrap(), 1);

        assert!(accounts::delete_session(store, "live").await.unwrap());
        assert!(accounts::session_by_token_hash(store, "live")
            .await
            .unwrap()
            .is_none());
        assert!(!accounts::delete_session(store, "live").await.unwrap());

        accounts::create_session(store, session("other", Duration::hours(1)))
            .await
            .unwrap();
        accounts::delete_user(store, t.user.id).await.unwrap();
        assert!(accounts::session_by_token_hash(store, "other")
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn api_keys_stop_working_when_revoked_expired_or_their_user_leaves() {
    for db in common::stores().await {
        let store = &db.store;
        let owner = tenant(store, "carol").await;
        let other = tenant(store, "mallory").await;
        let key = |hash: &'static str, expires_at| NewApiKey {
            workspace_id: owner.ws(),
            user_id: owner.user.id,
            name: "CI",
            prefix: "cf_12345",
            key_hash: hash,
            expires_at,
        };
        let k = accounts::create_api_key(store, key("k1", None))
            .await
            .unwrap();
        let auth = accounts::api_key_by_hash(store, "k1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (auth.key.id, auth.user.id, auth.key.workspace_id),
            (k.id, owner.user.id, owner.ws())
        );

        accounts::touch_api_key(store, k.id).await.unwrap();
        let listed = accounts::list_api_keys(store, owner.ws()).await.unwrap();
        assert!(listed[0].last_used_at.is_some(), "{}", db.name);

        // Another workspace cannot revoke it.
        assert!(!accounts::revoke_api_key(store, other.ws(), k.id)
            .await
            .unwrap());
        assert!(accounts::api_key_by_hash(store, "k1")
            .await
            .unwrap()
            .is_some());
        assert!(accounts::revoke_api_key(store, owner.ws(), k.id)
            .await
            .unwrap());
        assert!(accounts::api_key_by_hash(store, "k1")
            .await
            .unwrap()
            .is_none());
        assert!(!accounts::revoke_api_key(store, owner.ws(), k.id)
            .await
            .unwrap());
        let listed = accounts::list_api_keys(store, owner.ws()).await.unwrap();
        assert!(listed[0].revoked_at.is_some());
        assert!(accounts::list_api_keys(store, other.ws())
            .await
            .unwrap()
            .is_empty());

        accounts::create_api_key(store, key("k2", Some(Utc::now() - Duration::seconds(1))))
            .await
            .unwrap();
        assert!(accounts::api_key_by_hash(store, "k2")
            .await
            .unwrap()
            .is_none());

        // A member's key dies with their membership.
        let dave = accounts::create_user(
            store,
            NewUser {
                email: "dave@example.com",
                password_hash: "h",
                full_name: "Dave",
            },
        )
        .await
        .unwrap();
        workspaces::add_member(store, owner.ws(), dave.id, Role::Member)
            .await
            .unwrap();
        accounts::create_api_key(
            store,
            NewApiKey {
                user_id: dave.id,
                ..key("k3", None)
            },
        )
        .await
        .unwrap();
        assert!(accounts::api_key_by_hash(store, "k3")
            .await
            .unwrap()
            .is_some());
        let mut tx = store.begin().await.unwrap();
        assert!(workspaces::remove_member(&mut tx, owner.ws(), dave.id)
            .await
            .unwrap());
        tx.commit().await.unwrap();
        assert!(accounts::api_key_by_hash(store, "k3")
            .await
            .unwrap()
            .is_none());
    }
}

#[tokio::test]
async fn roles_invitations_and_the_last_owner() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "erin").await;
        let frank = accounts::create_user(
            store,
            NewUser {
                email: "frank@example.com",
                password_hash: "h",
                full_name: "Frank",
            },
        )
        .await
        .unwrap();
        assert_eq!(
            workspaces::role(store, t.ws(), t.user.id).await.unwrap(),
            Some(Role::Owner)
        );
        assert_eq!(
            workspaces::role(store, t.ws(), frank.id).await.unwrap(),
            None
        );

        // The only owner cannot step down; the refused change is not half-applied.
        let mut tx = store.begin().await.unwrap();
        let refused = workspaces::set_role(&mut tx, t.ws(), t.user.id, Role::Admin).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict { .. })),
            "{}: {refused:?}",
            db.name
        );
        drop(tx);
        assert_eq!(
            workspaces::role(store, t.ws(), t.user.id).await.unwrap(),
            Some(Role::Owner)
        );

        let invite = |hash: &'static str, expires_in: Duration| NewInvitation {
            email: "Frank@example.com",
            role: Role::Admin,
            token_hash: hash,
            invited_by: t.user.id,
            expires_at: Utc::now() + expires_in,
        };
        let stale =
            workspaces::create_invitation(store, t.ws(), invite("old", Duration::seconds(-1)))
                .await
                .unwrap();
        assert_eq!(stale.email, "frank@example.com");
        let duplicate =
            workspaces::create_invitation(store, t.ws(), invite("dup", Duration::days(1))).await;
        assert!(matches!(duplicate, Err(StoreError::Conflict { .. })));
        let mut tx = store.begin().await.unwrap();
        assert!(workspaces::accept_invitation(&mut tx, "old", frank.id)
            .await
            .unwrap()
            .is_none());
        drop(tx);
        assert!(workspaces::revoke_invitation(store, t.ws(), stale.id)
            .await
            .unwrap());

        workspaces::create_invitation(store, t.ws(), invite("fresh", Duration::days(1)))
            .await
            .unwrap();
        assert_eq!(
            workspaces::list_invitations(store, t.ws())
                .await
                .unwrap()
                .len(),
            1
        );
        let mut tx = store.begin().await.unwrap();
        let accepted = workspaces::accept_invitation(&mut tx, "fresh", frank.id)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(accepted.workspace_id, t.ws());
        assert_eq!(
            workspaces::role(store, t.ws(), frank.id).await.unwrap(),
            Some(Role::Admin)
        );
        let mut tx = store.begin().await.unwrap();
        assert!(workspaces::accept_invitation(&mut tx, "fresh", frank.id)
            .await
            .unwrap()
            .is_none());
        drop(tx);
        assert!(workspaces::list_invitations(store, t.ws())
            .await
            .unwrap()
            .is_empty());

        // With a second owner, the first may step down.
        let mut tx = store.begin().await.unwrap();
        assert!(workspaces::set_role(&mut tx, t.ws(), frank.id, Role::Owner)
            .await
            .unwrap());
        assert!(
            workspaces::set_role(&mut tx, t.ws(), t.user.id, Role::Member)
                .await
                .unwrap()
        );
        tx.commit().await.unwrap();
        let members = workspaces::list_members(store, t.ws()).await.unwrap();
        let roles: Vec<_> = members.iter().map(|m| (m.user.id, m.role)).collect();
        assert_eq!(
            roles,
            vec![(t.user.id, Role::Member), (frank.id, Role::Owner)]
        );

        let mine = workspaces::workspaces_for_user(store, frank.id)
            .await
            .unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!((mine[0].workspace.id, mine[0].role), (t.ws(), Role::Owner));

        assert!(workspaces::delete_workspace(store, t.ws()).await.unwrap());
        assert!(workspaces::get_workspace(store, t.ws())
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            workspaces::role(store, t.ws(), frank.id).await.unwrap(),
            None
        );
        assert!(workspaces::workspaces_for_user(store, frank.id)
            .await
            .unwrap()
            .is_empty());
    }
}

/// Workspace A, holding B's ids, sees and touches nothing of B's: every call answers as
/// for a row that does not exist, and B's rows are unchanged afterwards.
#[tokio::test]
async fn another_workspace_looks_like_nothing_at_all() {
    for db in common::stores().await {
        let store = &db.store;
        let a = tenant(store, "alice").await;
        let b = tenant(store, "bert").await;
        let (a_ws, b_ws) = (a.ws(), b.ws());

        let b_project = projects::create(
            store,
            b_ws,
            NewProject {
                name: "Podcast",
                description: None,
                settings: &json!({}),
                created_by: Some(b.user.id),
            },
        )
        .await
        .unwrap();
        let b_video = upload(store, b_ws, "episode").await;
        let b_transcript = transcripts::replace(store, b_ws, b_video, &sample_transcript())
            .await
            .unwrap();
        let b_clip = clip(store, b_ws, b_video, 10.0, Some(80.0)).await;
        templates::put_style(store, b_ws, b_clip, &StyleInput::default())
            .await
            .unwrap();
        let b_template = templates::create(
            store,
            b_ws,
            NewTemplate {
                name: "B brand",
                description: None,
                style: &json!({"font": "Inter"}),
                created_by: None,
            },
        )
        .await
        .unwrap();
        let b_render = renders::create(store, b_ws, b_clip, None, &json!({"quality": "high"}))
            .await
            .unwrap();
        credits::grant(store, b_ws, 50, "plan", None).await.unwrap();
        let mut tx = store.begin().await.unwrap();
        let b_debit = credits::debit(&mut tx, b_ws, 10, "render", CreditRefs::default())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        audit::record(
            store,
            NewAuditEntry {
                workspace_id: Some(b_ws),
                action: "video.create",
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let a_video = upload(store, a_ws, "mine").await;

        // Projects.
        assert!(projects::get(store, a_ws, b_project.id)
            .await
            .unwrap()
            .is_none());
        assert!(projects::update(
            store,
            a_ws,
            b_project.id,
            ProjectUpdate {
                name: Some("x"),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
        let mut tx = store.begin().await.unwrap();
        assert!(!projects::delete(&mut tx, a_ws, b_project.id).await.unwrap());
        drop(tx);
        assert_eq!(
            projects::list(store, a_ws, Page::default())
                .await
                .unwrap()
                .total,
            0
        );
        let into_b_project = videos::create(
            store,
            a_ws,
            NewVideo {
                project_id: Some(b_project.id),
                created_by: None,
                title: "sneaky",
                source: VideoSource::Url,
                source_url: Some("https://example.com/v"),
                original_filename: None,
                storage_key: None,
                status: VideoStatus::Queued,
                config: &json!({}),
            },
        )
        .await;
        assert!(
            matches!(
                into_b_project,
                Err(StoreError::NotFound { what: "project" })
            ),
            "{}: {into_b_project:?}",
            db.name
        );
        let moved = videos::update(
            store,
            a_ws,
            a_video,
            VideoUpdate {
                project_id: Some(Some(b_project.id)),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(
            moved.is_none(),
            "{}: A's video moved into B's project",
            db.name
        );

        // Videos.
        assert!(videos::get(store, a_ws, b_video).await.unwrap().is_none());
        let listed = videos::list(
            store,
            a_ws,
            &VideoFilter::default(),
            VideoSortField::CreatedAt,
            SortOrder::Desc,
            Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            listed.items.iter().map(|v| v.id).collect::<Vec<_>>(),
            vec![a_video]
        );
        assert_eq!(listed.total, 1);
        assert!(videos::update(
            store,
            a_ws,
            b_video,
            VideoUpdate {
                title: Some("pwned"),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
        assert!(
            !videos::set_status(store, a_ws, b_video, VideoStatus::Failed, Some("x"))
                .await
                .unwrap()
        );
        assert!(!videos::set_stored_file(store, a_ws, b_video, "k", None)
            .await
            .unwrap());
        let media = MediaInfo {
            duration_seconds: 1.0,
            width: 2,
            height: 2,
            fps: 1.0,
            video_codec: None,
            audio_codec: None,
            size_bytes: 1,
        };
        assert!(!videos::set_media(store, a_ws, b_video, &media, None)
            .await
            .unwrap());
        let mut tx = store.begin().await.unwrap();
        assert!(!videos::delete(&mut tx, a_ws, b_video).await.unwrap());
        drop(tx);

        // Transcripts.
        assert!(transcripts::get_for_video(store, a_ws, b_video)
            .await
            .unwrap()
            .is_none());
        assert!(transcripts::get(store, a_ws, b_transcript.id)
            .await
            .unwrap()
            .is_none());
        let edit = SegmentEdit {
            text: "pwned".into(),
            words: vec![word("pwned", 2.0, 2.5)],
        };
        assert!(
            transcripts::edit_segment(store, a_ws, b_transcript.id, 0, &edit, None)
                .await
                .unwrap()
                .is_none()
        );
        let overwrite =
            transcripts::replace(store, a_ws, b_video, &Transcript::empty("en", 1.0)).await;
        assert!(matches!(overwrite, Err(StoreError::NotFound { .. })));

        // Clips and styles.
        assert!(clips::get(store, a_ws, b_clip).await.unwrap().is_none());
        let all = clips::list(
            store,
            a_ws,
            &ClipFilter::default(),
            ClipSortField::CreatedAt,
            SortOrder::Desc,
            Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(all.total, 0);
        let by_video = ClipFilter {
            video_id: Some(b_video),
            ..Default::default()
        };
        assert_eq!(
            clips::list(
                store,
                a_ws,
                &by_video,
                ClipSortField::ViralityScore,
                SortOrder::Desc,
                Page::default()
            )
            .await
            .unwrap()
            .total,
            0
        );
        let cut = clips::create(
            store,
            a_ws,
            NewClip {
                video_id: b_video,
                created_by: None,
                title: "x",
                hook: None,
                start_seconds: 0.0,
                end_seconds: 5.0,
                score: None,
                breakdown: None,
                reason: None,
                highlights: &[],
                is_ai_suggested: false,
            },
        )
        .await;
        assert!(matches!(cut, Err(StoreError::NotFound { what: "video" })));
        assert!(clips::update(
            store,
            a_ws,
            b_clip,
            ClipUpdate {
                favourite: Some(true),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
        assert!(
            !clips::set_status(store, a_ws, b_clip, clips::ClipStatus::Failed)
                .await
                .unwrap()
        );
        assert_eq!(
            clips::delete_unused_suggestions(store, a_ws, b_video)
                .await
                .unwrap(),
            0
        );
        let mut tx = store.begin().await.unwrap();
        assert!(clips::duplicate(&mut tx, a_ws, b_clip, Some(a.user.id))
            .await
            .unwrap()
            .is_none());
        tx.commit().await.unwrap();
        assert!(!clips::delete(store, a_ws, b_clip).await.unwrap());
        assert!(templates::get_style(store, a_ws, b_clip)
            .await
            .unwrap()
            .is_none());
        let restyle = templates::put_style(store, a_ws, b_clip, &StyleInput::default()).await;
        assert!(matches!(restyle, Err(StoreError::NotFound { .. })));

        // Templates: B's is neither listed nor usable nor editable from A.
        assert!(templates::list(store, a_ws)
            .await
            .unwrap()
            .iter()
            .all(|t| t.id != b_template.id));
        assert!(templates::get(store, a_ws, b_template.id)
            .await
            .unwrap()
            .is_none());
        assert!(templates::update(
            store,
            a_ws,
            b_template.id,
            TemplateUpdate {
                name: Some("x"),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
        assert!(!templates::delete(store, a_ws, b_template.id).await.unwrap());
        let a_clip = clip(store, a_ws, a_video, 0.0, None).await;
        let borrowed = templates::put_style(
            store,
            a_ws,
            a_clip,
            &StyleInput {
                template_id: Some(b_template.id),
                ..Default::default()
            },
        )
        .await;
        assert!(matches!(borrowed, Err(StoreError::NotFound { .. })));

        // Renders.
        assert!(renders::get(store, a_ws, b_render.id)
            .await
            .unwrap()
            .is_none());
        assert!(renders::latest_for_clip(store, a_ws, b_clip)
            .await
            .unwrap()
            .is_none());
        assert!(renders::list_for_clip(store, a_ws, b_clip)
            .await
            .unwrap()
            .is_empty());
        assert!(matches!(
            renders::create(store, a_ws, b_clip, None, &json!({})).await,
            Err(StoreError::NotFound { .. })
        ));
        assert!(!renders::start(store, a_ws, b_render.id).await.unwrap());
        assert!(!renders::set_progress(store, a_ws, b_render.id, 50, None)
            .await
            .unwrap());
        assert!(!renders::cancel(store, a_ws, b_render.id).await.unwrap());
        assert!(!renders::fail(store, a_ws, b_render.id, "x").await.unwrap());
        let output = RenderOutput {
            output_key: "k",
            size_bytes: 1,
            duration_seconds: 1.0,
        };
        assert!(!renders::complete(store, a_ws, b_render.id, &output)
            .await
            .unwrap());

        // Credits and audit.
        assert_eq!(credits::balance(store, a_ws).await.unwrap(), 0);
        assert_eq!(
            credits::ledger(store, a_ws, Page::default())
                .await
                .unwrap()
                .total,
            0
        );
        assert!(credits::refund(store, a_ws, b_debit.id, "x")
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            audit::list(store, a_ws, None, Page::default())
                .await
                .unwrap()
                .total,
            0
        );

        // B's data is untouched.
        assert_eq!(
            videos::get(store, b_ws, b_video)
                .await
                .unwrap()
                .unwrap()
                .title,
            "episode"
        );
        assert!(projects::get(store, b_ws, b_project.id)
            .await
            .unwrap()
            .is_some());
        let b_clip_now = clips::get(store, b_ws, b_clip).await.unwrap().unwrap();
        assert!(!b_clip_now.favourite);
        assert_eq!(
            transcripts::get(store, b_ws, b_transcript.id)
                .await
                .unwrap()
                .unwrap(),
            b_transcript
        );
        assert_eq!(
            renders::get(store, b_ws, b_render.id)
                .await
                .unwrap()
                .unwrap()
                .status,
            RenderStatus::Queued
        );
        assert_eq!(credits::balance(store, b_ws).await.unwrap(), 40);
        assert_eq!(
            templates::get(store, b_ws, b_template.id)
                .await
                .unwrap()
                .unwrap()
                .name,
            "B brand"
        );
        assert_eq!(
            clips::list(
                store,
                b_ws,
                &ClipFilter::default(),
                ClipSortField::CreatedAt,
                SortOrder::Desc,
                Page::default()
            )
            .await
            .unwrap()
            .total,
            1
        );
    }
}

#[tokio::test]
async fn deleted_records_disappear_with_what_belongs_to_them() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "gina").await;
        let ws = t.ws();
        let project = projects::create(
            store,
            ws,
            NewProject {
                name: "Show",
                description: Some("weekly"),
                settings: &json!({"auto_render": 3}),
                created_by: None,
            },
        )
        .await
        .unwrap();
        let in_project = videos::create(
            store,
            ws,
            NewVideo {
                project_id: Some(project.id),
                created_by: Some(t.user.id),
                title: "ep1",
                source: VideoSource::Upload,
                source_url: None,
                original_filename: Some("ep1.mp4"),
                storage_key: Some("k"),
                status: VideoStatus::Queued,
                config: &json!({}),
            },
        )
        .await
        .unwrap()
        .id;
        let loose = upload(store, ws, "loose").await;
        let kept = clip(store, ws, loose, 0.0, Some(50.0)).await;
        let gone = clip(store, ws, loose, 40.0, Some(60.0)).await;
        transcripts::replace(store, ws, loose, &sample_transcript())
            .await
            .unwrap();
        let in_project_clip = clip(store, ws, in_project, 0.0, None).await;
        let no_filter = ClipFilter::default();
        let all_clips = || {
            clips::list(
                store,
                ws,
                &no_filter,
                ClipSortField::CreatedAt,
                SortOrder::Asc,
                Page::default(),
            )
        };

        assert!(clips::delete(store, ws, gone).await.unwrap());
        assert!(!clips::delete(store, ws, gone).await.unwrap());
        assert!(clips::get(store, ws, gone).await.unwrap().is_none());
        assert!(clips::update(
            store,
            ws,
            gone,
            ClipUpdate {
                title: Some("back"),
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .is_none());
        let listed = all_clips().await.unwrap();
        assert_eq!(
            listed.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![kept, in_project_clip],
            "{}",
            db.name
        );
        assert_eq!(listed.total, 2);

        // A deleted project takes its videos and their clips along.
        let mut tx = store.begin().await.unwrap();
        assert!(projects::delete(&mut tx, ws, project.id).await.unwrap());
        tx.commit().await.unwrap();
        assert!(projects::get(store, ws, project.id)
            .await
            .unwrap()
            .is_none());
        assert!(videos::get(store, ws, in_project).await.unwrap().is_none());
        assert!(clips::get(store, ws, in_project_clip)
            .await
            .unwrap()
            .is_none());

        // A deleted video takes its clips and transcript.
        let mut tx = store.begin().await.unwrap();
        assert!(videos::delete(&mut tx, ws, loose).await.unwrap());
        tx.commit().await.unwrap();
        assert!(videos::get(store, ws, loose).await.unwrap().is_none());
        assert!(transcripts::get_for_video(store, ws, loose)
            .await
            .unwrap()
            .is_none());
        assert_eq!(all_clips().await.unwrap().total, 0);
        let videos_left = videos::list(
            store,
            ws,
            &VideoFilter::default(),
            VideoSortField::CreatedAt,
            SortOrder::Desc,
            Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(videos_left.total, 0);
        assert!(matches!(
            clip_on_deleted(store, ws, loose).await,
            Err(StoreError::NotFound { .. })
        ));

        // Templates: a deleted one is gone from lists; built-ins cannot be deleted.
        let builtin =
            templates::sync_builtin(store, "bold", "Bold", None, &json!({"font": "Montserrat"}))
                .await
                .unwrap();
        let own = templates::create(
            store,
            ws,
            NewTemplate {
                name: "Mine",
                description: None,
                style: &json!({}),
                created_by: None,
            },
        )
        .await
        .unwrap();
        assert!(!templates::delete(store, ws, builtin.id).await.unwrap());
        assert!(templates::delete(store, ws, own.id).await.unwrap());
        let names: Vec<_> = templates::list(store, ws)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.name)
            .collect();
        assert_eq!(names, vec!["Bold"]);
    }
}

async fn clip_on_deleted(
    store: &Store,
    ws: WorkspaceId,
    video: VideoId,
) -> Result<clips::Clip, StoreError> {
    clips::create(
        store,
        ws,
        NewClip {
            video_id: video,
            created_by: None,
            title: "late",
            hook: None,
            start_seconds: 0.0,
            end_seconds: 1.0,
            score: None,
            breakdown: None,
            reason: None,
            highlights: &[],
            is_ai_suggested: false,
        },
    )
    .await
}

#[tokio::test]
async fn video_pages_count_filter_and_never_repeat() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "hank").await;
        let ws = t.ws();
        let mut ids = Vec::new();
        for i in 0..45 {
            let title = if i % 9 == 0 {
                format!("Podcast 100% live #{i}")
            } else {
                format!("Vlog {i}")
            };
            let id = upload(store, ws, &title).await;
            if i % 2 == 0 {
                videos::set_status(store, ws, id, VideoStatus::Ready, None)
                    .await
                    .unwrap();
            }
            ids.push(id);
        }
        let list = |filter: VideoFilter<'static>, order, page| {
            let filter = filter.clone();
            async move {
                videos::list(store, ws, &filter, VideoSortField::CreatedAt, order, page)
                    .await
                    .unwrap()
            }
        };

        let first = list(VideoFilter::default(), SortOrder::Desc, Page::new(1, 20)).await;
        assert_eq!(
            (first.items.len(), first.total, first.total_pages()),
            (20, 45, 3),
            "{}",
            db.name
        );
        assert!(first.has_next() && !first.has_prev());
        assert_eq!(first.items[0].id, ids[44], "newest first");
        let last = list(VideoFilter::default(), SortOrder::Desc, Page::new(3, 20)).await;
        assert_eq!(last.items.len(), 5);
        assert!(!last.has_next() && last.has_prev());
        let past = list(VideoFilter::default(), SortOrder::Desc, Page::new(4, 20)).await;
        assert!(past.items.is_empty());
        assert_eq!(past.total, 45);

        let mut seen = Vec::new();
        for page in 1..=5 {
            seen.extend(
                list(VideoFilter::default(), SortOrder::Asc, Page::new(page, 10))
                    .await
                    .items
                    .into_iter()
                    .map(|v| v.id),
            );
        }
        assert_eq!(
            seen, ids,
            "ascending pages in creation order, none repeated or skipped"
        );

        let capped = list(VideoFilter::default(), SortOrder::Desc, Page::new(1, 1000)).await;
        assert_eq!((capped.per_page, capped.items.len()), (100, 45));

        let ready = list(
            VideoFilter {
                status: Some(VideoStatus::Ready),
                ..Default::default()
            },
            SortOrder::Desc,
            Page::new(1, 100),
        )
        .await;
        assert_eq!(ready.total, 23);
        assert!(ready.items.iter().all(|v| v.status == VideoStatus::Ready));

        // `%` is taken literally and case is ignored; file names match too.
        let search = list(
            VideoFilter {
                search: Some("PODCAST 100%"),
                ..Default::default()
            },
            SortOrder::Asc,
            Page::new(1, 100),
        )
        .await;
        assert_eq!(search.total, 5);
        assert!(search.items.iter().all(|v| v.title.starts_with("Podcast")));
        let no_wildcard = list(
            VideoFilter {
                search: Some("v_og"),
                ..Default::default()
            },
            SortOrder::Asc,
            Page::new(1, 100),
        )
        .await;
        assert_eq!(no_wildcard.total, 0);
        let by_file = list(
            VideoFilter {
                search: Some("vlog 3.mp4"),
                ..Default::default()
            },
            SortOrder::Asc,
            Page::new(1, 100),
        )
        .await;
        assert_eq!(by_file.total, 1);

        let project = projects::create(
            store,
            ws,
            NewProject {
                name: "P",
                description: None,
                settings: &json!({}),
                created_by: None,
            },
        )
        .await
        .unwrap();
        let moved = videos::update(
            store,
            ws,
            ids[3],
            VideoUpdate {
                project_id: Some(Some(project.id)),
                title: Some("Moved"),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(
            (moved.project_id, moved.title.as_str()),
            (Some(project.id), "Moved")
        );
        let in_project = list(
            VideoFilter {
                project_id: Some(project.id),
                ..Default::default()
            },
            SortOrder::Desc,
            Page::default(),
        )
        .await;
        assert_eq!(
            in_project.items.iter().map(|v| v.id).collect::<Vec<_>>(),
            vec![ids[3]]
        );
    }
}

#[tokio::test]
async fn clips_rank_by_virality_with_unscored_last() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "iris").await;
        let ws = t.ws();
        let video = upload(store, ws, "talk").await;
        let other_video = upload(store, ws, "other").await;
        let c55 = clip(store, ws, video, 0.0, Some(55.0)).await;
        let c90 = clip(store, ws, video, 40.0, Some(90.5)).await;
        let manual = clip(store, ws, video, 80.0, None).await;
        let c72 = clip(store, ws, video, 120.0, Some(72.0)).await;
        clip(store, ws, other_video, 0.0, Some(99.0)).await;

        let ranked = |order, min_score| async move {
            let filter = ClipFilter {
                video_id: Some(video),
                min_score,
                ..Default::default()
            };
            clips::list(
                store,
                ws,
                &filter,
                ClipSortField::ViralityScore,
                order,
                Page::default(),
            )
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
        };
        assert_eq!(
            ranked(SortOrder::Desc, None).await,
            vec![c90, c72, c55, manual],
            "{}",
            db.name
        );
        assert_eq!(
            ranked(SortOrder::Asc, None).await,
            vec![c55, c72, c90, manual],
            "{}",
            db.name
        );
        assert_eq!(ranked(SortOrder::Desc, Some(60.0)).await, vec![c90, c72]);

        let best = clips::get(store, ws, c90).await.unwrap().unwrap();
        assert_eq!(best.score, Some(90.5));
        assert_eq!(best.breakdown.unwrap().hook, 0.8);
        assert_eq!(best.highlights, vec!["Opens with a question"]);
        assert!((best.duration_seconds() - 30.0).abs() < 1e-9);
        assert!(best.is_ai_suggested);

        let suggested = ClipFilter {
            video_id: Some(video),
            is_ai_suggested: Some(false),
            ..Default::default()
        };
        let hand_made = clips::list(
            store,
            ws,
            &suggested,
            ClipSortField::StartTime,
            SortOrder::Asc,
            Page::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            hand_made.items.iter().map(|c| c.id).collect::<Vec<_>>(),
            vec![manual]
        );

        // A range edit that would end before it starts is refused and changes nothing.
        let bad = clips::update(
            store,
            ws,
            c55,
            ClipUpdate {
                end_seconds: Some(0.0),
                ..Default::default()
            },
        )
        .await;
        assert!(
            matches!(bad, Err(StoreError::Invalid(_))),
            "{}: {bad:?}",
            db.name
        );
        let bad = clips::update(
            store,
            ws,
            c55,
            ClipUpdate {
                start_seconds: Some(31.0),
                ..Default::default()
            },
        )
        .await;
        assert!(
            matches!(bad, Err(StoreError::Invalid(_))),
            "{}: {bad:?}",
            db.name
        );
        let still = clips::get(store, ws, c55).await.unwrap().unwrap();
        assert_eq!((still.start_seconds, still.end_seconds), (0.0, 30.0));

        // Starred suggestions survive a re-run of the clip finder.
        clips::update(
            store,
            ws,
            c72,
            ClipUpdate {
                favourite: Some(true),
                hook: Some(None),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            clips::delete_unused_suggestions(store, ws, video)
                .await
                .unwrap(),
            2
        );
        assert_eq!(ranked(SortOrder::Desc, None).await, vec![c72, manual]);
        let starred = clips::get(store, ws, c72).await.unwrap().unwrap();
        assert!(starred.favourite && starred.hook.is_none());
    }
}

#[tokio::test]
async fn a_duplicated_clip_keeps_its_moment_and_style() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "jack").await;
        let ws = t.ws();
        let video = upload(store, ws, "talk").await;
        let original = clip(store, ws, video, 12.5, Some(81.0)).await;

        let defaults = templates::get_style(store, ws, original)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (defaults.aspect, defaults.reframe_mode, defaults.updated_at),
            (AspectRatio::Vertical, ReframeMode::Auto, None)
        );

        let builtin = templates::sync_builtin(
            store,
            "karaoke",
            "Karaoke",
            Some("word by word"),
            &json!({"animation": "karaoke"}),
        )
        .await
        .unwrap();
        let again = templates::sync_builtin(
            store,
            "karaoke",
            "Karaoke v2",
            None,
            &json!({"animation": "karaoke"}),
        )
        .await
        .unwrap();
        assert_eq!(
            (again.id, again.name.as_str()),
            (builtin.id, "Karaoke v2"),
            "{}",
            db.name
        );
        let overrides = json!({"font": "Montserrat", "size": 0.06});
        let style = StyleInput {
            template_id: Some(builtin.id),
            caption_template: Some("karaoke"),
            caption_overrides: Some(&overrides),
            logo_key: Some("logos/brand.png"),
            logo_position: Some("top-right"),
            music_key: None,
            music_volume: Some(0.25),
            aspect: AspectRatio::Square,
            reframe_mode: ReframeMode::FitBlur,
        };
        let saved = templates::put_style(store, ws, original, &style)
            .await
            .unwrap();
        assert_eq!(
            templates::get_style(store, ws, original)
                .await
                .unwrap()
                .unwrap(),
            saved
        );
        assert_eq!(
            (saved.aspect, saved.reframe_mode),
            (AspectRatio::Square, ReframeMode::FitBlur)
        );
        assert_eq!(saved.caption_overrides, overrides);

        let mut tx = store.begin().await.unwrap();
        let copy = clips::duplicate(&mut tx, ws, original, Some(t.user.id))
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        let source = clips::get(store, ws, original).await.unwrap().unwrap();
        assert_ne!(copy.id, source.id);
        assert_eq!(copy.title, format!("{} (copy)", source.title));
        assert_eq!(
            (copy.start_seconds, copy.end_seconds, copy.score),
            (source.start_seconds, source.end_seconds, source.score)
        );
        assert_eq!(
            (copy.created_by, copy.is_ai_suggested, copy.status),
            (Some(t.user.id), false, clips::ClipStatus::Draft)
        );
        let copied_style = templates::get_style(store, ws, copy.id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (copied_style.template_id, copied_style.logo_key.as_deref()),
            (Some(builtin.id), Some("logos/brand.png"))
        );
        assert_eq!(copied_style.aspect, AspectRatio::Square);

        // Restyling the copy leaves the original alone.
        templates::put_style(
            store,
            ws,
            copy.id,
            &StyleInput {
                aspect: AspectRatio::Landscape,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            templates::get_style(store, ws, original)
                .await
                .unwrap()
                .unwrap()
                .aspect,
            AspectRatio::Square
        );
        assert!(matches!(
            templates::put_style(
                store,
                ws,
                copy.id,
                &StyleInput {
                    template_id: Some(TemplateId::new()),
                    ..Default::default()
                }
            )
            .await,
            Err(StoreError::NotFound { .. })
        ));
    }
}

#[tokio::test]
async fn a_corrected_transcript_segment_stays_corrected() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "kate").await;
        let ws = t.ws();
        let video = upload(store, ws, "talk").await;
        let stored = transcripts::replace(store, ws, video, &sample_transcript())
            .await
            .unwrap();
        assert_eq!(stored.version, 1);
        assert_eq!(stored.transcript(), sample_transcript(), "{}", db.name);

        let edit = SegmentEdit {
            text: "There is a catch.".into(),
            words: vec![
                word("There", 2.0, 2.3),
                word("is", 2.3, 2.5),
                word("a", 2.5, 2.6),
                word("catch.", 2.6, 3.0),
            ],
        };
        let edited = transcripts::edit_segment(store, ws, stored.id, 1, &edit, Some(1))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(edited.version, 2);
        let reread = transcripts::get_for_video(store, ws, video)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(reread.segments[1].text, "There is a catch.");
        assert_eq!(reread.segments[1].words, edit.words);
        assert_eq!(
            reread.segments[0],
            sample_transcript().segments[0],
            "other segments untouched"
        );
        assert!(reread.updated_at >= stored.updated_at);

        // An editor working from version 1 would undo that fix: refused.
        let stale = transcripts::edit_segment(
            store,
            ws,
            stored.id,
            1,
            &SegmentEdit {
                text: "Their".into(),
                words: vec![word("Their", 2.0, 2.3)],
            },
            Some(1),
        )
        .await;
        assert!(
            matches!(stale, Err(StoreError::Conflict { .. })),
            "{}: {stale:?}",
            db.name
        );
        assert!(
            transcripts::edit_segment(store, ws, stored.id, 7, &edit, None)
                .await
                .unwrap()
                .is_none()
        );
        let past_end = SegmentEdit {
            text: "late".into(),
            words: vec![word("late", 9.0, 12.0)],
        };
        let refused = transcripts::edit_segment(store, ws, stored.id, 1, &past_end, None).await;
        assert!(
            matches!(refused, Err(StoreError::Invalid(_))),
            "{}: {refused:?}",
            db.name
        );
        assert_eq!(
            transcripts::get(store, ws, stored.id)
                .await
                .unwrap()
                .unwrap()
                .version,
            2
        );

        // Transcribing again replaces the text in place, keeping the id.
        let redo = transcripts::replace(store, ws, video, &Transcript::empty("de", 10.0))
            .await
            .unwrap();
        assert_eq!(
            (
                redo.id,
                redo.version,
                redo.language.as_str(),
                redo.segments.len()
            ),
            (stored.id, 3, "de", 0)
        );
    }
}

#[tokio::test]
async fn credits_balance_follows_grants_debits_and_refunds() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "liam").await;
        let ws = t.ws();
        assert_eq!(credits::balance(store, ws).await.unwrap(), 0);
        credits::grant(store, ws, 100, "free plan", Some(t.user.id))
            .await
            .unwrap();
        assert!(matches!(
            credits::grant(store, ws, 0, "nothing", None).await,
            Err(StoreError::Invalid(_))
        ));

        let job = uuid::Uuid::now_v7();
        let mut tx = store.begin().await.unwrap();
        let debit = credits::debit(
            &mut tx,
            ws,
            30,
            "transcribe talk.mp4",
            CreditRefs {
                job_id: Some(job),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        assert_eq!((debit.delta, debit.kind), (-30, CreditKind::Debit));
        assert_eq!(
            credits::balance(store, ws).await.unwrap(),
            70,
            "{}",
            db.name
        );

        let mut tx = store.begin().await.unwrap();
        let short = credits::debit(&mut tx, ws, 80, "render", CreditRefs::default()).await;
        assert!(
            matches!(
                short,
                Err(StoreError::InsufficientCredits {
                    balance: 70,
                    needed: 80
                })
            ),
            "{}: {short:?}",
            db.name
        );
        drop(tx);
        assert_eq!(credits::balance(store, ws).await.unwrap(), 70);

        // The job failed: its credits come back once, however often the handler runs.
        let mut tx = store.begin().await.unwrap();
        let refunds = credits::refund_job(&mut tx, ws, job, "transcription failed")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(refunds.len(), 1);
        assert_eq!(
            (refunds[0].delta, refunds[0].refund_of),
            (30, Some(debit.id))
        );
        assert_eq!(credits::balance(store, ws).await.unwrap(), 100);
        let mut tx = store.begin().await.unwrap();
        assert!(credits::refund_job(&mut tx, ws, job, "again")
            .await
            .unwrap()
            .is_empty());
        tx.commit().await.unwrap();
        assert!(credits::refund(store, ws, debit.id, "again")
            .await
            .unwrap()
            .is_none());
        assert_eq!(credits::balance(store, ws).await.unwrap(), 100);

        let ledger = credits::ledger(store, ws, Page::new(1, 2)).await.unwrap();
        assert_eq!(ledger.total, 3);
        assert!(ledger.has_next());
        assert_eq!(
            ledger.items.iter().map(|e| e.kind).collect::<Vec<_>>(),
            vec![CreditKind::Refund, CreditKind::Debit]
        );
    }
}

/// Two requests racing for the last credits: exactly one gets them.
#[tokio::test]
async fn concurrent_debits_never_overspend() {
    for db in common::stores().await {
        let store = db.store.clone();
        let t = tenant(&store, "mia").await;
        let ws = t.ws();
        credits::grant(&store, ws, 100, "plan", None).await.unwrap();
        let spend = |store: Store| async move {
            let mut tx = store.begin().await?;
            let entry = credits::debit(&mut tx, ws, 60, "render", CreditRefs::default()).await?;
            // Hold the transaction a moment so the other request overlaps it.
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            tx.commit().await?;
            Ok::<_, StoreError>(entry)
        };
        let (first, second) = tokio::join!(
            tokio::spawn(spend(store.clone())),
            tokio::spawn(spend(store.clone()))
        );
        let outcomes = [first.unwrap(), second.unwrap()];
        let ok = outcomes.iter().filter(|r| r.is_ok()).count();
        let short = outcomes
            .iter()
            .filter(|r| matches!(r, Err(StoreError::InsufficientCredits { .. })))
            .count();
        assert_eq!((ok, short), (1, 1), "{}: {outcomes:?}", db.name);
        assert_eq!(credits::balance(&store, ws).await.unwrap(), 40);
    }
}

#[tokio::test]
async fn a_cancelled_render_stays_cancelled() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "nora").await;
        let ws = t.ws();
        let video = upload(store, ws, "talk").await;
        let c = clip(store, ws, video, 0.0, Some(70.0)).await;

        let first = renders::create(store, ws, c, Some(t.user.id), &json!({"quality": "high"}))
            .await
            .unwrap();
        assert_eq!((first.status, first.progress), (RenderStatus::Queued, 0));
        assert!(renders::start(store, ws, first.id).await.unwrap());
        assert!(
            renders::set_progress(store, ws, first.id, 45, Some("burning captions"))
                .await
                .unwrap()
        );
        let running = renders::latest_for_clip(store, ws, c)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                running.status,
                running.progress,
                running.current_step.as_deref()
            ),
            (RenderStatus::Rendering, 45, Some("burning captions"))
        );
        assert!(renders::cancel(store, ws, first.id).await.unwrap());
        // The worker's late reports change nothing.
        assert!(!renders::set_progress(store, ws, first.id, 90, None)
            .await
            .unwrap());
        let output = RenderOutput {
            output_key: "renders/x.mp4",
            size_bytes: 15_728_640,
            duration_seconds: 30.0,
        };
        assert!(!renders::complete(store, ws, first.id, &output)
            .await
            .unwrap());
        assert!(!renders::cancel(store, ws, first.id).await.unwrap());
        let cancelled = renders::get(store, ws, first.id).await.unwrap().unwrap();
        assert_eq!(
            (cancelled.status, cancelled.output_key),
            (RenderStatus::Canceled, None),
            "{}",
            db.name
        );

        let second = renders::create(
            store,
            ws,
            c,
            Some(t.user.id),
            &json!({"quality": "standard"}),
        )
        .await
        .unwrap();
        assert!(renders::start(store, ws, second.id).await.unwrap());
        assert!(renders::complete(store, ws, second.id, &output)
            .await
            .unwrap());
        let done = renders::latest_for_clip(store, ws, c)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(done.id, second.id);
        assert_eq!(
            (
                done.status,
                done.progress,
                done.size_bytes,
                done.duration_seconds
            ),
            (RenderStatus::Completed, 100, Some(15_728_640), Some(30.0))
        );
        assert!(done.finished_at.is_some() && done.started_at.is_some());
        assert!(!renders::fail(store, ws, second.id, "late").await.unwrap());
        assert_eq!(renders::list_for_clip(store, ws, c).await.unwrap().len(), 2);

        // A deleted clip's renders go with it.
        clips::delete(store, ws, c).await.unwrap();
        assert!(renders::get(store, ws, second.id).await.unwrap().is_none());
    }
}

/// A video written in a transaction that is dropped (its job could not be enqueued) never
/// appears; committed, it does, with what ingest recorded.
#[tokio::test]
async fn a_video_exists_only_with_its_transaction() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "olga").await;
        let ws = t.ws();
        let new = || NewVideo {
            project_id: None,
            created_by: Some(t.user.id),
            title: "From a link",
            source: VideoSource::Url,
            source_url: Some("https://example.com/watch?v=1"),
            original_filename: None,
            storage_key: None,
            status: VideoStatus::Queued,
            config: &serde_json::Value::Null,
        };
        let mut tx = store.begin().await.unwrap();
        let lost = videos::create(&mut tx, ws, new()).await.unwrap();
        drop(tx);
        assert!(
            videos::get(store, ws, lost.id).await.unwrap().is_none(),
            "{}",
            db.name
        );

        let mut tx = store.begin().await.unwrap();
        let kept = videos::create(&mut tx, ws, new()).await.unwrap();
        audit::record(
            &mut tx,
            NewAuditEntry {
                workspace_id: Some(ws),
                actor_user_id: Some(t.user.id),
                action: "video.create",
                target_type: Some("video"),
                target_id: Some(kept.id.to_string()),
                ip: Some("198.51.100.4"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();

        let media = MediaInfo {
            duration_seconds: 3600.5,
            width: 1920,
            height: 1080,
            fps: 29.97,
            video_codec: Some("h264".into()),
            audio_codec: Some("aac".into()),
            size_bytes: 524_288_000,
        };
        assert!(videos::set_stored_file(
            store,
            ws,
            kept.id,
            "videos/1/source.mp4",
            Some("talk.mp4")
        )
        .await
        .unwrap());
        assert!(
            videos::set_media(store, ws, kept.id, &media, Some("videos/1/thumb.jpg"))
                .await
                .unwrap()
        );
        assert!(videos::set_status(
            store,
            ws,
            kept.id,
            VideoStatus::Failed,
            Some("no audio stream")
        )
        .await
        .unwrap());
        let video = videos::get(store, ws, kept.id).await.unwrap().unwrap();
        assert_eq!(video.media, Some(media));
        assert_eq!(
            (video.status, video.error.as_deref()),
            (VideoStatus::Failed, Some("no audio stream"))
        );
        assert_eq!(
            (
                video.storage_key.as_deref(),
                video.original_filename.as_deref()
            ),
            (Some("videos/1/source.mp4"), Some("talk.mp4"))
        );
        assert_eq!(
            video.created_at, kept.created_at,
            "timestamps survive the round trip exactly"
        );
        assert!(
            videos::set_status(store, ws, kept.id, VideoStatus::Ready, None)
                .await
                .unwrap()
        );
        assert!(videos::get(store, ws, kept.id)
            .await
            .unwrap()
            .unwrap()
            .error
            .is_none());

        let log = audit::list(store, ws, Some("video.create"), Page::default())
            .await
            .unwrap();
        assert_eq!(log.total, 1);
        assert_eq!(log.items[0].target_id, Some(kept.id.to_string()));
        assert_eq!(
            audit::list(store, ws, Some("video.delete"), Page::default())
                .await
                .unwrap()
                .total,
            0
        );
        assert_eq!(
            audit::list_for_user(store, t.user.id, Page::default())
                .await
                .unwrap()
                .total,
            1
        );
    }
}

/// A render's debit is found by the render (to cancel its job and refund it), and only in
/// the render's own workspace.
#[tokio::test]
async fn a_render_debit_is_found_by_its_render() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "pia").await;
        let other = tenant(store, "quinn").await;
        let ws = t.ws();
        credits::grant(store, ws, 5, "plan", None).await.unwrap();
        let video = upload(store, ws, "talk").await;
        let c = clip(store, ws, video, 0.0, Some(60.0)).await;
        let render = renders::create(store, ws, c, Some(t.user.id), &json!({}))
            .await
            .unwrap();
        let job = uuid::Uuid::now_v7();
        let mut tx = store.begin().await.unwrap();
        let refs = CreditRefs {
            job_id: Some(job),
            render_id: Some(render.id),
            video_id: None,
        };
        credits::debit(&mut tx, ws, 1, "render", refs)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        let found = credits::debits_for_render(store, ws, render.id)
            .await
            .unwrap();
        assert_eq!(found.len(), 1, "{}", db.name);
        assert_eq!((found[0].delta, found[0].job_id), (-1, Some(job)));
        assert!(credits::debits_for_render(store, other.ws(), render.id)
            .await
            .unwrap()
            .is_empty());
        // The refund is not a debit: a second look finds the same one entry.
        let mut tx = store.begin().await.unwrap();
        credits::refund_job(&mut tx, ws, job, "cancelled")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(
            credits::debits_for_render(store, ws, render.id)
                .await
                .unwrap()
                .len(),
            1
        );
        assert_eq!(credits::balance(store, ws).await.unwrap(), 5);
    }
}

/// An upload names its video's id before the row exists (the file is stored under it
/// first); the row takes that id, a second row cannot, and another workspace cannot see it.
#[tokio::test]
async fn a_video_takes_the_id_its_upload_was_stored_under() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "rosa").await;
        let other = tenant(store, "sven").await;
        let id = VideoId::new();
        let key = format!("ws/{}/videos/{id}/source.mp4", t.ws());
        let new = || NewVideo {
            project_id: None,
            created_by: Some(t.user.id),
            title: "talk",
            source: VideoSource::Upload,
            source_url: None,
            original_filename: Some("talk.mp4"),
            storage_key: Some(&key),
            status: VideoStatus::Queued,
            config: &serde_json::Value::Null,
        };
        let mut tx = store.begin().await.unwrap();
        let video = videos::create_with_id(&mut tx, t.ws(), id, new())
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(video.id, id, "{}", db.name);
        assert_eq!(video.storage_key.as_deref(), Some(key.as_str()));
        assert!(videos::create_with_id(store, t.ws(), id, new())
            .await
            .is_err());
        assert!(videos::get(store, other.ws(), id).await.unwrap().is_none());
        assert_eq!(
            videos::get(store, t.ws(), id).await.unwrap().unwrap().title,
            "talk"
        );
    }
}

/// A video's processing debits, whichever job took them, are counted and refunded together;
/// its render debits and other videos' debits are left alone.
#[tokio::test]
async fn a_failed_video_gets_its_processing_credits_back() {
    for db in common::stores().await {
        let store = &db.store;
        let t = tenant(store, "tara").await;
        let other = tenant(store, "uli").await;
        let ws = t.ws();
        credits::grant(store, ws, 10, "plan", None).await.unwrap();
        let video = upload(store, ws, "talk").await;
        let second = upload(store, ws, "other").await;
        let c = clip(store, ws, video, 0.0, Some(30.0)).await;
        let render = renders::create(store, ws, c, None, &json!({}))
            .await
            .unwrap();
        let mut tx = store.begin().await.unwrap();
        for (amount, video_id, render_id) in [
            (2, Some(video), None),
            (1, Some(video), None),
            (1, Some(video), Some(render.id)),
            (3, Some(second), None),
        ] {
            let refs = CreditRefs {
                job_id: Some(uuid::Uuid::now_v7()),
                render_id,
                video_id,
            };
            credits::debit(&mut tx, ws, amount, "work", refs)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        assert_eq!(
            credits::spent_on_video(store, ws, video).await.unwrap(),
            3,
            "{}",
            db.name
        );
        assert_eq!(
            credits::spent_on_video(store, other.ws(), video)
                .await
                .unwrap(),
            0
        );

        let mut tx = store.begin().await.unwrap();
        assert!(credits::refund_video(&mut tx, other.ws(), video, "failed")
            .await
            .unwrap()
            .is_empty());
        let refunds = credits::refund_video(&mut tx, ws, video, "failed")
            .await
            .unwrap();
        tx.commit().await.unwrap();
        assert_eq!(refunds.iter().map(|r| r.delta).sum::<i64>(), 3);
        assert_eq!(credits::spent_on_video(store, ws, video).await.unwrap(), 0);
        // Refunding again gives nothing more.
        let mut tx = store.begin().await.unwrap();
        assert!(credits::refund_video(&mut tx, ws, video, "failed")
            .await
            .unwrap()
            .is_empty());
        tx.commit().await.unwrap();
        assert_eq!(credits::balance(store, ws).await.unwrap(), 10 - 1 - 3);
    }
}
