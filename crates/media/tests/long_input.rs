//! A four-hour input decodes in bounded memory. Its own test binary, so no other test's
//! allocations show up in the process's peak memory.

mod common;

use clipforge_media::{AudioDecoder, SAMPLE_RATE};

/// Peak resident memory of this process in bytes (Linux only).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[tokio::test]
async fn four_hour_input_streams_in_bounded_memory() {
    const HOURS: u32 = 4;
    let dir = tempfile::tempdir().unwrap();
    let wav = dir.path().join("long.wav");
    // 8-bit 8 kHz keeps the file at 115 MB; decoded it is 921 MB of f32 at 16 kHz.
    let src = format!("anoisesrc=r=8000:a=0.1:d={}", HOURS * 3600);
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-c:a",
        "pcm_u8",
        wav.to_str().unwrap(),
    ])
    .await;

    let mut decoder = AudioDecoder::open(&wav).await.unwrap();
    let window = 30 * SAMPLE_RATE as usize;
    let mut total = 0u64;
    while let Some(chunk) = decoder.next_chunk(window).await.unwrap() {
        total += chunk.len() as u64;
    }
    assert_eq!(total, u64::from(HOURS * 3600 * SAMPLE_RATE));

    if let Some(peak) = peak_rss() {
        eprintln!("peak memory {} MB", peak >> 20);
        // Holding the decode would take 921 MB; a 30 s window is 1.9 MB.
        assert!(peak < 64 << 20, "peak memory {} MB", peak >> 20);
    }
}
