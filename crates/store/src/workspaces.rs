//! Workspaces (tenants), their members and roles, and invitations.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::accounts::{normalize_email, User};
use crate::db::{conflict, now, on_db, text_enum, Db, InvitationId, UserId, WorkspaceId};
use crate::{on_pool, Store, StoreError, Tx};

text_enum! {
    /// What a member may do in a workspace.
    pub enum Role {
        /// Everything, including deleting the workspace and managing owners.
        Owner = "owner",
        /// Manages members, keys and content.
        Admin = "admin",
        /// Works with content.
        Member = "member",
    }
}

impl Role {
    /// Whether this role may do what `needed` may.
    pub fn at_least(self, needed: Role) -> bool {
        self.rank() >= needed.rank()
    }

    fn rank(self) -> u8 {
        match self {
            Role::Member => 0,
            Role::Admin => 1,
            Role::Owner => 2,
        }
    }
}

/// A workspace: the unit every video, clip and credit belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Workspace {
    /// The workspace's id.
    pub id: WorkspaceId,
    /// Display name.
    pub name: String,
    /// URL-safe name, unique among live workspaces.
    pub slug: String,
    /// Billing plan.
    pub plan: String,
    /// Workspace-wide defaults (e.g. how many clips to render automatically).
    #[sqlx(json)]
    pub settings: Value,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

macro_rules! workspace_columns {
    ($p:literal) => {
        concat!(
            $p,
            "id, ",
            $p,
            "name, ",
            $p,
            "slug, ",
            $p,
            "plan, ",
            $p,
            "settings, ",
            $p,
            "created_at, ",
            $p,
            "updated_at"
        )
    };
}

/// A new workspace and the user who owns it.
#[derive(Debug, Clone)]
pub struct NewWorkspace<'a> {
    /// Display name.
    pub name: &'a str,
    /// URL-safe name.
    pub slug: &'a str,
    /// Becomes its first owner.
    pub owner: UserId,
}

/// Changes to a workspace; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WorkspaceUpdate<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// A new slug.
    pub slug: Option<&'a str>,
    /// New settings, replacing the old.
    pub settings: Option<&'a Value>,
}

/// Creates a workspace with `owner` as its owner (two rows, hence the transaction);
/// [`StoreError::Conflict`] when the slug is taken.
pub async fn create_workspace(tx: &mut Tx, new: NewWorkspace<'_>) -> Result<Workspace, StoreError> {
    let at = now();
    let sql = concat!(
        "INSERT INTO workspaces (id, name, slug, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) RETURNING ",
        workspace_columns!("")
    );
    let workspace = on_db!(Db::Tx(&mut *tx), conn => sqlx::query_as::<_, Workspace>(sql)
        .bind(WorkspaceId::new())
        .bind(new.name)
        .bind(new.slug)
        .bind(at)
        .fetch_one(conn)
        .await)
    .map_err(conflict("a workspace with this slug already exists"))?;
    add_member(&mut *tx, workspace.id, new.owner, Role::Owner).await?;
    Ok(workspace)
}

/// A live workspace.
pub async fn get_workspace(
    store: &Store,
    id: WorkspaceId,
) -> Result<Option<Workspace>, StoreError> {
    let sql = concat!(
        "SELECT ",
        workspace_columns!(""),
        " FROM workspaces WHERE id = $1 AND deleted_at IS NULL"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, Workspace>(sql).bind(id).fetch_optional(pool).await)?,
    )
}

/// A workspace with the caller's role in it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct WorkspaceMembership {
    /// The workspace.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub workspace: Workspace,
    /// The user's role in it.
    #[sqlx(try_from = "String")]
    pub role: Role,
}

/// The live workspaces a user belongs to, oldest first (the first is their default).
pub async fn workspaces_for_user(
    store: &Store,
    user: UserId,
) -> Result<Vec<WorkspaceMembership>, StoreError> {
    let sql = concat!(
        "SELECT ",
        workspace_columns!("w."),
        ", m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id ",
        "WHERE m.user_id = $1 AND w.deleted_at IS NULL ORDER BY w.created_at, w.id"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, WorkspaceMembership>(sql)
        .bind(user)
        .fetch_all(pool)
        .await)?,
    )
}

/// Changes a live workspace; `None` when there is none.
pub async fn update_workspace(
    db: impl Into<Db<'_>>,
    id: WorkspaceId,
    update: WorkspaceUpdate<'_>,
) -> Result<Option<Workspace>, StoreError> {
    let sql = concat!(
        "UPDATE workspaces SET name = COALESCE($2, name), slug = COALESCE($3, slug), ",
        "settings = COALESCE($4, settings), updated_at = $5 ",
        "WHERE id = $1 AND deleted_at IS NULL RETURNING ",
        workspace_columns!("")
    );
    on_db!(db.into(), conn => sqlx::query_as::<_, Workspace>(sql)
        .bind(id)
        .bind(update.name)
        .bind(update.slug)
        .bind(update.settings.map(sqlx::types::Json))
        .bind(now())
        .fetch_optional(conn)
        .await)
    .map_err(conflict("a workspace with this slug already exists"))
}

/// Deletes a workspace (softly: everything in it disappears from every query, the rows stay
/// for recovery); false when there is no live one.
pub async fn delete_workspace(db: impl Into<Db<'_>>, id: WorkspaceId) -> Result<bool, StoreError> {
    let sql = "UPDATE workspaces SET deleted_at = $2, updated_at = $2 WHERE id = $1 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Holds the workspace's row until the transaction ends, so checks that span rows (the
/// credit balance, the last owner) cannot interleave. SQLite transactions already hold the
/// database's write lock. False when there is no live workspace.
pub(crate) async fn lock_workspace(tx: &mut Tx, id: WorkspaceId) -> Result<bool, StoreError> {
    let found = match tx {
        Tx::Sqlite(t) => {
            sqlx::query("SELECT 1 FROM workspaces WHERE id = $1 AND deleted_at IS NULL")
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
                .is_some()
        }
        Tx::Postgres(t) => {
            sqlx::query("SELECT 1 FROM workspaces WHERE id = $1 AND deleted_at IS NULL FOR UPDATE")
                .bind(id)
                .fetch_optional(&mut **t)
                .await?
                .is_some()
        }
    };
    Ok(found)
}

/// The user's role in a live workspace; `None` when they are not a member (or it is gone).
pub async fn role(
    store: &Store,
    workspace: WorkspaceId,
    user: UserId,
) -> Result<Option<Role>, StoreError> {
    let sql = "SELECT m.role FROM memberships m JOIN workspaces w ON w.id = m.workspace_id \
               WHERE m.workspace_id = $1 AND m.user_id = $2 AND w.deleted_at IS NULL";
    let role: Option<String> = on_pool!(store, pool => sqlx::query_scalar(sql)
        .bind(workspace)
        .bind(user)
        .fetch_optional(pool)
        .await)?;
    Ok(role.map(|r| r.parse()).transpose()?)
}

/// Adds a member; [`StoreError::Conflict`] when they already are one.
pub async fn add_member(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    user: UserId,
    role: Role,
) -> Result<(), StoreError> {
    let sql = "INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)";
    on_db!(db.into(), conn => sqlx::query(sql)
        .bind(workspace)
        .bind(user)
        .bind(role.as_str())
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))
    .map_err(conflict("this user is already a member of the workspace"))?;
    Ok(())
}

/// A member of a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Member {
    /// The member's account.
    #[sqlx(flatten)]
    #[serde(flatten)]
    pub user: User,
    /// Their role.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// When they joined.
    pub joined_at: DateTime<Utc>,
}

/// The workspace's members with open accounts, in the order they joined.
pub async fn list_members(
    store: &Store,
    workspace: WorkspaceId,
) -> Result<Vec<Member>, StoreError> {
    let sql =
        "SELECT u.id, u.email, u.full_name, u.avatar_url, u.email_verified_at, u.created_at, \
               u.updated_at, m.role, m.created_at AS joined_at \
               FROM memberships m JOIN users u ON u.id = m.user_id \
               WHERE m.workspace_id = $1 AND u.deleted_at IS NULL ORDER BY m.created_at, u.id";
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, Member>(sql).bind(workspace).fetch_all(pool).await)?,
    )
}

/// How many owners the workspace has.
async fn owner_count(tx: &mut Tx, workspace: WorkspaceId) -> Result<i64, StoreError> {
    let sql = "SELECT COUNT(*) FROM memberships WHERE workspace_id = $1 AND role = 'owner'";
    Ok(
        crate::on_tx!(tx, conn => sqlx::query_scalar::<_, i64>(sql).bind(workspace).fetch_one(conn).await)?,
    )
}

/// Changes a member's role; false when they are not a member. Refuses
/// ([`StoreError::Conflict`]) to leave the workspace without an owner.
pub async fn set_role(
    tx: &mut Tx,
    workspace: WorkspaceId,
    user: UserId,
    role: Role,
) -> Result<bool, StoreError> {
    if !lock_workspace(tx, workspace).await? {
        return Ok(false);
    }
    let sql = "UPDATE memberships SET role = $3, updated_at = $4 WHERE workspace_id = $1 AND user_id = $2";
    let done = crate::on_tx!(tx, conn => sqlx::query(sql)
        .bind(workspace)
        .bind(user)
        .bind(role.as_str())
        .bind(now())
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    if owner_count(tx, workspace).await? == 0 {
        return Err(StoreError::Conflict {
            what: "a workspace needs at least one owner",
        });
    }
    Ok(done == 1)
}

/// Removes a member; false when they are not one. Refuses ([`StoreError::Conflict`]) to
/// remove the last owner.
pub async fn remove_member(
    tx: &mut Tx,
    workspace: WorkspaceId,
    user: UserId,
) -> Result<bool, StoreError> {
    if !lock_workspace(tx, workspace).await? {
        return Ok(false);
    }
    let sql = "DELETE FROM memberships WHERE workspace_id = $1 AND user_id = $2";
    let done = crate::on_tx!(tx, conn => sqlx::query(sql).bind(workspace).bind(user).execute(conn).await.map(|r| r.rows_affected()))?;
    if owner_count(tx, workspace).await? == 0 {
        return Err(StoreError::Conflict {
            what: "a workspace needs at least one owner",
        });
    }
    Ok(done == 1)
}

/// An invitation to join a workspace.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Invitation {
    /// The invitation's id.
    pub id: InvitationId,
    /// The workspace to join.
    pub workspace_id: WorkspaceId,
    /// Who was invited.
    pub email: String,
    /// The role they get.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Who invited them.
    pub invited_by: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
    /// After this, the link no longer works.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
}

const INVITATION_COLUMNS: &str =
    "id, workspace_id, email, role, invited_by, created_at, expires_at, accepted_at";

/// A new invitation.
#[derive(Debug, Clone)]
pub struct NewInvitation<'a> {
    /// Who is invited.
    pub email: &'a str,
    /// The role they will get.
    pub role: Role,
    /// Hash of the token in the invitation link.
    pub token_hash: &'a str,
    /// Who invites.
    pub invited_by: UserId,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// Invites an address; [`StoreError::Conflict`] when it already has an open invitation.
pub async fn create_invitation(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    new: NewInvitation<'_>,
) -> Result<Invitation, StoreError> {
    let sql = format!(
        "INSERT INTO invitations (id, workspace_id, email, role, token_hash, invited_by, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {INVITATION_COLUMNS}"
    );
    on_db!(db.into(), conn => sqlx::query_as::<_, Invitation>(&sql)
        .bind(InvitationId::new())
        .bind(workspace)
        .bind(normalize_email(new.email))
        .bind(new.role.as_str())
        .bind(new.token_hash)
        .bind(new.invited_by)
        .bind(now())
        .bind(new.expires_at)
        .fetch_one(conn)
        .await)
    .map_err(conflict("this address already has an open invitation"))
}

/// The workspace's invitations not yet accepted, newest first.
pub async fn list_invitations(
    store: &Store,
    workspace: WorkspaceId,
) -> Result<Vec<Invitation>, StoreError> {
    let sql = format!(
        "SELECT {INVITATION_COLUMNS} FROM invitations WHERE workspace_id = $1 AND accepted_at IS NULL \
         ORDER BY created_at DESC, id DESC"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, Invitation>(&sql).bind(workspace).fetch_all(pool).await)?,
    )
}

/// Withdraws an open invitation; false when the workspace has no such open invitation.
pub async fn revoke_invitation(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: InvitationId,
) -> Result<bool, StoreError> {
    let sql = "DELETE FROM invitations WHERE id = $1 AND workspace_id = $2 AND accepted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(workspace).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Accepts the open, unexpired invitation a token hash names: `user` joins with its role
/// (keeping their role if they were already a member). `None` when the link is unknown,
/// used, expired or its workspace is gone.
pub async fn accept_invitation(
    tx: &mut Tx,
    token_hash: &str,
    user: UserId,
) -> Result<Option<Invitation>, StoreError> {
    let at = now();
    let sql = format!(
        "UPDATE invitations SET accepted_at = $2 WHERE token_hash = $1 AND accepted_at IS NULL \
         AND expires_at > $2 AND workspace_id IN (SELECT id FROM workspaces WHERE deleted_at IS NULL) \
         RETURNING {INVITATION_COLUMNS}"
    );
    let invitation = crate::on_tx!(&mut *tx, conn => sqlx::query_as::<_, Invitation>(&sql)
        .bind(token_hash)
        .bind(at)
        .fetch_optional(conn)
        .await)?;
    let Some(invitation) = invitation else {
        return Ok(None);
    };
    let sql = "INSERT INTO memberships (workspace_id, user_id, role, created_at, updated_at) \
               VALUES ($1, $2, $3, $4, $4) ON CONFLICT (workspace_id, user_id) DO NOTHING";
    crate::on_tx!(&mut *tx, conn => sqlx::query(sql)
        .bind(invitation.workspace_id)
        .bind(user)
        .bind(invitation.role.as_str())
        .bind(at)
        .execute(conn)
        .await.map(|r| r.rows_affected()))?;
    Ok(Some(invitation))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_rank_owner_over_admin_over_member() {
        assert!(Role::Owner.at_least(Role::Admin));
        assert!(Role::Admin.at_least(Role::Admin));
        assert!(!Role::Member.at_least(Role::Admin));
        assert!(!Role::Admin.at_least(Role::Owner));
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
        }
        assert!("superuser".parse::<Role>().is_err());
    }
}
