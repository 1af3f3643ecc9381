//! Helpers shared by the remote engine tests: test audio, a local HTTP server, scripted
//! failures, a synthetic "speech" script the fake APIs answer with, and a progress recorder.

// Each test binary uses a different part of these helpers.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Mutex;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use clipforge_core::Progress;

/// What the fake services "hear": it cycles, one word every half second.
const SCRIPT: &str =
    "Well, welcome back to the show. Today we talk about rivers, lakes and the sea. \
    Ready? Let's go! The first river is long and slow. It has a name: \"Old Man\".";

/// One word of the script, timed relative to the uploaded part.
#[derive(Debug, Clone, PartialEq)]
pub struct ScriptWord {
    /// As written, with punctuation.
    pub text: String,
    pub start: f64,
    pub end: f64,
}

impl ScriptWord {
    /// The word without surrounding punctuation, as OpenAI's `words` list gives it.
    pub fn bare(&self) -> String {
        self.text
            .trim_matches(|c: char| !c.is_alphanumeric())
            .to_owned()
    }
}

/// The words a fake service hears in `duration` seconds of audio: one every 0.5 s from
/// 0.2 s on, each 0.4 s long, grouped into sentences.
pub fn script(duration: f64) -> Vec<Vec<ScriptWord>> {
    let mut sentences = vec![Vec::new()];
    for (j, text) in SCRIPT.split_whitespace().cycle().enumerate() {
        let start = 0.2 + 0.5 * j as f64;
        if start + 0.4 > duration {
            break;
        }
        let sentence = sentences.last_mut().expect("there is a sentence");
        sentence.push(ScriptWord {
            text: text.to_owned(),
            start,
            end: start + 0.4,
        });
        if clipforge_core::ends_sentence(text) {
            sentences.push(Vec::new());
        }
    }
    sentences.retain(|s| !s.is_empty());
    sentences
}

/// Sample rate, channels and duration read from a FLAC file's STREAMINFO block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlacInfo {
    pub sample_rate: u64,
    pub channels: u64,
    pub duration: f64,
}

/// Parses the header of a FLAC file: `fLaC`, then STREAMINFO, whose bytes 10..18 hold
/// sample rate (20 bits), channels - 1 (3), bits - 1 (5) and total samples (36).
pub fn flac_info(bytes: &[u8]) -> Option<FlacInfo> {
    if bytes.get(..4)? != b"fLaC" {
        return None;
    }
    let packed = u64::from_be_bytes(bytes.get(18..26)?.try_into().ok()?);
    let sample_rate = packed >> 44;
    let channels = ((packed >> 41) & 0b111) + 1;
    let samples = packed & ((1 << 36) - 1);
    (sample_rate > 0 && samples > 0).then(|| FlacInfo {
        sample_rate,
        channels,
        duration: samples as f64 / sample_rate as f64,
    })
}

/// Writes a 44.1 kHz stereo WAV (so the engine must convert it) of noise bursts standing
/// in for speech, separated by digital silence where the audio may be split.
/// `layout` is `(seconds, voiced)` in order.
pub fn write_wav(path: &Path, layout: &[(f64, bool)]) {
    const RATE: u32 = 44_100;
    const CHANNELS: u16 = 2;
    let mut seed = 0x2545_f491_u32;
    let mut data = Vec::new();
    for &(seconds, voiced) in layout {
        for _ in 0..(seconds * f64::from(RATE)).round() as usize {
            let sample = if voiced {
                seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                ((seed >> 16) as u16 as i16) / 4
            } else {
                0
            };
            for _ in 0..CHANNELS {
                data.extend_from_slice(&sample.to_le_bytes());
            }
        }
    }
    let mut wav = Vec::with_capacity(44 + data.len());
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&CHANNELS.to_le_bytes());
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * u32::from(CHANNELS) * 2).to_le_bytes());
    wav.extend_from_slice(&(CHANNELS * 2).to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
    wav.extend_from_slice(&data);
    std::fs::write(path, wav).expect("write test WAV");
}

/// Serves `router` on a free port of 127.0.0.1 for the rest of the test.
pub async fn serve(router: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    addr
}

/// Answers the fake service gives before behaving normally, one per request.
#[derive(Debug, Default)]
pub struct Failures(Mutex<VecDeque<(StatusCode, Option<String>, String)>>);

impl Failures {
    /// Queues `times` answers with `status`, an optional `Retry-After` and a JSON body.
    pub fn push(&self, times: usize, status: u16, retry_after: Option<&str>, body: &str) {
        let status = StatusCode::from_u16(status).expect("status");
        let mut queue = self.0.lock().unwrap();
        for _ in 0..times {
            queue.push_back((status, retry_after.map(str::to_owned), body.to_owned()));
        }
    }

    pub fn next(&self) -> Option<Response> {
        let (status, retry_after, body) = self.0.lock().unwrap().pop_front()?;
        let mut response = (status, [("content-type", "application/json")], body).into_response();
        if let Some(wait) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", wait.parse().expect("header"));
        }
        Some(response)
    }
}

/// Records what an engine reports.
#[derive(Debug, Default)]
pub struct Recorder {
    pub stages: Mutex<Vec<String>>,
    pub updates: Mutex<Vec<(f64, f64)>>,
}

impl Progress for Recorder {
    fn stage(&self, name: &str) {
        self.stages.lock().unwrap().push(name.to_owned());
    }

    fn update(&self, done: f64, total: f64) {
        self.updates.lock().unwrap().push((done, total));
    }
}

/// Entries left in a folder (temp files that should have been removed).
pub fn leftovers(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read work dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// Short input: two bursts of "speech", 6 s in all.
pub const SHORT: &[(f64, bool)] = &[(0.5, false), (2.5, true), (0.6, false), (2.4, true)];
/// Long input: three bursts with two pauses to split at, 12 s in all.
pub const LONG: &[(f64, bool)] = &[
    (3.4, true),
    (0.8, false),
    (3.4, true),
    (0.8, false),
    (3.6, true),
];
/// Upload limit that forces [`LONG`] into several parts but fits one burst.
pub const SMALL_UPLOAD: u64 = 150_000;
