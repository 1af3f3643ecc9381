//! How clips look: each clip's style, and the templates (built-in and the workspace's own)
//! styles start from.

use chrono::{DateTime, Utc};
use clipforge_core::{AspectRatio, ReframeMode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::db::{now, on_db, ClipId, Db, TemplateId, UserId, WorkspaceId};
use crate::{on_pool, Store, StoreError};

/// The name serde gives a unit enum value (`"9:16"`, `"fit-blur"`), which is what the
/// column holds: the same spelling the API and the render settings use.
fn to_text<T: Serialize>(value: &T) -> Result<String, StoreError> {
    match serde_json::to_value(value) {
        Ok(Value::String(s)) => Ok(s),
        _ => Err(StoreError::Invalid("a style value has no name".into())),
    }
}

fn from_text<T: DeserializeOwned>(text: String) -> Result<T, StoreError> {
    serde_json::from_value(Value::String(text))
        .map_err(|e| StoreError::Database(sqlx::Error::Decode(e.into())))
}

/// How one clip is drawn when rendered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipStyle {
    /// The clip it styles.
    pub clip_id: ClipId,
    /// The template it started from.
    pub template_id: Option<TemplateId>,
    /// The caption look's name (a built-in caption template).
    pub caption_template: Option<String>,
    /// Caption settings that differ from the template (font, colours, position…).
    pub caption_overrides: Value,
    /// Where the logo image is stored.
    pub logo_key: Option<String>,
    /// Where the logo goes (`top-right`…).
    pub logo_position: Option<String>,
    /// Where the background music is stored.
    pub music_key: Option<String>,
    /// Music volume, 0–1.
    pub music_volume: Option<f64>,
    /// Output shape.
    pub aspect: AspectRatio,
    /// How the picture is fitted to the shape.
    pub reframe_mode: ReframeMode,
    /// Last change; `None` for a clip never styled (the defaults).
    pub updated_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct StyleRow {
    clip_id: ClipId,
    template_id: Option<TemplateId>,
    caption_template: Option<String>,
    #[sqlx(json(nullable))]
    caption_overrides: Option<Value>,
    logo_key: Option<String>,
    logo_position: Option<String>,
    music_key: Option<String>,
    music_volume: Option<f64>,
    aspect: Option<String>,
    reframe_mode: Option<String>,
    updated_at: Option<DateTime<Utc>>,
}

impl StyleRow {
    /// The style; a clip with no style row gets the defaults.
    fn into_style(self) -> Result<ClipStyle, StoreError> {
        Ok(ClipStyle {
            clip_id: self.clip_id,
            template_id: self.template_id,
            caption_template: self.caption_template,
            caption_overrides: self
                .caption_overrides
                .unwrap_or_else(|| Value::Object(Default::default())),
            logo_key: self.logo_key,
            logo_position: self.logo_position,
            music_key: self.music_key,
            music_volume: self.music_volume,
            aspect: self.aspect.map(from_text).transpose()?.unwrap_or_default(),
            reframe_mode: self
                .reframe_mode
                .map(from_text)
                .transpose()?
                .unwrap_or_default(),
            updated_at: self.updated_at,
        })
    }
}

const STYLE_COLUMNS: &str = "s.template_id, s.caption_template, s.caption_overrides, s.logo_key, \
    s.logo_position, s.music_key, s.music_volume, s.aspect, s.reframe_mode, s.updated_at";

/// The style of one of the workspace's live clips (the defaults when it has none yet);
/// `None` when there is no such clip.
pub async fn get_style(
    store: &Store,
    workspace: WorkspaceId,
    clip: ClipId,
) -> Result<Option<ClipStyle>, StoreError> {
    let sql = format!(
        "SELECT c.id AS clip_id, {STYLE_COLUMNS} FROM clips c \
         LEFT JOIN clip_styles s ON s.clip_id = c.id AND s.workspace_id = c.workspace_id \
         WHERE c.id = $1 AND c.workspace_id = $2 AND c.deleted_at IS NULL"
    );
    let row = on_pool!(store, pool => sqlx::query_as::<_, StyleRow>(&sql)
        .bind(clip)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?;
    row.map(StyleRow::into_style).transpose()
}

/// A whole style, as a user saves it.
#[derive(Debug, Clone, Default)]
pub struct StyleInput<'a> {
    /// The template it starts from; must be built-in or the workspace's own.
    pub template_id: Option<TemplateId>,
    /// The caption look's name.
    pub caption_template: Option<&'a str>,
    /// Caption settings that differ from the template.
    pub caption_overrides: Option<&'a Value>,
    /// Stored logo image.
    pub logo_key: Option<&'a str>,
    /// Logo corner.
    pub logo_position: Option<&'a str>,
    /// Stored background music.
    pub music_key: Option<&'a str>,
    /// Music volume, 0–1.
    pub music_volume: Option<f64>,
    /// Output shape.
    pub aspect: AspectRatio,
    /// Picture fitting.
    pub reframe_mode: ReframeMode,
}

/// Saves the style of one of the workspace's live clips, replacing the old one.
/// [`StoreError::NotFound`] when there is no such clip or the template is not visible to
/// the workspace.
pub async fn put_style(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    clip: ClipId,
    style: &StyleInput<'_>,
) -> Result<ClipStyle, StoreError> {
    let empty = Value::Object(Default::default());
    let sql = "INSERT INTO clip_styles (clip_id, workspace_id, template_id, caption_template, caption_overrides, \
               logo_key, logo_position, music_key, music_volume, aspect, reframe_mode, updated_at) \
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
               WHERE EXISTS (SELECT 1 FROM clips c WHERE c.id = $1 AND c.workspace_id = $2 AND c.deleted_at IS NULL) \
               AND ($3 IS NULL OR EXISTS (SELECT 1 FROM templates t WHERE t.id = $3 AND t.deleted_at IS NULL \
                    AND (t.workspace_id = $2 OR t.workspace_id IS NULL))) \
               ON CONFLICT (clip_id) DO UPDATE SET template_id = excluded.template_id, \
               caption_template = excluded.caption_template, caption_overrides = excluded.caption_overrides, \
               logo_key = excluded.logo_key, logo_position = excluded.logo_position, \
               music_key = excluded.music_key, music_volume = excluded.music_volume, \
               aspect = excluded.aspect, reframe_mode = excluded.reframe_mode, updated_at = excluded.updated_at \
               WHERE clip_styles.workspace_id = excluded.workspace_id \
               RETURNING clip_id, template_id, caption_template, caption_overrides, logo_key, logo_position, \
               music_key, music_volume, aspect, reframe_mode, updated_at";
    let row = on_db!(db.into(), conn => sqlx::query_as::<_, StyleRow>(sql)
        .bind(clip)
        .bind(workspace)
        .bind(style.template_id)
        .bind(style.caption_template)
        .bind(sqlx::types::Json(style.caption_overrides.unwrap_or(&empty)))
        .bind(style.logo_key)
        .bind(style.logo_position)
        .bind(style.music_key)
        .bind(style.music_volume)
        .bind(to_text(&style.aspect)?)
        .bind(to_text(&style.reframe_mode)?)
        .bind(now())
        .fetch_optional(conn)
        .await)?;
    row.ok_or(StoreError::NotFound {
        what: "clip or template",
    })?
    .into_style()
}

/// A saved look: caption settings, logo, music and framing to apply to clips.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Template {
    /// The template's id.
    pub id: TemplateId,
    /// The owning workspace; `None` for a built-in template.
    pub workspace_id: Option<WorkspaceId>,
    /// Display name.
    pub name: String,
    /// What it looks like, in words.
    pub description: Option<String>,
    /// The style it applies.
    #[sqlx(json)]
    pub style: Value,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl Template {
    /// Whether clipforge ships it (read-only to every workspace).
    pub fn is_builtin(&self) -> bool {
        self.workspace_id.is_none()
    }
}

const TEMPLATE_COLUMNS: &str = "id, workspace_id, name, description, style, created_at, updated_at";

/// The templates a workspace can use: built-in ones first, then its own, by name.
pub async fn list(store: &Store, workspace: WorkspaceId) -> Result<Vec<Template>, StoreError> {
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates \
         WHERE (workspace_id = $1 OR workspace_id IS NULL) AND deleted_at IS NULL \
         ORDER BY workspace_id IS NOT NULL, name, id"
    );
    Ok(
        on_pool!(store, pool => sqlx::query_as::<_, Template>(&sql).bind(workspace).fetch_all(pool).await)?,
    )
}

/// A built-in template or one of the workspace's own.
pub async fn get(
    store: &Store,
    workspace: WorkspaceId,
    id: TemplateId,
) -> Result<Option<Template>, StoreError> {
    let sql = format!(
        "SELECT {TEMPLATE_COLUMNS} FROM templates \
         WHERE id = $1 AND (workspace_id = $2 OR workspace_id IS NULL) AND deleted_at IS NULL"
    );
    Ok(on_pool!(store, pool => sqlx::query_as::<_, Template>(&sql)
        .bind(id)
        .bind(workspace)
        .fetch_optional(pool)
        .await)?)
}

/// A new template of the workspace's.
#[derive(Debug, Clone)]
pub struct NewTemplate<'a> {
    /// Display name.
    pub name: &'a str,
    /// In words.
    pub description: Option<&'a str>,
    /// The style it applies.
    pub style: &'a Value,
    /// Who makes it.
    pub created_by: Option<UserId>,
}

/// Saves a template for the workspace.
pub async fn create(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    new: NewTemplate<'_>,
) -> Result<Template, StoreError> {
    let sql = format!(
        "INSERT INTO templates (id, workspace_id, name, description, style, created_by, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING {TEMPLATE_COLUMNS}"
    );
    Ok(
        on_db!(db.into(), conn => sqlx::query_as::<_, Template>(&sql)
        .bind(TemplateId::new())
        .bind(workspace)
        .bind(new.name)
        .bind(new.description)
        .bind(sqlx::types::Json(new.style))
        .bind(new.created_by)
        .bind(now())
        .fetch_one(conn)
        .await)?,
    )
}

/// Changes to a template; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct TemplateUpdate<'a> {
    /// A new name.
    pub name: Option<&'a str>,
    /// A new description, or `Some(None)` to clear it.
    pub description: Option<Option<&'a str>>,
    /// A new style, replacing the old.
    pub style: Option<&'a Value>,
}

/// Changes one of the workspace's own templates; `None` when it has no such template
/// (built-in templates cannot be changed).
pub async fn update(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: TemplateId,
    update: TemplateUpdate<'_>,
) -> Result<Option<Template>, StoreError> {
    let sql = format!(
        "UPDATE templates SET name = COALESCE($3, name), \
         description = CASE WHEN $4 THEN $5 ELSE description END, style = COALESCE($6, style), updated_at = $7 \
         WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL RETURNING {TEMPLATE_COLUMNS}"
    );
    Ok(
        on_db!(db.into(), conn => sqlx::query_as::<_, Template>(&sql)
        .bind(id)
        .bind(workspace)
        .bind(update.name)
        .bind(update.description.is_some())
        .bind(update.description.flatten())
        .bind(update.style.map(sqlx::types::Json))
        .bind(now())
        .fetch_optional(conn)
        .await)?,
    )
}

/// Deletes one of the workspace's own templates (softly); false when it has none such.
pub async fn delete(
    db: impl Into<Db<'_>>,
    workspace: WorkspaceId,
    id: TemplateId,
) -> Result<bool, StoreError> {
    let sql = "UPDATE templates SET deleted_at = $3, updated_at = $3 WHERE id = $1 AND workspace_id = $2 AND deleted_at IS NULL";
    let done = on_db!(db.into(), conn => sqlx::query(sql).bind(id).bind(workspace).bind(now()).execute(conn).await.map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Writes a built-in template as the running clipforge defines it (at startup): created
/// the first time, brought up to date after an upgrade, keyed by `key`.
pub async fn sync_builtin(
    db: impl Into<Db<'_>>,
    key: &str,
    name: &str,
    description: Option<&str>,
    style: &Value,
) -> Result<Template, StoreError> {
    let sql = format!(
        "INSERT INTO templates (id, workspace_id, builtin_key, name, description, style, created_at, updated_at) \
         VALUES ($1, NULL, $2, $3, $4, $5, $6, $6) \
         ON CONFLICT (builtin_key) DO UPDATE SET name = excluded.name, description = excluded.description, \
         style = excluded.style, updated_at = excluded.updated_at, deleted_at = NULL \
         RETURNING {TEMPLATE_COLUMNS}"
    );
    Ok(
        on_db!(db.into(), conn => sqlx::query_as::<_, Template>(&sql)
        .bind(TemplateId::new())
        .bind(key)
        .bind(name)
        .bind(description)
        .bind(sqlx::types::Json(style))
        .bind(now())
        .fetch_one(conn)
        .await)?,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn style_enums_are_stored_by_their_api_names() {
        assert_eq!(to_text(&AspectRatio::Vertical).unwrap(), "9:16");
        let mode: ReframeMode = from_text(to_text(&ReframeMode::FitBlur).unwrap()).unwrap();
        assert_eq!(mode, ReframeMode::FitBlur);
        assert!(from_text::<AspectRatio>("7:3".into()).is_err());
    }
}
