//! The audio cues the clip finder scores with: loudness and voice changes, from one
//! streaming decode of the media.

use std::path::Path;

use clipforge_highlights::{Analysis, AudioProfile, VoiceBuilder};
use clipforge_media::{AudioDecoder, MediaError, SAMPLE_RATE};

/// Decodes the audio of `media` once for its loudness profile and voice changes.
pub async fn listen(media: &Path) -> Result<Analysis, MediaError> {
    let mut decoder = AudioDecoder::open(media).await?;
    let mut loudness = AudioProfile::builder(SAMPLE_RATE);
    let mut voice = VoiceBuilder::new(SAMPLE_RATE);
    while let Some(chunk) = decoder.next_chunk(1 << 16).await? {
        loudness.push(&chunk);
        voice.push(&chunk);
    }
    Ok(Analysis {
        audio: Some(loudness.finish()),
        voice: Some(voice.finish()),
        visual: None,
    })
}
