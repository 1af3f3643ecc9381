//! The audit log: who did what to which record, and from where. Entries are only ever
//! added.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::db::{now, on_db, ApiKeyId, AuditEntryId, Db, UserId, WorkspaceId};
use crate::page::{Page, Paged};
use crate::{on_pool, Store, StoreError};

/// One audit log entry.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    /// The entry's id.
    pub id: AuditEntryId,
    /// The workspace it happened in; `None` for account events (a login).
    pub workspace_id: Option<WorkspaceId>,
    /// The user who acted.
    pub actor_user_id: Option<UserId>,
    /// The API key they acted through, if any.
    pub actor_api_key_id: Option<ApiKeyId>,
    /// What happened, as a dotted name (`auth.login`, `api_key.create`, `video.delete`).
    pub action: String,
    /// The kind of record acted on (`video`).
    pub target_type: Option<String>,
    /// Its id.
    pub target_id: Option<String>,
    /// The client's address.
    pub ip: Option<String>,
    /// Anything else worth keeping (old and new values, a failure's reason).
    #[sqlx(json)]
    pub details: Value,
    /// When.
    pub created_at: DateTime<Utc>,
}

const AUDIT_COLUMNS: &str =
    "id, workspace_id, actor_user_id, actor_api_key_id, action, target_type, \
    target_id, ip, details, created_at";

/// A new audit log entry.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry<'a> {
    /// The workspace, when the event belongs to one.
    pub workspace_id: Option<WorkspaceId>,
    /// The user who acted.
    pub actor_user_id: Option<UserId>,
    /// The API key used.
    pub actor_api_key_id: Option<ApiKeyId>,
    /// What happened.
    pub action: &'a str,
    /// The kind of record acted on.
    pub target_type: Option<&'a str>,
    /// Its id.
    pub target_id: Option<String>,
    /// The client's address.
    pub ip: Option<&'a str>,
    /// Anything else worth keeping.
    pub details: Option<&'a Value>,
}

/// Adds an entry; pass the transaction of the change it records, so the two stand or fall
/// together.
pub async fn record(
    db: impl Into<Db<'_>>,
    entry: NewAuditEntry<'_>,
) -> Result<AuditEntry, StoreError> {
    let empty = Value::Object(Default::default());
    let sql = format!(
        "INSERT INTO audit_log (id, workspace_id, actor_user_id, actor_api_key_id, action, target_type, target_id, ip, details, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {AUDIT_COLUMNS}"
    );
    Ok(
        on_db!(db.into(), conn => sqlx::query_as::<_, AuditEntry>(&sql)
        .bind(AuditEntryId::new())
        .bind(entry.workspace_id)
        .bind(entry.actor_user_id)
        .bind(entry.actor_api_key_id)
        .bind(entry.action)
        .bind(entry.target_type)
        .bind(entry.target_id.as_deref())
        .bind(entry.ip)
        .bind(sqlx::types::Json(entry.details.unwrap_or(&empty)))
        .bind(now())
        .fetch_one(conn)
        .await)?,
    )
}

/// The workspace's entries, newest first; only those with `action` when it is given.
pub async fn list(
    store: &Store,
    workspace: WorkspaceId,
    action: Option<&str>,
    page: Page,
) -> Result<Paged<AuditEntry>, StoreError> {
    let conditions = "workspace_id = $1 AND ($2 IS NULL OR action = $2)";
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE {conditions} ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
    );
    let items = on_pool!(store, pool => sqlx::query_as::<_, AuditEntry>(&sql)
        .bind(workspace)
        .bind(action)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = format!("SELECT COUNT(*) FROM audit_log WHERE {conditions}");
    let total: i64 = on_pool!(store, pool => sqlx::query_scalar(&count)
        .bind(workspace)
        .bind(action)
        .fetch_one(pool)
        .await)?;
    Ok(Paged::new(items, total, page))
}

/// A user's own account events (logins, password changes) and everything they did,
/// newest first.
pub async fn list_for_user(
    store: &Store,
    user: UserId,
    page: Page,
) -> Result<Paged<AuditEntry>, StoreError> {
    let sql = format!(
        "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE actor_user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let items = on_pool!(store, pool => sqlx::query_as::<_, AuditEntry>(&sql)
        .bind(user)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = "SELECT COUNT(*) FROM audit_log WHERE actor_user_id = $1";
    let total: i64 =
        on_pool!(store, pool => sqlx::query_scalar(count).bind(user).fetch_one(pool).await)?;
    Ok(Paged::new(items, total, page))
}
