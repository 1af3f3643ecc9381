//! Uploads: stored whole and queued, downloadable through signed links, deleted with their
//! files; bad ones refused with nothing left behind.

use std::time::Duration;

use clipforge_server::ServiceConfig;
use clipforge_store::videos::{self, MediaInfo};
use clipforge_store::{audit, JobStatus, Page, ProjectId, Queue, VideoId};
use reqwest::multipart::{Form, Part};
use reqwest::Client;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn an_uploaded_video_is_stored_whole_queued_for_ingest_and_downloadable() {
    let server = start(ServiceConfig::default()).await;
    let client = Client::new();
    let ann = sign_up(&client, &server, "ann").await;
    let mp4 = std::fs::read(sample_mp4(server.dir.path()).await).unwrap();
    assert!(mp4.len() > ServiceConfig::default().json_body_limit);

    let r = upload(
        &client,
        &server,
        &ann.token,
        mp4.clone(),
        "Episode 1.mp4",
        &[],
    )
    .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    let video = &body["video"];
    assert_eq!(video["status"], "queued");
    assert_eq!(video["source"], "upload");
    assert_eq!(video["title"], "Episode 1");
    assert_eq!(video["original_filename"], "Episode 1.mp4");
    assert!(video.get("storage_key").is_none(), "{video}");
    let id: VideoId = video["id"].as_str().unwrap().parse().unwrap();

    // The ingest job was written with the video.
    let jobs = Queue::new(server.store.clone())
        .list(ann.ws.0, 10, 0)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, "ingest");
    assert_eq!(jobs[0].status, JobStatus::Queued);
    assert_eq!(jobs[0].payload, json!({ "video_id": id }));
    assert_eq!(
        jobs[0].unique_key.as_deref(),
        Some(&*format!("video:{id}:ingest"))
    );
    assert_eq!(body["job"]["id"], jobs[0].id.to_string());

    // The stored object is the file, byte for byte, under the video's key.
    let stored = videos::get(&server.store, ann.ws, id)
        .await
        .unwrap()
        .unwrap();
    let key = stored.storage_key.unwrap();
    assert_eq!(key, format!("ws/{}/videos/{id}/source.mp4", ann.ws));
    assert!(std::fs::read(server.media().join(&key)).unwrap() == mp4);

    let shown: Value = client
        .get(format!("{}/videos/{id}", server.api))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shown["video"]["id"], id.to_string());

    // No thumbnail until ingest makes one; then a redirect to a signed link that serves it.
    let thumb_url = format!("{}/videos/{id}/thumbnail", server.api);
    let no_redirects = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = no_redirects
        .get(&thumb_url)
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let thumb_key = format!("ws/{}/videos/{id}/thumbnail.jpg", ann.ws);
    let jpeg = b"\xff\xd8\xff\xe0 a stand-in thumbnail".to_vec();
    server
        .storage
        .put_bytes(&thumb_key, jpeg.clone().into())
        .await
        .unwrap();
    let media = MediaInfo {
        duration_seconds: 4.0,
        width: 1280,
        height: 720,
        fps: 30.0,
        video_codec: Some("h264".into()),
        audio_codec: Some("aac".into()),
        size_bytes: mp4.len() as u64,
    };
    videos::set_media(&server.store, ann.ws, id, &media, Some(&thumb_key))
        .await
        .unwrap();
    let r = no_redirects
        .get(&thumb_url)
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("/api/v1/files/") && location.contains("sig="));
    // The link itself needs no credentials.
    let r = client.get(&location).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(r.bytes().await.unwrap().to_vec(), jpeg);

    // The source through a signed link with a download name, whole and by range.
    let link = server
        .storage
        .signed_url(&key, Duration::from_secs(60), Some("My talk.mp4"))
        .await
        .unwrap();
    let r = client.get(&link.url).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "video/mp4");
    assert_eq!(
        r.headers()["content-length"],
        mp4.len().to_string().as_str()
    );
    let disposition = r.headers()["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"My talk.mp4\""),
        "{disposition}"
    );
    assert!(r.bytes().await.unwrap().to_vec() == mp4);
    let r = client
        .get(&link.url)
        .header("range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 206);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", mp4.len()).as_str()
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), mp4[100..200].to_vec());

    // Altered links and expired ones are refused.
    let other_key = link.url.replace("source.mp4", "thumbnail.jpg");
    let other_name = link.url.replace("My%20talk", "Other");
    let mut bad_sig = link.url.clone();
    let at = bad_sig.find("sig=").unwrap() + 4;
    let flipped = if &bad_sig[at..at + 1] == "0" {
        "1"
    } else {
        "0"
    };
    bad_sig.replace_range(at..at + 1, flipped);
    let no_sig = link.url.split('?').next().unwrap().to_string();
    let traversal = link.url.replace("source.mp4", "../../../../clipforge.db");
    for tampered in [other_key, other_name, bad_sig, no_sig, traversal] {
        let r = client.get(&tampered).send().await.unwrap();
        assert_eq!(r.status(), 403, "{tampered}");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "AUTHORIZATION_ERROR");
    }
    let short = server
        .storage
        .signed_url(&key, Duration::ZERO, None)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let r = client.get(&short.url).send().await.unwrap();
    assert_eq!(r.status(), 403);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));

    // Deleting removes the video, its files, and leaves an audit entry.
    let r = client
        .delete(format!("{}/videos/{id}", server.api))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = client
        .get(format!("{}/videos/{id}", server.api))
        .bearer_auth(&ann.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(files_under(&server.media()).is_empty());
    let log = audit::list(&server.store, ann.ws, Some("video.delete"), Page::default())
        .await
        .unwrap();
    assert_eq!(log.items[0].target_id, Some(id.to_string()));
    let r = client.get(&link.url).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn bad_uploads_are_refused_and_leave_nothing_behind() {
    let server = start(ServiceConfig {
        upload_limit: 64 * 1024,
        ..ServiceConfig::default()
    })
    .await;
    let client = Client::new();
    let bob = sign_up(&client, &server, "bob").await;
    let mp4 = std::fs::read(sample_mp4(server.dir.path()).await).unwrap();
    std::fs::remove_file(server.dir.path().join("talk.mp4")).unwrap();
    let media = server.media();

    // Not a video.
    let r = upload(
        &client,
        &server,
        &bob.token,
        b"hello, just some notes\n".to_vec(),
        "notes.mp4",
        &[],
    )
    .await;
    let body = assert_field_error(r, "file").await;
    let message = body["error"]["details"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("MP4") && message.contains("WebM"),
        "{message}"
    );

    // Larger than the limit: 413 in the error shape, no row, no object, no staging file.
    assert!(mp4.len() > 64 * 1024 * 4);
    let r = upload(
        &client,
        &server,
        &bob.token,
        mp4[..256 * 1024].to_vec(),
        "big.mp4",
        &[],
    )
    .await;
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert!(body["error"]["message"].as_str().unwrap().contains("64 KB"));

    // Refused after the file was stored (a bad field after it): the file is removed.
    let form = Form::new()
        .part(
            "file",
            Part::bytes(mp4[..32 * 1024].to_vec()).file_name("ok.mp4"),
        )
        .text("project_id", "not-an-id");
    let r = client
        .post(format!("{}/videos/upload", server.api))
        .bearer_auth(&bob.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_field_error(r, "project_id").await;
    let form = Form::new()
        .part(
            "file",
            Part::bytes(mp4[..32 * 1024].to_vec()).file_name("ok.mp4"),
        )
        .text("colour", "blue");
    let r = client
        .post(format!("{}/videos/upload", server.api))
        .bearer_auth(&bob.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_field_error(r, "colour").await;
    // Another workspace's project, or none: as if it did not exist.
    let r = upload(
        &client,
        &server,
        &bob.token,
        mp4[..32 * 1024].to_vec(),
        "ok.mp4",
        &[("project_id", &ProjectId::new().to_string())],
    )
    .await;
    assert_field_error(r, "project_id").await;

    // No file part, an empty file, a body that is not multipart.
    let form = Form::new().text("title", "nothing");
    let r = client
        .post(format!("{}/videos/upload", server.api))
        .bearer_auth(&bob.token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_field_error(r, "file").await;
    let r = upload(&client, &server, &bob.token, Vec::new(), "empty.mp4", &[]).await;
    assert_field_error(r, "file").await;
    let r = client
        .post(format!("{}/videos/upload", server.api))
        .bearer_auth(&bob.token)
        .json(&json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    assert_field_error(r, "body").await;

    // No credentials.
    let r = client
        .post(format!("{}/videos/upload", server.api))
        .multipart(Form::new().part("file", Part::bytes(mp4[..1024].to_vec())))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "AUTHENTICATION_ERROR"
    );

    assert_eq!(video_count(&client, &server, &bob.token).await, 0);
    assert!(files_under(&media).is_empty(), "{:?}", files_under(&media));
    assert!(Queue::new(server.store.clone())
        .list(bob.ws.0, 10, 0)
        .await
        .unwrap()
        .is_empty());

    // Within the limit, the same server takes it.
    let r = upload(
        &client,
        &server,
        &bob.token,
        mp4[..60 * 1024].to_vec(),
        "small.mp4",
        &[("title", "Small")],
    )
    .await;
    assert_eq!(r.status(), 202);
    assert_eq!(files_under(&media).len(), 1);
}
