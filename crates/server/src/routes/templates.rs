//! How clips look: each clip's style, and the templates (built-in and the workspace's own)
//! a style starts from.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, put};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use clipforge_core::{AspectRatio, CaptionStyle, ReframeMode};
use clipforge_store::templates::{
    self, ClipStyle, NewTemplate, StyleInput, Template, TemplateUpdate,
};
use clipforge_store::{TemplateId, WorkspaceId};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{OpenApi, ToSchema};

use super::clips::{clip_id, nullable, Problems, CLIP_ID};
use crate::app::AppState;
use crate::auth::Caller;
use crate::error::{ApiError, ApiJson, ErrorCode};

/// This module's `/api/v1` routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/clips/{id}/style", get(show_style).put(put_style))
        .route("/templates", get(list).post(create))
        .route("/templates/{id}", put(update).delete(remove))
}

/// This module's operations in the OpenAPI document.
#[derive(OpenApi)]
#[openapi(paths(show_style, put_style, list, create, update, remove))]
pub(super) struct Doc;

/// A clip's style: its caption template and overrides, logo, music, aspect and reframing.
#[derive(Serialize, ToSchema)]
struct OneStyle {
    #[schema(value_type = Object)]
    style: ClipStyle,
}

/// A template as the API shows it.
#[derive(Serialize, ToSchema)]
struct TemplateView {
    #[schema(value_type = uuid::Uuid)]
    id: TemplateId,
    name: String,
    description: Option<String>,
    /// The style it starts clips from (the fields of a template's `style`).
    style: Value,
    /// Built-in templates are read-only.
    is_builtin: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
struct OneTemplate {
    template: TemplateView,
}

#[derive(Serialize, ToSchema)]
struct TemplateList {
    /// Built-in ones and the workspace's own.
    templates: Vec<TemplateView>,
}

/// Where a logo may sit.
const LOGO_POSITIONS: [&str; 4] = ["top-left", "top-right", "bottom-left", "bottom-right"];
/// Longest template name, characters.
const MAX_NAME: usize = 100;

/// Checks caption overrides against the caption style they change: every key must be a
/// field of `CaptionStyle` and every value of that field's type.
fn check_caption_overrides(
    problems: &mut Problems,
    field: &str,
    template: Option<&str>,
    overrides: &Value,
) {
    let Value::Object(changes) = overrides else {
        problems.add(field, "must be an object of caption settings");
        return;
    };
    let base = clipforge_captions::template(template.unwrap_or("bold-pop"))
        .or_else(|| clipforge_captions::template(clipforge_captions::TEMPLATES[0]));
    let Some(base) = base else {
        return;
    };
    let Ok(Value::Object(fields)) = serde_json::to_value(&base) else {
        return;
    };
    for (key, value) in changes {
        if !fields.contains_key(key) {
            problems.add(
                &format!("{field}.{key}"),
                "is not a caption setting (font, size, bold, uppercase, color, highlight, \
                 outline_color, outline, shadow, background, position, animation, max_words, \
                 max_lines, emoji)",
            );
            continue;
        }
        let mut one = fields.clone();
        one.insert(key.clone(), value.clone());
        if let Err(e) = serde_json::from_value::<CaptionStyle>(Value::Object(one)) {
            problems.add(&format!("{field}.{key}"), e.to_string());
        }
    }
}

fn check_caption_template(problems: &mut Problems, field: &str, name: Option<&str>) {
    if let Some(name) = name {
        if clipforge_captions::template(name).is_none() {
            problems.add(
                field,
                format!(
                    "{name:?} is not a caption template; use one of {}",
                    clipforge_captions::TEMPLATES.join(", ")
                ),
            );
        }
    }
}

fn check_logo_position(problems: &mut Problems, field: &str, position: Option<&str>) {
    if let Some(p) = position {
        if !LOGO_POSITIONS.contains(&p) {
            problems.add(
                field,
                format!("must be one of {}", LOGO_POSITIONS.join(", ")),
            );
        }
    }
}

fn check_volume(problems: &mut Problems, field: &str, volume: Option<f64>) {
    if let Some(v) = volume {
        if !(0.0..=1.0).contains(&v) {
            problems.add(field, format!("must be 0-1, not {v}"));
        }
    }
}

/// A stored logo or music file must be one of the workspace's own objects.
fn check_own_key(problems: &mut Problems, field: &str, workspace: WorkspaceId, key: Option<&str>) {
    if let Some(key) = key {
        let own = key.starts_with(&format!("ws/{workspace}/"))
            && clipforge_storage::validate_key(key).is_ok();
        if !own {
            problems.add(field, "is not a file of this workspace");
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct StyleBody {
    template_id: Option<String>,
    /// A built-in caption template's name.
    caption_template: Option<String>,
    /// Caption settings that differ from the template's.
    #[serde(default)]
    caption_overrides: Option<Value>,
    /// A file of this workspace.
    logo_key: Option<String>,
    /// top-left, top-right, bottom-left or bottom-right.
    logo_position: Option<String>,
    /// A file of this workspace.
    music_key: Option<String>,
    /// 0-1.
    music_volume: Option<f64>,
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "9:16")]
    aspect: AspectRatio,
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    reframe_mode: ReframeMode,
}

/// A clip's style.
#[utoipa::path(get, path = "/clips/{id}/style", tag = "templates",
    params(("id" = String, Path, description = CLIP_ID)),
    responses((status = 200, description = "The style", body = OneStyle)))]
async fn show_style(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<OneStyle>, ApiError> {
    let style = templates::get_style(state.store(), caller.workspace, clip_id(&id)?)
        .await?
        .ok_or_else(|| ApiError::not_found("clip"))?;
    Ok(Json(OneStyle { style }))
}

/// Sets a clip's style, checked against the caption types.
#[utoipa::path(put, path = "/clips/{id}/style", tag = "templates",
    params(("id" = String, Path, description = CLIP_ID)), request_body = StyleBody,
    responses((status = 200, description = "The style as stored", body = OneStyle)))]
async fn put_style(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<StyleBody>,
) -> Result<Json<OneStyle>, ApiError> {
    let clip = clip_id(&id)?;
    let mut problems = Problems::default();
    let template_id = body.template_id.as_deref().and_then(|raw| {
        let id = raw.parse::<TemplateId>().ok();
        if id.is_none() {
            problems.add("template_id", "is not a template id");
        }
        id
    });
    check_caption_template(
        &mut problems,
        "caption_template",
        body.caption_template.as_deref(),
    );
    if let Some(overrides) = &body.caption_overrides {
        check_caption_overrides(
            &mut problems,
            "caption_overrides",
            body.caption_template.as_deref(),
            overrides,
        );
    }
    check_own_key(
        &mut problems,
        "logo_key",
        caller.workspace,
        body.logo_key.as_deref(),
    );
    check_own_key(
        &mut problems,
        "music_key",
        caller.workspace,
        body.music_key.as_deref(),
    );
    check_logo_position(
        &mut problems,
        "logo_position",
        body.logo_position.as_deref(),
    );
    check_volume(&mut problems, "music_volume", body.music_volume);
    problems.finish()?;
    let style = templates::put_style(
        state.store(),
        caller.workspace,
        clip,
        &StyleInput {
            template_id,
            caption_template: body.caption_template.as_deref(),
            caption_overrides: body.caption_overrides.as_ref(),
            logo_key: body.logo_key.as_deref(),
            logo_position: body.logo_position.as_deref(),
            music_key: body.music_key.as_deref(),
            music_volume: body.music_volume,
            aspect: body.aspect,
            reframe_mode: body.reframe_mode,
        },
    )
    .await?;
    Ok(Json(OneStyle { style }))
}

/// What a template's style may hold: the parts of a clip style that are not per-clip
/// files. Parsed only to check it; the JSON is stored as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // read by serde's checks only
struct TemplateStyle {
    caption_template: Option<String>,
    caption_overrides: Option<Map<String, Value>>,
    logo_position: Option<String>,
    music_volume: Option<f64>,
    aspect: Option<AspectRatio>,
    reframe_mode: Option<ReframeMode>,
}

fn check_template_style(problems: &mut Problems, style: &Value) {
    let parsed: TemplateStyle = match serde_json::from_value(style.clone()) {
        Ok(s) => s,
        Err(e) => {
            problems.add("style", e.to_string());
            return;
        }
    };
    check_caption_template(
        problems,
        "style.caption_template",
        parsed.caption_template.as_deref(),
    );
    if let Some(overrides) = parsed.caption_overrides {
        check_caption_overrides(
            problems,
            "style.caption_overrides",
            parsed.caption_template.as_deref(),
            &Value::Object(overrides),
        );
    }
    check_logo_position(
        problems,
        "style.logo_position",
        parsed.logo_position.as_deref(),
    );
    check_volume(problems, "style.music_volume", parsed.music_volume);
}

fn check_name(problems: &mut Problems, name: &str) {
    let n = name.trim().chars().count();
    if n == 0 || n > MAX_NAME {
        problems.add("name", format!("must be 1-{MAX_NAME} characters"));
    }
}

fn view(t: Template) -> TemplateView {
    TemplateView {
        is_builtin: t.is_builtin(),
        id: t.id,
        name: t.name,
        description: t.description,
        style: t.style,
        created_at: t.created_at,
        updated_at: t.updated_at,
    }
}

/// The built-in templates and the workspace's own.
#[utoipa::path(get, path = "/templates", tag = "templates",
    responses((status = 200, description = "Every template the caller can use", body = TemplateList)))]
async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<TemplateList>, ApiError> {
    let all = templates::list(state.store(), caller.workspace).await?;
    Ok(Json(TemplateList {
        templates: all.into_iter().map(view).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateTemplate {
    name: String,
    description: Option<String>,
    /// caption_template, caption_overrides, logo_position, music_volume, aspect,
    /// reframe_mode.
    style: Value,
}

/// Saves a style as a template of the workspace.
#[utoipa::path(post, path = "/templates", tag = "templates", request_body = CreateTemplate,
    responses((status = 201, description = "The new template", body = OneTemplate)))]
async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<CreateTemplate>,
) -> Result<(StatusCode, Json<OneTemplate>), ApiError> {
    let mut problems = Problems::default();
    check_name(&mut problems, &body.name);
    check_template_style(&mut problems, &body.style);
    problems.finish()?;
    let template = templates::create(
        state.store(),
        caller.workspace,
        NewTemplate {
            name: body.name.trim(),
            description: body.description.as_deref(),
            style: &body.style,
            created_by: Some(caller.user_id()),
        },
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(OneTemplate {
            template: view(template),
        }),
    ))
}

/// One template the caller can see, or 404; 403 when it is built in (read-only).
async fn own_template(
    state: &AppState,
    caller: &Caller,
    raw: &str,
) -> Result<TemplateId, ApiError> {
    let id: TemplateId = raw.parse().map_err(|_| ApiError::not_found("template"))?;
    let template = templates::get(state.store(), caller.workspace, id)
        .await?
        .ok_or_else(|| ApiError::not_found("template"))?;
    if template.is_builtin() {
        return Err(ApiError::new(
            ErrorCode::AuthorizationError,
            "built-in templates are read-only; create your own from it instead",
        ));
    }
    Ok(id)
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateTemplate {
    name: Option<String>,
    /// `null` clears it; absent leaves it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    style: Option<Value>,
}

/// Changes one of the workspace's templates (built-in ones are read-only: 403).
#[utoipa::path(put, path = "/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's id")), request_body = UpdateTemplate,
    responses((status = 200, description = "The template as changed", body = OneTemplate)))]
async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateTemplate>,
) -> Result<Json<OneTemplate>, ApiError> {
    let id = own_template(&state, &caller, &id).await?;
    let mut problems = Problems::default();
    if let Some(name) = &body.name {
        check_name(&mut problems, name);
    }
    if let Some(style) = &body.style {
        check_template_style(&mut problems, style);
    }
    problems.finish()?;
    let template = templates::update(
        state.store(),
        caller.workspace,
        id,
        TemplateUpdate {
            name: body.name.as_deref().map(str::trim),
            description: body.description.as_ref().map(|d| d.as_deref()),
            style: body.style.as_ref(),
        },
    )
    .await?
    .ok_or_else(|| ApiError::not_found("template"))?;
    Ok(Json(OneTemplate {
        template: view(template),
    }))
}

/// Deletes one of the workspace's templates.
#[utoipa::path(delete, path = "/templates/{id}", tag = "templates",
    params(("id" = String, Path, description = "The template's id")),
    responses((status = 204, description = "Deleted")))]
async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = own_template(&state, &caller, &id).await?;
    if !templates::delete(state.store(), caller.workspace, id).await? {
        return Err(ApiError::not_found("template"));
    }
    Ok(StatusCode::NO_CONTENT)
}
