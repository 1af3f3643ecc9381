//! Accounts and credentials: register, login, logout, the current user, API keys.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use chrono::Utc;
use clipforge_store::accounts::{self, ApiKey, NewApiKey, NewSession, NewUser, User};
use clipforge_store::audit::{self, NewAuditEntry};
use clipforge_store::workspaces::{self, NewWorkspace, Role, WorkspaceMembership};
use clipforge_store::{credits, ApiKeyId, StoreError, Tx, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{OpenApi, ToSchema};

use crate::app::AppState;
use crate::auth::caller::{CSRF_COOKIE, SESSION_COOKIE};
use crate::auth::secrets::{
    hash_password, new_secret, password_problem, verify_password, API_KEY_PREFIX, SESSION_PREFIX,
};
use crate::auth::{Caller, Credential};
use crate::error::{ApiError, ApiJson, ErrorCode, FieldError};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/auth/register", post(register))
        .route("/auth/login", post(login))
        .route("/auth/logout", post(logout))
        .route("/users/me", get(me))
        .route("/api-keys", post(create_key).get(list_keys))
        .route("/api-keys/{id}", delete(delete_key))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(register, login, logout, me, create_key, list_keys, delete_key))]
pub(super) struct Doc;

/// What register and login answer with (the token is also set as cookies).
#[derive(Serialize, ToSchema)]
struct SessionStarted {
    #[schema(value_type = Object)]
    user: User,
    /// The workspaces the user belongs to, with their role in each.
    #[schema(value_type = Vec<Object>)]
    workspaces: Vec<WorkspaceMembership>,
    token: TokenView,
}

/// A session token as OAuth-style clients expect it.
#[derive(Serialize, ToSchema)]
struct TokenView {
    /// Send as `Authorization: Bearer …`.
    access_token: String,
    /// Always `Bearer`.
    token_type: &'static str,
    /// Seconds the session lasts without use.
    expires_in: i64,
}

/// `GET /users/me`.
#[derive(Serialize, ToSchema)]
struct Me {
    #[schema(value_type = Object)]
    user: User,
    /// The workspace this request acts in, and the caller's role there.
    workspace: ActingIn,
    #[schema(value_type = Vec<Object>)]
    workspaces: Vec<WorkspaceMembership>,
}

#[derive(Serialize, ToSchema)]
struct ActingIn {
    #[schema(value_type = uuid::Uuid)]
    id: WorkspaceId,
    #[schema(value_type = String, example = "owner")]
    role: Role,
}

/// A new API key: the secret is shown this once.
#[derive(Serialize, ToSchema)]
struct KeyCreated {
    #[schema(value_type = Object)]
    api_key: ApiKey,
    /// The key itself (`cfk_…`); only its hash is stored.
    key: String,
}

#[derive(Serialize, ToSchema)]
struct KeyList {
    #[schema(value_type = Vec<Object>)]
    api_keys: Vec<ApiKey>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Register {
    email: String,
    password: String,
    full_name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    email: String,
    password: String,
}

/// What is wrong with an email address, if anything: enough to catch typos, not a parser.
fn email_problem(email: &str) -> Option<&'static str> {
    let email = email.trim();
    let Some((local, domain)) = email.split_once('@') else {
        return Some("is not an email address");
    };
    let fine = !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && !domain.contains('@');
    (!fine).then_some("is not an email address")
}

fn validate_register(body: &Register) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    let mut add = |field: &str, message: String| {
        problems.push(FieldError {
            field: field.into(),
            message,
        })
    };
    if let Some(problem) = email_problem(&body.email) {
        add("email", problem.into());
    }
    if let Some(problem) = password_problem(&body.password) {
        add("password", problem);
    }
    let name = body.full_name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        add("full_name", "must be 1-100 characters".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(problems))
    }
}

/// The client's address and user agent, for sessions and the audit log.
fn client(addr: &SocketAddr, headers: &HeaderMap) -> (String, Option<String>) {
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.chars().take(300).collect());
    (addr.ip().to_string(), agent)
}

/// Argon2 takes tens of milliseconds of CPU: off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(ApiError::internal)
}

/// Starts a session in `tx` and answers with the user, the token and the cookies.
async fn start_session(
    state: &AppState,
    mut tx: Tx,
    user: User,
    ip: &str,
    agent: Option<&str>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let token = new_secret(SESSION_PREFIX);
    let lifetime = state.config().session_lifetime();
    accounts::create_session(
        &mut tx,
        NewSession {
            user_id: user.id,
            token_hash: &token.hash,
            expires_at: Utc::now() + lifetime,
            ip: Some(ip),
            user_agent: agent,
        },
    )
    .await?;
    audit::record(
        &mut tx,
        NewAuditEntry {
            actor_user_id: Some(user.id),
            action: if status == StatusCode::CREATED {
                "user.register"
            } else {
                "user.login"
            },
            target_type: Some("user"),
            target_id: Some(user.id.to_string()),
            ip: Some(ip),
            ..NewAuditEntry::default()
        },
    )
    .await?;
    tx.commit().await?;
    let memberships = workspaces::workspaces_for_user(state.store(), user.id).await?;
    let csrf = new_secret("");
    let secure = if state.config().secure_cookies {
        "; Secure"
    } else {
        ""
    };
    let max_age = lifetime.num_seconds();
    let body = SessionStarted {
        user,
        workspaces: memberships,
        token: TokenView {
            access_token: token.plaintext.clone(),
            token_type: "Bearer",
            expires_in: max_age,
        },
    };
    let mut response = (status, Json(body)).into_response();
    let cookies = [
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            token.plaintext
        ),
        format!(
            "{CSRF_COOKIE}={}; Path=/; SameSite=Strict; Max-Age={max_age}{secure}",
            csrf.plaintext
        ),
    ];
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// Creates an account, its own workspace (with the signup credits) and a session.
#[utoipa::path(post, path = "/auth/register", tag = "auth", security(()), request_body = Register,
    responses((status = 201, description = "Signed up and signed in; sets the session and CSRF cookies", body = SessionStarted)))]
async fn register(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Register>,
) -> Result<Response, ApiError> {
    validate_register(&body)?;
    let password = body.password.clone();
    let password_hash = blocking(move || hash_password(&password))
        .await?
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let (ip, agent) = client(&addr, &headers);
    let mut tx = state.store().begin().await?;
    let full_name = body.full_name.trim();
    let user = accounts::create_user(
        &mut tx,
        NewUser {
            email: body.email.trim(),
            password_hash: &password_hash,
            full_name,
        },
    )
    .await
    .map_err(|e| match e {
        StoreError::Conflict { .. } => {
            ApiError::field("email", "an account with this email already exists")
        }
        other => other.into(),
    })?;
    let slug = format!("ws-{}", user.id.0.simple());
    let workspace = workspaces::create_workspace(
        &mut tx,
        NewWorkspace {
            name: &format!("{full_name}'s workspace"),
            slug: &slug,
            owner: user.id,
        },
    )
    .await?;
    let grant = state.config().signup_credits;
    if grant > 0 {
        credits::grant(&mut tx, workspace.id, grant, "welcome credits", None).await?;
    }
    start_session(&state, tx, user, &ip, agent.as_deref(), StatusCode::CREATED).await
}

/// Starts a session.
#[utoipa::path(post, path = "/auth/login", tag = "auth", security(()), request_body = Login,
    responses((status = 200, description = "Signed in; sets the session and CSRF cookies", body = SessionStarted)))]
async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Login>,
) -> Result<Response, ApiError> {
    let (ip, agent) = client(&addr, &headers);
    let found = accounts::user_for_login(state.store(), &body.email).await?;
    // The hash is checked even for an unknown address, so timing does not tell which
    // addresses have accounts.
    let (user, phc) = match found {
        Some((user, phc)) => (Some(user), phc),
        None => (None, DUMMY_HASH.to_string()),
    };
    let password = body.password.clone();
    let matches = blocking(move || verify_password(&password, &phc)).await?;
    let Some(user) = user.filter(|_| matches) else {
        audit::record(
            state.store(),
            NewAuditEntry {
                action: "user.login_failed",
                ip: Some(&ip),
                details: Some(&json!({ "email": body.email.trim().to_lowercase() })),
                ..NewAuditEntry::default()
            },
        )
        .await?;
        return Err(ApiError::new(
            ErrorCode::AuthenticationError,
            "wrong email or password",
        ));
    };
    let tx = state.store().begin().await?;
    start_session(&state, tx, user, &ip, agent.as_deref(), StatusCode::OK).await
}

/// An argon2id hash of a random password, verified against when the email is unknown.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Cz8Wm1j2H3ZmYwH3dXxO1yXkz0J8vqCqkJ1n0q2yQ0c";

/// Ends the session the request was made with and clears its cookies.
#[utoipa::path(post, path = "/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out")))]
async fn logout(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let Credential::Session { token_hash, .. } = &caller.credential else {
        return Err(ApiError::field(
            "Authorization",
            "an API key has no session to end; delete the key instead",
        ));
    };
    accounts::delete_session(state.store(), token_hash).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    for name in [SESSION_COOKIE, CSRF_COOKIE] {
        if let Ok(value) = HeaderValue::from_str(&format!("{name}=; Path=/; Max-Age=0")) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// The caller, the workspace the request acts in and every workspace they belong to.
#[utoipa::path(get, path = "/users/me", tag = "auth",
    responses((status = 200, description = "The caller", body = Me)))]
async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<Me>, ApiError> {
    let memberships = workspaces::workspaces_for_user(state.store(), caller.user.id).await?;
    Ok(Json(Me {
        workspace: ActingIn {
            id: caller.workspace,
            role: caller.role,
        },
        user: caller.user,
        workspaces: memberships,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateKey {
    name: String,
    #[serde(default)]
    expires_in_days: Option<u32>,
}

/// Makes an API key acting in the caller's workspace as the caller.
#[utoipa::path(post, path = "/api-keys", tag = "auth", request_body = CreateKey,
    responses((status = 201, description = "The key; its secret is shown only now", body = KeyCreated)))]
async fn create_key(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateKey>,
) -> Result<Response, ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "must be 1-100 characters"));
    }
    if body.expires_in_days.is_some_and(|d| d == 0 || d > 3650) {
        return Err(ApiError::field("expires_in_days", "must be 1-3650"));
    }
    let secret = new_secret(API_KEY_PREFIX);
    let mut tx = state.store().begin().await?;
    let key = accounts::create_api_key(
        &mut tx,
        NewApiKey {
            workspace_id: caller.workspace,
            user_id: caller.user_id(),
            name,
            prefix: &secret.display_prefix,
            key_hash: &secret.hash,
            expires_at: body
                .expires_in_days
                .map(|d| Utc::now() + chrono::Duration::days(i64::from(d))),
        },
    )
    .await?;
    audit::record(
        &mut tx,
        caller.audit(
            "api_key.create",
            "api_key",
            key.id.to_string(),
            &addr.ip().to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyCreated {
            api_key: key,
            key: secret.plaintext,
        }),
    )
        .into_response())
}

/// The workspace's API keys: all of them for admins, the caller's own otherwise.
#[utoipa::path(get, path = "/api-keys", tag = "auth",
    responses((status = 200, description = "Keys, without their secrets", body = KeyList)))]
async fn list_keys(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<KeyList>, ApiError> {
    let keys = accounts::list_api_keys(state.store(), caller.workspace).await?;
    let visible: Vec<_> = if caller.role.at_least(Role::Admin) {
        keys
    } else {
        keys.into_iter()
            .filter(|k| k.user_id == caller.user_id())
            .collect()
    };
    Ok(Json(KeyList { api_keys: visible }))
}

/// Revokes an API key (the caller's own, or any for admins).
#[utoipa::path(delete, path = "/api-keys/{id}", tag = "auth",
    params(("id" = String, Path, description = "The API key's id")),
    responses((status = 204, description = "Revoked")))]
async fn delete_key(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id: ApiKeyId = id.parse().map_err(|_| ApiError::not_found("API key"))?;
    let keys = accounts::list_api_keys(state.store(), caller.workspace).await?;
    let key = keys
        .iter()
        .find(|k| k.id == id)
        .ok_or_else(|| ApiError::not_found("API key"))?;
    if key.user_id != caller.user_id() {
        caller.require(Role::Admin)?;
    }
    let mut tx = state.store().begin().await?;
    if !accounts::revoke_api_key(&mut tx, caller.workspace, id).await? {
        return Err(ApiError::not_found("API key"));
    }
    audit::record(
        &mut tx,
        caller.audit(
            "api_key.delete",
            "api_key",
            id.to_string(),
            &addr.ip().to_string(),
        ),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_catch_typos() {
        assert!(email_problem("ann@example.com").is_none());
        assert!(email_problem("ann@example").is_some());
        assert!(email_problem("ann@@example.com").is_some());
        assert!(email_problem("@example.com").is_some());
        assert!(email_problem("ann @example.com").is_some());
        assert!(email_problem("ann.example.com").is_some());
    }

    #[test]
    fn the_dummy_hash_is_a_real_argon2id_hash() {
        // An unknown email must cost as much as a wrong password.
        assert!(argon2::password_hash::PasswordHash::new(DUMMY_HASH).is_ok());
        assert!(!verify_password("anything", DUMMY_HASH));
    }
}
