//! Local Whisper on CTranslate2 (the engine under faster-whisper), with our own decoding
//! pipeline: energy VAD packing speech into 30 s windows, batched encode and generate,
//! temperature fallback, silence rejection, and word times from cross-attention alignment.

mod decode;
mod mel;
pub mod model;
mod vad;
mod vocab;

use std::path::Path;
use std::sync::Arc;

use ct2rs::sys::{ComputeType, Config, Whisper, WhisperOptions};

use clipforge_core::{Progress, Transcript, Word};
use clipforge_media::AudioDecoder;

use self::mel::{MelExtractor, SAMPLE_RATE};
use self::model::ModelInfo;
use self::vad::{Chunk, Segmenter};
use self::vocab::Vocabulary;
use crate::{AsrError, TranscribeOptions, Transcriber};

/// How the local engine runs and decodes.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// CPU threads for the model (0: CTranslate2's default of up to 4).
    pub threads: usize,
    /// CTranslate2 compute type: `int8` (default), `int8_float32`, `float32`, ...
    pub compute_type: String,
    /// Windows encoded and decoded together.
    pub batch_size: usize,
    /// Batches decoded at once, each by its own model replica on `threads / workers`
    /// threads.
    pub workers: usize,
    pub decode: DecodeOptions,
}

impl Default for LocalOptions {
    fn default() -> Self {
        Self {
            threads: std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
            compute_type: "int8".into(),
            // Two windows a batch: the encoder's attention for each window is ~50 MB per
            // head-layer pass, and larger batches bought no speed with two workers.
            batch_size: 2,
            // Two single-threaded replicas beat one two-threaded one (see transcribe_blocks).
            workers: 2,
            decode: DecodeOptions::default(),
        }
    }
}

/// Decoding settings; the defaults are Whisper's own.
#[derive(Debug, Clone)]
pub struct DecodeOptions {
    /// Beam width (1: greedy).
    pub beam_size: usize,
    pub length_penalty: f64,
    /// Temperatures tried in order; later ones only for windows whose output failed.
    pub temperatures: Vec<f32>,
    /// Output that compresses better than this (gzip ratio) is a repetition loop.
    pub compression_ratio_threshold: f64,
    /// Output less likely than this (mean log-probability per token) is retried.
    pub log_prob_threshold: f64,
    /// With an unlikely output, a no-speech probability above this means silence.
    pub no_speech_threshold: f64,
}

impl Default for DecodeOptions {
    fn default() -> Self {
        Self {
            beam_size: 5,
            length_penalty: 1.0,
            temperatures: vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0],
            compression_ratio_threshold: 2.4,
            log_prob_threshold: -1.0,
            no_speech_threshold: 0.6,
        }
    }
}

impl DecodeOptions {
    fn whisper_options(&self, temperature: Option<f32>) -> WhisperOptions {
        let mut o = WhisperOptions {
            beam_size: self.beam_size.max(1),
            length_penalty: self.length_penalty as f32,
            max_length: 448,
            return_scores: true,
            return_no_speech_prob: true,
            suppress_blank: true,
            suppress_tokens: vec![-1],
            ..WhisperOptions::default()
        };
        if let Some(t) = temperature.filter(|t| *t > 0.0) {
            o.beam_size = 1;
            o.sampling_topk = 0;
            o.sampling_temperature = t;
        }
        o
    }
}

/// Seed of CTranslate2's sampler, used only by the temperature fallback.
const FALLBACK_SEED: u32 = 20_261_121;

/// A loaded Whisper model and what decoding needs to know about it.
pub struct WhisperModel {
    whisper: Whisper,
    vocab: Vocabulary,
    mel: MelExtractor,
    info: ModelInfo,
    /// Tokens the alignment pass starts with (`<|startoftranscript|>` [+ language, task]).
    align_start: Vec<usize>,
    space_token: usize,
}

impl std::fmt::Debug for WhisperModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhisperModel")
            .field("info", &self.info)
            .finish()
    }
}

impl WhisperModel {
    /// Loads a faster-whisper model folder as `replicas` copies sharing `threads` threads.
    pub fn load(
        dir: &Path,
        threads: usize,
        replicas: usize,
        compute_type: &str,
    ) -> Result<Self, AsrError> {
        let info = model::inspect(dir)?;
        let vocab = Vocabulary::load(dir)?;
        let compute_type = parse_compute_type(compute_type)?;
        let replicas = replicas.clamp(1, threads.max(1));
        let config = Config {
            compute_type,
            // On the CPU every listed device index is one more replica.
            device_indices: vec![0; replicas],
            num_threads_per_replica: (threads / replicas).max(1),
            ..Config::default()
        };
        let whisper = Whisper::new(dir, config).map_err(|e| AsrError::InvalidModel {
            path: dir.to_path_buf(),
            reason: format!("CTranslate2 could not load it: {e:#}"),
        })?;
        // Temperature fallback samples; a fixed seed makes the same input give the same
        // transcript every time.
        ct2rs::sys::set_random_seed(FALLBACK_SEED);
        let mel = MelExtractor::new(whisper.n_mels());
        let space_token = (0..vocab.len())
            .find(|&id| vocab.token_bytes(id) == b" ")
            .unwrap_or(0);
        Ok(Self {
            align_start: vec![vocab.sot],
            whisper,
            vocab,
            mel,
            info,
            space_token,
        })
    }

    /// What was loaded.
    pub fn info(&self) -> &ModelInfo {
        &self.info
    }

    /// The decoder prompt for a language (`None` for English-only models).
    fn prompt(&self, language: Option<&str>) -> Vec<String> {
        let mut prompt = vec![self.vocab.token(self.vocab.sot).to_owned()];
        if let (Some(code), true) = (language, self.whisper.is_multilingual()) {
            if let Some(&id) = self.vocab.languages.get(code) {
                prompt.push(self.vocab.token(id).to_owned());
            }
            if let Some(task) = self.vocab.transcribe {
                prompt.push(self.vocab.token(task).to_owned());
            }
        }
        prompt.push(self.vocab.token(self.vocab.no_timestamps).to_owned());
        prompt
    }

    /// The most likely language of a window, by CTranslate2's language detection.
    fn detect_language(&self, chunk: &Chunk) -> Result<String, AsrError> {
        let mut features = Vec::new();
        self.mel.extract_into(&chunk.samples, &mut features);
        let view = ct2rs::sys::StorageView::new(
            &[1, self.mel.n_mels(), mel::CHUNK_FRAMES],
            &mut features,
            ct2rs::sys::Device::CPU,
        )
        .map_err(|e| AsrError::Engine(format!("{e:#}")))?;
        let results = self
            .whisper
            .detect_language(&view)
            .map_err(|e| AsrError::Engine(format!("{e:#}")))?;
        let best = results.first().and_then(|r| r.first());
        // ct2rs 0.10 keeps DetectionResult's fields private; its Debug output is the only
        // way to read them (the version is pinned in Cargo.toml for this reason).
        let code = best.and_then(|d| language_from_debug(&format!("{d:?}")));
        tracing::debug!(?best, ?code, "detected language");
        Ok(code.unwrap_or_else(|| "en".into()))
    }

    /// Transcribes a stream of 16 kHz mono audio blocks. Blocking: run it off the async
    /// runtime. `on_progress` gets the source time reached after each batch.
    ///
    /// Batches are decoded by `options.workers` threads at once, one model replica each:
    /// small decoder steps leave most of a second core idle inside one replica, so two
    /// single-threaded replicas get through a talk faster than one with two threads.
    pub fn transcribe_blocks<I>(
        &self,
        blocks: I,
        duration: f64,
        language: Option<&str>,
        options: &LocalOptions,
        mut on_progress: impl FnMut(f64),
    ) -> Result<Transcript, AsrError>
    where
        I: IntoIterator<Item = Result<Vec<f32>, AsrError>>,
    {
        let mut language: Option<String> = if self.whisper.is_multilingual() {
            language.map(str::to_owned)
        } else {
            Some("en".into())
        };
        let batch_size = options.batch_size.max(1);
        let workers = options.workers.max(1);
        let mut words: Vec<Word> = Vec::new();

        std::thread::scope(|scope| -> Result<(), AsrError> {
            // Bounded queues: at most one batch waiting per worker, so memory stays flat.
            let (job_tx, job_rx) =
                std::sync::mpsc::sync_channel::<(usize, Vec<Chunk>, Arc<Vec<String>>)>(workers);
            let job_rx = Arc::new(std::sync::Mutex::new(job_rx));
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            for _ in 0..workers {
                let job_rx = Arc::clone(&job_rx);
                let done_tx = done_tx.clone();
                scope.spawn(move || loop {
                    let job = job_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok((index, chunks, prompt))) = job else {
                        break;
                    };
                    let decoded = decode::decode_batch(self, &chunks, &prompt, &options.decode);
                    release_free_memory();
                    if done_tx.send((index, chunks, decoded)).is_err() {
                        break;
                    }
                });
            }
            drop(done_tx);

            let mut assembler = Assembler::new(duration);
            let mut sent = 0usize;
            let mut pending: Vec<Chunk> = Vec::new();
            let mut send = |pending: &mut Vec<Chunk>,
                            language: &mut Option<String>,
                            assembler: &mut Assembler|
             -> Result<(), AsrError> {
                if pending.is_empty() {
                    return Ok(());
                }
                if language.is_none() {
                    *language = Some(self.detect_language(&pending[0])?);
                }
                let prompt = Arc::new(self.prompt(language.as_deref()));
                // Collect finished batches while waiting for room in the queue.
                let mut job = Some((sent, std::mem::take(pending), prompt));
                while let Some(j) = job.take() {
                    match job_tx.try_send(j) {
                        Ok(()) => {}
                        Err(std::sync::mpsc::TrySendError::Full(j)) => {
                            job = Some(j);
                            let finished = done_rx.recv().map_err(|_| worker_stopped())?;
                            assembler.accept(finished, &mut words, &mut on_progress)?;
                        }
                        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                            return Err(worker_stopped())
                        }
                    }
                }
                sent += 1;
                Ok(())
            };

            let mut segmenter = Segmenter::new();
            let mut feed = |segmenter: &mut Segmenter,
                            pending: &mut Vec<Chunk>,
                            language: &mut Option<String>,
                            assembler: &mut Assembler|
             -> Result<(), AsrError> {
                while let Some(chunk) = segmenter.next_chunk() {
                    pending.push(chunk);
                    if pending.len() == batch_size {
                        send(pending, language, assembler)?;
                    }
                }
                Ok(())
            };
            for block in blocks {
                segmenter.push(&block?);
                feed(&mut segmenter, &mut pending, &mut language, &mut assembler)?;
            }
            segmenter.finish();
            feed(&mut segmenter, &mut pending, &mut language, &mut assembler)?;
            send(&mut pending, &mut language, &mut assembler)?;
            drop(job_tx);
            while assembler.next < sent {
                let finished = done_rx.recv().map_err(|_| worker_stopped())?;
                assembler.accept(finished, &mut words, &mut on_progress)?;
            }
            Ok(())
        })?;

        on_progress(duration);
        let language = language.unwrap_or_else(|| "en".into());
        let segments =
            Transcript::segment_words(words.into_iter().map(|w| (w, None)).collect(), 1.0, 30.0);
        Ok(Transcript {
            language,
            duration,
            segments,
        })
    }
}

fn worker_stopped() -> AsrError {
    AsrError::Engine("a decoding worker stopped unexpectedly".into())
}

type Finished = (usize, Vec<Chunk>, Result<Vec<Vec<Word>>, AsrError>);

/// Puts batches that finish out of order back in order before their words join the
/// transcript.
struct Assembler {
    duration: f64,
    next: usize,
    waiting: std::collections::BTreeMap<usize, (Vec<Chunk>, Vec<Vec<Word>>)>,
}

impl Assembler {
    fn new(duration: f64) -> Self {
        Self {
            duration,
            next: 0,
            waiting: std::collections::BTreeMap::new(),
        }
    }

    fn accept(
        &mut self,
        (index, chunks, decoded): Finished,
        words: &mut Vec<Word>,
        on_progress: &mut impl FnMut(f64),
    ) -> Result<(), AsrError> {
        self.waiting.insert(index, (chunks, decoded?));
        while let Some((chunks, decoded)) = self.waiting.remove(&self.next) {
            for (chunk, chunk_words) in chunks.iter().zip(decoded) {
                append_mapped(words, chunk, chunk_words, self.duration);
            }
            on_progress(chunks.last().map_or(0.0, Chunk::source_end));
            self.next += 1;
        }
        Ok(())
    }
}

/// Moves a window's words onto the source timeline, keeping the whole transcript in order
/// and inside the audio.
fn append_mapped(out: &mut Vec<Word>, chunk: &Chunk, words: Vec<Word>, duration: f64) {
    for mut word in words {
        let floor = out.last().map_or(0.0, |w| w.end.min(w.start.max(w.end)));
        let start = chunk.to_source(word.start).clamp(0.0, duration);
        let end = chunk.to_source(word.end).clamp(0.0, duration);
        word.start = round_ms(start.max(floor.min(end)));
        word.end = round_ms(end.max(word.start));
        if let Some(prev) = out.last() {
            word.start = word.start.max(prev.start);
            word.end = word.end.max(word.start);
        }
        if !word.text.trim().is_empty() {
            out.push(word);
        }
    }
}

/// Reads the language code out of `DetectionResult { language: "<|de|>", probability: 0.9 }`.
fn language_from_debug(debug: &str) -> Option<String> {
    let start = debug.find("<|")? + 2;
    let end = start + debug[start..].find("|>")?;
    let code = &debug[start..end];
    (!code.is_empty() && code.chars().all(|c| c.is_ascii_alphabetic())).then(|| code.to_owned())
}

fn round_ms(t: f64) -> f64 {
    (t * 1000.0).round() / 1000.0
}

fn parse_compute_type(name: &str) -> Result<ComputeType, AsrError> {
    Ok(match name {
        "default" => ComputeType::DEFAULT,
        "auto" => ComputeType::AUTO,
        "int8" => ComputeType::INT8,
        "int8_float32" => ComputeType::INT8_FLOAT32,
        "int16" => ComputeType::INT16,
        "float32" => ComputeType::FLOAT32,
        other => {
            return Err(AsrError::Engine(format!(
                "unknown compute type {other:?}: use int8, int8_float32, int16, float32, auto or default"
            )))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_language_from_a_detection_result() {
        assert_eq!(
            language_from_debug(r#"DetectionResult { language: "<|de|>", probability: 0.97 }"#)
                .as_deref(),
            Some("de")
        );
        assert_eq!(language_from_debug("DetectionResult { }"), None);
        assert_eq!(
            language_from_debug(r#"{ language: "<|nocaptions|>x" }"#).as_deref(),
            Some("nocaptions")
        );
    }
}

/// The local engine behind the [`Transcriber`] trait; holds one loaded model.
#[derive(Debug, Clone)]
pub struct LocalEngine {
    model: Arc<WhisperModel>,
    options: LocalOptions,
}

impl LocalEngine {
    /// Loads the model in `dir` with `options`.
    pub fn load(dir: &Path, mut options: LocalOptions) -> Result<Self, AsrError> {
        options.threads = options.threads.max(1);
        options.workers = options.workers.clamp(1, options.threads);
        limit_malloc_arenas();
        let model =
            WhisperModel::load(dir, options.threads, options.workers, &options.compute_type)?;
        Ok(Self {
            model: Arc::new(model),
            options,
        })
    }

    /// The loaded model.
    pub fn model(&self) -> &WhisperModel {
        &self.model
    }
}

/// glibc gives threads that allocate at once their own heap arenas; with decoding workers
/// and the engine's threads that raised peak memory on a 4-minute talk from about 515 MB to
/// 620 MB for no speed gain. Two arenas are enough for two workers.
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes allocator tuning; glibc makes it safe to call at any time
    // from any thread, and it takes no pointers.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// Hands memory freed by a batch back to the system. The encoder's large, short-lived
/// buffers otherwise stay in the heap and fragment it: peak RSS crept from 510 MB after
/// 11 minutes of audio to 590 MB after 60 without this.
#[allow(unsafe_code)]
fn release_free_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns unused heap pages to the kernel; it takes no
    // pointers and is thread-safe in glibc.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Audio blocks handed from the async decoder to the blocking model: 5 s each, at most
/// a few in flight, so memory stays flat however long the input is.
const BLOCK_SAMPLES: usize = 5 * SAMPLE_RATE;
const BLOCKS_IN_FLIGHT: usize = 4;

#[async_trait::async_trait]
impl Transcriber for LocalEngine {
    #[tracing::instrument(skip_all, fields(input = %input.display(), model = %self.model.info.name))]
    async fn transcribe(
        &self,
        input: &Path,
        options: &TranscribeOptions,
        progress: &dyn Progress,
    ) -> Result<Transcript, AsrError> {
        let mut decoder = AudioDecoder::open(input).await?;
        let duration = decoder.duration();
        progress.stage("transcribing");
        progress.update(0.0, duration);

        let (block_tx, mut block_rx) =
            tokio::sync::mpsc::channel::<Result<Vec<f32>, AsrError>>(BLOCKS_IN_FLIGHT);
        let reader = tokio::spawn(async move {
            loop {
                let next = decoder.next_chunk(BLOCK_SAMPLES).await;
                let stop = !matches!(next, Ok(Some(_)));
                let item = match next {
                    Ok(Some(block)) => Ok(block),
                    Ok(None) => break,
                    Err(e) => Err(AsrError::from(e)),
                };
                if block_tx.send(item).await.is_err() || stop {
                    break;
                }
            }
        });

        let (progress_tx, mut progress_rx) = tokio::sync::mpsc::unbounded_channel::<f64>();
        let model = Arc::clone(&self.model);
        let local = self.options.clone();
        let language = options.language.clone();
        let worker = tokio::task::spawn_blocking(move || {
            let blocks = std::iter::from_fn(move || block_rx.blocking_recv());
            model.transcribe_blocks(blocks, duration, language.as_deref(), &local, |t| {
                let _ = progress_tx.send(t);
            })
        });
        while let Some(done) = progress_rx.recv().await {
            progress.update(done.min(duration), duration);
        }
        let result = worker
            .await
            .map_err(|e| AsrError::Engine(format!("the transcription worker stopped: {e}")))?;
        reader.abort();
        let transcript = result?;
        transcript.validate().map_err(|e| {
            AsrError::Engine(format!("internal error: transcript failed validation: {e}"))
        })?;
        Ok(transcript)
    }
}
