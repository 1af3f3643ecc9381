//! Helpers shared by the CLI tests: paths, fixtures and running the real binary.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use clipforge_media::{MediaError, Runner};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fixture(name: &str) -> PathBuf {
    let path = root().join("fixtures/generated").join(name);
    assert!(
        path.exists(),
        "{} is missing: run scripts/fixtures.sh first",
        path.display()
    );
    path
}

pub fn model_dir() -> PathBuf {
    let dir = clipforge_asr::model::default_models_dir().join("tiny.en");
    assert!(
        dir.join("model.bin").is_file(),
        "{} is missing: run scripts/setup.sh first",
        dir.display()
    );
    dir
}

pub struct Run {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

pub async fn clipforge(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Runner::new(2)
        .command(env!("CARGO_BIN_EXE_clipforge"))
        .args(args)
        .timeout(Duration::from_secs(300));
    for (k, v) in env {
        cmd = cmd.env(k, v);
    }
    match cmd.run().await {
        Ok(out) => Run {
            ok: true,
            stdout: String::from_utf8(out.stdout).expect("stdout is UTF-8"),
            stderr: out.stderr_tail,
        },
        Err(MediaError::Failed { stderr_tail, .. }) => Run {
            ok: false,
            stdout: String::new(),
            stderr: stderr_tail,
        },
        Err(e) => panic!("could not run clipforge: {e}"),
    }
}
