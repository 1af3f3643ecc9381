//! One typed configuration: defaults → `clipforge.toml` → `CLIPFORGE_*` environment → flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use secrecy::SecretString;
use serde::Deserialize;

/// Settings read from the config file and the environment (flags are applied by callers).
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub asr: AsrConfig,
    pub openai: OpenAiSection,
    pub deepgram: DeepgramSection,
    pub llm: LlmSection,
}

/// The optional language model that re-ranks and titles clip suggestions.
#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSection {
    /// Rank with the model on every `suggest` (default: only with `--llm`).
    pub enabled: bool,
    /// API root of any OpenAI-compatible server, e.g. `http://localhost:11434/v1`.
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub model: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AsrConfig {
    /// `local` (default), `openai` or `deepgram`.
    pub engine: Option<String>,
    /// A model folder or a folder of model folders.
    pub model_dir: Option<PathBuf>,
    pub threads: Option<usize>,
    pub compute_type: Option<String>,
    pub beam_size: Option<usize>,
    pub batch_size: Option<usize>,
    pub workers: Option<usize>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OpenAiSection {
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub model: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeepgramSection {
    pub base_url: Option<String>,
    pub api_key: Option<SecretString>,
    pub model: Option<String>,
}

impl Config {
    /// Loads `explicit` (must exist), else `./clipforge.toml`, else
    /// `$XDG_CONFIG_HOME/clipforge/clipforge.toml` when present; then applies the environment.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let path = match explicit {
            Some(p) => Some(p.to_path_buf()),
            None => candidate_paths().into_iter().find(|p| p.is_file()),
        };
        let mut config = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("config file {} is invalid", p.display()))?
            }
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        if let Some(v) = get("CLIPFORGE_ENGINE") {
            self.asr.engine = Some(v);
        }
        if let Some(v) = get("CLIPFORGE_MODEL_DIR") {
            self.asr.model_dir = Some(PathBuf::from(v));
        }
        if let Some(v) = get("CLIPFORGE_THREADS").and_then(|v| v.parse().ok()) {
            self.asr.threads = Some(v);
        }
        if let Some(v) = get("CLIPFORGE_LLM_BASE_URL") {
            if self.llm.base_url.as_deref() != Some(v.as_str())
                && get("CLIPFORGE_LLM_API_KEY").is_none()
            {
                // A key from the file belongs to the file's server; never send it elsewhere.
                self.llm.api_key = None;
            }
            self.llm.base_url = Some(v);
        }
        if let Some(v) = get("CLIPFORGE_LLM_API_KEY") {
            self.llm.api_key = Some(SecretString::from(v));
        }
        if let Some(v) = get("CLIPFORGE_LLM_MODEL") {
            self.llm.model = Some(v);
        }
        // The speech API sections are layered by their engines' own `from_env`, which
        // knows which key may be sent to which host (see `transcribe::remote_engine`).
    }
}

fn candidate_paths() -> Vec<PathBuf> {
    let mut paths = vec![PathBuf::from("clipforge.toml")];
    let config_home = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")));
    if let Some(dir) = config_home {
        paths.push(dir.join("clipforge").join("clipforge.toml"));
    }
    paths
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn environment_overrides_file_and_secrets_stay_hidden() {
        let mut config: Config = toml::from_str(
            "[asr]\nengine = \"local\"\nthreads = 2\n[openai]\napi_key = \"sk-file\"\n",
        )
        .unwrap();
        config.apply_env(|k| match k {
            "CLIPFORGE_THREADS" => Some("6".into()),
            "CLIPFORGE_MODEL_DIR" => Some("/models".into()),
            _ => None,
        });
        assert_eq!(config.asr.threads, Some(6));
        assert_eq!(config.asr.engine.as_deref(), Some("local"));
        assert_eq!(config.asr.model_dir.as_deref(), Some(Path::new("/models")));
        assert_eq!(
            config.openai.api_key.as_ref().unwrap().expose_secret(),
            "sk-file"
        );
        assert!(!format!("{config:?}").contains("sk-file"));
    }

    #[test]
    fn llm_key_from_the_file_is_not_sent_to_another_server() {
        let text = "[llm]\nbase_url = \"http://a.example/v1\"\napi_key = \"sk-a\"\n";
        let mut config: Config = toml::from_str(text).unwrap();
        config.apply_env(|k| (k == "CLIPFORGE_LLM_BASE_URL").then(|| "http://b.example/v1".into()));
        assert_eq!(config.llm.base_url.as_deref(), Some("http://b.example/v1"));
        assert!(config.llm.api_key.is_none());
        let mut same: Config = toml::from_str(text).unwrap();
        same.apply_env(|k| (k == "CLIPFORGE_LLM_MODEL").then(|| "llama3".into()));
        assert_eq!(same.llm.api_key.as_ref().unwrap().expose_secret(), "sk-a");
        assert_eq!(same.llm.model.as_deref(), Some("llama3"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("[asr]\nthreds = 2\n").is_err());
    }
}
