//! Clips, styles, templates, renders, credits, jobs and live events over the real router
//! on a real port, a temp SQLite file and local storage. No worker runs here: what a
//! worker would write (videos, transcripts, suggested clips, finished renders) is written
//! through the store, as the worker writes it.

use std::time::Duration;

use clipforge_core::{Segment, Transcript, Word};
use clipforge_server::{router, serve, AppState, ServiceConfig};
use clipforge_storage::{Storage, StorageConfig};
use clipforge_store::clips::{self, NewClip};
use clipforge_store::credits::{self, CreditRefs};
use clipforge_store::renders::{self, RenderOutput};
use clipforge_store::videos::{self, MediaInfo, NewVideo, VideoSource, VideoStatus};
use clipforge_store::{templates, transcripts, ClipId, NewJob, RenderId, Store, VideoId};
use clipforge_store::{JobStatus, WorkspaceId};
use reqwest::{redirect, Client, Response, StatusCode};
use serde_json::{json, Value};

struct Server {
    api: String,
    state: AppState,
    _dir: tempfile::TempDir,
}

impl Server {
    fn store(&self) -> &Store {
        self.state.store()
    }
}

async fn start() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("clipforge.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let storage_config = StorageConfig {
        public_base_url: base.clone(),
        ..StorageConfig::default()
    };
    let storage = Storage::new(&storage_config, dir.path()).unwrap();
    let state = AppState::new(store, storage, ServiceConfig::default());
    tokio::spawn(serve(
        listener,
        router(state.clone()),
        std::future::pending(),
    ));
    Server {
        api: format!("{base}/api/v1"),
        state,
        _dir: dir,
    }
}

/// A registered user, acting in their own new workspace.
struct User {
    token: String,
    ws: WorkspaceId,
}

async fn register(server: &Server, client: &Client, name: &str) -> User {
    let r = client
        .post(format!("{}/auth/register", server.api))
        .json(&json!({"email": format!("{name}@example.com"), "password": "long enough pw", "full_name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let body: Value = r.json().await.unwrap();
    let token = body["token"]["access_token"].as_str().unwrap().to_string();
    let me: Value = client
        .get(format!("{}/users/me", server.api))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ws = me["workspace"]["id"].as_str().unwrap().parse().unwrap();
    User { token, ws }
}

/// A ready 10-minute video, as ingest leaves it.
async fn video(store: &Store, ws: WorkspaceId, title: &str) -> VideoId {
    let v = videos::create(
        store,
        ws,
        NewVideo {
            project_id: None,
            created_by: None,
            title,
            source: VideoSource::Upload,
            source_url: None,
            original_filename: Some("talk.mp4"),
            storage_key: Some(&format!("ws/{ws}/videos/x/source.mp4")),
            status: VideoStatus::Ready,
            config: &json!({}),
        },
    )
    .await
    .unwrap();
    let media = MediaInfo {
        duration_seconds: 600.0,
        width: 1920,
        height: 1080,
        fps: 30.0,
        video_codec: Some("h264".into()),
        audio_codec: Some("aac".into()),
        size_bytes: 1_000_000,
    };
    videos::set_media(store, ws, v.id, &media, None)
        .await
        .unwrap();
    v.id
}

/// A suggestion, as the clip finder writes it.
async fn suggestion(store: &Store, ws: WorkspaceId, v: VideoId, start: f64, score: f64) -> ClipId {
    clips::create(
        store,
        ws,
        NewClip {
            video_id: v,
            created_by: None,
            title: &format!("Moment at {start}"),
            hook: None,
            start_seconds: start,
            end_seconds: start + 30.0,
            score: Some(score),
            breakdown: None,
            reason: Some("strong hook"),
            highlights: &[],
            is_ai_suggested: true,
        },
    )
    .await
    .unwrap()
    .id
}

async fn call(
    client: &Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = client.request(method, url).bearer_auth(token);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let r = request.send().await.unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn fields(body: &Value) -> Vec<String> {
    body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap().to_string())
        .collect()
}

async fn balance(server: &Server, ws: WorkspaceId) -> i64 {
    credits::balance(server.store(), ws).await.unwrap()
}

#[tokio::test]
async fn clips_list_sorted_filtered_edited_duplicated_and_deleted() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let api = &server.api;
    let v = video(server.store(), ann.ws, "Talk").await;
    let low = suggestion(server.store(), ann.ws, v, 10.0, 40.0).await;
    let high = suggestion(server.store(), ann.ws, v, 100.0, 90.0).await;
    let mid = suggestion(server.store(), ann.ws, v, 200.0, 65.0).await;

    let (status, made) = call(
        &client,
        M::POST,
        format!("{api}/clips"),
        &ann.token,
        Some(json!({"video_id": v.to_string(), "start": 300.0, "end": 345.5, "title": "My cut"})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["clip"]["duration_seconds"], 45.5);
    assert_eq!(made["clip"]["is_ai_suggested"], false);
    let manual = made["clip"]["id"].as_str().unwrap().to_string();

    // Past the video's end, too short, and a bad title: each named.
    let (status, bad) = call(
        &client,
        M::POST,
        format!("{api}/clips"),
        &ann.token,
        Some(json!({"video_id": v.to_string(), "start": 590.0, "end": 620.0, "title": "x"})),
    )
    .await;
    assert_eq!(
        (status, fields(&bad)),
        (StatusCode::BAD_REQUEST, vec!["end".to_string()])
    );
    let (status, bad) = call(
        &client,
        M::POST,
        format!("{api}/clips"),
        &ann.token,
        Some(json!({"video_id": v.to_string(), "start": 10.0, "end": 12.0, "title": " "})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(fields(&bad), ["title", "end"]);

    let (status, listed) = call(
        &client,
        M::GET,
        format!("{api}/clips?video_id={v}&sort_by=virality_score&sort_order=desc&per_page=2"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = listed["clips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [high.to_string(), mid.to_string()]);
    assert_eq!(listed["clips"][0]["virality_score"], 90.0);
    assert_eq!(
        listed["pagination"],
        json!({"page": 1, "per_page": 2, "total_pages": 2, "total_count": 4, "has_next": true, "has_prev": false})
    );
    let (_, page2) = call(
        &client,
        M::GET,
        format!("{api}/clips?sort_by=virality_score&page=2&per_page=2"),
        &ann.token,
        None,
    )
    .await;
    // Unscored (hand-cut) clips come last.
    assert_eq!(page2["clips"][0]["id"], low.to_string());
    assert_eq!(page2["clips"][1]["id"], manual);
    let (_, scored) = call(
        &client,
        M::GET,
        format!("{api}/clips?min_score=60&is_ai_suggested=true&sort_by=start&sort_order=asc"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(scored["pagination"]["total_count"], 2);
    assert_eq!(scored["clips"][0]["id"], high.to_string());
    let (status, bad) = call(
        &client,
        M::GET,
        format!("{api}/clips?sort_by=length&min_score=200&favourite=maybe"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(fields(&bad), ["favourite", "min_score", "sort_by"]);

    let (status, edited) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{high}"),
        &ann.token,
        Some(json!({"title": "The best bit", "favourite": true, "end": 140.0, "hook": "Wait for it"})),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(
        (
            &edited["clip"]["title"],
            &edited["clip"]["favourite"],
            &edited["clip"]["duration_seconds"]
        ),
        (&json!("The best bit"), &json!(true), &json!(40.0))
    );
    let (status, _) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{high}"),
        &ann.token,
        Some(json!({"end": 90.0})),
    )
    .await;
    assert_eq!(status, 400, "an end before the start is refused");
    let (_, faves) = call(
        &client,
        M::GET,
        format!("{api}/clips?favourite=true"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(faves["pagination"]["total_count"], 1);

    let (status, copy) = call(
        &client,
        M::POST,
        format!("{api}/clips/{high}/duplicate"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(copy["clip"]["title"], "The best bit (copy)");
    assert_eq!(copy["clip"]["start_seconds"], 100.0);

    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/clips/{low}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, gone) = call(
        &client,
        M::GET,
        format!("{api}/clips/{low}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        (status, &gone["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("NOT_FOUND"))
    );
    let (_, all) = call(&client, M::GET, format!("{api}/clips"), &ann.token, None).await;
    assert_eq!(all["pagination"]["total_count"], 4);
}

#[tokio::test]
async fn styles_and_templates_are_checked_against_the_caption_types() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let api = &server.api;
    let v = video(server.store(), ann.ws, "Talk").await;
    let c = suggestion(server.store(), ann.ws, v, 0.0, 50.0).await;

    let (status, style) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&style["style"]["aspect"], &style["style"]["reframe_mode"]),
        (&json!("9:16"), &json!("auto"))
    );

    let logo = format!("ws/{}/logos/brand.png", ann.ws);
    let (status, saved) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        Some(json!({
            "caption_template": "karaoke",
            "caption_overrides": {"font": "Inter", "size": 0.06, "position": "top"},
            "logo_key": logo, "logo_position": "top-right", "music_volume": 0.3,
            "aspect": "1:1", "reframe_mode": "fit-blur"
        })),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    let (_, style) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(style["style"]["aspect"], "1:1");
    assert_eq!(style["style"]["caption_overrides"]["position"], "top");
    assert_eq!(style["style"]["logo_key"], logo.as_str());

    let (status, bad) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        Some(json!({
            "caption_template": "comic-sans",
            "caption_overrides": {"size": "big", "wobble": true},
            "logo_key": "ws/00000000-0000-0000-0000-000000000000/logo.png",
            "logo_position": "middle", "music_volume": 2.0
        })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        fields(&bad),
        [
            "caption_template",
            "caption_overrides.size",
            "caption_overrides.wobble",
            "logo_key",
            "logo_position",
            "music_volume"
        ]
    );
    let (status, bad) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        Some(json!({"aspect": "7:3"})),
    )
    .await;
    assert_eq!(
        (status, fields(&bad)),
        (StatusCode::BAD_REQUEST, vec!["aspect".to_string()])
    );

    // Templates: built-in ones are listed and read-only.
    let builtin = templates::sync_builtin(
        server.store(),
        "bold",
        "Bold",
        None,
        &json!({"caption_template": "bold-pop"}),
    )
    .await
    .unwrap();
    let (status, made) = call(
        &client,
        M::POST,
        format!("{api}/templates"),
        &ann.token,
        Some(json!({"name": "Brand", "style": {"caption_template": "neon", "aspect": "4:5", "caption_overrides": {"uppercase": true}}})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let own = made["template"]["id"].as_str().unwrap().to_string();
    let (_, listed) = call(
        &client,
        M::GET,
        format!("{api}/templates"),
        &ann.token,
        None,
    )
    .await;
    let names: Vec<(&str, bool)> = listed["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap(),
                t["is_builtin"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("Bold", true), ("Brand", false)]);
    let (status, bad) = call(
        &client,
        M::POST,
        format!("{api}/templates"),
        &ann.token,
        Some(json!({"name": "", "style": {"aspect": "2:1"}})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(fields(&bad), ["name", "style"]);
    let (status, renamed) = call(
        &client,
        M::PUT,
        format!("{api}/templates/{own}"),
        &ann.token,
        Some(json!({"name": "Brand 2", "description": "for shorts"})),
    )
    .await;
    assert_eq!(
        (status, &renamed["template"]["name"]),
        (StatusCode::OK, &json!("Brand 2"))
    );
    let (status, refused) = call(
        &client,
        M::PUT,
        format!("{api}/templates/{}", builtin.id),
        &ann.token,
        Some(json!({"name": "Mine now"})),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (StatusCode::FORBIDDEN, &json!("AUTHORIZATION_ERROR"))
    );
    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/templates/{}", builtin.id),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/templates/{own}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, listed) = call(
        &client,
        M::GET,
        format!("{api}/templates"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(listed["templates"].as_array().unwrap().len(), 1);
}

/// A logo and a music track are uploaded as assets and named in a clip's style; what is
/// not an image or a sound is refused, and another workspace cannot use the keys.
#[tokio::test]
async fn brand_assets_are_uploaded_checked_and_used_in_styles() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let bob = register(&server, &client, "bob").await;
    let api = &server.api;
    let upload = |token: String, name: &'static str, bytes: Vec<u8>| {
        let client = client.clone();
        let url = format!("{api}/assets");
        async move {
            let form = reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
            let r = client
                .post(url)
                .bearer_auth(token)
                .multipart(form)
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR rest of a logo".to_vec();
    let (status, logo) = upload(ann.token.clone(), "logo.png", png.clone()).await;
    assert_eq!(status, 201, "{logo}");
    let key = logo["asset"]["key"].as_str().unwrap().to_string();
    assert!(key.starts_with(&format!("ws/{}/assets/", ann.ws)) && key.ends_with(".png"));
    assert_eq!(logo["asset"]["kind"], "image");
    assert_eq!(logo["asset"]["size_bytes"], png.len());
    let stored = server
        .state
        .storage()
        .get_range(&key, 0..png.len() as u64)
        .await
        .unwrap();
    assert_eq!(stored.as_ref(), png.as_slice());

    let mut wav = b"RIFF\0\0\0\0WAVEfmt ".to_vec();
    wav.extend([0u8; 64]);
    let (status, music) = upload(ann.token.clone(), "bed.wav", wav).await;
    assert_eq!(
        (status.as_u16(), &music["asset"]["kind"]),
        (201, &json!("audio"))
    );

    let (status, refused) = upload(ann.token.clone(), "notes.pdf", b"%PDF-1.7 ...".to_vec()).await;
    assert_eq!(status, 400);
    assert_eq!(fields(&refused), ["file"]);

    let v = video(server.store(), ann.ws, "Talk").await;
    let c = suggestion(server.store(), ann.ws, v, 0.0, 50.0).await;
    let (status, saved) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{c}/style"),
        &ann.token,
        Some(json!({"logo_key": key, "music_key": music["asset"]["key"], "music_volume": 0.3})),
    )
    .await;
    assert_eq!(status, 200, "{saved}");
    assert_eq!(saved["style"]["logo_key"], json!(key));

    // Bob's clip cannot point at Ann's logo.
    let bv = video(server.store(), bob.ws, "Other").await;
    let bc = suggestion(server.store(), bob.ws, bv, 0.0, 50.0).await;
    let (status, body) = call(
        &client,
        M::PUT,
        format!("{api}/clips/{bc}/style"),
        &bob.token,
        Some(json!({"logo_key": key})),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(fields(&body), ["logo_key"]);
}

fn no_redirects() -> Client {
    Client::builder()
        .redirect(redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn a_render_costs_a_credit_is_refunded_when_cancelled_and_downloads_when_done() {
    use reqwest::Method as M;
    let server = start().await;
    let client = no_redirects();
    let ann = register(&server, &client, "ann").await;
    let api = &server.api;
    let v = video(server.store(), ann.ws, "Talk").await;
    let c = suggestion(server.store(), ann.ws, v, 0.0, 50.0).await;
    let start = balance(&server, ann.ws).await;
    assert!(start > 0);

    let (status, none_yet) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/download"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        (status, &none_yet["error"]["code"]),
        (StatusCode::NOT_FOUND, &json!("NOT_FOUND"))
    );
    let (status, _) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/render/status"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, bad) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/render"),
        &ann.token,
        Some(json!({"quality": "ultra"})),
    )
    .await;
    assert_eq!(
        (status, fields(&bad)),
        (StatusCode::BAD_REQUEST, vec!["quality".to_string()])
    );

    let (status, accepted) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/render"),
        &ann.token,
        Some(json!({"quality": "draft", "aspect": "1:1"})),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["render_job"]["status"], "queued");
    let render: RenderId = accepted["render_job"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let job = accepted["render_job"]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(balance(&server, ann.ws).await, start - 1);

    let (status, queued) = call(
        &client,
        M::GET,
        format!("{api}/jobs/{job}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        (&queued["job"]["status"], &queued["job"]["attempts"]),
        (&json!("queued"), &json!(0))
    );
    let stored = server
        .state
        .queue()
        .get(job.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (stored.kind.as_str(), &stored.payload),
        ("render", &json!({"render_id": render}))
    );
    assert_eq!(stored.unique_key, Some(format!("render:{render}")));
    let (_, following) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/render/status"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(following["render_job"]["status"], "queued");
    assert_eq!(following["render_job"]["progress"], 0);
    assert!(following["render_job"].get("output_url").is_none());
    let (_, clip) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(clip["clip"]["status"], "queued");
    let (status, twice) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/render"),
        &ann.token,
        Some(json!({})),
    )
    .await;
    assert_eq!(status, 409, "{twice}");
    assert_eq!(
        balance(&server, ann.ws).await,
        start - 1,
        "no second charge"
    );

    let (status, cancelled) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/cancel-render"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["credits_refunded"], 1);
    assert_eq!(balance(&server, ann.ws).await, start);
    let (_, job_now) = call(
        &client,
        M::GET,
        format!("{api}/jobs/{job}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(job_now["job"]["status"], "cancelled");
    let (status, _) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/cancel-render"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        status, 409,
        "nothing left to cancel, nothing refunded twice"
    );
    assert_eq!(balance(&server, ann.ws).await, start);
    let (_, clip) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(clip["clip"]["status"], "draft");

    // A second render, finished as the render worker finishes it.
    let (_, accepted) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/render"),
        &ann.token,
        Some(json!({})),
    )
    .await;
    let render: RenderId = accepted["render_job"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, _) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/download"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 404, "queued is not done");
    let key = format!("ws/{}/renders/{render}.mp4", ann.ws);
    let bytes: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    server
        .state
        .storage()
        .put_bytes(&key, bytes.clone().into())
        .await
        .unwrap();
    assert!(renders::start(server.store(), ann.ws, render)
        .await
        .unwrap());
    let output = RenderOutput {
        output_key: &key,
        size_bytes: bytes.len() as u64,
        duration_seconds: 30.0,
    };
    assert!(renders::complete(server.store(), ann.ws, render, &output)
        .await
        .unwrap());

    let (_, done) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/render/status"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(done["render_job"]["status"], "completed");
    assert_eq!(done["render_job"]["progress"], 100);
    assert!(done["render_job"]["output_url"]
        .as_str()
        .unwrap()
        .contains("sig="));
    let redirect = client
        .get(format!("{api}/clips/{c}/download"))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(redirect.status(), 302);
    let location = redirect.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("filename=Moment"), "{location}");
    // The link is the credential: no bearer token.
    let file = Client::new().get(&location).send().await.unwrap();
    assert_eq!(file.status(), 200);
    assert!(file.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("Moment at 0.mp4"));
    assert_eq!(file.bytes().await.unwrap().as_ref(), bytes.as_slice());
}

#[tokio::test]
async fn without_credits_a_render_is_refused_and_nothing_is_written() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let v = video(server.store(), ann.ws, "Talk").await;
    let c = suggestion(server.store(), ann.ws, v, 0.0, 50.0).await;
    // Spend everything.
    let all = balance(&server, ann.ws).await;
    let mut tx = server.store().begin().await.unwrap();
    credits::debit(&mut tx, ann.ws, all, "transcription", CreditRefs::default())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let jobs_before = server
        .state
        .queue()
        .list(ann.ws.0, 100, 0)
        .await
        .unwrap()
        .len();

    let (status, refused) = call(
        &client,
        M::POST,
        format!("{}/clips/{c}/render", server.api),
        &ann.token,
        Some(json!({"quality": "high"})),
    )
    .await;
    assert_eq!(status, 402);
    assert_eq!(refused["error"]["code"], "INSUFFICIENT_CREDITS");
    assert!(renders::list_for_clip(server.store(), ann.ws, c)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        server
            .state
            .queue()
            .list(ann.ws.0, 100, 0)
            .await
            .unwrap()
            .len(),
        jobs_before
    );
    assert_eq!(balance(&server, ann.ws).await, 0);
    let (_, clip) = call(
        &client,
        M::GET,
        format!("{}/clips/{c}", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(clip["clip"]["status"], "draft");
    let (_, credit) = call(
        &client,
        M::GET,
        format!("{}/credits", server.api),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(credit["balance"], 0);
    assert_eq!(credit["ledger"][0]["delta"], -all);
    assert_eq!(credit["ledger"][1]["kind"], "grant");
}

fn transcript() -> Transcript {
    let word = |text: &str, start: f64| Word {
        text: text.into(),
        start,
        end: start + 0.4,
        confidence: 0.9,
    };
    Transcript {
        language: "en".into(),
        duration: 600.0,
        segments: vec![Segment {
            start: 0.0,
            end: 1.0,
            text: "Hello there".into(),
            speaker: None,
            words: vec![word("Hello", 0.0), word("there", 0.5)],
        }],
    }
}

#[tokio::test]
async fn suggest_clips_checks_each_field_and_runs_once_at_a_time() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let v = video(server.store(), ann.ws, "Talk").await;
    let url = format!("{}/analysis/videos/{v}/suggest-clips", server.api);
    let bad = |body: Value| {
        let (client, url, token) = (client.clone(), url.clone(), ann.token.clone());
        async move {
            let (status, e) = call(&client, M::POST, url, &token, Some(body)).await;
            assert_eq!(status, 400, "{e}");
            fields(&e)
        }
    };
    assert_eq!(bad(json!({"min_duration": 4})).await, ["min_duration"]);
    assert_eq!(bad(json!({"max_duration": 181})).await, ["max_duration"]);
    assert_eq!(
        bad(json!({"min_duration": 90, "max_duration": 30})).await,
        ["min_duration"]
    );
    assert_eq!(
        bad(json!({"min_virality_score": -1})).await,
        ["min_virality_score"]
    );
    assert_eq!(
        bad(json!({"max_suggestions": 51})).await,
        ["max_suggestions"]
    );
    assert_eq!(
        bad(json!({"max_suggestions": 0, "min_virality_score": 101})).await,
        ["min_virality_score", "max_suggestions"]
    );
    assert_eq!(bad(json!({"max_suggestion": 5})).await, ["max_suggestion"]);

    let good = json!({"min_duration": 15, "max_duration": 45, "min_virality_score": 60, "max_suggestions": 5,
                      "preferences": {"include_hooks": true, "avoid_long_pauses": false, "prefer_emotional_peaks": true}});
    let (status, e) = call(
        &client,
        M::POST,
        url.clone(),
        &ann.token,
        Some(good.clone()),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("CONFLICT")),
        "no transcript yet"
    );

    let mut tx = server.store().begin().await.unwrap();
    transcripts::replace(&mut tx, ann.ws, v, &transcript())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (status, accepted) = call(
        &client,
        M::POST,
        url.clone(),
        &ann.token,
        Some(good.clone()),
    )
    .await;
    assert_eq!(status, 202, "{accepted}");
    assert_eq!(accepted["job"]["status"], "queued");
    let job = server
        .state
        .queue()
        .get(accepted["job"]["id"].as_str().unwrap().parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(job.kind, "suggest");
    assert_eq!(job.unique_key, Some(format!("video:{v}:suggest")));
    assert_eq!(job.workspace_id, Some(ann.ws.0));
    assert_eq!(job.payload["video_id"], v.to_string());
    assert_eq!(job.payload["settings"]["max_suggestions"], 5);
    assert_eq!(job.payload["settings"]["min_virality_score"], 60.0);
    let (status, _) = call(&client, M::POST, url, &ann.token, Some(good)).await;
    assert_eq!(status, 409, "one suggestion run per video at a time");
}

/// Reads the event stream until an event for `wanted` arrives; the text read so far.
async fn read_until(stream: &mut Response, wanted: &str) -> String {
    let mut seen = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !seen.contains(wanted) {
        let chunk = tokio::time::timeout_at(deadline, stream.chunk())
            .await
            .unwrap_or_else(|_| panic!("no event for {wanted} within 10 s; got {seen}"))
            .unwrap()
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    seen
}

#[tokio::test]
async fn events_stream_only_the_callers_workspace() {
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let bob = register(&server, &client, "bob").await;
    let mut stream = client
        .get(format!("{}/events", server.api))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), 200);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    let queue = server.state.queue();
    let bobs = queue
        .enqueue(NewJob::new("ingest", json!({"video_id": "b"})).workspace(bob.ws.0))
        .await
        .unwrap()
        .id();
    let anns = queue
        .enqueue(NewJob::new("suggest", json!({"video_id": "a"})).workspace(ann.ws.0))
        .await
        .unwrap()
        .id();
    let seen = read_until(&mut stream, &anns.to_string()).await;
    assert!(seen.contains("event: queued"), "{seen}");

    let claimed = queue
        .claim("test-worker", &["suggest"], Duration::from_secs(60))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.id, anns);
    let _ = queue
        .heartbeat(&claimed, Some(40), Some("scoring moments"))
        .await
        .unwrap();
    let seen = seen + &read_until(&mut stream, "scoring moments").await;
    let progress = seen
        .split("\n\n")
        .find(|e| e.contains("scoring moments"))
        .unwrap();
    assert!(progress.contains("event: running"), "{progress}");
    let data: Value =
        serde_json::from_str(progress.split("data: ").nth(1).unwrap().trim()).unwrap();
    assert_eq!(
        (data["progress"].as_i64(), data["status"].as_str()),
        (Some(40), Some("running"))
    );
    assert!(
        !seen.contains(&bobs.to_string()),
        "another workspace's job leaked: {seen}"
    );
    assert_eq!(
        queue.get(bobs).await.unwrap().unwrap().status,
        JobStatus::Queued
    );
}

#[tokio::test]
async fn another_workspace_gets_404_for_every_route() {
    use reqwest::Method as M;
    let server = start().await;
    let client = no_redirects();
    let ann = register(&server, &client, "ann").await;
    let bob = register(&server, &client, "bob").await;
    let api = &server.api;
    let v = video(server.store(), ann.ws, "Talk").await;
    let c = suggestion(server.store(), ann.ws, v, 0.0, 50.0).await;
    let mut tx = server.store().begin().await.unwrap();
    transcripts::replace(&mut tx, ann.ws, v, &transcript())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let (_, accepted) = call(
        &client,
        M::POST,
        format!("{api}/clips/{c}/render"),
        &ann.token,
        Some(json!({})),
    )
    .await;
    let job = accepted["render_job"]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, template) = call(
        &client,
        M::POST,
        format!("{api}/templates"),
        &ann.token,
        Some(json!({"name": "Brand", "style": {}})),
    )
    .await;
    let t = template["template"]["id"].as_str().unwrap().to_string();
    let bob_before = balance(&server, bob.ws).await;

    let clip_body =
        json!({"video_id": v.to_string(), "start": 0.0, "end": 30.0, "title": "stolen"});
    let routes: Vec<(M, String, Option<Value>)> = vec![
        (
            M::POST,
            format!("{api}/analysis/videos/{v}/suggest-clips"),
            Some(json!({})),
        ),
        (M::POST, format!("{api}/clips"), Some(clip_body)),
        (M::GET, format!("{api}/clips/{c}"), None),
        (
            M::PUT,
            format!("{api}/clips/{c}"),
            Some(json!({"title": "mine"})),
        ),
        (M::POST, format!("{api}/clips/{c}/duplicate"), None),
        (M::GET, format!("{api}/clips/{c}/style"), None),
        (
            M::PUT,
            format!("{api}/clips/{c}/style"),
            Some(json!({"aspect": "1:1"})),
        ),
        (M::POST, format!("{api}/clips/{c}/render"), Some(json!({}))),
        (M::GET, format!("{api}/clips/{c}/render/status"), None),
        (M::POST, format!("{api}/clips/{c}/cancel-render"), None),
        (M::GET, format!("{api}/clips/{c}/download"), None),
        (
            M::PUT,
            format!("{api}/templates/{t}"),
            Some(json!({"name": "mine"})),
        ),
        (M::DELETE, format!("{api}/templates/{t}"), None),
        (M::GET, format!("{api}/jobs/{job}"), None),
        (M::DELETE, format!("{api}/clips/{c}"), None),
    ];
    for (method, url, body) in routes {
        let (status, e) = call(&client, method.clone(), url.clone(), &bob.token, body).await;
        assert_eq!(status, 404, "{method} {url}: {e}");
        assert_eq!(e["error"]["code"], "NOT_FOUND");
    }
    // Bob's lists hold none of Ann's records, and nothing of Ann's changed.
    let (_, clips) = call(
        &client,
        M::GET,
        format!("{api}/clips?video_id={v}"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(clips["pagination"]["total_count"], 0);
    let (_, templates) = call(
        &client,
        M::GET,
        format!("{api}/templates"),
        &bob.token,
        None,
    )
    .await;
    assert!(!templates.to_string().contains(&t));
    assert_eq!(balance(&server, bob.ws).await, bob_before);
    let (status, clip) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(
        (status, &clip["clip"]["title"]),
        (StatusCode::OK, &json!("Moment at 0"))
    );
    let (_, render) = call(
        &client,
        M::GET,
        format!("{api}/clips/{c}/render/status"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(render["render_job"]["status"], "queued");
    let (status, _) = call(
        &client,
        M::GET,
        format!("{api}/templates"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn workspaces_members_roles_and_projects() {
    use reqwest::Method as M;
    let server = start().await;
    let client = Client::new();
    let ann = register(&server, &client, "ann").await;
    let bob = register(&server, &client, "bob").await;
    let api = &server.api;
    let ws = ann.ws;

    let (status, made) = call(
        &client,
        M::POST,
        format!("{api}/projects"),
        &ann.token,
        Some(json!({"name": "Podcast", "settings": {"auto_render": 3}})),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let p = made["project"]["id"].as_str().unwrap().to_string();
    let (status, bad) = call(
        &client,
        M::POST,
        format!("{api}/projects"),
        &ann.token,
        Some(json!({"name": "", "settings": 3})),
    )
    .await;
    assert_eq!(
        (status, fields(&bad)),
        (
            StatusCode::BAD_REQUEST,
            vec!["name".to_string(), "settings".to_string()]
        )
    );
    let (status, renamed) = call(
        &client,
        M::PUT,
        format!("{api}/projects/{p}"),
        &ann.token,
        Some(json!({"name": "Show", "description": null})),
    )
    .await;
    assert_eq!(
        (status, &renamed["project"]["name"]),
        (StatusCode::OK, &json!("Show"))
    );
    let (_, listed) = call(&client, M::GET, format!("{api}/projects"), &ann.token, None).await;
    assert_eq!(listed["pagination"]["total_count"], 1);
    for (method, body) in [
        (M::GET, None),
        (M::PUT, Some(json!({"name": "x"}))),
        (M::DELETE, None),
    ] {
        let (status, _) = call(
            &client,
            method.clone(),
            format!("{api}/projects/{p}"),
            &bob.token,
            body,
        )
        .await;
        assert_eq!(status, 404, "{method} another workspace's project");
    }
    let (_, bobs) = call(&client, M::GET, format!("{api}/projects"), &bob.token, None).await;
    assert_eq!(bobs["pagination"]["total_count"], 0);

    // A stranger cannot see the workspace at all.
    let (status, _) = call(
        &client,
        M::GET,
        format!("{api}/workspaces/{ws}/members"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = call(
        &client,
        M::POST,
        format!("{api}/workspaces/{ws}/members"),
        &bob.token,
        Some(json!({"email": "bob@example.com", "role": "owner"})),
    )
    .await;
    assert_eq!(status, 404);

    let (status, added) = call(
        &client,
        M::POST,
        format!("{api}/workspaces/{ws}/members"),
        &ann.token,
        Some(json!({"email": "Bob@example.com", "role": "member"})),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    let bob_id = added["member"]["user_id"].as_str().unwrap().to_string();
    let (_, mine) = call(
        &client,
        M::GET,
        format!("{api}/workspaces"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(mine["workspaces"].as_array().unwrap().len(), 2);
    let (_, members) = call(
        &client,
        M::GET,
        format!("{api}/workspaces/{ws}/members"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(members["members"].as_array().unwrap().len(), 2);
    let (ann_id, ann_role) = (
        members["members"][0]["id"].as_str().unwrap().to_string(),
        &members["members"][0]["role"],
    );
    assert_eq!(ann_role, "owner");

    // A member changes no roles; an admin cannot make owners or touch an owner.
    let (status, _) = call(
        &client,
        M::PUT,
        format!("{api}/workspaces/{ws}/members/{bob_id}"),
        &bob.token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &client,
        M::PUT,
        format!("{api}/workspaces/{ws}/members/{bob_id}"),
        &ann.token,
        Some(json!({"role": "admin"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = call(
        &client,
        M::PUT,
        format!("{api}/workspaces/{ws}/members/{bob_id}"),
        &bob.token,
        Some(json!({"role": "owner"})),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/workspaces/{ws}/members/{ann_id}"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(status, 403);
    // The last owner stays an owner.
    let (status, e) = call(
        &client,
        M::PUT,
        format!("{api}/workspaces/{ws}/members/{ann_id}"),
        &ann.token,
        Some(json!({"role": "member"})),
    )
    .await;
    assert_eq!(
        (status, &e["error"]["code"]),
        (StatusCode::CONFLICT, &json!("CONFLICT"))
    );
    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/workspaces/{ws}/members/{bob_id}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, _) = call(
        &client,
        M::GET,
        format!("{api}/workspaces/{ws}/members"),
        &bob.token,
        None,
    )
    .await;
    assert_eq!(status, 404);

    let (status, team) = call(
        &client,
        M::POST,
        format!("{api}/workspaces"),
        &ann.token,
        Some(json!({"name": "Ann's Second Team!"})),
    )
    .await;
    assert_eq!(status, 201, "{team}");
    assert!(team["workspace"]["slug"]
        .as_str()
        .unwrap()
        .starts_with("ann-s-second-team-"));
    let (status, _) = call(
        &client,
        M::DELETE,
        format!("{api}/projects/{p}"),
        &ann.token,
        None,
    )
    .await;
    assert_eq!(status, 204);
}
