//! Users, sessions and API keys. The server hashes passwords (argon2id) and tokens; this
//! module stores and looks up the hashes, never a secret itself.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::db::{conflict, now, on_db, ApiKeyId, Db, SessionId, UserId, WorkspaceId};
use crate::{on_pool, Store, StoreError};

/// A user account, as the API shows it (no password hash).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct User {
    /// The user's id.
    pub id: UserId,
    /// Lower-cased address, unique among live accounts.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// Picture shown beside the name.
    pub avatar_url: Option<String>,
    /// When the address was confirmed, if it was.
    pub email_verified_at: Option<DateTime<Utc>>,
    /// When the account was made.
    pub created_at: DateTime<Utc>,
    /// Last change to the account.
    pub updated_at: DateTime<Utc>,
}

macro_rules! user_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "email, ",
            $p,
            "full_name, ",
            $p,
            "avatar_url, ",
            $p,
            "email_verified_at, ",
            $p,
            "created_at, ",
            $p,
            "updated_at"
        )
    };
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    /// Any case; stored as [`normalize_email`] gives it.
    pub email: &'a str,
    /// The argon2id hash the server computed.
    pub password_hash: &'a str,
    /// Display name.
    pub full_name: &'a str,
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate<'a> {
    /// A new display name.
    pub full_name: Option<&'a str>,
    /// A new picture, or `Some(None)` to remove it.
    pub avatar_url: Option<Option<&'a str>>,
}

/// The form every address is stored and looked up in, so `Ann@Example.com` and
/// `ann@example.com` are one account.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// Creates an account; [`StoreError::Conflict`] when a live account has the address.
pub async fn create_user(db: impl Into<Db<'_>>, new: NewUser<'_>) -> Result<User, StoreError> {
    let at = now();
    let sql = concat!(
        "INSERT INTO users (id, email, password_hash, full_name, created_at, updated_at) ",
        "VALUES ($1, $2, $3, $4, $5, $5) RETURNING ",
        user_columns!("")
    );
    on_db!(db.into(), conn => sqlx::query_as::<_, User>(sql)
        .bind(UserId::new())
        .bind(normalize_email(new.email))
        .bind(new.password_hash)
        .bind(new.full_name)
        .bind(at)
        .fetch_one(conn)
        .await)
    .map_err(conflict("an account with this email already exists"))
}

/// A live account by id.
pub async fn get_user(store: &Store, id: UserId) -> Result<Option<User>, StoreError> {
    let sql = concat!(
        "SELECT ",
        user_columns!(""),
        " FROM users WHERE id = $1 AND deleted_at IS NULL"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, User>(sql).bind(id).fetch_optional(pool).await)?)
}

/// A live account and its password hash, for signing in by email.
pub async fn user_for_login(
    store: &Store,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        password_hash: String,
    }
    let sql = concat!(
        "SELECT ",
        user_columns!(""),
        ", password_hash FROM users WHERE email = $1 AND deleted_at IS NULL"
    );
    let row = on_pool!(store, pool => sqlx::query_as::<_, Row>(sql)
        .bind(normalize_email(email))
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| (r.user, r.password_hash)))
}

/// Changes a live account's profile; `None` when there is no such account.
pub async fn update_user(
    db: impl Into<Db<'_>>,
    id: UserId,
    update: UserUpdate<'_>,
) -> Result<Option<User>, StoreError> {
    let sql = concat!(
        "UPDATE users SET full_name = COALESCE($2, full_name), ",
        "avatar_url = CASE WHEN $3 THEN $4 ELSE avatar_url END, updated_at = $5 ",
        "WHERE id = $1 AND deleted_at IS NULL RETURNING ",
        user_columns!("")
    );
    Ok(on_db!(db.into(), conn => sqlx::query_as::<_, User>(sql)
        .bind(id)
        .bind(update.full_name)
        .bind(update.avatar_url.is_some())
        .bind(update.avatar_url.flatten())
        .bind(now())
        .fetch_optional(conn)
        .await)?)
}

/// Replaces a live account's password hash; false when there is no such account.
pub async fn set_password_hash(
    db: impl Into<Db<'_>>,
    id: UserId,
    password_hash: &str,
) -> Result<bool, StoreError> {
    let sql =
        "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(password_hash)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Closes an account: it can no longer sign in, and its sessions and keys stop working at
/// once (their lookups require a live user). The row stays for the audit log.
pub async fn delete_user(db: impl Into<Db<'_>>, id: UserId) -> Result<bool, StoreError> {
    let sql =
        "UPDATE users SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// A signed-in browser or API client.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Session {
    /// The session's id (not its token).
    pub id: SessionId,
    /// Who signed in.
    pub user_id: UserId,
    /// Address the session began from.
    pub ip: Option<String>,
    /// Client that began it.
    pub user_agent: Option<String>,
    /// When it began.
    pub created_at: DateTime<Utc>,
    /// When it was last used (refreshed at most once a minute).
    pub last_seen_at: DateTime<Utc>,
    /// After this, the token no longer signs anyone in.
    pub expires_at: DateTime<Utc>,
}

const SESSION_COLUMNS: &str = "id, user_id, ip, user_agent, created_at, last_seen_at, expires_at";

/// A new session.
#[derive(Debug, Clone)]
pub struct NewSession<'a> {
    /// Who signed in.
    pub user_id: UserId,
    /// Hash of the token handed to the client.
    pub token_hash: &'a str,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// Client address.
    pub ip: Option<&'a str>,
    /// Client name.
    pub user_agent: Option<&'a str>,
}

/// Starts a session.
pub async fn create_session(
    db: impl Into<Db<'_>>,
    new: NewSession<'_>,
) -> Result<Session, StoreError> {
    let at = now();
    let sql = format!(
        "INSERT INTO sessions (id, user_id, token_hash, ip, user_agent, created_at, last_seen_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING {SESSION_COLUMNS}"
    );
    Ok(on_db!(db.into(), conn => sqlx::query_as::<_, Session>(&sql)
        .bind(SessionId::new())
        .bind(new.user_id)
        .bind(new.token_hash)
        .bind(new.ip)
        .bind(new.user_agent)
        .bind(at)
        .bind(new.expires_at)
        .fetch_one(conn)
        .await)?)
}

/// The session a token hash opens and its user: `None` when the token is unknown, the
/// session expired or the account was closed.
pub async fn session_by_token_hash(
    store: &Store,
    token_hash: &str,
) -> Result<Option<(Session, User)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        session_id: SessionId,
        session_ip: Option<String>,
        session_user_agent: Option<String>,
        session_created_at: DateTime<Utc>,
        session_last_seen_at: DateTime<Utc>,
        session_expires_at: DateTime<Utc>,
    }
    let sql = concat!(
        "SELECT ",
        user_columns!("u."),
        ", s.id AS session_id, s.ip AS session_ip, s.user_agent AS session_user_agent, ",
        "s.created_at AS session_created_at, s.last_seen_at AS session_last_seen_at, ",
        "s.expires_at AS session_expires_at ",
        "FROM sessions s JOIN users u ON u.id = s.user_id ",
        "WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.deleted_at IS NULL"
    );
    let row = on_pool!(store, pool => sqlx::query_as::<_, Row>(sql)
        .bind(token_hash)
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| {
        let session = Session {
            id: r.session_id,
            user_id: r.user.id,
            ip: r.session_ip,
            user_agent: r.session_user_agent,
            created_at: r.session_created_at,
            last_seen_at: r.session_last_seen_at,
            expires_at: r.session_expires_at,
        };
        (session, r.user)
    }))
}

/// How stale `last_seen_at` may get before a request writes it again: one write a minute
/// per client instead of one per request.
const TOUCH_EVERY: Duration = Duration::minutes(1);

/// Records that a session was used and moves its expiry to `expires_at` (sliding
/// sessions). Skips the write when the session was touched in the last minute.
pub async fn touch_session(
    db: impl Into<Db<'_>>,
    id: SessionId,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let at = now();
    let sql = "UPDATE sessions SET last_seen_at = $2, expires_at = $3 \
               WHERE id = $1 AND last_seen_at < $4 AND expires_at > $2";
    on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(at)
        .bind(expires_at)
        .bind(at - TOUCH_EVERY)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends the session a token hash opens (sign out); false when there was none.
pub async fn delete_session(db: impl Into<Db<'_>>, token_hash: &str) -> Result<bool, StoreError> {
    let done = on_db!(db.into(), conn => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Ends every session of a user (password change, "sign out everywhere"); how many.
pub async fn delete_user_sessions(db: impl Into<Db<'_>>, user: UserId) -> Result<u64, StoreError> {
    let done = on_db!(db.into(), conn => sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// Removes expired sessions (housekeeping); how many.
pub async fn delete_expired_sessions(db: impl Into<Db<'_>>) -> Result<u64, StoreError> {
    let done = on_db!(db.into(), conn => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done)
}

/// An API key as its owner sees it: the prefix identifies it, the secret is never stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiKey {
    /// The key's id.
    pub id: ApiKeyId,
    /// The workspace the key acts in.
    pub workspace_id: WorkspaceId,
    /// The user the key acts as.
    pub user_id: UserId,
    /// The owner's label for it.
    pub name: String,
    /// The first characters of the key, to tell keys apart.
    pub prefix: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last authenticated a request (to the minute).
    pub last_used_at: Option<DateTime<Utc>>,
    /// After this, it no longer works.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked key never works again.
    pub revoked_at: Option<DateTime<Utc>>,
}

macro_rules! api_key_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "workspace_id, ",
            $p,
            "user_id, ",
            $p,
            "name, ",
            $p,
            "prefix, ",
            $p,
            "created_at, ",
            $p,
            "last_used_at, ",
            $p,
            "expires_at, ",
            $p,
            "revoked_at"
        )
    };
}

/// A new API key.
#[derive(Debug, Clone)]
pub struct NewApiKey<'a> {
    /// The workspace it acts in.
    pub workspace_id: WorkspaceId,
    /// The user it acts as.
    pub user_id: UserId,
    /// The owner's label.
    pub name: &'a str,
    /// The key's first characters, shown in lists.
    pub prefix: &'a str,
    /// Hash of the whole key.
    pub key_hash: &'a str,
    /// When it stops working, if ever.
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a new API key.
pub async fn create_api_key(
    db: impl Into<Db<'_>>,
    new: NewApiKey<'_>,
) -> Result<ApiKey, StoreError> {
    let sql = concat!(
        "INSERT INTO api_keys (id, workspace_id, user_id, name, prefix, key_hash, created_at, expires_at) ",
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
        api_key_columns!("")
    );
    on_db!(db.into(), conn => sqlx::query_as::<_, ApiKey>(sql)
        .bind(ApiKeyId::new())
        .bind(new.workspace_id)
        .bind(new.user_id)
        .bind(new.name)
        .bind(new.prefix)
        .bind(new.key_hash)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(conn)
        .await)
    .map_err(conflict("this API key already exists"))
}

/// The workspace's API keys, revoked ones included, newest first.
pub async fn list_api_keys(
    store: &Store,
    workspace: WorkspaceId,
) -> Result<Vec<ApiKey>, StoreError> {
    let sql = concat!(
        "SELECT ",
        api_key_columns!(""),
        " FROM api_keys WHERE workspace_id = $1 ORDER BY created_at DESC, id DESC"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, ApiKey>(sql)
        .bind(workspace)
        .fetch_all(pool)
        .await)?)
}

/// Revokes one of the workspace's keys; false when it has no such live key.
pub async fn revoke_api_key(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: ApiKeyId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE api_keys SET revoked_at = $3 WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(workspace)
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// What a working API key authenticates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiKeyAuth {
    /// The key.
    pub key: ApiKey,
    /// The user it acts as.
    pub user: User,
}

/// The key a hash opens, when it still works: not revoked, not expired, its user's
/// account open, its workspace live and the user still a member of it.
pub async fn api_key_by_hash(
    store: &Store,
    key_hash: &str,
) -> Result<Option<ApiKeyAuth>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: User,
        key_id: ApiKeyId,
        key_workspace_id: WorkspaceId,
        key_name: String,
        key_prefix: String,
        key_created_at: DateTime<Utc>,
        key_last_used_at: Option<DateTime<Utc>>,
        key_expires_at: Option<DateTime<Utc>>,
    }
    let sql = concat!(
        "SELECT ",
        user_columns!("u."),
        ", k.id AS key_id, k.workspace_id AS key_workspace_id, k.name AS key_name, ",
        "k.prefix AS key_prefix, k.created_at AS key_created_at, ",
        "k.last_used_at AS key_last_used_at, k.expires_at AS key_expires_at ",
        "FROM api_keys k ",
        "JOIN users u ON u.id = k.user_id ",
        "JOIN workspaces w ON w.id = k.workspace_id ",
        "JOIN memberships m ON m.workspace_id = k.workspace_id AND m.user_id = k.user_id ",
        "WHERE k.key_hash = $1 AND k.revoked_at IS NULL ",
        "AND (k.expires_at IS NULL OR k.expires_at > $2) ",
        "AND u.deleted_at IS NULL AND w.deleted_at IS NULL"
    );
    let row = on_pool!(store, pool => sqlx::query_as::<_, Row>(sql)
        .bind(key_hash)
        .bind(now())
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|r| ApiKeyAuth {
        key: ApiKey {
            id: r.key_id,
            workspace_id: r.key_workspace_id,
            user_id: r.user.id,
            name: r.key_name,
            prefix: r.key_prefix,
            created_at: r.key_created_at,
            last_used_at: r.key_last_used_at,
            expires_at: r.key_expires_at,
            revoked_at: None,
        },
        user: r.user,
    }))
}

/// Records that a key authenticated a request; at most one write a minute per key.
pub async fn touch_api_key(db: impl Into<Db<'_>>, id: ApiKeyId) -> Result<(), StoreError> {
    let at = now();
    let sql = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)";
    on_db!(db.into(), conn => sqlx::query(sql)
        .bind(id)
        .bind(at)
        .bind(at - TOUCH_EVERY)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_compare_without_case_or_spaces() {
        assert_eq!(normalize_email("  Ann@Example.COM "), "ann@example.com");
        assert_eq!(normalize_email("ann@example.com"), "ann@example.com");
    }
}
