//! One typed configuration: defaults → `clipforge.toml` → `CLIPFORGE_*` environment → flags.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clipforge_storage::{BackendConfig, S3Config, StorageConfig};
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
    /// Where the service keeps media: a local folder, or an S3-compatible bucket.
    pub storage: StorageConfig,
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
        config.apply_env(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))?;
        Ok(config)
    }

    fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
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
        self.apply_storage_env(&get)
    }

    /// `CLIPFORGE_STORAGE_BACKEND` (`local` or `s3`), `CLIPFORGE_STORAGE_ROOT`,
    /// `CLIPFORGE_SIGNING_SECRET` and the `CLIPFORGE_S3_*` variables of the bucket. A bucket
    /// name alone selects S3, as a `[storage.s3]` table does in the file.
    fn apply_storage_env(&mut self, get: &impl Fn(&str) -> Option<String>) -> anyhow::Result<()> {
        let storage = &mut self.storage;
        if let Some(v) = get("CLIPFORGE_SIGNING_SECRET") {
            storage.signing_secret = Some(SecretString::from(v));
        }
        let backend = get("CLIPFORGE_STORAGE_BACKEND").map(|v| v.to_ascii_lowercase());
        let bucket = get("CLIPFORGE_S3_BUCKET");
        if backend.as_deref() == Some("s3") || bucket.is_some() {
            if let (BackendConfig::Local { .. }, Some(bucket)) = (&storage.backend, &bucket) {
                storage.backend = BackendConfig::S3(S3Config {
                    bucket: bucket.clone(),
                    region: "us-east-1".into(),
                    endpoint: None,
                    access_key_id: None,
                    secret_access_key: None,
                    allow_http: false,
                    path_style: false,
                });
            }
            if matches!(storage.backend, BackendConfig::Local { .. }) {
                anyhow::bail!(
                    "CLIPFORGE_STORAGE_BACKEND=s3 needs a bucket: set CLIPFORGE_S3_BUCKET or \
                     `bucket` under [storage.s3] in clipforge.toml"
                );
            }
        } else if backend.as_deref() == Some("local") {
            storage.backend = BackendConfig::Local { root: None };
        } else if let Some(other) = backend {
            anyhow::bail!("CLIPFORGE_STORAGE_BACKEND is {other:?}; use `local` or `s3`");
        }
        match &mut storage.backend {
            BackendConfig::Local { root } => {
                if let Some(v) = get("CLIPFORGE_STORAGE_ROOT") {
                    *root = Some(PathBuf::from(v));
                }
            }
            BackendConfig::S3(s3) => {
                if let Some(v) = bucket {
                    s3.bucket = v;
                }
                if let Some(v) = get("CLIPFORGE_S3_REGION") {
                    s3.region = v;
                }
                if let Some(v) = get("CLIPFORGE_S3_ENDPOINT") {
                    s3.endpoint = Some(v);
                }
                if let Some(v) = get("CLIPFORGE_S3_ACCESS_KEY_ID") {
                    s3.access_key_id = Some(v);
                }
                if let Some(v) = get("CLIPFORGE_S3_SECRET_ACCESS_KEY") {
                    s3.secret_access_key = Some(SecretString::from(v));
                }
                if let Some(v) = get("CLIPFORGE_S3_ALLOW_HTTP") {
                    s3.allow_http = truthy(&v);
                }
                if let Some(v) = get("CLIPFORGE_S3_PATH_STYLE") {
                    s3.path_style = truthy(&v);
                }
            }
        }
        Ok(())
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
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
        config
            .apply_env(|k| match k {
                "CLIPFORGE_THREADS" => Some("6".into()),
                "CLIPFORGE_MODEL_DIR" => Some("/models".into()),
                _ => None,
            })
            .unwrap();
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
        config
            .apply_env(|k| (k == "CLIPFORGE_LLM_BASE_URL").then(|| "http://b.example/v1".into()))
            .unwrap();
        assert_eq!(config.llm.base_url.as_deref(), Some("http://b.example/v1"));
        assert!(config.llm.api_key.is_none());
        let mut same: Config = toml::from_str(text).unwrap();
        same.apply_env(|k| (k == "CLIPFORGE_LLM_MODEL").then(|| "llama3".into()))
            .unwrap();
        assert_eq!(same.llm.api_key.as_ref().unwrap().expose_secret(), "sk-a");
        assert_eq!(same.llm.model.as_deref(), Some("llama3"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("[asr]\nthreds = 2\n").is_err());
    }

    #[test]
    fn storage_comes_from_the_file_or_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(name, _)| *name == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let mut config = Config::default();
        config
            .apply_env(env(&[
                ("CLIPFORGE_S3_BUCKET", "clips"),
                ("CLIPFORGE_S3_ENDPOINT", "http://127.0.0.1:9000"),
                ("CLIPFORGE_S3_SECRET_ACCESS_KEY", "s3-secret-value"),
                ("CLIPFORGE_S3_ALLOW_HTTP", "true"),
            ]))
            .unwrap();
        let BackendConfig::S3(s3) = &config.storage.backend else {
            panic!("a bucket name selects S3")
        };
        assert_eq!(s3.bucket, "clips");
        assert_eq!(s3.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
        assert!(s3.allow_http && !s3.path_style);
        assert!(!format!("{config:?}").contains("s3-secret-value"));

        // The environment tunes the file's bucket, or sends it back to local disk.
        let text = "[storage.s3]\nbucket = \"file-bucket\"\nregion = \"auto\"\n";
        let mut tuned: Config = toml::from_str(text).unwrap();
        tuned
            .apply_env(env(&[("CLIPFORGE_S3_PATH_STYLE", "1")]))
            .unwrap();
        let BackendConfig::S3(s3) = &tuned.storage.backend else {
            panic!("the file chose S3")
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.region.as_str()),
            ("file-bucket", "auto")
        );
        assert!(s3.path_style);
        let mut local: Config = toml::from_str(text).unwrap();
        local
            .apply_env(env(&[("CLIPFORGE_STORAGE_BACKEND", "local")]))
            .unwrap();
        assert!(matches!(
            local.storage.backend,
            BackendConfig::Local { root: None }
        ));

        let mut missing = Config::default();
        let err = missing
            .apply_env(env(&[("CLIPFORGE_STORAGE_BACKEND", "s3")]))
            .unwrap_err();
        assert!(err.to_string().contains("CLIPFORGE_S3_BUCKET"), "{err}");
        let err = Config::default()
            .apply_env(env(&[("CLIPFORGE_STORAGE_BACKEND", "ftp")]))
            .unwrap_err();
        assert!(err.to_string().contains("local"), "{err}");
    }
}
