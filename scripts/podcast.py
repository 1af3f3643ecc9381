#!/usr/bin/env python3
"""Synthesises a scripted two-host podcast with known clip labels (stdlib + espeak-ng, sox).

    scripts/podcast.py SCRIPT.txt --out DIR [--rate WPM] [--seed N] [--jobs N]

SCRIPT is written in the markup of eval/suggest/README.md: speaker lines (`A: ...`,
`B: ...`), dead air (`[pause 2.5]`), and labelled spans (`[strong id]` ... `[/strong]`,
`[filler id]` ... `[/filler]`) around runs of lines. Every line is spoken by espeak-ng in
its speaker's voice at a fixed rate, resampled to 16 kHz mono by sox, and trimmed to its
measured speech (espeak pads each utterance with silence). The lines are then laid end to
end with natural pauses between them (0.3-0.8 s at a change of speaker, a little less
when the same host goes on; drawn from a generator seeded by the script's name, so the
output is the same on every run) and a faint noise floor under everything, like a room.

Writes, for SCRIPT named podcast-N.txt:

  DIR/podcast-N.wav          16 kHz mono 16-bit PCM
  DIR/podcast-N.labels.json  {"duration", "spans": [{"id", "kind", "start", "end", "text"}],
                              "lines": [{"index", "speaker", "start", "end", "span", "text"}]}

A span starts at the speech onset of its first line and ends at the speech offset of its
last line (seconds, measured on the waveform to 5 ms). A span with no lines (only a
pause) covers the silence itself. "lines" gives the same times for every line, for
debugging.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import wave
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

RATE = 16000
VOICES = {"A": "en-us+m3", "B": "en-us+f3"}
DEFAULT_WPM = 150
# Silence between lines: at a change of speaker, and when the same speaker goes on.
TURN_GAP_S = (0.3, 0.8)
SAME_SPEAKER_GAP_S = (0.25, 0.55)
LEAD_IN_S = 0.6
# How long a planted strong moment should be when spoken (the clips suggested are 20-60 s).
STRONG_S = (20.0, 55.0)
TAIL_S = 1.0
# Speech detection on espeak-ng output: 5 ms frames whose RMS exceeds about -46 dBFS.
FRAME = RATE // 200
ONSET_RMS = 160.0
# Kept around the detected speech so word edges are not clipped (faint attacks, releases).
MARGIN = RATE // 100
# Room noise under the whole track: about -64 dBFS, like scripts/talk_plan.py.
NOISE_SIGMA = 20.0

SPEAKER_RE = re.compile(r"^([A-Z]):\s*(.*)$")
PAUSE_RE = re.compile(r"^\[pause\s+([0-9]+(?:\.[0-9]+)?)\]$")
OPEN_RE = re.compile(r"^\[(strong|filler)\s+([A-Za-z0-9_-]+)\]$")
CLOSE_RE = re.compile(r"^\[/(strong|filler)\]$")


class ScriptError(Exception):
    pass


@dataclass
class Line:
    index: int
    speaker: str
    text: str
    span: str | None
    # Silence before this line, when the script asks for one ([pause X]).
    pause_before: float | None = None


@dataclass
class Span:
    id: str
    kind: str
    lines: list[int] = field(default_factory=list)
    # A span made only of pauses: the index of the line after them, and where the span's
    # pauses begin and end within the silence before that line (seconds).
    before_line: int | None = None
    pause_from: float = 0.0
    pause_to: float = 0.0


@dataclass
class Script:
    lines: list[Line]
    spans: list[Span]
    # Dead air after the last line.
    trailing_pause: float | None = None


def parse(text: str) -> Script:
    """Parses the markup; raises ScriptError with the line number on a mistake."""
    lines: list[Line] = []
    spans: list[Span] = []
    open_span: Span | None = None
    pending_pause: float | None = None
    ids: set[str] = set()
    # Whether a plain text line may continue the speaker line above it.
    continues = False
    for no, raw in enumerate(text.splitlines(), start=1):
        s = raw.strip()
        if not s or s.startswith("#"):
            continue
        where = f"line {no}"
        if not SPEAKER_RE.match(s) and not s.startswith("[") and continues:
            lines[-1].text += " " + s
            continue
        continues = False
        if m := PAUSE_RE.match(s):
            before = pending_pause or 0.0
            pending_pause = before + float(m.group(1))
            if open_span is not None and not open_span.lines:
                if open_span.before_line is None:
                    open_span.before_line = len(lines)
                    open_span.pause_from = before
                open_span.pause_to = pending_pause
            continue
        if m := OPEN_RE.match(s):
            if open_span is not None:
                raise ScriptError(f"{where}: [{m.group(1)} {m.group(2)}] inside [{open_span.kind} {open_span.id}]")
            if m.group(2) in ids:
                raise ScriptError(f"{where}: span id {m.group(2)} used twice")
            ids.add(m.group(2))
            open_span = Span(id=m.group(2), kind=m.group(1))
            continue
        if m := CLOSE_RE.match(s):
            if open_span is None or open_span.kind != m.group(1):
                raise ScriptError(f"{where}: [/{m.group(1)}] closes nothing")
            if not open_span.lines and pending_pause is None:
                raise ScriptError(f"{where}: span {open_span.id} is empty")
            spans.append(open_span)
            open_span = None
            continue
        if s.startswith("["):
            raise ScriptError(f"{where}: unknown tag {s}")
        if m := SPEAKER_RE.match(s):
            if m.group(1) not in VOICES:
                raise ScriptError(f"{where}: unknown speaker {m.group(1)} (use {', '.join(VOICES)})")
            line = Line(index=len(lines), speaker=m.group(1), text=m.group(2).strip(),
                        span=open_span.id if open_span else None, pause_before=pending_pause)
            pending_pause = None
            lines.append(line)
            if open_span is not None:
                open_span.lines.append(line.index)
            continues = True
            continue
        raise ScriptError(f"{where}: text outside a speaker line: {s[:40]}")
    if open_span is not None:
        raise ScriptError(f"[{open_span.kind} {open_span.id}] is never closed")
    for line in lines:
        if not line.text:
            raise ScriptError(f"speaker line {line.index + 1} has no text")
    return Script(lines=lines, spans=spans, trailing_pause=pending_pause)


def read_wav(path: Path) -> array.array:
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            raise ScriptError(f"{path}: expected 16 kHz mono 16-bit PCM")
        samples = array.array("h", w.readframes(w.getnframes()))
    if sys.byteorder != "little":
        samples.byteswap()
    return samples


def write_wav(path: Path, samples: array.array) -> None:
    data = array.array("h", samples)
    if sys.byteorder != "little":
        data.byteswap()
    tmp = path.with_name(path.name + ".part")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(data.tobytes())
    tmp.replace(path)


def speech_bounds(samples: array.array) -> tuple[int, int]:
    """First and one-past-last sample of speech: the outer 5 ms frames above the threshold."""
    n = len(samples) // FRAME
    loud = []
    limit = ONSET_RMS * ONSET_RMS * FRAME
    for i in range(n):
        frame = samples[i * FRAME:(i + 1) * FRAME]
        if sum(x * x for x in frame) > limit:
            loud.append(i)
    if not loud:
        raise ScriptError("no speech found in an utterance")
    return loud[0] * FRAME, (loud[-1] + 1) * FRAME


def synthesise(text: str, voice: str, wpm: int, work: Path, name: str) -> array.array:
    """One utterance from espeak-ng, at 16 kHz mono."""
    raw = work / f"{name}.espeak.wav"
    wav = work / f"{name}.wav"
    # Text on standard input, so a line starting with "-" is never read as an option.
    subprocess.run(["espeak-ng", "-v", voice, "-s", str(wpm), "-w", str(raw)],
                   input=text.encode(), check=True)
    subprocess.run(["sox", "-q", "-D", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(wav)],
                   check=True)
    samples = read_wav(wav)
    raw.unlink()
    wav.unlink()
    return samples


def silence(n: int) -> array.array:
    return array.array("h", bytes(2 * n))


def noise(n: int, seed: int) -> array.array:
    """`n` samples of room noise, a fixed 1.7 s pattern repeated (cheap, deterministic)."""
    rng = random.Random(seed)
    pattern = [int(rng.gauss(0.0, NOISE_SIGMA)) for _ in range(27211)]
    reps = n // len(pattern) + 1
    return array.array("h", (pattern * reps)[:n])


def build(script: Script, wpm: int, seed: int, jobs: int, work: Path):
    """Returns (samples, line times, span times); times in seconds."""
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        clips = list(pool.map(
            lambda line: synthesise(line.text, VOICES[line.speaker], wpm, work, f"line-{line.index}"),
            script.lines))

    rng = random.Random(seed)
    track = silence(int(LEAD_IN_S * RATE))
    line_times: list[tuple[float, float]] = []
    # The silence before each line (from the previous line's speech offset to its onset),
    # for spans made only of pauses.
    silence_before: dict[int, tuple[float, float]] = {}
    previous: Line | None = None
    last_offset = len(track)
    for line, clip in zip(script.lines, clips):
        begin, end = speech_bounds(clip)
        lo, hi = max(0, begin - MARGIN), min(len(clip), end + MARGIN)
        if line.pause_before is not None:
            gap = line.pause_before
        elif previous is None:
            gap = 0.0
        else:
            same = line.speaker == previous.speaker
            gap = rng.uniform(*(SAME_SPEAKER_GAP_S if same else TURN_GAP_S))
        # The margins kept around the speech count towards the gap.
        onset = max(len(track) + (begin - lo), last_offset + int(round(gap * RATE)))
        track.extend(silence(onset - (begin - lo) - len(track)))
        silence_before[line.index] = (last_offset / RATE, onset / RATE)
        track.extend(clip[lo:hi])
        last_offset = onset + (end - begin)
        line_times.append((onset / RATE, last_offset / RATE))
        previous = line
    tail = script.trailing_pause if script.trailing_pause is not None else 0.0
    track.extend(silence(int((tail + TAIL_S) * RATE)))

    mixed = array.array("h", (max(-32768, min(32767, a + b))
                              for a, b in zip(track, noise(len(track), seed))))

    span_times: list[tuple[float, float]] = []
    for span in script.spans:
        if span.lines:
            span_times.append((line_times[span.lines[0]][0], line_times[span.lines[-1]][1]))
        elif span.before_line is not None and span.before_line in silence_before:
            silence_start = silence_before[span.before_line][0]
            span_times.append((silence_start + span.pause_from, silence_start + span.pause_to))
        else:
            raise ScriptError(f"span {span.id}: a span of pauses must sit between two lines")
    return mixed, line_times, span_times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("script", type=Path, help="podcast script in the eval/suggest markup")
    ap.add_argument("--out", type=Path, required=True, help="folder for the WAV and labels")
    ap.add_argument("--rate", type=int, default=DEFAULT_WPM, help="espeak-ng speed, words per minute")
    ap.add_argument("--seed", type=int, default=None,
                    help="seed of the pauses and noise (default: from the script's name)")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="espeak-ng processes at once")
    args = ap.parse_args()

    name = args.script.stem
    seed = args.seed if args.seed is not None else zlib.crc32(name.encode())
    try:
        script = parse(args.script.read_text())
        args.out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=f"{name}-", dir=args.out) as tmp:
            samples, line_times, span_times = build(script, args.rate, seed, args.jobs, Path(tmp))
    except (ScriptError, OSError, subprocess.CalledProcessError) as e:
        sys.exit(f"{args.script}: {e}")

    duration = len(samples) / RATE
    write_wav(args.out / f"{name}.wav", samples)
    spans = []
    for span, (start, end) in zip(script.spans, span_times):
        spans.append({"id": span.id, "kind": span.kind, "start": round(start, 3), "end": round(end, 3),
                      "text": " ".join(f"{script.lines[i].speaker}: {script.lines[i].text}" for i in span.lines)})
    lines = [{"index": line.index, "speaker": line.speaker, "start": round(start, 3), "end": round(end, 3),
              "span": line.span, "text": line.text}
             for line, (start, end) in zip(script.lines, line_times)]
    labels = {"podcast": name, "duration": round(duration, 3), "voices": VOICES, "rate_wpm": args.rate,
              "spans": spans, "lines": lines}
    tmp = args.out / f"{name}.labels.json.part"
    tmp.write_text(json.dumps(labels, indent=1) + "\n")
    tmp.replace(args.out / f"{name}.labels.json")
    strong = sum(s["kind"] == "strong" for s in spans)
    for s in spans:
        if s["kind"] == "strong" and not STRONG_S[0] <= s["end"] - s["start"] <= STRONG_S[1]:
            print(f"{name}: warning: strong span {s['id']} is {s['end'] - s['start']:.1f} s long, "
                  f"outside {STRONG_S[0]}-{STRONG_S[1]} s", file=sys.stderr)
    words = sum(len(line.text.split()) for line in script.lines)
    print(f"{name}: {duration:.1f} s, {len(lines)} lines, {words} words, "
          f"{strong} strong and {len(spans) - strong} filler spans")


if __name__ == "__main__":
    main()
