//! The workspace's account: its credit balance and ledger, its jobs, the workspaces a user
//! belongs to with their members and roles, and its projects.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use clipforge_store::accounts;
use clipforge_store::projects::{self, NewProject, ProjectUpdate};
use clipforge_store::workspaces::{self, NewWorkspace, Role};
use clipforge_store::{credits, Job, Page, ProjectId, UserId, WorkspaceId};
use serde::Deserialize;
use serde_json::{json, Value};

use super::clips::{nullable, Problems};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};
use crate::pagination::{PageRequest, Pagination};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/credits", get(show_credits))
        .route("/jobs/{id}", get(show_job))
        .route("/workspaces", get(list_workspaces).post(create_workspace))
        .route(
            "/workspaces/{id}/members",
            get(list_members).post(add_member),
        )
        .route(
            "/workspaces/{id}/members/{user_id}",
            put(change_role).delete(remove_member),
        )
        .route("/projects", get(list_projects).post(create_project))
        .route(
            "/projects/{id}",
            get(show_project).put(update_project).delete(delete_project),
        )
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

async fn show_credits(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let balance = credits::balance(state.store(), caller.workspace).await?;
    let ledger = credits::ledger(
        state.store(),
        caller.workspace,
        Page::new(page.page, page.per_page),
    )
    .await?;
    Ok(Json(json!({
        "balance": balance,
        "ledger": ledger.items,
        "pagination": Pagination::new(page, ledger.total),
    })))
}

/// A job as a client follows it; the payload and lease details stay internal.
fn job_view(job: &Job) -> Value {
    json!({
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": job.progress,
        "current_step": job.step,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "last_error": job.last_error,
        "run_at": job.run_at,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
    })
}

async fn show_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::not_found("job"))?;
    let job = state
        .queue()
        .get_in_workspace(id, caller.workspace.0)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    Ok(Json(json!({ "job": job_view(&job) })))
}

async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let all = workspaces::workspaces_for_user(state.store(), caller.user_id()).await?;
    Ok(Json(json!({ "workspaces": all })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateWorkspace {
    name: String,
}

/// A URL-safe name: the display name's letters and digits, and a random tail so two teams
/// may share a name.
fn slug(name: &str) -> String {
    let mut base: String = name
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    base = base
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    base.truncate(40);
    // The end of a UUIDv7 is random; its start is the clock.
    let tail = uuid::Uuid::now_v7().simple().to_string();
    format!("{}-{}", base.trim_end_matches('-'), &tail[24..])
        .trim_start_matches('-')
        .to_string()
}

async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateWorkspace>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(ApiError::field("name", "must be 1-100 characters"));
    }
    let mut tx = state.store().begin().await?;
    let workspace = workspaces::create_workspace(
        &mut tx,
        NewWorkspace {
            name,
            slug: &slug(name),
            owner: caller.user_id(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "workspace": workspace, "role": Role::Owner })),
    ))
}

/// Workspace `raw` and the caller's role in it; 404 when they are not a member, so
/// strangers cannot tell a workspace exists.
async fn membership(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<(WorkspaceId, Role), ApiError> {
    let id: WorkspaceId = raw.parse().map_err(|_| ApiError::not_found("workspace"))?;
    let role = workspaces::role(state.store(), id, caller.user_id())
        .await?
        .ok_or_else(|| ApiError::not_found("workspace"))?;
    Ok((id, role))
}

fn require(role: Role, needed: Role) -> Result<(), ApiError> {
    if role.at_least(needed) {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::AuthorizationError,
            format!("this needs the {needed} role in the workspace"),
        ))
    }
}

async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (id, _) = membership(&state, &caller, &id).await?;
    let members = workspaces::list_members(state.store(), id).await?;
    Ok(Json(json!({ "members": members })))
}

fn parse_role(raw: &str) -> Result<Role, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::field("role", "must be owner, admin or member"))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AddMember {
    email: String,
    role: String,
}

async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (id, mine) = membership(&state, &caller, &id).await?;
    require(mine, Role::Admin)?;
    let role = parse_role(&body.role)?;
    // Only an owner makes owners: an admin cannot raise anyone above themselves.
    require(mine, role)?;
    let (user, _) = accounts::user_for_login(state.store(), &body.email)
        .await?
        .ok_or_else(|| ApiError::not_found("account with that email"))?;
    workspaces::add_member(state.store(), id, user.id, role).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "member": { "user_id": user.id, "email": user.email, "role": role } })),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRole {
    role: String,
}

async fn member_target(
    state: &AppState,
    caller: &Caller,
    workspace: &str,
    user: &str,
) -> Result<(WorkspaceId, Role, UserId, Role), ApiError> {
    let (id, mine) = membership(state, caller, workspace).await?;
    require(mine, Role::Admin)?;
    let user: UserId = user.parse().map_err(|_| ApiError::not_found("member"))?;
    let theirs = workspaces::role(state.store(), id, user)
        .await?
        .ok_or_else(|| ApiError::not_found("member"))?;
    // An admin cannot demote or remove an owner.
    require(mine, theirs)?;
    Ok((id, mine, user, theirs))
}

async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeRole>,
) -> Result<Json<Value>, ApiError> {
    let (id, mine, user, _) = member_target(&state, &caller, &id, &user).await?;
    let role = parse_role(&body.role)?;
    require(mine, role)?;
    let mut tx = state.store().begin().await?;
    if !workspaces::set_role(&mut tx, id, user, role).await? {
        return Err(ApiError::not_found("member"));
    }
    tx.commit().await?;
    Ok(Json(json!({ "member": { "user_id": user, "role": role } })))
}

async fn remove_member(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let (id, _, user, _) = member_target(&state, &caller, &id, &user).await?;
    let mut tx = state.store().begin().await?;
    if !workspaces::remove_member(&mut tx, id, user).await? {
        return Err(ApiError::not_found("member"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn project_id(raw: &str) -> Result<ProjectId, ApiError> {
    raw.parse().map_err(|_| ApiError::not_found("project"))
}

fn check_project(problems: &mut Problems, name: Option<&str>, settings: Option<&Value>) {
    if let Some(name) = name {
        let n = name.trim().chars().count();
        if n == 0 || n > 100 {
            problems.add("name", "must be 1-100 characters");
        }
    }
    if let Some(settings) = settings {
        if !settings.is_object() {
            problems.add("settings", "must be an object");
        }
    }
}

async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let found = projects::list(
        state.store(),
        caller.workspace,
        Page::new(page.page, page.per_page),
    )
    .await?;
    Ok(Json(json!({
        "projects": found.items,
        "pagination": Pagination::new(page, found.total),
    })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateProject {
    name: String,
    description: Option<String>,
    settings: Option<Value>,
}

async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut problems = Problems::default();
    check_project(&mut problems, Some(&body.name), body.settings.as_ref());
    problems.finish()?;
    let empty = json!({});
    let project = projects::create(
        state.store(),
        caller.workspace,
        NewProject {
            name: body.name.trim(),
            description: body.description.as_deref(),
            settings: body.settings.as_ref().unwrap_or(&empty),
            created_by: Some(caller.user_id()),
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(json!({ "project": project }))))
}

async fn show_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let project = projects::get(state.store(), caller.workspace, project_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(json!({ "project": project })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateProject {
    name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    description: Option<Option<String>>,
    settings: Option<Value>,
}

async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateProject>,
) -> Result<Json<Value>, ApiError> {
    let id = project_id(&id)?;
    let mut problems = Problems::default();
    check_project(&mut problems, body.name.as_deref(), body.settings.as_ref());
    problems.finish()?;
    let project = projects::update(
        state.store(),
        caller.workspace,
        id,
        ProjectUpdate {
            name: body.name.as_deref().map(str::trim),
            description: body.description.as_ref().map(|d| d.as_deref()),
            settings: body.settings.as_ref(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(json!({ "project": project })))
}

async fn delete_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = project_id(&id)?;
    let mut tx = state.store().begin().await?;
    if !projects::delete(&mut tx, caller.workspace, id).await? {
        return Err(ApiError::not_found("project"));
    }
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
