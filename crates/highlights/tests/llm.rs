//! Language-model ranking against a local server that speaks the chat-completions protocol
//! (`POST /v1/chat/completions`, JSON in and out) and answers from a script.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use clipforge_core::{ClipSuggestion, RankedBy, ScoreBreakdown};
use clipforge_highlights::llm::{rank, LlmConfig, LlmOutcome, TranscriptLine};
use clipforge_highlights::HighlightsError;
use serde_json::{json, Value};

const KEY: &str = "sk-llm-test-0123456789";
const MODEL: &str = "llama-3.1-8b-instant";

/// One answer of the fake server.
#[derive(Debug, Clone)]
enum Reply {
    /// A completion whose message is this text.
    Content(String),
    /// An error status with an OpenAI-style body and an optional `retry-after-ms`.
    Status(u16, &'static str, Option<&'static str>),
}

/// One request as the fake server saw it.
#[derive(Debug, Clone)]
struct Seen {
    authorization: Option<String>,
    body: Value,
}

impl Seen {
    fn message(&self, role: &str) -> &str {
        self.body["messages"]
            .as_array()
            .and_then(|m| m.iter().find(|m| m["role"] == role))
            .and_then(|m| m["content"].as_str())
            .unwrap_or_default()
    }

    /// Start times of the transcript lines in the user message.
    fn line_starts(&self) -> Vec<String> {
        self.message("user")
            .lines()
            .filter(|l| l.starts_with('['))
            .filter_map(|l| Some(l[1..].split('-').next()?.to_owned()))
            .collect()
    }

    /// Ids of the candidates listed in the user message.
    fn ids(&self) -> Vec<String> {
        self.message("user")
            .lines()
            .filter(|l| l.starts_with('c') && l.contains(" ["))
            .filter_map(|l| Some(l.split(' ').next()?.to_owned()))
            .collect()
    }
}

#[derive(Debug, Default)]
struct FakeLlm {
    script: Mutex<VecDeque<Reply>>,
    seen: Mutex<Vec<Seen>>,
    /// Answer 400 to requests with `response_format`, like servers that do not know it.
    no_json_mode: bool,
}

impl FakeLlm {
    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

fn openai_error(status: StatusCode, message: &str, code: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": code}});
    (status, Json(body)).into_response()
}

/// What a real server would reject in a request body, phrased as its error message.
fn problem(body: &Value, no_json_mode: bool) -> Option<&'static str> {
    let messages = body["messages"].as_array()?;
    let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
    let temperature = body["temperature"].as_f64().unwrap_or(-1.0);
    let json_mode = body.get("response_format").is_some();
    let problems = [
        (
            roles != ["system", "user"],
            "messages must be system then user",
        ),
        (
            messages.iter().any(|m| !m["content"].is_string()),
            "message content must be text",
        ),
        (
            !(0.0..=2.0).contains(&temperature),
            "temperature out of range",
        ),
        (body["stream"] == true, "this test does not stream"),
        (
            !no_json_mode && body["response_format"] != json!({"type": "json_object"}),
            "response_format must be json_object",
        ),
        (
            no_json_mode && json_mode,
            "Unrecognized request argument supplied: response_format",
        ),
    ];
    problems.iter().find(|(bad, _)| *bad).map(|(_, why)| *why)
}

async fn chat(State(api): State<Arc<FakeLlm>>, headers: HeaderMap, body: Bytes) -> Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return openai_error(
            StatusCode::BAD_REQUEST,
            "We could not parse the JSON body of your request.",
            "invalid_json",
        );
    };
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    api.seen.lock().unwrap().push(Seen {
        authorization: authorization.clone(),
        body: body.clone(),
    });
    if authorization.is_some_and(|a| a != format!("Bearer {KEY}")) {
        let message = "Incorrect API key provided: sk-wr***ng. You can find your API key at https://platform.openai.com/account/api-keys.";
        return openai_error(StatusCode::UNAUTHORIZED, message, "invalid_api_key");
    }
    if body["model"] != MODEL {
        let message = format!(
            "The model `{}` does not exist or you do not have access to it.",
            body["model"].as_str().unwrap_or_default()
        );
        return openai_error(StatusCode::NOT_FOUND, &message, "model_not_found");
    }
    if let Some(problem) = problem(&body, api.no_json_mode) {
        return openai_error(StatusCode::BAD_REQUEST, problem, "invalid_request_error");
    }
    let reply = api.script.lock().unwrap().pop_front();
    match reply.unwrap_or_else(|| Reply::Content(r#"{"clips": []}"#.to_owned())) {
        Reply::Content(content) => Json(json!({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1_700_000_000, "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 900, "completion_tokens": 120, "total_tokens": 1020}
        }))
        .into_response(),
        Reply::Status(status, message, retry_after_ms) => {
            let status = StatusCode::from_u16(status).unwrap();
            let mut response = openai_error(status, message, "server_error");
            if let Some(ms) = retry_after_ms {
                response.headers_mut().insert("retry-after-ms", ms.parse().unwrap());
            }
            response
        }
    }
}

async fn serve(api: Arc<FakeLlm>) -> SocketAddr {
    let router = Router::new()
        .route("/v1/chat/completions", post(chat))
        .with_state(api);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// A transcript of `n` sentences, one every 5 s, each 4.6 s long.
struct Talk {
    texts: Vec<String>,
}

impl Talk {
    fn new(n: usize) -> Self {
        let texts = (0..n)
            .map(|i| format!("Sentence {i} is about rivers, lakes and the sea."))
            .collect();
        Self { texts }
    }

    fn lines(&self) -> Vec<TranscriptLine<'_>> {
        self.texts
            .iter()
            .enumerate()
            .map(|(i, text)| TranscriptLine {
                start: i as f64 * 5.0,
                end: i as f64 * 5.0 + 4.6,
                text,
            })
            .collect()
    }

    /// The clip of sentences `from..to` as the local scorer would give it.
    fn clip(&self, from: usize, to: usize, score: f64) -> ClipSuggestion {
        let (start, end) = (from as f64 * 5.0, (to - 1) as f64 * 5.0 + 4.6);
        ClipSuggestion {
            start,
            end,
            duration: end - start,
            score,
            breakdown: ScoreBreakdown::default(),
            reason: format!("local reason {from}"),
            highlights: vec!["Opens with a question".to_owned()],
            title: format!("Local title {from}"),
            hook: format!("Local hook {from}"),
            platforms: Vec::new(),
            hashtags: vec!["#rivers".to_owned()],
            transcript: self.texts[from..to].join(" "),
            ranked_by: RankedBy::Local,
        }
    }
}

/// The caller's snapping: out to whole sentences, 10–60 s, local score 50. Records each
/// range it is asked about.
struct Resnap<'a> {
    talk: &'a Talk,
    calls: Mutex<Vec<(f64, f64)>>,
}

impl<'a> Resnap<'a> {
    fn new(talk: &'a Talk) -> Self {
        Self {
            talk,
            calls: Mutex::new(Vec::new()),
        }
    }

    fn snap(&self, start: f64, end: f64) -> Option<ClipSuggestion> {
        self.calls.lock().unwrap().push((start, end));
        let lines = self.talk.lines();
        let from = lines.iter().position(|l| l.end > start)?;
        let to = lines.iter().rposition(|l| l.start < end)? + 1;
        let clip = self.talk.clip(from, to, 50.0);
        (10.0..=60.0).contains(&clip.duration).then_some(clip)
    }

    fn calls(&self) -> Vec<(f64, f64)> {
        self.calls.lock().unwrap().clone()
    }
}

struct Fixture {
    api: Arc<FakeLlm>,
    addr: SocketAddr,
    talk: Talk,
}

impl Fixture {
    async fn new(script: Vec<Reply>) -> Self {
        Self::with(
            FakeLlm {
                script: Mutex::new(script.into()),
                ..FakeLlm::default()
            },
            Talk::new(40),
        )
        .await
    }

    async fn with(api: FakeLlm, talk: Talk) -> Self {
        let api = Arc::new(api);
        let addr = serve(api.clone()).await;
        Self { api, addr, talk }
    }

    fn config(&self) -> LlmConfig {
        LlmConfig {
            base_url: format!("http://{}/v1", self.addr),
            api_key: Some(KEY.to_owned().into()),
            model: MODEL.to_owned(),
            timeout: Duration::from_secs(10),
            top_candidates: 3,
            max_retries: 2,
            initial_backoff: Duration::from_millis(10),
            ..LlmConfig::default()
        }
    }

    /// c1 0–24.6 s (80), c2 60–84.6 s (70), c3 100–124.6 s (60), and c4 150–169.6 s (55),
    /// which is past `top_candidates` and not shown to the model.
    fn candidates(&self) -> Vec<ClipSuggestion> {
        vec![
            self.talk.clip(0, 5, 80.0),
            self.talk.clip(12, 17, 70.0),
            self.talk.clip(20, 25, 60.0),
            self.talk.clip(30, 34, 55.0),
        ]
    }

    async fn rank(&self, config: LlmConfig) -> (LlmOutcome, Vec<(f64, f64)>) {
        let resnap = Resnap::new(&self.talk);
        let lines = self.talk.lines();
        let outcome = rank(
            &config,
            &lines,
            self.candidates(),
            &|s, e| resnap.snap(s, e),
            10,
        )
        .await
        .expect("only a malformed config is an error");
        (outcome, resnap.calls())
    }
}

/// A valid answer rating c3 only.
fn c3_answer() -> String {
    json!({"clips": [{"id": "c3", "start": 100, "end": 124.6, "score": 95, "title": "Why rivers bend", "hook": "You never noticed this", "reason": "Opens on a question."}]}).to_string()
}

/// Start and score of each suggestion, and whether the model ranked it.
fn summary(suggestions: &[ClipSuggestion]) -> Vec<(f64, f64, RankedBy)> {
    suggestions
        .iter()
        .map(|c| (c.start, c.score, c.ranked_by))
        .collect()
}

fn assert_local_ranking(fx: &Fixture, outcome: &LlmOutcome) {
    assert_eq!(
        outcome.suggestions,
        fx.candidates(),
        "the local ranking must stand"
    );
}

#[tokio::test]
async fn the_model_reorders_retitles_and_adds_a_resnapped_range() {
    let long_title = "A story about a river that ".repeat(6);
    let answer = json!({"clips": [
        {"id": "c3", "start": 100, "end": 124.6, "score": 95, "title": "  Why rivers bend  ", "hook": "You never noticed this about rivers", "reason": "Opens on a question and pays it off."},
        {"id": "c1", "score": 40, "title": "", "hook": " ", "reason": "Slow start."},
        {"id": "c99", "score": 100, "title": "an id that was never sent"},
        {"id": "c4", "score": 100, "title": "a candidate the model was not shown"},
        {"id": null, "start": 41.37, "end": 58.81, "score": 90, "title": long_title, "hook": "One river, one story", "reason": "A complete story."}
    ]});
    let fx = Fixture::new(vec![Reply::Content(answer.to_string())]).await;
    let (outcome, calls) = fx.rank(fx.config()).await;

    assert_eq!(outcome.warnings, Vec::<String>::new());
    // c3: 0.6·95 + 0.4·60; new: 0.6·90 + 0.4·50; c2 unrated; c1: 0.6·40 + 0.4·80; c4 unrated.
    assert_eq!(
        summary(&outcome.suggestions),
        [
            (100.0, 81.0, RankedBy::Llm),
            (40.0, 74.0, RankedBy::Llm),
            (60.0, 70.0, RankedBy::Local),
            (0.0, 56.0, RankedBy::Llm),
            (150.0, 55.0, RankedBy::Local),
        ]
    );
    let [c3, new, c2, c1, c4] = &outcome.suggestions[..] else {
        unreachable!()
    };
    assert_eq!(c3.title, "Why rivers bend");
    assert_eq!(c3.hook, "You never noticed this about rivers");
    assert_eq!(c3.reason, "Opens on a question and pays it off.");
    assert_eq!(
        c3.highlights,
        [
            "Opens with a question",
            "Rated 95/100 by the language model"
        ]
    );
    assert_eq!(
        c3.breakdown,
        ScoreBreakdown::default(),
        "the local breakdown stays"
    );
    assert_eq!(
        (c1.title.as_str(), c1.hook.as_str()),
        ("Local title 0", "Local hook 0")
    );
    assert_eq!(c1.reason, "Slow start.");
    assert_eq!(c2, &fx.candidates()[1]);
    assert_eq!(c4, &fx.candidates()[3]);

    // The model's sloppy times went through the caller's snapping: whole sentences 8–11.
    assert_eq!(calls, [(41.37, 58.81)]);
    assert_eq!((new.start, new.end), (40.0, 59.6));
    assert_eq!(new.transcript, fx.talk.texts[8..12].join(" "));
    assert!(
        new.title.chars().count() <= 80 && new.title.ends_with('…'),
        "{}",
        new.title
    );
    assert_eq!(new.hook, "One river, one story");

    let seen = fx.api.seen();
    assert_eq!(seen.len(), 1);
    let request = &seen[0];
    assert_eq!(
        request.authorization.as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(request.body["model"], MODEL);
    assert_eq!(
        request.body["response_format"],
        json!({"type": "json_object"})
    );
    assert_eq!(request.body["temperature"], json!(0.2));
    assert!(request.message("system").contains("JSON"));
    let user = request.message("user");
    assert!(
        user.contains("[0.0-4.6] Sentence 0 is about rivers, lakes and the sea."),
        "{user}"
    );
    assert!(
        user.contains("c1 [0.0-24.6] 25 s, score 80: \"Sentence 0 is about"),
        "{user}"
    );
    assert_eq!(request.ids(), ["c1", "c2", "c3"]);
    assert_eq!(request.line_starts().len(), 40);
}

#[tokio::test]
async fn invalid_json_is_asked_for_again() {
    let fx = Fixture::new(vec![
        Reply::Content("Sure! The best clip is {c3}, then c1.".to_owned()),
        Reply::Content("```json\n{\"clips\": [{\"id\": \"c3\", \"score\": 9\n```".to_owned()),
        Reply::Content(c3_answer()),
    ])
    .await;
    let (outcome, _) = fx.rank(fx.config()).await;
    assert_eq!(fx.api.seen().len(), 3);
    assert_eq!(outcome.warnings, Vec::<String>::new());
    assert_eq!(
        summary(&outcome.suggestions)[0],
        (100.0, 81.0, RankedBy::Llm)
    );
}

#[tokio::test]
async fn three_invalid_answers_leave_the_local_ranking() {
    let prose = Reply::Content("I think c3 is the best clip.".to_owned());
    let fx = Fixture::new(vec![
        prose.clone(),
        prose.clone(),
        prose,
        Reply::Content(c3_answer()),
    ])
    .await;
    let (outcome, _) = fx.rank(fx.config()).await;
    assert_eq!(fx.api.seen().len(), 3, "three attempts, then no more");
    assert_local_ranking(&fx, &outcome);
    assert_eq!(outcome.warnings.len(), 1, "{:?}", outcome.warnings);
    let warning = &outcome.warnings[0];
    for part in [
        "part 1 of 1",
        "local ranking",
        "no JSON object",
        "I think c3",
        "3 attempts",
    ] {
        assert!(warning.contains(part), "{warning:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn a_server_error_is_retried() {
    let fx = Fixture::new(vec![
        Reply::Status(
            500,
            "The server had an error while processing your request.",
            None,
        ),
        Reply::Content(c3_answer()),
    ])
    .await;
    let (outcome, _) = fx.rank(fx.config()).await;
    assert_eq!(fx.api.seen().len(), 2);
    assert_eq!(outcome.warnings, Vec::<String>::new());
    assert_eq!(
        summary(&outcome.suggestions)[0],
        (100.0, 81.0, RankedBy::Llm)
    );
}

#[tokio::test]
async fn a_rate_limit_waits_as_long_as_the_server_asks() {
    let fx = Fixture::new(vec![
        Reply::Status(429, "Rate limit reached for model", Some("400")),
        Reply::Content(c3_answer()),
    ])
    .await;
    let started = Instant::now();
    let (outcome, _) = fx.rank(fx.config()).await;
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "retry-after-ms was not honoured"
    );
    assert_eq!(fx.api.seen().len(), 2);
    assert_eq!(summary(&outcome.suggestions)[0].2, RankedBy::Llm);
}

#[tokio::test]
async fn a_server_that_keeps_failing_leaves_the_local_ranking() {
    let error = Reply::Status(503, "The engine is currently overloaded.", None);
    let fx = Fixture::new(vec![error.clone(), error.clone(), error]).await;
    let (outcome, _) = fx.rank(fx.config()).await;
    assert_eq!(fx.api.seen().len(), 3, "one attempt and max_retries = 2");
    assert_local_ranking(&fx, &outcome);
    let warning = outcome.warnings.join("\n");
    for part in ["503", "overloaded", "3 attempts", "local ranking stands"] {
        assert!(warning.contains(part), "{warning:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn a_wrong_key_leaves_the_local_ranking_and_names_the_setting() {
    let fx = Fixture::new(vec![]).await;
    let config = LlmConfig {
        api_key: Some("sk-wrong-key".to_owned().into()),
        ..fx.config()
    };
    let (outcome, _) = fx.rank(config).await;
    assert_eq!(fx.api.seen().len(), 1, "401 is not retried");
    assert_local_ranking(&fx, &outcome);
    assert_eq!(outcome.warnings.len(), 1);
    let warning = &outcome.warnings[0];
    for part in [
        "401",
        "Incorrect API key",
        "api_key",
        "local ranking stands",
    ] {
        assert!(warning.contains(part), "{warning:?} lacks {part:?}");
    }
    assert!(
        !warning.contains("sk-wrong-key"),
        "the key leaked into {warning:?}"
    );
}

#[tokio::test]
async fn an_unknown_model_names_the_base_url_and_model_settings() {
    let fx = Fixture::new(vec![]).await;
    let config = LlmConfig {
        model: "gpt-9".to_owned(),
        ..fx.config()
    };
    let (outcome, _) = fx.rank(config).await;
    assert_eq!(fx.api.seen().len(), 1);
    assert_local_ranking(&fx, &outcome);
    let warning = outcome.warnings.join("\n");
    for part in ["404", "gpt-9", "base_url", "model"] {
        assert!(warning.contains(part), "{warning:?} lacks {part:?}");
    }
}

#[tokio::test]
async fn a_long_transcript_goes_in_overlapping_parts() {
    let api = FakeLlm::default();
    let fx = Fixture::with(api, Talk::new(200)).await;
    let config = LlmConfig {
        chunk_chars: 1_500,
        top_candidates: 20,
        ..fx.config()
    };
    let (outcome, _) = fx.rank(config).await;
    assert_eq!(outcome.warnings, Vec::<String>::new());

    let seen = fx.api.seen();
    assert!(
        seen.len() >= 5,
        "expected several parts, got {}",
        seen.len()
    );
    let parts: Vec<Vec<String>> = seen.iter().map(Seen::line_starts).collect();
    for (k, (request, lines)) in seen.iter().zip(&parts).enumerate() {
        let header = format!("Transcript, part {} of {}:", k + 1, seen.len());
        assert!(request.message("user").starts_with(&header), "part {k}");
        let text: usize = request
            .message("user")
            .lines()
            .filter(|l| l.starts_with('['))
            .map(|l| l.chars().count() + 1)
            .sum();
        assert!(text <= 1_500, "part {k} holds {text} characters");
        assert!(!lines.is_empty());
    }
    for pair in parts.windows(2) {
        let shared = pair[1].iter().filter(|l| pair[0].contains(l)).count();
        assert!(shared >= 1, "consecutive parts share no line");
        assert!(
            shared * 5 < pair[0].len(),
            "the overlap is about a tenth, not {shared} lines"
        );
    }
    let mut covered: Vec<&String> = parts.iter().flatten().collect();
    covered.sort_by(|a, b| a.parse::<f64>().unwrap().total_cmp(&b.parse().unwrap()));
    covered.dedup();
    assert_eq!(covered.len(), 200, "every line is sent");

    // Each candidate goes with exactly one part.
    let mut ids: Vec<String> = seen.iter().flat_map(Seen::ids).collect();
    ids.sort();
    assert_eq!(ids, ["c1", "c2", "c3", "c4"]);
}

#[tokio::test]
async fn json_in_a_code_fence_is_accepted() {
    let fenced = format!(
        "Here is my ranking:\n\n```json\n{}\n```\n\nLet me know if you need more!",
        c3_answer()
    );
    let fx = Fixture::new(vec![Reply::Content(fenced)]).await;
    let (outcome, _) = fx.rank(fx.config()).await;
    assert_eq!(fx.api.seen().len(), 1);
    assert_eq!(outcome.warnings, Vec::<String>::new());
    assert_eq!(
        summary(&outcome.suggestions)[0],
        (100.0, 81.0, RankedBy::Llm)
    );
    assert_eq!(outcome.suggestions[0].title, "Why rivers bend");
}

#[tokio::test]
async fn a_server_without_json_mode_is_asked_without_it() {
    let api = FakeLlm {
        script: Mutex::new(VecDeque::from([Reply::Content(c3_answer())])),
        no_json_mode: true,
        ..FakeLlm::default()
    };
    let fx = Fixture::with(api, Talk::new(40)).await;
    let (outcome, _) = fx.rank(fx.config()).await;
    let seen = fx.api.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen[0].body.get("response_format").is_some());
    assert!(seen[1].body.get("response_format").is_none());
    assert_eq!(outcome.warnings, Vec::<String>::new());
    assert_eq!(summary(&outcome.suggestions)[0].2, RankedBy::Llm);
}

#[tokio::test]
async fn without_a_key_no_authorization_is_sent() {
    let fx = Fixture::new(vec![Reply::Content(c3_answer())]).await;
    let config = LlmConfig {
        api_key: Some("  ".to_owned().into()),
        ..fx.config()
    };
    let (outcome, _) = fx.rank(config).await;
    assert_eq!(fx.api.seen()[0].authorization, None);
    assert_eq!(summary(&outcome.suggestions)[0].2, RankedBy::Llm);
}

#[tokio::test]
async fn an_unreachable_server_leaves_the_local_ranking() {
    let fx = Fixture::new(vec![]).await;
    // A port that was free a moment ago and has nobody listening now.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let config = LlmConfig {
        base_url: format!("http://{closed}/v1"),
        max_retries: 1,
        ..fx.config()
    };
    let (outcome, _) = fx.rank(config).await;
    assert_local_ranking(&fx, &outcome);
    let warning = outcome.warnings.join("\n");
    assert!(warning.contains(&closed.to_string()), "{warning:?}");
}

#[tokio::test]
async fn only_a_malformed_config_is_an_error() {
    let talk = Talk::new(3);
    let lines = talk.lines();
    let resnap = |_: f64, _: f64| None;
    for (base_url, model) in [
        ("localhost:11434/v1", MODEL),
        ("http://127.0.0.1:1/v1", " "),
    ] {
        let config = LlmConfig {
            base_url: base_url.to_owned(),
            model: model.to_owned(),
            ..LlmConfig::default()
        };
        let err = rank(&config, &lines, Vec::new(), &resnap, 10)
            .await
            .unwrap_err();
        assert!(matches!(err, HighlightsError::Llm(_)), "{err:?}");
    }
}

#[tokio::test]
async fn ranking_can_run_on_another_task_and_cuts_to_max_out() {
    fn assert_send<T: Send>(t: T) -> T {
        t
    }
    let fx = Fixture::new(vec![Reply::Content(c3_answer())]).await;
    let config = fx.config();
    let lines = fx.talk.lines();
    let resnap = Resnap::new(&fx.talk);
    let snap = |s, e| resnap.snap(s, e);
    let outcome = assert_send(rank(&config, &lines, fx.candidates(), &snap, 2))
        .await
        .unwrap();
    assert_eq!(
        summary(&outcome.suggestions),
        [(100.0, 81.0, RankedBy::Llm), (0.0, 80.0, RankedBy::Local)]
    );
}
