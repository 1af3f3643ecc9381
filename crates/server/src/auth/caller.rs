//! The `Caller` extractor: who is calling, in which workspace, with which role.
//!
//! API clients send `Authorization: Bearer <session token or API key>`. Browsers carry the
//! session in an HttpOnly cookie; for them every unsafe method must also echo the CSRF
//! cookie in `X-CSRF-Token` (double submit), which a cross-site form cannot do.
//! A session acts in the workspace named by `X-Workspace-Id`, else the user's first one; an
//! API key always acts in its own workspace.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use clipforge_store::accounts::{self, User};
use clipforge_store::audit::NewAuditEntry;
use clipforge_store::workspaces::{self, Role};
use clipforge_store::{ApiKeyId, SessionId, UserId, WorkspaceId};

use super::secrets::{hash_token, API_KEY_PREFIX};
use crate::app::AppState;
use crate::error::{ApiError, ErrorCode};

/// Cookie holding the browser's session token.
pub const SESSION_COOKIE: &str = "clipforge_session";
/// Cookie holding the CSRF token the page must echo.
pub const CSRF_COOKIE: &str = "clipforge_csrf";
/// Header the CSRF token is echoed in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Header choosing the workspace a session acts in.
pub const WORKSPACE_HEADER: &str = "x-workspace-id";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// A session token (bearer or cookie), by session id and token hash.
    Session {
        /// The session.
        id: SessionId,
        /// Hash of its token (for logout).
        token_hash: String,
    },
    /// An API key.
    ApiKey(ApiKeyId),
}

/// An authenticated caller acting in one workspace.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user (for an API key: the user who made it).
    pub user: User,
    /// The workspace every query is scoped to.
    pub workspace: WorkspaceId,
    /// The user's role there.
    pub role: Role,
    /// How they signed in.
    pub credential: Credential,
}

impl Caller {
    /// The user's id.
    pub fn user_id(&self) -> UserId {
        self.user.id
    }

    /// Fails with 403 unless the caller's role is at least `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ApiError> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::AuthorizationError,
                format!("this needs the {needed} role in the workspace"),
            ))
        }
    }

    /// An audit entry of this caller doing `action` to a `target_type` record in its
    /// workspace, from address `ip`.
    pub fn audit<'a>(
        &self,
        action: &'a str,
        target_type: &'a str,
        target_id: String,
        ip: &'a str,
    ) -> NewAuditEntry<'a> {
        NewAuditEntry {
            workspace_id: Some(self.workspace),
            actor_user_id: Some(self.user.id),
            actor_api_key_id: self.api_key(),
            action,
            target_type: Some(target_type),
            target_id: Some(target_id),
            ip: Some(ip),
            details: None,
        }
    }

    /// The API key used, if any (for the audit log).
    pub fn api_key(&self) -> Option<ApiKeyId> {
        match self.credential {
            Credential::ApiKey(id) => Some(id),
            Credential::Session { .. } => None,
        }
    }
}

fn unauthenticated(message: &str) -> ApiError {
    ApiError::new(ErrorCode::AuthenticationError, message)
}

/// The bearer token of the request, if it has one.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn unsafe_method(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let store = state.store();
        let (token, from_cookie) = match bearer(parts) {
            Some(token) => (token.to_string(), false),
            None => match cookie(parts, SESSION_COOKIE) {
                Some(token) => (token.to_string(), true),
                None => {
                    return Err(unauthenticated(
                        "sign in first: send Authorization: Bearer <token or API key>",
                    ))
                }
            },
        };
        if from_cookie && unsafe_method(&parts.method) {
            let sent = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            let expected = cookie(parts, CSRF_COOKIE);
            if sent.is_none() || sent != expected {
                return Err(ApiError::new(
                    ErrorCode::AuthorizationError,
                    "missing or wrong X-CSRF-Token: echo the clipforge_csrf cookie in it",
                ));
            }
        }
        let hash = hash_token(&token);
        let caller = if token.starts_with(API_KEY_PREFIX) {
            let auth = accounts::api_key_by_hash(store, &hash)
                .await?
                .ok_or_else(|| unauthenticated("this API key is unknown, revoked or expired"))?;
            let role = workspaces::role(store, auth.key.workspace_id, auth.user.id)
                .await?
                .ok_or_else(|| unauthenticated("this API key's workspace is gone"))?;
            let _ = accounts::touch_api_key(store, auth.key.id).await;
            Caller {
                workspace: auth.key.workspace_id,
                role,
                credential: Credential::ApiKey(auth.key.id),
                user: auth.user,
            }
        } else {
            let (session, user) = accounts::session_by_token_hash(store, &hash)
                .await?
                .ok_or_else(|| {
                    unauthenticated("the session expired or was signed out; sign in again")
                })?;
            let expires = chrono::Utc::now() + state.config().session_lifetime();
            let _ = accounts::touch_session(store, session.id, expires).await;
            let (workspace, role) = session_workspace(state, parts, &user).await?;
            Caller {
                user,
                workspace,
                role,
                credential: Credential::Session {
                    id: session.id,
                    token_hash: hash,
                },
            }
        };
        parts.extensions.insert(caller.clone());
        Ok(caller)
    }
}

/// The workspace a session acts in and the user's role there.
async fn session_workspace(
    state: &AppState,
    parts: &Parts,
    user: &User,
) -> Result<(WorkspaceId, Role), ApiError> {
    let store = state.store();
    if let Some(value) = parts.headers.get(WORKSPACE_HEADER) {
        let id: WorkspaceId = value
            .to_str()
            .ok()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| ApiError::field("X-Workspace-Id", "is not a workspace id"))?;
        let role = workspaces::role(store, id, user.id)
            .await?
            .ok_or_else(|| ApiError::not_found("workspace"))?;
        return Ok((id, role));
    }
    let first = workspaces::workspaces_for_user(store, user.id)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::AuthorizationError,
                "you are not a member of any workspace; create one or accept an invitation",
            )
        })?;
    Ok((first.workspace.id, first.role))
}
