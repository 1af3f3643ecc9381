//! The decoding loop over one batch of chunks: encode once, generate, fall back to
//! sampling at rising temperatures when the output looks like a hallucination, drop
//! windows that are silence, and align the kept tokens to the audio for word times.

use std::io::Write;

use ct2rs::sys::{Device, StorageView, WhisperAlignmentResult};
use flate2::{write::ZlibEncoder, Compression};

use super::mel::{CHUNK_FRAMES, HOP};
use super::vad::Chunk;
use super::vocab::split_words;
use super::{DecodeOptions, WhisperModel};
use crate::AsrError;
use clipforge_core::Word;

/// Encoder frames per second of audio (two mel frames per encoder position).
const ALIGN_FRAMES_PER_SEC: f64 = 50.0;
/// Below this many words per second of audio, a window whose text stays improbable at every
/// temperature is taken for a hallucination on non-speech (speech runs at 2–3 words/s).
const MIN_WORDS_PER_SECOND: f64 = 0.2;
/// Median filter width Whisper's word alignment uses.
const MEDIAN_FILTER_WIDTH: i64 = 7;

/// What one generation attempt produced for a chunk.
#[derive(Debug, Clone)]
struct Attempt {
    tokens: Vec<usize>,
    avg_logprob: f64,
    no_speech_prob: f64,
    compression_ratio: f64,
}

impl Attempt {
    fn failed(&self, opts: &DecodeOptions) -> bool {
        self.compression_ratio > opts.compression_ratio_threshold
            || self.avg_logprob < opts.log_prob_threshold
    }

    /// Whisper's own silence rule: the no-speech token is likely and the text is unsure.
    fn is_silence(&self, opts: &DecodeOptions) -> bool {
        self.no_speech_prob > opts.no_speech_threshold && self.avg_logprob < opts.log_prob_threshold
    }
}

/// Chunk-relative word times and confidences for each chunk of the batch.
pub(super) fn decode_batch(
    model: &WhisperModel,
    chunks: &[Chunk],
    prompt: &[String],
    opts: &DecodeOptions,
) -> Result<Vec<Vec<Word>>, AsrError> {
    let started = std::time::Instant::now();
    let n_mels = model.mel.n_mels();
    let mut features = Vec::with_capacity(chunks.len() * n_mels * CHUNK_FRAMES);
    for chunk in chunks {
        model.mel.extract_into(&chunk.samples, &mut features);
    }
    let encoded = {
        let view = StorageView::new(
            &[chunks.len(), n_mels, CHUNK_FRAMES],
            &mut features,
            Device::CPU,
        )
        .map_err(engine)?;
        model.whisper.encode(&view, false).map_err(engine)?
    };

    let encoded_at = started.elapsed();
    let prompts = vec![prompt.to_vec(); chunks.len()];
    let first = model
        .whisper
        .generate(&encoded, &prompts, &opts.whisper_options(None))
        .map_err(engine)?;
    let mut attempts: Vec<Attempt> = first.iter().map(|r| model.attempt(r, opts)).collect();
    let generated_at = started.elapsed();

    // Temperature fallback, only for the windows whose greedy/beam output failed.
    let mut failing: Vec<usize> = (0..chunks.len())
        .filter(|&i| attempts[i].failed(opts) && !attempts[i].is_silence(opts))
        .collect();
    for &temperature in opts.temperatures.iter().skip(1) {
        if failing.is_empty() {
            break;
        }
        let mut subset = Vec::with_capacity(failing.len() * n_mels * CHUNK_FRAMES);
        for &i in &failing {
            let start = i * n_mels * CHUNK_FRAMES;
            subset.extend_from_slice(&features[start..start + n_mels * CHUNK_FRAMES]);
        }
        let sub_view = StorageView::new(
            &[failing.len(), n_mels, CHUNK_FRAMES],
            &mut subset,
            Device::CPU,
        )
        .map_err(engine)?;
        let retry = model
            .whisper
            .generate(
                &sub_view,
                &vec![prompt.to_vec(); failing.len()],
                &opts.whisper_options(Some(temperature)),
            )
            .map_err(engine)?;
        let mut still = Vec::new();
        for (&i, result) in failing.iter().zip(&retry) {
            let attempt = model.attempt(result, opts);
            let better = attempt.compression_ratio <= opts.compression_ratio_threshold
                && attempt.avg_logprob > attempts[i].avg_logprob
                || attempts[i].compression_ratio > opts.compression_ratio_threshold;
            if better {
                // Whether the window holds speech is a property of the audio, read from the
                // first (greedy/beam) pass; sampling passes rescale the logits it comes from.
                let no_speech_prob = attempts[i].no_speech_prob;
                attempts[i] = Attempt {
                    no_speech_prob,
                    ..attempt
                };
            }
            if attempts[i].failed(opts) {
                still.push(i);
            }
        }
        failing = still;
    }
    for i in failing {
        // Nothing trustworthy came out even at the highest temperature. A repetition loop
        // left in a transcript is worse than a gap; so is a word or two the model is unsure
        // of over a long stretch (a tone or hum gives "you." or "No, no."), where real
        // speech, even hard to hear, yields a few words a second.
        let a = &attempts[i];
        let text = model.vocab.decode(&a.tokens);
        let words = text.split_whitespace().count();
        let sparse = (words as f64) < chunks[i].duration() * MIN_WORDS_PER_SECOND;
        if a.compression_ratio > opts.compression_ratio_threshold || sparse {
            tracing::info!(
                window = i,
                %text,
                "dropping a window that decodes only to unlikely text"
            );
            attempts[i].tokens.clear();
        }
    }
    for (i, a) in attempts.iter().enumerate() {
        tracing::debug!(
            window = i,
            tokens = a.tokens.len(),
            avg_logprob = a.avg_logprob,
            no_speech_prob = a.no_speech_prob,
            compression_ratio = a.compression_ratio,
            "window decoded"
        );
    }
    let text_tokens: Vec<Vec<usize>> = attempts
        .iter()
        .map(|a| {
            if a.is_silence(opts) {
                Vec::new()
            } else {
                a.tokens
                    .iter()
                    .copied()
                    .filter(|&t| model.vocab.is_text(t))
                    .collect()
            }
        })
        .collect();
    if text_tokens.iter().all(Vec::is_empty) {
        return Ok(vec![Vec::new(); chunks.len()]);
    }
    if !model.info.word_timestamps {
        // Without alignment heads only the window is known: spread words over it by length.
        return Ok(text_tokens
            .iter()
            .zip(chunks)
            .map(|(tokens, chunk)| spread_words(model, tokens, chunk.duration()))
            .collect());
    }
    // Every batch member needs some text to align; a space stands in for empty ones and
    // its alignment is ignored.
    let space = model.space_token;
    let align_input: Vec<Vec<usize>> = text_tokens
        .iter()
        .map(|t| if t.is_empty() { vec![space] } else { t.clone() })
        .collect();
    let num_frames: Vec<usize> = chunks
        .iter()
        .map(|c| (c.samples.len() / HOP).clamp(2, CHUNK_FRAMES))
        .collect();
    let fallback_at = started.elapsed();
    let alignments = model
        .whisper
        .align(
            &encoded,
            &model.align_start,
            &align_input,
            &num_frames,
            MEDIAN_FILTER_WIDTH,
        )
        .map_err(engine)?;
    tracing::debug!(
        chunks = chunks.len(),
        encode = ?encoded_at,
        generate = ?(generated_at - encoded_at),
        fallback = ?(fallback_at - generated_at),
        align = ?(started.elapsed() - fallback_at),
        "decoded a batch"
    );

    Ok(text_tokens
        .iter()
        .zip(&alignments)
        .zip(chunks)
        .map(|((tokens, alignment), chunk)| {
            if tokens.is_empty() {
                Vec::new()
            } else {
                words_from_alignment(model, tokens, alignment, chunk.duration())
            }
        })
        .collect())
}

fn engine(e: anyhow::Error) -> AsrError {
    AsrError::Engine(format!("{e:#}"))
}

/// Ratio of text length to its zlib-compressed length: repetition loops compress well.
pub(super) fn compression_ratio(text: &str) -> f64 {
    if text.is_empty() {
        return 0.0;
    }
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::default());
    encoder
        .write_all(text.as_bytes())
        .expect("writing to memory cannot fail");
    let compressed = encoder.finish().expect("writing to memory cannot fail");
    text.len() as f64 / compressed.len().max(1) as f64
}

impl WhisperModel {
    fn attempt(
        &self,
        result: &ct2rs::sys::WhisperGenerationResult,
        opts: &DecodeOptions,
    ) -> Attempt {
        let tokens = result.sequences_ids.first().cloned().unwrap_or_default();
        let score = f64::from(result.scores.first().copied().unwrap_or(f32::NEG_INFINITY));
        // CTranslate2 reports the cumulative log-probability divided by length^penalty.
        let len = tokens.len() as f64;
        let avg_logprob = score * len.powf(opts.length_penalty) / (len + 1.0);
        let text = self.vocab.decode(&tokens);
        Attempt {
            compression_ratio: compression_ratio(text.trim()),
            tokens,
            avg_logprob,
            no_speech_prob: f64::from(result.no_speech_prob),
        }
    }
}

/// Word times from the cross-attention alignment: a token starts where the alignment path
/// first reaches it; a word spans from its first token's start to the next word's start.
fn words_from_alignment(
    model: &WhisperModel,
    tokens: &[usize],
    alignment: &WhisperAlignmentResult,
    chunk_duration: f64,
) -> Vec<Word> {
    let mut jump_times: Vec<f64> = Vec::with_capacity(tokens.len() + 1);
    let mut last_token = None;
    for step in &alignment.alignments {
        if last_token != Some(step.token_x) {
            jump_times.push(step.frame_x as f64 / ALIGN_FRAMES_PER_SEC);
            last_token = Some(step.token_x);
        }
    }
    let time_at = |index: usize| -> f64 {
        jump_times
            .get(index)
            .copied()
            .unwrap_or(chunk_duration)
            .min(chunk_duration)
    };
    let probs = &alignment.text_token_probs;
    let mut words: Vec<Word> = split_words(&model.vocab, tokens)
        .into_iter()
        .map(|w| {
            let range = w.tokens.start.min(probs.len())..w.tokens.end.min(probs.len());
            let confidence = if range.is_empty() {
                0.0
            } else {
                probs[range.clone()].iter().sum::<f32>() / range.len() as f32
            };
            Word {
                start: time_at(w.tokens.start),
                end: time_at(w.tokens.end),
                text: w.text,
                confidence: confidence.clamp(0.0, 1.0),
            }
        })
        .collect();
    limit_long_words(&mut words);
    words
}

/// Word times proportional to word length across the window (models without alignment heads).
fn spread_words(model: &WhisperModel, tokens: &[usize], duration: f64) -> Vec<Word> {
    let words = split_words(&model.vocab, tokens);
    let total: usize = words.iter().map(|w| w.text.chars().count() + 1).sum();
    let mut at = 0.0;
    words
        .into_iter()
        .map(|w| {
            let len = (w.text.chars().count() + 1) as f64 / total.max(1) as f64 * duration;
            let word = Word {
                start: at,
                end: at + len,
                text: w.text,
                confidence: 0.5,
            };
            at += len;
            word
        })
        .collect()
}

/// Alignment stretches words next to pauses (the first word of a window often "starts" in
/// the silence before it). Like Whisper, cap words at sentence edges and window edges to
/// twice the median word length.
fn limit_long_words(words: &mut [Word]) {
    let mut durations: Vec<f64> = words
        .iter()
        .map(|w| w.end - w.start)
        .filter(|d| *d > 0.0)
        .collect();
    if durations.is_empty() {
        return;
    }
    durations.sort_by(f64::total_cmp);
    let median = durations[durations.len() / 2].min(0.7);
    let max = median * 2.0;
    let count = words.len();
    for i in 0..count {
        let duration = words[i].end - words[i].start;
        if duration <= max {
            continue;
        }
        let after_sentence = i == 0 || clipforge_core::ends_sentence(&words[i - 1].text);
        let ends_sentence = i + 1 == count || clipforge_core::ends_sentence(&words[i].text);
        if after_sentence {
            words[i].start = words[i].end - max;
        } else if ends_sentence {
            words[i].end = words[i].start + max;
        }
    }
}
