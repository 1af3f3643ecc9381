//! The workspace's account: its credit balance and ledger, its jobs, the workspaces a user
//! belongs to with their members and roles, and its projects.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_store::accounts;
use clipforge_store::credits::CreditEntry;
use clipforge_store::projects::{self, NewProject, Project, ProjectUpdate};
use clipforge_store::workspaces::{
    self, Member, NewWorkspace, Role, Workspace, WorkspaceMembership,
};
use clipforge_store::{credits, Job, JobStatus, Page, ProjectId, UserId, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, OpenApi, ToSchema};

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

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(
    show_credits,
    show_job,
    list_workspaces,
    create_workspace,
    list_members,
    add_member,
    change_role,
    remove_member,
    list_projects,
    create_project,
    show_project,
    update_project,
    delete_project
))]
pub(super) struct Doc;

/// A path's workspace id.
const WORKSPACE_ID: &str = "The workspace's id";

/// The balance and one page of the ledger.
#[derive(Serialize, ToSchema)]
struct Credits {
    /// Credits left.
    balance: i64,
    /// Grants, debits and refunds, newest first.
    #[schema(value_type = Vec<Object>)]
    ledger: Vec<CreditEntry>,
    pagination: Pagination,
}

/// A job as a client follows it; the payload and lease details stay internal.
#[derive(Serialize, ToSchema)]
struct JobView {
    id: uuid::Uuid,
    /// `ingest`, `transcribe`, `suggest`, `render`, ...
    kind: String,
    #[schema(value_type = String, example = "running")]
    status: JobStatus,
    /// 0-100.
    progress: i32,
    current_step: Option<String>,
    attempts: i32,
    max_attempts: i32,
    last_error: Option<String>,
    run_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
struct OneJob {
    job: JobView,
}

#[derive(Serialize, ToSchema)]
struct WorkspaceList {
    /// With the caller's role in each.
    #[schema(value_type = Vec<Object>)]
    workspaces: Vec<WorkspaceMembership>,
}

#[derive(Serialize, ToSchema)]
struct WorkspaceCreated {
    #[schema(value_type = Object)]
    workspace: Workspace,
    /// Always `owner`.
    #[schema(value_type = String)]
    role: Role,
}

#[derive(Serialize, ToSchema)]
struct MemberList {
    #[schema(value_type = Vec<Object>)]
    members: Vec<Member>,
}

/// A member after an add or a role change (`email` only after an add).
#[derive(Serialize, ToSchema)]
struct OneMember {
    member: MemberView,
}

#[derive(Serialize, ToSchema)]
struct MemberView {
    #[schema(value_type = uuid::Uuid)]
    user_id: UserId,
    #[serde(skip_serializing_if = "Option::is_none")]
    email: Option<String>,
    #[schema(value_type = String, example = "member")]
    role: Role,
}

#[derive(Serialize, ToSchema)]
struct ProjectList {
    #[schema(value_type = Vec<Object>)]
    projects: Vec<Project>,
    pagination: Pagination,
}

#[derive(Serialize, ToSchema)]
struct OneProject {
    #[schema(value_type = Object)]
    project: Project,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// The workspace's credit balance and ledger.
#[utoipa::path(get, path = "/credits", tag = "account", params(PageQuery),
    responses((status = 200, description = "Balance and ledger", body = Credits)))]
async fn show_credits(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<Credits>, ApiError> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let balance = credits::balance(state.store(), caller.workspace).await?;
    let ledger = credits::ledger(
        state.store(),
        caller.workspace,
        Page::new(page.page, page.per_page),
    )
    .await?;
    Ok(Json(Credits {
        balance,
        pagination: Pagination::new(page, ledger.total),
        ledger: ledger.items,
    }))
}

impl From<Job> for JobView {
    fn from(job: Job) -> Self {
        JobView {
            id: job.id,
            kind: job.kind,
            status: job.status,
            progress: job.progress,
            current_step: job.step,
            attempts: job.attempts,
            max_attempts: job.max_attempts,
            last_error: job.last_error,
            run_at: job.run_at,
            created_at: job.created_at,
            started_at: job.started_at,
            finished_at: job.finished_at,
        }
    }
}

/// One of the workspace's jobs, to follow its progress.
#[utoipa::path(get, path = "/jobs/{id}", tag = "account",
    params(("id" = String, Path, description = "The job's id")),
    responses((status = 200, description = "The job", body = OneJob)))]
async fn show_job(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneJob>, ApiError> {
    let id: uuid::Uuid = id.parse().map_err(|_| ApiError::not_found("job"))?;
    let job = state
        .queue()
        .get_in_workspace(id, caller.workspace.0)
        .await?
        .ok_or_else(|| ApiError::not_found("job"))?;
    Ok(Json(OneJob {
        job: JobView::from(job),
    }))
}

/// The workspaces the caller belongs to.
#[utoipa::path(get, path = "/workspaces", tag = "account",
    responses((status = 200, description = "Workspaces with the caller's role", body = WorkspaceList)))]
async fn list_workspaces(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<WorkspaceList>, ApiError> {
    let all = workspaces::workspaces_for_user(state.store(), caller.user_id()).await?;
    Ok(Json(WorkspaceList { workspaces: all }))
}

#[derive(Debug, Deserialize, ToSchema)]
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

/// Makes a workspace owned by the caller.
#[utoipa::path(post, path = "/workspaces", tag = "account", request_body = CreateWorkspace,
    responses((status = 201, description = "The new workspace", body = WorkspaceCreated)))]
async fn create_workspace(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateWorkspace>,
) -> Result<(StatusCode, Json<WorkspaceCreated>), ApiError> {
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
        Json(WorkspaceCreated {
            workspace,
            role: Role::Owner,
        }),
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

/// A workspace's members (any member may look).
#[utoipa::path(get, path = "/workspaces/{id}/members", tag = "account",
    params(("id" = String, Path, description = WORKSPACE_ID)),
    responses((status = 200, description = "Members in the order they joined", body = MemberList)))]
async fn list_members(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<MemberList>, ApiError> {
    let (id, _) = membership(&state, &caller, &id).await?;
    let members = workspaces::list_members(state.store(), id).await?;
    Ok(Json(MemberList { members }))
}

fn parse_role(raw: &str) -> Result<Role, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::field("role", "must be owner, admin or member"))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct AddMember {
    email: String,
    role: String,
}

/// Adds an existing account to the workspace (admins; only owners make owners).
#[utoipa::path(post, path = "/workspaces/{id}/members", tag = "account",
    params(("id" = String, Path, description = WORKSPACE_ID)), request_body = AddMember,
    responses((status = 201, description = "The new member", body = OneMember)))]
async fn add_member(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<AddMember>,
) -> Result<(StatusCode, Json<OneMember>), ApiError> {
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
        Json(OneMember {
            member: MemberView {
                user_id: user.id,
                email: Some(user.email),
                role,
            },
        }),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
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

/// Changes a member's role (admins; an admin cannot touch an owner).
#[utoipa::path(put, path = "/workspaces/{id}/members/{user_id}", tag = "account",
    params(("id" = String, Path, description = WORKSPACE_ID),
        ("user_id" = String, Path, description = "The member's user id")),
    request_body = ChangeRole,
    responses((status = 200, description = "The member's new role", body = OneMember)))]
async fn change_role(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
    ApiJson(body): ApiJson<ChangeRole>,
) -> Result<Json<OneMember>, ApiError> {
    let (id, mine, user, _) = member_target(&state, &caller, &id, &user).await?;
    let role = parse_role(&body.role)?;
    require(mine, role)?;
    let mut tx = state.store().begin().await?;
    if !workspaces::set_role(&mut tx, id, user, role).await? {
        return Err(ApiError::not_found("member"));
    }
    tx.commit().await?;
    Ok(Json(OneMember {
        member: MemberView {
            user_id: user,
            email: None,
            role,
        },
    }))
}

/// Removes a member from the workspace (admins; an admin cannot remove an owner).
#[utoipa::path(delete, path = "/workspaces/{id}/members/{user_id}", tag = "account",
    params(("id" = String, Path, description = WORKSPACE_ID),
        ("user_id" = String, Path, description = "The member's user id")),
    responses((status = 204, description = "Removed")))]
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

/// The workspace's projects.
#[utoipa::path(get, path = "/projects", tag = "account", params(PageQuery),
    responses((status = 200, description = "One page of projects", body = ProjectList)))]
async fn list_projects(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PageQuery>,
) -> Result<Json<ProjectList>, ApiError> {
    let page = PageRequest::parse(q.page, q.per_page)?;
    let found = projects::list(
        state.store(),
        caller.workspace,
        Page::new(page.page, page.per_page),
    )
    .await?;
    Ok(Json(ProjectList {
        pagination: Pagination::new(page, found.total),
        projects: found.items,
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateProject {
    name: String,
    description: Option<String>,
    /// An object of the project's settings.
    settings: Option<Value>,
}

/// Makes a project in the workspace.
#[utoipa::path(post, path = "/projects", tag = "account", request_body = CreateProject,
    responses((status = 201, description = "The new project", body = OneProject)))]
async fn create_project(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateProject>,
) -> Result<(StatusCode, Json<OneProject>), ApiError> {
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
    Ok((StatusCode::CREATED, Json(OneProject { project })))
}

/// One project.
#[utoipa::path(get, path = "/projects/{id}", tag = "account",
    params(("id" = String, Path, description = "The project's id")),
    responses((status = 200, description = "The project", body = OneProject)))]
async fn show_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneProject>, ApiError> {
    let project = projects::get(state.store(), caller.workspace, project_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(OneProject { project }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateProject {
    name: Option<String>,
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    settings: Option<Value>,
}

/// Renames a project or changes its description or settings.
#[utoipa::path(put, path = "/projects/{id}", tag = "account",
    params(("id" = String, Path, description = "The project's id")), request_body = UpdateProject,
    responses((status = 200, description = "The project as changed", body = OneProject)))]
async fn update_project(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateProject>,
) -> Result<Json<OneProject>, ApiError> {
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
    Ok(Json(OneProject { project }))
}

/// Deletes a project.
#[utoipa::path(delete, path = "/projects/{id}", tag = "account",
    params(("id" = String, Path, description = "The project's id")),
    responses((status = 204, description = "Deleted")))]
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
