//! Link imports (and the addresses they may not reach), lists with pages, filters, search
//! and sorting, and edits.

use clipforge_server::ServiceConfig;
use clipforge_store::videos::{self, VideoStatus};
use clipforge_store::{projects, ProjectId, Queue, VideoId};
use reqwest::Client;
use serde_json::{json, Value};

use super::*;

#[tokio::test]
async fn links_into_private_networks_are_refused() {
    let server = start(ServiceConfig::default()).await;
    let client = Client::new();
    let cy = sign_up(&client, &server, "cy").await;
    for url in [
        "http://127.0.0.1/video.mp4",
        "http://10.0.0.1/video.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]:8080/video.mp4",
        "http://[::ffff:192.168.0.10]/video.mp4",
        "http://localhost/video.mp4",
        "ftp://93.184.215.14/video.mp4",
        "not a link",
    ] {
        let r = import(&client, &server, &cy.token, json!({ "url": url })).await;
        let body = assert_field_error(r, "url").await;
        assert!(!body["error"]["message"].as_str().unwrap().is_empty());
    }
    // Malformed JSON, an unknown field, a missing field, no credentials.
    let r = client
        .post(format!("{}/videos/upload/url", server.api))
        .bearer_auth(&cy.token)
        .header("content-type", "application/json")
        .body("{\"url\": ")
        .send()
        .await
        .unwrap();
    assert_field_error(r, "body").await;
    let r = import(
        &client,
        &server,
        &cy.token,
        json!({"url": "https://93.184.215.14/v", "quality": "hd"}),
    )
    .await;
    assert_field_error(r, "quality").await;
    let r = import(&client, &server, &cy.token, json!({"title": "x"})).await;
    assert_field_error(r, "url").await;
    let r = client
        .post(format!("{}/videos/upload/url", server.api))
        .json(&json!({"url": "https://93.184.215.14/v"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(video_count(&client, &server, &cy.token).await, 0);

    // A public address is taken and queued for the worker to download.
    let r = import(
        &client,
        &server,
        &cy.token,
        json!({"url": "https://93.184.215.14/talks/keynote.mp4", "suggest": false}),
    )
    .await;
    assert_eq!(r.status(), 202);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["video"]["source"], "url");
    assert_eq!(body["video"]["title"], "keynote");
    assert_eq!(body["video"]["config"], json!({"suggest": false}));
    assert_eq!(
        body["video"]["source_url"],
        "https://93.184.215.14/talks/keynote.mp4"
    );
    let jobs = Queue::new(server.store.clone())
        .list(cy.ws.0, 10, 0)
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].kind, "ingest");
    assert_eq!(jobs[0].payload["video_id"], body["video"]["id"]);

    // An operator may allow private addresses (a LAN media server).
    let lan = start(ServiceConfig {
        allow_private_urls: true,
        ..ServiceConfig::default()
    })
    .await;
    let dee = sign_up(&client, &lan, "dee").await;
    let r = import(
        &client,
        &lan,
        &dee.token,
        json!({"url": "http://10.0.0.1/video.mp4"}),
    )
    .await;
    assert_eq!(r.status(), 202);
}

#[tokio::test]
async fn lists_page_filter_search_sort_and_edits_apply() {
    let server = start(ServiceConfig::default()).await;
    let client = Client::new();
    let eve = sign_up(&client, &server, "eve").await;
    let project = projects::create(
        &server.store,
        eve.ws,
        projects::NewProject {
            name: "Podcast",
            description: None,
            settings: &json!({}),
            created_by: None,
        },
    )
    .await
    .unwrap();
    let mut ids = Vec::new();
    for title in [
        "Podcast ep 1",
        "Webinar",
        "Podcast ep 2",
        "Keynote",
        "Interview",
    ] {
        ids.push(imported(&client, &server, &eve.token, title).await);
    }
    videos::set_status(&server.store, eve.ws, ids[3], VideoStatus::Ready, None)
        .await
        .unwrap();
    let list = |query: &str| {
        let url = format!("{}/videos?{query}", server.api);
        let request = client.get(url).bearer_auth(&eve.token);
        async move { request.send().await.unwrap() }
    };
    let titles = |body: &Value| -> Vec<String> {
        body["videos"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["title"].as_str().unwrap().to_string())
            .collect()
    };

    let first: Value = list("per_page=2").await.json().await.unwrap();
    assert_eq!(
        first["pagination"],
        json!({"page": 1, "per_page": 2, "total_pages": 3, "total_count": 5, "has_next": true, "has_prev": false})
    );
    // Newest first by default.
    assert_eq!(titles(&first), ["Interview", "Keynote"]);
    let last: Value = list("per_page=2&page=3").await.json().await.unwrap();
    assert_eq!(titles(&last), ["Podcast ep 1"]);
    assert_eq!(last["pagination"]["has_next"], false);
    assert_eq!(last["pagination"]["has_prev"], true);

    let by_title: Value = list("sort_by=title&sort_order=asc")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        titles(&by_title),
        [
            "Interview",
            "Keynote",
            "Podcast ep 1",
            "Podcast ep 2",
            "Webinar"
        ]
    );
    let found: Value = list("search=podCAST&sort_by=title&sort_order=asc")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&found), ["Podcast ep 1", "Podcast ep 2"]);
    let ready: Value = list("status=ready").await.json().await.unwrap();
    assert_eq!(titles(&ready), ["Keynote"]);

    // Into a project, out of it, renamed.
    let put = |id: VideoId, body: Value| {
        let request = client
            .put(format!("{}/videos/{id}", server.api))
            .bearer_auth(&eve.token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };
    for id in [ids[0], ids[2]] {
        let r = put(id, json!({"project_id": project.id})).await;
        assert_eq!(r.status(), 200);
    }
    let in_project: Value = list(&format!(
        "project_id={}&sort_by=title&sort_order=asc",
        project.id
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(titles(&in_project), ["Podcast ep 1", "Podcast ep 2"]);
    let r = put(
        ids[2],
        json!({"project_id": null, "title": "  Bonus episode "}),
    )
    .await;
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["video"]["title"], "Bonus episode");
    assert_eq!(body["video"]["project_id"], Value::Null);
    let in_project: Value = list(&format!("project_id={}", project.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(titles(&in_project), ["Podcast ep 1"]);

    // Bad edits and bad queries name their fields.
    assert_field_error(put(ids[0], json!({"name": "x"})).await, "name").await;
    assert_field_error(put(ids[0], json!({"title": ""})).await, "title").await;
    assert_field_error(put(ids[0], json!({"title": 5})).await, "title").await;
    assert_field_error(
        put(ids[0], json!({"project_id": ProjectId::new()})).await,
        "project_id",
    )
    .await;
    assert_field_error(list("per_page=101").await, "per_page").await;
    assert_field_error(list("status=processing").await, "status").await;
    assert_field_error(list("sort_by=size").await, "sort_by").await;
    let r = client
        .get(format!("{}/videos", server.api))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
