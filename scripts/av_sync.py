#!/usr/bin/env python3
"""How far a video's sound has drifted from its picture, in frames.

The bench sources carry their own sound drawn into the picture: a waveform band
(ffmpeg's showwaves) across the bottom of every frame. In an output whose sound and
picture are in sync, the band's brightness rises and falls with the loudness of the
sound in that same frame. This script measures both series frame by frame and, in a few
windows spread over the file, finds the lag (in frames) at which they match best.

    av_sync.py VIDEO [--band-top Y] [--band-height H] [--windows N] [--window-seconds S]

Prints one line per window (`start_s lag_frames correlation`) and a last line
`max_abs_lag_frames N`; a positive lag means the sound comes late.
Needs ffmpeg and ffprobe; no Python packages beyond the standard library.
"""

import argparse
import array
import json
import math
import subprocess
import sys


def probe(path):
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-show_format", "-of", "json", path],
        check=True, capture_output=True, text=True).stdout
    info = json.loads(out)
    video = next(s for s in info["streams"] if s["codec_type"] == "video")
    audio = next((s for s in info["streams"] if s["codec_type"] == "audio"), None)
    if audio is None:
        sys.exit(f"{path} has no sound to compare with its picture")
    num, den = (int(x) for x in video["avg_frame_rate"].split("/"))
    return {
        # Where the sound starts relative to the picture, as a player plays them.
        "audio_offset": float(audio.get("start_time", 0)) - float(video.get("start_time", 0)),
        "fps": num / den,
        "width": int(video["width"]),
        "height": int(video["height"]),
        "duration": float(info["format"]["duration"]),
    }


def band_levels(path, top, height, width):
    """Mean brightness of the waveform band, one value per frame."""
    cols, rows = 64, 4
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-an",
         "-vf", f"crop={width}:{height}:0:{top},scale={cols}:{rows}:flags=area,format=gray",
         "-f", "rawvideo", "-pix_fmt", "gray", "-"],
        check=True, capture_output=True).stdout
    size = cols * rows
    return [sum(raw[i:i + size]) / size for i in range(0, len(raw) - size + 1, size)]


def sound_levels(path, fps, frames, offset):
    """RMS of the sound over each frame's span; `offset` is when the sound starts (s)."""
    rate = 48000
    raw = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", path, "-vn", "-ac", "1", "-ar", str(rate),
         "-f", "s16le", "-"],
        check=True, capture_output=True).stdout
    samples = array.array("h")
    samples.frombytes(raw[: len(raw) // 2 * 2])
    shift = int(round(offset * rate))
    if shift > 0:
        samples = array.array("h", bytes(2 * shift)) + samples
    elif shift < 0:
        samples = samples[-shift:]
    levels = []
    for n in range(frames):
        a, b = int(round(n * rate / fps)), int(round((n + 1) * rate / fps))
        chunk = samples[a:b]
        if not chunk:
            levels.append(0.0)
            continue
        levels.append(math.sqrt(sum(x * x for x in chunk) / len(chunk)))
    return levels


def correlation(xs, ys):
    n = len(xs)
    if n < 2:
        return 0.0
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else 0.0


def best_lag(picture, sound, start, length, max_lag):
    """The lag (frames) of the sound behind the picture that matches best, and how well."""
    best = (0, -2.0)
    for lag in range(-max_lag, max_lag + 1):
        a0, a1 = start + max_lag, start + length - max_lag
        xs = picture[a0:a1]
        ys = sound[a0 + lag:a1 + lag]
        if len(xs) != len(ys) or len(xs) < 10:
            continue
        r = correlation(xs, ys)
        if r > best[1]:
            best = (lag, r)
    return best


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("video")
    ap.add_argument("--band-top", type=int, default=940)
    ap.add_argument("--band-height", type=int, default=120)
    ap.add_argument("--windows", type=int, default=5)
    ap.add_argument("--window-seconds", type=float, default=30.0)
    ap.add_argument("--max-lag", type=int, default=15)
    args = ap.parse_args()

    info = probe(args.video)
    scale = info["height"] / 1080
    top, height = round(args.band_top * scale), max(2, round(args.band_height * scale))
    picture = band_levels(args.video, top, height, info["width"])
    sound = sound_levels(args.video, info["fps"], len(picture), info["audio_offset"])
    length = min(len(picture), int(args.window_seconds * info["fps"]))
    span = len(picture) - length
    worst = 0
    for k in range(args.windows):
        start = span * k // max(1, args.windows - 1) if args.windows > 1 else 0
        lag, r = best_lag(picture, sound, start, length, args.max_lag)
        print(f"{start / info['fps']:.1f} {lag} {r:.3f}")
        if r < 0.3:
            print(f"warning: weak match at {start / info['fps']:.1f} s (r={r:.2f})", file=sys.stderr)
        worst = max(worst, abs(lag))
    print(f"max_abs_lag_frames {worst}")


if __name__ == "__main__":
    main()
