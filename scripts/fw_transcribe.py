#!/usr/bin/env python3
"""Transcribes media files with faster-whisper, the peer clipforge is measured against.

    fw_transcribe.py --model DIR [--pipeline batched|sequential] [--threads 2]
                     [--compute-type int8] [--batch-size 8] [--vad]
                     (--out FILE | --out-dir DIR) INPUT...

Loads the model once, transcribes every INPUT with word timestamps and writes one JSON
transcript per input in clipforge's shape (language, duration, segments with words), so
scripts/wer.py reads both engines' output alike. `--out` names the file for a single
input; `--out-dir` writes <stem>.json for each. Prints one JSON line of timings to stdout:
model load seconds and transcription seconds per file and in total.

Everything else is faster-whisper's default: the batched pipeline runs its Silero VAD
and batch size 8; the sequential one decodes 30 s windows without VAD unless --vad.
Run it with the interpreter of the virtualenv scripts/bench-asr.sh sets up.
"""

import argparse
import json
import sys
import time
from pathlib import Path


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, type=Path, help="CTranslate2 Whisper model folder")
    ap.add_argument("--pipeline", choices=("batched", "sequential"), default="batched")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (cpu_threads)")
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--batch-size", type=int, default=None,
                    help="batched pipeline only; default: faster-whisper's (8)")
    ap.add_argument("--vad", action="store_true", help="sequential pipeline: filter with VAD")
    ap.add_argument("--language", default=None)
    ap.add_argument("--out", type=Path, help="output JSON (one input)")
    ap.add_argument("--out-dir", type=Path, help="output folder: <stem>.json per input")
    ap.add_argument("inputs", nargs="+", type=Path)
    args = ap.parse_args()
    if bool(args.out) == bool(args.out_dir):
        ap.error("give exactly one of --out and --out-dir")
    if args.out and len(args.inputs) != 1:
        ap.error("--out takes exactly one input; use --out-dir for several")
    for path in args.inputs:
        if not path.is_file():
            ap.error(f"{path} is not a file")

    started = time.perf_counter()
    from faster_whisper import BatchedInferencePipeline, WhisperModel

    model = WhisperModel(str(args.model), device="cpu", compute_type=args.compute_type,
                         cpu_threads=args.threads)
    loaded = time.perf_counter()
    timings = {"load_s": round(loaded - started, 3), "files": {}}

    for path in args.inputs:
        t0 = time.perf_counter()
        options = {"word_timestamps": True}
        if args.language:
            options["language"] = args.language
        if args.pipeline == "batched":
            if args.batch_size:
                options["batch_size"] = args.batch_size
            segments, info = BatchedInferencePipeline(model).transcribe(str(path), **options)
        else:
            segments, info = model.transcribe(str(path), vad_filter=args.vad, **options)
        out_segments = []
        for s in segments:  # a generator: decoding happens while iterating
            out_segments.append({
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text.strip(),
                "words": [{"start": round(w.start, 3), "end": round(w.end, 3),
                           "text": w.word.strip(), "confidence": round(w.probability, 4)}
                          for w in (s.words or []) if w.word.strip()],
            })
        transcript = {"language": info.language, "duration": round(info.duration, 3),
                      "segments": out_segments}
        target = args.out or args.out_dir / f"{path.stem}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".json.part")
        tmp.write_text(json.dumps(transcript, indent=2) + "\n")
        tmp.replace(target)
        timings["files"][str(path)] = round(time.perf_counter() - t0, 3)

    timings["transcribe_s"] = round(sum(timings["files"].values()), 3)
    timings["total_s"] = round(time.perf_counter() - started, 3)
    print(json.dumps(timings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
