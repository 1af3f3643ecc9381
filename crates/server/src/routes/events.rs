//! `GET /events`: job progress of the caller's workspace as server-sent events.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::routing::get;
use axum::Router;
use clipforge_store::JobEvents;
use futures::stream::{self, Stream, StreamExt};
use utoipa::OpenApi;

use crate::app::AppState;
use crate::auth::Caller;
use crate::error::ApiError;

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/events", get(events))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(events))]
pub(super) struct Doc;

/// Proxies and load balancers close connections idle for about a minute; a comment this
/// often keeps the stream open and tells the client it is alive.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// The next event of `workspace` from `events`, skipping every other tenant's; `None`
/// when the subscription ends (the database went away), which ends the response so the
/// client reconnects.
async fn next_own(
    mut events: JobEvents,
    workspace: uuid::Uuid,
) -> Option<(Result<Event, Infallible>, JobEvents)> {
    loop {
        match events.recv().await {
            Ok(event) if event.workspace_id == Some(workspace) => {
                let sent = Event::default()
                    .event(event.status.as_str())
                    .id(event.id.to_string())
                    .json_data(&event);
                match sent {
                    Ok(sent) => return Some((Ok(sent), events)),
                    Err(e) => tracing::warn!(error = %e, "job event not serialisable; skipped"),
                }
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "job event subscription ended");
                return None;
            }
        }
    }
}

/// Job changes of the caller's workspace as server-sent events: the event name is the
/// job's status, the id its id, the data the job as JSON.
#[utoipa::path(get, path = "/events", tag = "events",
    responses((status = 200, description = "A stream of job events", body = String,
        content_type = "text/event-stream")))]
async fn events(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    // Subscribed before the response starts: whatever happens after the client sees the
    // headers reaches it.
    let subscription = state.queue().events().await?;
    let workspace = caller.workspace.0;
    let hello = stream::once(async { Ok(Event::default().comment("subscribed")) });
    let own = stream::unfold(subscription, move |events| next_own(events, workspace));
    Ok(Sse::new(hello.chain(own)).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}
