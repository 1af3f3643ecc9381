//! The credit ledger: grants add credits, work debits them, a failed job's debit is
//! refunded. The balance is the sum of the ledger, never a counter that could drift from
//! it.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use crate::db::{now, on_db, text_enum, CreditEntryId, Db, RenderId, UserId, VideoId, WorkspaceId};
use crate::page::{Page, Paged};
use crate::workspaces::lock_workspace;
use crate::{on_pool, Store, StoreError, Tx};

text_enum! {
    /// Why the balance moved.
    pub enum CreditKind {
        /// Credits added (plan, purchase, an admin's gift).
        Grant = "grant",
        /// Credits spent on work.
        Debit = "debit",
        /// A debit given back because its work failed.
        Refund = "refund",
    }
}

/// One line of the ledger.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CreditEntry {
    /// The entry's id.
    pub id: CreditEntryId,
    /// Its workspace.
    pub workspace_id: WorkspaceId,
    /// Change to the balance: positive for grants and refunds, negative for debits.
    pub delta: i64,
    /// Why.
    #[sqlx(try_from = "String")]
    pub kind: CreditKind,
    /// In words, for the user's statement.
    pub reason: String,
    /// The job that spent or returned the credits.
    pub job_id: Option<Uuid>,
    /// The render paid for.
    pub render_id: Option<RenderId>,
    /// The video paid for.
    pub video_id: Option<VideoId>,
    /// For a refund, the debit it gives back.
    pub refund_of: Option<CreditEntryId>,
    /// Who granted (for grants made by a person).
    pub actor_user_id: Option<UserId>,
    /// When.
    pub created_at: DateTime<Utc>,
}

const ENTRY_COLUMNS: &str = "id, workspace_id, delta, kind, reason, job_id, render_id, video_id, \
    refund_of, actor_user_id, created_at";

/// What a debit pays for, so a failure can find and refund it.
#[derive(Debug, Clone, Copy, Default)]
pub struct CreditRefs {
    /// The job doing the work.
    pub job_id: Option<Uuid>,
    /// The render paid for.
    pub render_id: Option<RenderId>,
    /// The video paid for.
    pub video_id: Option<VideoId>,
}

/// The workspace's balance.
pub async fn balance(store: &Store, workspace: WorkspaceId) -> Result<i64, StoreError> {
    // SUM over BIGINT is NUMERIC on PostgreSQL; the cast keeps one Rust type for both.
    let sql =
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM credit_ledger WHERE workspace_id = $1";
    Ok(
        on_pool!(store, pool => sqlx::query_scalar::<_, i64>(sql).bind(workspace).fetch_one(pool).await)?,
    )
}

async fn insert(
    db: Db<'_>,
    workspace: WorkspaceId,
    delta: i64,
    kind: CreditKind,
    reason: &str,
    refs: CreditRefs,
    actor: Option<UserId>,
) -> Result<CreditEntry, StoreError> {
    let sql = format!(
        "INSERT INTO credit_ledger (id, workspace_id, delta, kind, reason, job_id, render_id, video_id, actor_user_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING {ENTRY_COLUMNS}"
    );
    Ok(on_db!(db, conn => sqlx::query_as::<_, CreditEntry>(&sql)
        .bind(CreditEntryId::new())
        .bind(workspace)
        .bind(delta)
        .bind(kind.as_str())
        .bind(reason)
        .bind(refs.job_id)
        .bind(refs.render_id)
        .bind(refs.video_id)
        .bind(actor)
        .bind(now())
        .fetch_one(conn)
        .await)?)
}

fn positive(amount: i64) -> Result<(), StoreError> {
    if amount <= 0 {
        return Err(StoreError::Invalid(format!(
            "a credit amount must be positive, not {amount}"
        )));
    }
    Ok(())
}

/// Adds `amount` credits to the workspace.
pub async fn grant(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    amount: i64,
    reason: &str,
    actor: Option<UserId>,
) -> Result<CreditEntry, StoreError> {
    positive(amount)?;
    insert(
        db.into(),
        workspace,
        amount,
        CreditKind::Grant,
        reason,
        CreditRefs::default(),
        actor,
    )
    .await
}

/// Takes `amount` credits for work, in the transaction that enqueues the work.
/// [`StoreError::InsufficientCredits`] when the balance is short; the workspace row is held
/// meanwhile, so two requests cannot both spend the last credits.
pub async fn debit(
    tx: &mut Tx,
    workspace: WorkspaceId,
    amount: i64,
    reason: &str,
    refs: CreditRefs,
) -> Result<CreditEntry, StoreError> {
    positive(amount)?;
    if !lock_workspace(tx, workspace).await? {
        return Err(StoreError::NotFound { what: "workspace" });
    }
    let sql =
        "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM credit_ledger WHERE workspace_id = $1";
    let balance = crate::on_tx!(&mut *tx, conn => sqlx::query_scalar::<_, i64>(sql).bind(workspace).fetch_one(conn).await)?;
    if balance < amount {
        return Err(StoreError::InsufficientCredits {
            balance,
            needed: amount,
        });
    }
    insert(
        Db::Tx(tx),
        workspace,
        -amount,
        CreditKind::Debit,
        reason,
        refs,
        None,
    )
    .await
}

/// Gives back one of the workspace's debits. `None` when there is no such debit or it was
/// already refunded: a retried failure handler cannot refund twice.
pub async fn refund(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    debit: CreditEntryId,
    reason: &str,
) -> Result<Option<CreditEntry>, StoreError> {
    // `refund_of` is unique: the conflict, not a prior read, decides who refunds.
    let sql = format!(
        "INSERT INTO credit_ledger (id, workspace_id, delta, kind, reason, job_id, render_id, video_id, refund_of, created_at) \
         SELECT $1, workspace_id, -delta, 'refund', $3, job_id, render_id, video_id, id, $4 \
         FROM credit_ledger WHERE id = $2 AND workspace_id = $5 AND kind = 'debit' \
         ON CONFLICT (refund_of) DO NOTHING RETURNING {ENTRY_COLUMNS}"
    );
    Ok(
        on_db!(db.into(), conn => sqlx::query_as::<_, CreditEntry>(&sql)
        .bind(CreditEntryId::new())
        .bind(debit)
        .bind(reason)
        .bind(now())
        .bind(workspace)
        .fetch_optional(conn)
        .await)?,
    )
}

/// Gives back every debit a job took that is not refunded yet; the refunds made.
pub async fn refund_job(
    tx: &mut Tx,
    workspace: WorkspaceId,
    job_id: Uuid,
    reason: &str,
) -> Result<Vec<CreditEntry>, StoreError> {
    let sql = "SELECT d.id FROM credit_ledger d WHERE d.workspace_id = $1 AND d.job_id = $2 AND d.kind = 'debit' \
               AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.refund_of = d.id) ORDER BY d.id";
    let debits: Vec<CreditEntryId> = crate::on_tx!(&mut *tx, conn => sqlx::query_scalar(sql)
        .bind(workspace)
        .bind(job_id)
        .fetch_all(conn)
        .await)?;
    let mut refunds = Vec::with_capacity(debits.len());
    for debit in debits {
        if let Some(entry) = refund(&mut *tx, workspace, debit, reason).await? {
            refunds.push(entry);
        }
    }
    Ok(refunds)
}

/// The debits that paid for one of the workspace's renders, oldest first (what a cancel
/// finds the render's job and refund by).
pub async fn debits_for_render(
    store: &Store,
    workspace: WorkspaceId,
    render: RenderId,
) -> Result<Vec<CreditEntry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE workspace_id = $1 AND render_id = $2 \
         AND kind = 'debit' ORDER BY created_at, id"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, CreditEntry>(&sql)
        .bind(workspace)
        .bind(render)
        .fetch_all(pool)
        .await)?,
    )
}

/// Credits the workspace has spent on a video's own processing (its debits without a
/// render, less their refunds): what an ingest has already paid for.
pub async fn spent_on_video(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    video: VideoId,
) -> Result<i64, StoreError> {
    let sql = "SELECT CAST(COALESCE(SUM(delta), 0) AS BIGINT) FROM credit_ledger \
               WHERE workspace_id = $1 AND video_id = $2 AND render_id IS NULL AND kind IN ('debit', 'refund')";
    let net: i64 = on_db!(db.into(), conn => sqlx::query_scalar(sql)
        .bind(workspace)
        .bind(video)
        .fetch_one(conn)
        .await)?;
    Ok(-net)
}

/// Gives back every debit for a video's own processing (not its renders) that is not
/// refunded yet, whichever job took it; the refunds made.
pub async fn refund_video(
    tx: &mut Tx,
    workspace: WorkspaceId,
    video: VideoId,
    reason: &str,
) -> Result<Vec<CreditEntry>, StoreError> {
    let sql = "SELECT d.id FROM credit_ledger d WHERE d.workspace_id = $1 AND d.video_id = $2 \
               AND d.render_id IS NULL AND d.kind = 'debit' \
               AND NOT EXISTS (SELECT 1 FROM credit_ledger r WHERE r.refund_of = d.id) ORDER BY d.id";
    let debits: Vec<CreditEntryId> = crate::on_tx!(&mut *tx, conn => sqlx::query_scalar(sql)
        .bind(workspace)
        .bind(video)
        .fetch_all(conn)
        .await)?;
    let mut refunds = Vec::with_capacity(debits.len());
    for debit in debits {
        if let Some(entry) = refund(&mut *tx, workspace, debit, reason).await? {
            refunds.push(entry);
        }
    }
    Ok(refunds)
}

/// The workspace's ledger, newest first.
pub async fn ledger(
    store: &Store,
    workspace: WorkspaceId,
    page: Page,
) -> Result<Paged<CreditEntry>, StoreError> {
    let sql = format!(
        "SELECT {ENTRY_COLUMNS} FROM credit_ledger WHERE workspace_id = $1 \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    );
    let items = on_pool!(store, pool => sqlx::query_as::<_, CreditEntry>(&sql)
        .bind(workspace)
        .bind(page.limit())
        .bind(page.offset())
        .fetch_all(pool)
        .await)?;
    let count = "SELECT COUNT(*) FROM credit_ledger WHERE workspace_id = $1";
    let total: i64 =
        on_pool!(store, pool => sqlx::query_scalar(count).bind(workspace).fetch_one(pool).await)?;
    Ok(Paged::new(items, total, page))
}
