//! `GET /api/v1/openapi.json`: the OpenAPI 3.1 document, generated from the handlers'
//! `#[utoipa::path]` attributes and the request and response types' `ToSchema` derives.
//!
//! Each route module lists its handlers in a `Doc` next to its `routes()`, so a route and
//! its documentation are added in the same place; `tests/openapi.rs` reads the `.route(…)`
//! calls from the source and fails when one is missing from the document.

use std::sync::OnceLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, RefOr};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::auth::caller::{CSRF_HEADER, SESSION_COOKIE, WORKSPACE_HEADER};
use crate::error::{ErrorBody, ErrorCode};

/// Name of the bearer (session token or API key) security scheme.
pub const BEARER: &str = "bearer";
/// Name of the browser session cookie security scheme.
pub const COOKIE: &str = "cookie";
/// Name of the shared error response.
const ERROR: &str = "Error";

/// What lives outside `/api/v1`, and the document's frame.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "clipforge",
        description = "The clipforge service: upload or import videos, transcribe them, find \
                       and edit clips, render them. Every error is answered as \
                       `{\"error\":{\"code\",\"message\",\"details\",\"request_id\"}}`."
    ),
    paths(crate::app::healthz, crate::app::readyz, crate::metrics::metrics),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "auth", description = "Accounts, sessions and API keys"),
        (name = "account", description = "Credits, jobs, workspaces, members and projects"),
        (name = "videos", description = "Uploading, importing and managing videos"),
        (name = "transcripts", description = "Reading, correcting and exporting transcripts"),
        (name = "clips", description = "Clips and clip suggestions"),
        (name = "renders", description = "Rendering and downloading clips"),
        (name = "jumpcuts", description = "Removing silences and filler words from whole videos"),
        (name = "templates", description = "Clip styles and style templates"),
        (name = "events", description = "Live job progress"),
        (name = "files", description = "Signed downloads of stored media"),
    ),
)]
struct Frame;

/// The whole document: the frame, `/api/v1` nested in it, then the conventions every
/// operation shares.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = Frame::openapi().nest("/api/v1", crate::routes::openapi());
    Conventions.modify(&mut doc);
    doc
}

/// `GET /api/v1/openapi.json`.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "operations",
    security(()),
    responses((status = 200, description = "This OpenAPI 3.1 document", body = Object)),
)]
pub async fn serve_document() -> impl IntoResponse {
    // The document only changes with the code: built once per process.
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| {
        document()
            .to_json()
            .expect("the OpenAPI document serialises")
    });
    ([(header::CONTENT_TYPE, "application/json")], json.as_str())
}

/// The shared error response's description: each code with its status, from the table in
/// [`ErrorCode::status`].
fn error_description() -> String {
    let codes: Vec<String> = ErrorCode::ALL
        .iter()
        .map(|code| {
            let name = serde_json::to_value(code)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{name} {}", code.status().as_u16())
        })
        .collect();
    format!(
        "Any failure, in the one error shape; the status follows `code`: {}",
        codes.join(", ")
    )
}

/// Security schemes, the shared error response on every operation, and bearer-or-cookie
/// security on every operation that does not declare its own.
struct Conventions;

impl Modify for Conventions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A session token (from register or login) or an API key (`cfk_…`)",
                    ))
                    .build(),
            ),
        );
        components.add_security_scheme(
            COOKIE,
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                SESSION_COOKIE,
                &format!(
                    "The browser session set by login; unsafe methods must also echo the \
                     CSRF cookie in `{CSRF_HEADER}`. A session acts in the workspace named by \
                     `{WORKSPACE_HEADER}`, else the user's first."
                ),
            ))),
        );
        let mut schemas = vec![(ErrorBody::name().into_owned(), ErrorBody::schema())];
        ErrorBody::schemas(&mut schemas);
        for (name, schema) in schemas {
            components.schemas.entry(name).or_insert(schema);
        }
        components.responses.insert(
            ERROR.into(),
            RefOr::T(
                ResponseBuilder::new()
                    .description(error_description())
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                                ErrorBody::name(),
                            ))))
                            .build(),
                    )
                    .build(),
            ),
        );
        let bearer_or_cookie = vec![
            utoipa::openapi::security::SecurityRequirement::new::<_, _, String>(BEARER, []),
            utoipa::openapi::security::SecurityRequirement::new::<_, _, String>(COOKIE, []),
        ];
        for item in doc.paths.paths.values_mut() {
            for operation in [
                &mut item.get,
                &mut item.put,
                &mut item.post,
                &mut item.delete,
                &mut item.patch,
            ]
            .into_iter()
            .flatten()
            {
                operation
                    .responses
                    .responses
                    .entry("default".into())
                    .or_insert_with(|| RefOr::Ref(utoipa::openapi::Ref::from_response_name(ERROR)));
                // `security(())` on a handler marks it public; the rest need a credential.
                if operation.security.is_none() {
                    operation.security = Some(bearer_or_cookie.clone());
                }
            }
        }
    }
}
