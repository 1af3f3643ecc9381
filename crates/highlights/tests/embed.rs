//! The sentence-embedding model as the moment finder uses it: the installed
//! all-MiniLM-L6-v2 against golden output of the reference Python pipeline, plus the
//! properties topic segmentation relies on. Needs the model scripts/setup.sh installs.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

use clipforge_highlights::embed::{resolve_model, MiniLm};
use clipforge_highlights::{Embedder, HighlightsError};

/// Agreement asked of us against the reference (float32 on both sides).
const TOLERANCE: f32 = 1e-3;

fn model_dir() -> PathBuf {
    resolve_model(None).unwrap_or_else(|e| {
        panic!("{e}\nthese tests need the embedding model: run scripts/setup.sh first")
    })
}

/// One model for the whole file: loading is the slow part.
fn model() -> &'static MiniLm {
    static MODEL: OnceLock<MiniLm> = OnceLock::new();
    MODEL.get_or_init(|| MiniLm::load(&model_dir()).expect("load the installed model"))
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

struct Golden {
    sentences: Vec<String>,
    first_dims: Vec<Vec<f32>>,
    cosine: Vec<Vec<f32>>,
}

fn golden() -> Golden {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embed/golden.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let sentences = json["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| match s.as_str() {
            Some(text) => text.to_string(),
            None => {
                let unit = s["repeat"].as_str().unwrap();
                vec![unit; s["times"].as_u64().unwrap() as usize].join(" ")
            }
        })
        .collect();
    let matrix = |key: &str| -> Vec<Vec<f32>> {
        serde_json::from_value(json[key].clone()).unwrap_or_else(|e| panic!("{key}: {e}"))
    };
    Golden {
        sentences,
        first_dims: matrix("first_dims"),
        cosine: matrix("cosine"),
    }
}

#[test]
fn vectors_match_the_reference_pipeline() {
    let golden = golden();
    let texts: Vec<&str> = golden.sentences.iter().map(String::as_str).collect();
    let vectors = model().embed(&texts).unwrap();
    assert_eq!(vectors.len(), texts.len());
    for (i, v) in vectors.iter().enumerate() {
        assert_eq!(v.len(), 384);
        assert!(
            (cosine(v, v) - 1.0).abs() < 1e-5,
            "vector {i} is not unit length"
        );
        let diff = max_abs_diff(&v[..8], &golden.first_dims[i]);
        assert!(diff < TOLERANCE, "sentence {i}: first dims off by {diff}");
        for (j, w) in vectors.iter().enumerate() {
            let (got, want) = (cosine(v, w), golden.cosine[i][j]);
            assert!(
                (got - want).abs() < TOLERANCE,
                "cosine({i}, {j}) = {got}, reference {want}"
            );
        }
    }
}

#[test]
fn sentences_about_the_same_thing_are_closer_than_unrelated_ones() {
    let texts = [
        "The quarterly revenue grew by twenty percent, beating every forecast.",
        "Sales rose sharply this quarter and exceeded what analysts expected.",
        "My grandmother bakes an apple pie with cinnamon every Sunday.",
        "Our guest explains how to train a puppy to stop biting.",
        "The easiest way to teach a young dog not to nip is patience.",
    ];
    let v = model().embed(&texts).unwrap();
    assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[2]) + 0.3);
    assert!(cosine(&v[0], &v[1]) > cosine(&v[1], &v[3]) + 0.3);
    assert!(cosine(&v[3], &v[4]) > cosine(&v[3], &v[2]) + 0.3);
    assert!(cosine(&v[3], &v[4]) > cosine(&v[4], &v[0]) + 0.3);
}

#[test]
fn batching_and_order_do_not_change_the_vectors() {
    let golden = golden();
    let mut texts: Vec<&str> = golden.sentences.iter().map(String::as_str).collect();
    texts.extend([
        "Short one.",
        "A somewhat longer sentence about the weather today.",
    ]);
    let together = model().embed(&texts).unwrap();
    for (i, text) in texts.iter().enumerate() {
        let alone = model().embed(&[text]).unwrap();
        let diff = max_abs_diff(&alone[0], &together[i]);
        assert!(diff < 1e-4, "sentence {i} alone differs by {diff}");
    }
    let reversed: Vec<&str> = texts.iter().rev().copied().collect();
    let backwards = model().embed(&reversed).unwrap();
    for (i, v) in backwards.iter().rev().enumerate() {
        assert!(max_abs_diff(v, &together[i]) < 1e-4, "sentence {i} moved");
    }
    // More tokens (about 1,300) than one batch holds, so results cross batch boundaries.
    let many: Vec<String> = (0..150)
        .map(|i| format!("Sentence number {i} of many."))
        .collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let all = model().embed(&many).unwrap();
    assert_eq!(all.len(), many.len());
    for i in [0, 56, 57, 63, 64, 100, 149] {
        let alone = model().embed(&[many[i]]).unwrap();
        assert!(
            max_abs_diff(&alone[0], &all[i]) < 1e-4,
            "sentence {i} of many"
        );
    }
}

#[test]
fn empty_and_blank_texts_embed_like_an_empty_sentence() {
    assert!(model().embed(&[]).unwrap().is_empty());
    let v = model()
        .embed(&["", "   ", "\n\t", "real words here"])
        .unwrap();
    assert_eq!(v.len(), 4);
    for blank in &v[..3] {
        assert_eq!(blank.len(), 384);
        assert!((cosine(blank, blank) - 1.0).abs() < 1e-5);
        assert!(max_abs_diff(blank, &v[0]) < 1e-6);
    }
    assert!(cosine(&v[0], &v[3]) < 0.9);
    assert_eq!(model().name(), "all-MiniLM-L6-v2");
    assert_eq!(model().dim(), 384);
}

#[test]
fn a_missing_model_folder_says_where_it_looked() {
    let tmp = tempfile::tempdir().unwrap();
    let gone = tmp.path().join("not-there");
    for err in [
        resolve_model(Some(&gone)).unwrap_err(),
        MiniLm::load(&gone).unwrap_err(),
    ] {
        match err {
            HighlightsError::EmbedModelMissing { searched } => {
                assert!(searched.contains("not-there"), "{searched}")
            }
            other => panic!("expected EmbedModelMissing, got {other:?}"),
        }
    }
}

/// A copy of the installed model folder with `broken` written over one of its files
/// (`None` removes it).
fn damaged_copy(file: &str, broken: Option<&[u8]>) -> tempfile::TempDir {
    let source = model_dir();
    let tmp = tempfile::tempdir().unwrap();
    for name in [
        "config.json",
        "model.safetensors",
        "vocab.txt",
        "tokenizer_config.json",
    ] {
        std::fs::copy(source.join(name), tmp.path().join(name)).unwrap();
    }
    match broken {
        Some(bytes) => std::fs::write(tmp.path().join(file), bytes).unwrap(),
        None => std::fs::remove_file(tmp.path().join(file)).unwrap(),
    }
    tmp
}

fn invalid_reason(dir: &Path) -> String {
    match MiniLm::load(dir).unwrap_err() {
        HighlightsError::EmbedModelInvalid { path, reason } => {
            assert_eq!(path, dir);
            reason
        }
        other => panic!("expected EmbedModelInvalid, got {other:?}"),
    }
}

#[test]
fn a_broken_model_folder_says_what_is_wrong() {
    let cases: [(&str, Option<&[u8]>, &str); 5] = [
        ("config.json", Some(b"{ not json"), "config.json"),
        (
            "config.json",
            Some(b"{\"hidden_size\": 384}"),
            "config.json",
        ),
        (
            "model.safetensors",
            Some(b"\x08\0\0\0\0\0\0\0{}"),
            "model.safetensors",
        ),
        ("model.safetensors", None, "model.safetensors"),
        ("vocab.txt", None, "vocab.txt"),
    ];
    for (file, content, expected) in cases {
        let dir = damaged_copy(file, content);
        let reason = invalid_reason(dir.path());
        assert!(reason.contains(expected), "{file}: {reason}");
    }
    // Half a weights file: the header promises more than is there.
    let source = std::fs::read(model_dir().join("model.safetensors")).unwrap();
    let dir = damaged_copy("model.safetensors", Some(&source[..source.len() / 2]));
    assert!(invalid_reason(dir.path()).contains("model.safetensors"));
}

/// Words to build transcript-like sentences from.
const WORDS: &str = "so we went to the studio and then the host asked about the new album \
    which honestly took three years because everyone kept changing their minds about the sound \
    I think people forget how much work goes into a single song you record it twenty times \
    then the label wants a radio edit and suddenly the bridge is gone what did you learn from \
    touring that changed how you write now it is more about space and silence than volume";

/// Timing of a 60-minute transcript (about 900 sentences of 15 words). Run by hand:
/// `cargo test --release -p clipforge-highlights --test embed -- --ignored --nocapture`.
#[test]
#[ignore = "a timing, not a check; run by hand"]
fn time_a_sixty_minute_transcript() {
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    let mut seed = 12345u64;
    let mut next = || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let sentences: Vec<String> = (0..900)
        .map(|_| {
            let len = 8 + next() % 15;
            (0..len)
                .map(|_| words[next() % words.len()])
                .collect::<Vec<_>>()
                .join(" ")
                + "."
        })
        .collect();
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    let started = Instant::now();
    let model = MiniLm::load(&model_dir()).unwrap();
    let loaded = started.elapsed();
    let vectors = model.embed(&texts).unwrap();
    let total = started.elapsed();
    assert_eq!(vectors.len(), 900);
    eprintln!(
        "load {:.3} s, embed 900 sentences {:.3} s, total {:.3} s",
        loaded.as_secs_f64(),
        (total - loaded).as_secs_f64(),
        total.as_secs_f64()
    );
}
