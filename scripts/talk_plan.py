#!/usr/bin/env python3
"""Plans the audio of a test "talk" from real speech clips (stdlib only).

Reads a manifest of speech pieces (16 kHz mono 16-bit WAV files with their text), lays
them out with short natural pauses until the talk is as long as asked, and writes:

  * an ffmpeg concat list of the WAV files in order (pauses included),
  * the reference transcript (one line per speech piece, in order),
  * a timeline (start and end second of every speech piece, with its text).

Pauses carry a faint noise floor (about -64 dBFS) like a real room, not digital zero.
Everything is sample-exact and deterministic for a given seed.
"""

from __future__ import annotations

import argparse
import array
import random
import sys
import wave
from pathlib import Path

RATE = 16000
PAUSES_MS = (350, 500, 650, 800, 1000, 1200)
LEAD_IN_MS = 500


def frames(path: Path) -> int:
    with wave.open(str(path), "rb") as w:
        if (w.getframerate(), w.getnchannels(), w.getsampwidth()) != (RATE, 1, 2):
            sys.exit(f"{path}: expected 16 kHz mono 16-bit PCM")
        return w.getnframes()


def write_noise(path: Path, n: int, seed: int) -> None:
    rng = random.Random(seed)
    samples = array.array("h", (int(rng.gauss(0.0, 20.0)) for _ in range(n)))
    if sys.byteorder != "little":
        samples.byteswap()
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(samples.tobytes())
    tmp.replace(path)


def pause(work: Path, ms: int) -> tuple[Path, int]:
    n = RATE * ms // 1000
    path = work / f"pause-{ms}ms.wav"
    if not path.exists():
        write_noise(path, n, seed=ms)
    return path, n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--manifest", type=Path, required=True,
                    help="TSV: kind (librivox|espeak), group (clip id), path, text")
    ap.add_argument("--work", type=Path, required=True, help="folder for pause files")
    ap.add_argument("--seconds", type=float, default=0.0,
                    help="length of the talk; 0 with --once: as long as the pieces need")
    ap.add_argument("--once", action="store_true",
                    help="each librivox piece of the first variant once, in manifest order")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--list", type=Path, required=True, help="ffmpeg concat list to write")
    ap.add_argument("--reference", type=Path, required=True, help="reference text to write")
    ap.add_argument("--timeline", type=Path, required=True, help="timeline TSV to write")
    ap.add_argument("--pad-name", default="pad", help="name of the closing silence file")
    args = ap.parse_args()

    librivox: dict[str, list[tuple[Path, int, str]]] = {}
    espeak: list[tuple[Path, int, str]] = []
    for line in args.manifest.read_text().splitlines():
        if not line.strip():
            continue
        kind, group, path, text = line.split("\t")
        piece = (Path(path), frames(Path(path)), text)
        if kind == "librivox":
            librivox.setdefault(group, []).append(piece)
        else:
            espeak.append(piece)
    if not librivox:
        sys.exit("the manifest has no librivox pieces")

    rng = random.Random(args.seed)
    entries: list[tuple[Path, int, int, str | None]] = []  # path, start, end, text
    at = 0

    def add(path: Path, n: int, text: str | None) -> None:
        nonlocal at
        entries.append((path, at, at + n, text))
        at += n

    lead, lead_n = pause(args.work, LEAD_IN_MS)
    add(lead, lead_n, None)
    if args.once:
        gap, gap_n = pause(args.work, 650)
        for i, variants in enumerate(librivox.values()):
            if i:
                add(gap, gap_n, None)
            add(variants[0][0], variants[0][1], variants[0][2])
        add(lead, lead_n, None)
        target = max(at, int(args.seconds * RATE))
    else:
        target = int(args.seconds * RATE)
        cycle = 0
        full = False
        while not full:
            groups = list(librivox)
            rng.shuffle(groups)
            sequence = [rng.choice(librivox[g]) for g in groups]
            if espeak:
                sequence.append(espeak[cycle % len(espeak)])
            for i, (path, n, text) in enumerate(sequence):
                gap, gap_n = pause(args.work, rng.choice(PAUSES_MS))
                first = cycle == 0 and i == 0
                needed = (0 if first else gap_n) + n + lead_n
                if at + needed > target:
                    full = True
                    break
                if not first:
                    add(gap, gap_n, None)
                add(path, n, text)
            cycle += 1
    if target > at:
        pad = args.work / f"{args.pad_name}.wav"
        write_noise(pad, target - at, seed=target)
        add(pad, target - at, None)

    with args.list.open("w") as out:
        for path, _, _, _ in entries:
            out.write(f"file '{path.resolve()}'\n")
    with args.reference.open("w") as out:
        for _, _, _, text in entries:
            if text:
                out.write(text + "\n")
    with args.timeline.open("w") as out:
        out.write("start\tend\ttext\n")
        for _, start, end, text in entries:
            if text:
                out.write(f"{start / RATE:.3f}\t{end / RATE:.3f}\t{text}\n")
    speech = sum(end - start for _, start, end, text in entries if text)
    print(f"{at / RATE:.3f} {speech / RATE:.3f}")


if __name__ == "__main__":
    main()
