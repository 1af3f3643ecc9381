//! Where the sentence-embedding model is installed.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::HighlightsError;

/// Folder name of the model inside the models folder, as scripts/setup.sh installs it.
pub const MODEL_FOLDER: &str = "all-minilm-l6-v2";
/// Environment variable naming the model folder.
pub const MODEL_ENV: &str = "CLIPFORGE_EMBED_MODEL";

/// Finds the model folder: `explicit` when given, else `$CLIPFORGE_EMBED_MODEL` when set,
/// else `all-minilm-l6-v2` in the models folder. The first of these that is given decides:
/// a named folder that does not exist is an error rather than a reason to look elsewhere.
pub fn resolve_model(explicit: Option<&Path>) -> Result<PathBuf, HighlightsError> {
    resolve_with(explicit, |name| std::env::var_os(name))
}

/// [`resolve_model`] with the environment passed in, so tests need not change the
/// process environment.
fn resolve_with(
    explicit: Option<&Path>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<PathBuf, HighlightsError> {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    let (dir, source) = if let Some(dir) = explicit {
        (dir.to_path_buf(), "given folder")
    } else if let Some(dir) = set(MODEL_ENV) {
        (PathBuf::from(dir), MODEL_ENV)
    } else {
        (models_dir(&env).join(MODEL_FOLDER), "default location")
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(HighlightsError::EmbedModelMissing {
            searched: format!("{} ({source})", dir.display()),
        })
    }
}

/// The folder holding installed models: `$CLIPFORGE_DATA_DIR/models`, else
/// `$XDG_DATA_HOME/clipforge/models`, else `~/.local/share/clipforge/models` (the rule the
/// speech models and scripts/lib.sh follow too).
fn models_dir(env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    if let Some(dir) = set("CLIPFORGE_DATA_DIR") {
        return PathBuf::from(dir).join("models");
    }
    if let Some(dir) = set("XDG_DATA_HOME") {
        return PathBuf::from(dir).join("clipforge").join("models");
    }
    let home = set("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/clipforge/models")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn searched(err: HighlightsError) -> String {
        match err {
            HighlightsError::EmbedModelMissing { searched } => searched,
            other => panic!("expected EmbedModelMissing, got {other:?}"),
        }
    }

    #[test]
    fn models_dir_follows_the_data_dir_rule() {
        let dir = models_dir(env_of(&[("CLIPFORGE_DATA_DIR", "/d"), ("HOME", "/h")]));
        assert_eq!(dir, Path::new("/d/models"));
        let dir = models_dir(env_of(&[("XDG_DATA_HOME", "/x"), ("HOME", "/h")]));
        assert_eq!(dir, Path::new("/x/clipforge/models"));
        let dir = models_dir(env_of(&[("CLIPFORGE_DATA_DIR", ""), ("HOME", "/h")]));
        assert_eq!(dir, Path::new("/h/.local/share/clipforge/models"));
    }

    #[test]
    fn explicit_folder_comes_first_then_env_then_default() {
        let tmp = tempfile::tempdir().unwrap();
        let given = tmp.path().join("given");
        let from_env = tmp.path().join("env");
        let installed = tmp.path().join("data/models").join(MODEL_FOLDER);
        for dir in [&given, &from_env, &installed] {
            std::fs::create_dir_all(dir).unwrap();
        }
        let data = tmp.path().join("data");
        let env_str = from_env.to_str().unwrap();
        let data_str = data.to_str().unwrap();
        let all = env_of(&[(MODEL_ENV, env_str), ("CLIPFORGE_DATA_DIR", data_str)]);
        assert_eq!(resolve_with(Some(&given), &all).unwrap(), given);
        assert_eq!(resolve_with(None, &all).unwrap(), from_env);
        let no_env = env_of(&[(MODEL_ENV, ""), ("CLIPFORGE_DATA_DIR", data_str)]);
        assert_eq!(resolve_with(None, no_env).unwrap(), installed);
    }

    #[test]
    fn a_missing_folder_names_where_it_looked() {
        let tmp = tempfile::tempdir().unwrap();
        let gone = tmp.path().join("gone");
        let err = resolve_with(Some(&gone), env_of(&[])).unwrap_err();
        assert!(searched(err).contains("gone (given folder)"));

        let gone_str = gone.to_str().unwrap();
        let err = resolve_with(None, env_of(&[(MODEL_ENV, gone_str)])).unwrap_err();
        assert!(searched(err).contains(MODEL_ENV));

        let data = tmp.path().to_str().unwrap();
        let err = resolve_with(None, env_of(&[("CLIPFORGE_DATA_DIR", data)])).unwrap_err();
        let text = searched(err);
        assert!(text.contains(&format!("models/{MODEL_FOLDER}")), "{text}");
    }
}
