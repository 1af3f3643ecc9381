//! Finding, validating and importing faster-whisper model folders.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::vocab::Vocabulary;
use crate::AsrError;

/// Files every faster-whisper (CTranslate2) Whisper model folder has.
const REQUIRED: [&str; 2] = ["config.json", "model.bin"];
/// The model the set-up script installs; chosen first when several are installed.
pub const DEFAULT_MODEL: &str = "tiny.en";

/// A validated model folder.
#[derive(Debug, Clone, Serialize)]
pub struct ModelInfo {
    pub name: String,
    pub path: PathBuf,
    /// Size of model.bin in bytes.
    pub size: u64,
    /// Whether the model knows many languages (else English only).
    pub multilingual: bool,
    /// Whether config.json lists the cross-attention heads used for word timestamps.
    pub word_timestamps: bool,
}

/// Checks that `dir` is a faster-whisper model folder and describes it.
pub fn inspect(dir: &Path) -> Result<ModelInfo, AsrError> {
    let invalid = |reason: String| AsrError::InvalidModel {
        path: dir.to_path_buf(),
        reason,
    };
    if !dir.is_dir() {
        return Err(invalid("it is not a folder".into()));
    }
    for file in REQUIRED {
        if !dir.join(file).is_file() {
            return Err(invalid(format!("{file} is missing")));
        }
    }
    let size = std::fs::metadata(dir.join("model.bin"))
        .map(|m| m.len())
        .unwrap_or(0);
    if size < 1024 {
        return Err(invalid("model.bin is empty or truncated".into()));
    }
    let config_text =
        std::fs::read_to_string(dir.join("config.json")).map_err(|source| AsrError::Io {
            path: dir.join("config.json"),
            source,
        })?;
    let config: serde_json::Value = serde_json::from_str(&config_text)
        .map_err(|e| invalid(format!("config.json is not JSON: {e}")))?;
    if config.get("suppress_ids").is_none() {
        return Err(invalid(
            "config.json has no suppress_ids: this is not a CTranslate2 Whisper model (convert it with ct2-transformers-converter or use a Systran/faster-whisper-* folder)".into(),
        ));
    }
    let vocab = Vocabulary::load(dir)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "model".into());
    Ok(ModelInfo {
        name,
        path: dir.to_path_buf(),
        size,
        // English-only checkpoints have one token fewer (no <|translate|> slot); this is the
        // same test CTranslate2 uses.
        multilingual: vocab.len() >= 51_865,
        word_timestamps: config.get("alignment_heads").is_some(),
    })
}

/// The folder holding installed models: `$CLIPFORGE_DATA_DIR/models`, else
/// `$XDG_DATA_HOME/clipforge/models`, else `~/.local/share/clipforge/models`.
pub fn default_models_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CLIPFORGE_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("models");
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("clipforge").join("models");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local")
        .join("share")
        .join("clipforge")
        .join("models")
}

/// Valid models directly inside `dir`, the default one first, then by name.
pub fn list_models(dir: &Path) -> Vec<ModelInfo> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut models: Vec<ModelInfo> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| inspect(&e.path()).ok())
        .collect();
    models.sort_by(|a, b| {
        (a.name != DEFAULT_MODEL, &a.name).cmp(&(b.name != DEFAULT_MODEL, &b.name))
    });
    models
}

/// Finds the model to use: `explicit` (a model folder, or the name of an installed model),
/// then `configured` (`CLIPFORGE_MODEL_DIR` or the config file: a model folder or a folder
/// of models), then the default models folder.
pub fn resolve(explicit: Option<&Path>, configured: Option<&Path>) -> Result<ModelInfo, AsrError> {
    let models_dir = default_models_dir();
    if let Some(path) = explicit {
        if path.is_dir() {
            return inspect(path);
        }
        let named = models_dir.join(path);
        if named.is_dir() {
            return inspect(&named);
        }
        return Err(AsrError::ModelMissing {
            searched: format!("{} and {}", path.display(), named.display()),
        });
    }
    let mut searched = Vec::new();
    for dir in configured
        .into_iter()
        .chain(std::iter::once(models_dir.as_path()))
    {
        searched.push(dir.display().to_string());
        if dir.join("model.bin").is_file() {
            return inspect(dir);
        }
        if let Some(model) = list_models(dir).into_iter().next() {
            return Ok(model);
        }
    }
    Err(AsrError::ModelMissing {
        searched: searched.join(", "),
    })
}

/// Validates a model folder and copies it into `models_dir` under `name` (default: the
/// folder's name without a `faster-whisper-` prefix). The copy lands atomically: a failed
/// import leaves nothing behind.
pub fn import(source: &Path, models_dir: &Path, name: Option<&str>) -> Result<ModelInfo, AsrError> {
    let info = inspect(source)?;
    let name = name.map(str::to_owned).unwrap_or_else(|| {
        info.name
            .strip_prefix("faster-whisper-")
            .unwrap_or(&info.name)
            .to_owned()
    });
    if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
        return Err(AsrError::InvalidModel {
            path: source.to_path_buf(),
            reason: format!("{name:?} is not a usable model name"),
        });
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| AsrError::Io { path, source }
    };
    std::fs::create_dir_all(models_dir).map_err(io(models_dir))?;
    let target = models_dir.join(&name);
    if target.exists() {
        return Err(AsrError::InvalidModel {
            path: target.clone(),
            reason: format!(
                "a model named {name} is already installed; remove {} first or pass another name",
                target.display()
            ),
        });
    }
    let staging = models_dir.join(format!(".importing-{name}-{}", std::process::id()));
    let result = (|| {
        std::fs::create_dir_all(&staging).map_err(io(&staging))?;
        for entry in std::fs::read_dir(source).map_err(io(source))? {
            let entry = entry.map_err(io(source))?;
            let path = entry.path();
            if path.is_file() {
                let dest = staging.join(entry.file_name());
                std::fs::copy(&path, &dest).map_err(io(&dest))?;
            }
        }
        std::fs::rename(&staging, &target).map_err(io(&target))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    inspect(&target)
}
