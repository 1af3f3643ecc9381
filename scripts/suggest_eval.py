#!/usr/bin/env python3
"""Scores `clipforge suggest` against podcasts with planted clip labels (stdlib only).

    scripts/suggest_eval.py score CASE... [--top N] [--json OUT] [--check]
    scripts/suggest_eval.py align CASE... [--lines]
    scripts/suggest_eval.py concat TRANSCRIPT... --seconds S --out FILE

A CASE is a path prefix such as fixtures/generated/suggest/podcast-1, naming
CASE.labels.json (written by scripts/podcast.py), CASE.transcript.json (clipforge
transcribe) and CASE.suggest.json (clipforge suggest --json); a folder stands for every
podcast-*.labels.json in it.

score: the suggestions are taken in the order given, the first N (default 10) of them.

  * hit: a suggestion is a hit when it overlaps a planted strong span that no earlier
    suggestion matched by at least half of the span's length AND at least half of its
    own length (so neither a tiny piece of a moment nor a long clip that swallows one
    counts). Suggestions are matched in rank order, each to the qualifying span it
    overlaps most.
  * P@5: hits among the first five suggestions, divided by 5 (fewer than five
    suggestions count as misses).
  * recall@5, recall@10: strong spans matched within the first 5 or 10 suggestions,
    divided by the number of strong spans.
  * boundary error: for each hit among the N suggestions, (|start - span start| +
    |end - span end|) / 2 in seconds; the mean over all hits (and the largest).
  * cuts inside words: suggestion starts and ends (of all N) that fall strictly inside a
    transcript word, more than 10 ms from both of its edges.
  * filler in top 5: filler spans of which at least half lies inside one of the first
    five suggestions.

Overall figures pool the podcasts: P@5 is all top-5 hits over 5 per podcast, recall is
all matched spans over all strong spans, the boundary error is the mean over all hits.
The goals are P@5 >= 0.8, boundary error <= 1.0 s and no cuts inside words. It is a
measurement: the exit status is 0 whatever the figures, unless --check is given, which
makes it 1 when a goal is missed.

align: how far the planted label times are from the transcript's word times: for every
span (every line with --lines), the transcript word nearest to its first word's onset
and to its last word's offset, preferring a word with the same text.

concat: joins transcripts end to end (repeating them as needed, times shifted, each
after the previous one's duration) into one valid transcript of S seconds, for timing.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from dataclasses import dataclass, field
from pathlib import Path

TOP_P = 5
WORD_TOLERANCE_S = 0.010
MIN_OVERLAP = 0.5
GOAL_P_AT_5 = 0.8
GOAL_BOUNDARY_S = 1.0
GOAL_CUTS = 0
# How far from a label time a transcript word may be and still be its counterpart.
ALIGN_WINDOW_S = 2.0


class EvalError(Exception):
    pass


@dataclass(frozen=True)
class Span:
    id: str
    kind: str
    start: float
    end: float
    text: str = ""


@dataclass(frozen=True)
class Clip:
    start: float
    end: float
    score: float | None = None


@dataclass(frozen=True)
class Word:
    start: float
    end: float
    text: str


@dataclass
class Match:
    rank: int
    clip: Clip
    span: Span | None

    @property
    def boundary_error(self) -> float | None:
        if self.span is None:
            return None
        return (abs(self.clip.start - self.span.start) + abs(self.clip.end - self.span.end)) / 2


@dataclass
class Result:
    name: str
    strong: int
    matches: list[Match]
    cuts: list[tuple[int, str, float, Word]]
    fillers_in_top: list[str]
    message: str | None = None
    missed: list[str] = field(default_factory=list)

    @property
    def hits_at_5(self) -> int:
        return sum(m.span is not None for m in self.matches[:TOP_P])

    @property
    def p_at_5(self) -> float:
        return self.hits_at_5 / TOP_P

    def recall(self, k: int) -> float:
        return sum(m.span is not None for m in self.matches[:k]) / self.strong if self.strong else 0.0

    @property
    def errors(self) -> list[float]:
        return [m.boundary_error for m in self.matches if m.span is not None]


# ---------------------------------------------------------------------------------------
# Reading the files.

def load_json(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise EvalError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise EvalError(f"{path}: not JSON ({e})") from None


def read_labels(data) -> list[Span]:
    spans = []
    for s in data["spans"]:
        if s["kind"] not in ("strong", "filler"):
            raise EvalError(f"span {s['id']}: unknown kind {s['kind']}")
        spans.append(Span(s["id"], s["kind"], float(s["start"]), float(s["end"]), s.get("text", "")))
    return spans


def read_suggestions(data) -> tuple[list[Clip], str | None]:
    """The clips of `clipforge suggest --json` output (or of a bare list), in order."""
    items = data if isinstance(data, list) else data.get("suggestions") or []
    message = None if isinstance(data, list) else data.get("message")
    clips = []
    for i, s in enumerate(items):
        start, end = float(s["start"]), float(s["end"])
        if not end > start:
            raise EvalError(f"suggestion {i + 1}: end {end} is not after start {start}")
        clips.append(Clip(start, end, s.get("score")))
    return clips, message


def read_words(data) -> list[Word]:
    return [Word(float(w["start"]), float(w["end"]), w["text"])
            for seg in data["segments"] for w in seg.get("words") or []]


def cases(paths: list[str]) -> list[Path]:
    """Case prefixes from the command line: prefixes as given, folders expanded."""
    out = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(p.glob("podcast-*.labels.json"))
            if not found:
                raise EvalError(f"{p}: no podcast-*.labels.json in it")
            out += [f.with_name(f.name[:-len(".labels.json")]) for f in found]
        else:
            out.append(p.with_name(p.name[:-len(".labels.json")]) if p.name.endswith(".labels.json") else p)
    return out


# ---------------------------------------------------------------------------------------
# Metrics.

def overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def is_hit(clip: Clip, span: Span) -> bool:
    ov = overlap(clip.start, clip.end, span.start, span.end)
    return ov > 0 and ov >= MIN_OVERLAP * (span.end - span.start) and ov >= MIN_OVERLAP * (clip.end - clip.start)


def match(clips: list[Clip], spans: list[Span]) -> list[Match]:
    """Greedy in rank order: each clip takes the unmatched strong span it overlaps most, if a hit."""
    free = [s for s in spans if s.kind == "strong"]
    out = []
    for rank, clip in enumerate(clips, start=1):
        best = max((s for s in free if is_hit(clip, s)),
                   key=lambda s: overlap(clip.start, clip.end, s.start, s.end), default=None)
        if best is not None:
            free.remove(best)
        out.append(Match(rank, clip, best))
    return out


def inside_word(t: float, words: list[Word], tol: float = WORD_TOLERANCE_S) -> Word | None:
    """The word that `t` cuts, if it lies strictly inside one (more than `tol` from its edges)."""
    for w in words:
        if w.start + tol < t < w.end - tol:
            return w
    return None


def cuts_inside_words(clips: list[Clip], words: list[Word]) -> list[tuple[int, str, float, Word]]:
    cuts = []
    for rank, clip in enumerate(clips, start=1):
        for edge, t in (("start", clip.start), ("end", clip.end)):
            if (w := inside_word(t, words)) is not None:
                cuts.append((rank, edge, t, w))
    return cuts


def fillers_covered(clips: list[Clip], spans: list[Span]) -> list[str]:
    """Filler spans of which at least half lies inside one of `clips`."""
    out = []
    for s in spans:
        if s.kind != "filler":
            continue
        length = s.end - s.start
        if any(overlap(c.start, c.end, s.start, s.end) >= MIN_OVERLAP * length for c in clips):
            out.append(s.id)
    return out


def evaluate(name: str, spans: list[Span], clips: list[Clip], words: list[Word], top: int,
             message: str | None = None) -> Result:
    clips = clips[:top]
    matches = match(clips, spans)
    matched = {m.span.id for m in matches if m.span is not None}
    strong = [s for s in spans if s.kind == "strong"]
    return Result(name=name, strong=len(strong), matches=matches,
                  cuts=cuts_inside_words(clips, words),
                  fillers_in_top=fillers_covered(clips[:TOP_P], spans),
                  message=message, missed=[s.id for s in strong if s.id not in matched])


@dataclass
class Overall:
    p_at_5: float
    recall_5: float
    recall_10: float
    boundary_error: float | None
    boundary_error_max: float | None
    cuts: int
    fillers_in_top: int

    @property
    def failures(self) -> list[str]:
        out = []
        if self.p_at_5 < GOAL_P_AT_5:
            out.append(f"P@5 {self.p_at_5:.2f} < {GOAL_P_AT_5}")
        if self.boundary_error is None:
            out.append("no hits, so no boundary error")
        elif self.boundary_error > GOAL_BOUNDARY_S:
            out.append(f"boundary error {self.boundary_error:.2f} s > {GOAL_BOUNDARY_S} s")
        if self.cuts > GOAL_CUTS:
            out.append(f"{self.cuts} cuts inside words")
        return out


def overall(results: list[Result]) -> Overall:
    strong = sum(r.strong for r in results)
    errors = [e for r in results for e in r.errors]
    return Overall(
        p_at_5=sum(r.hits_at_5 for r in results) / (TOP_P * len(results)) if results else 0.0,
        recall_5=sum(r.recall(5) * r.strong for r in results) / strong if strong else 0.0,
        recall_10=sum(r.recall(10) * r.strong for r in results) / strong if strong else 0.0,
        boundary_error=statistics.fmean(errors) if errors else None,
        boundary_error_max=max(errors) if errors else None,
        cuts=sum(len(r.cuts) for r in results),
        fillers_in_top=sum(len(r.fillers_in_top) for r in results),
    )


# ---------------------------------------------------------------------------------------
# Label alignment against a transcript.

def norm(token: str) -> str:
    return re.sub(r"[^a-z0-9]", "", token.lower())


def span_words(text: str) -> list[str]:
    """The spoken words of a label's text (speaker tags like "A:" dropped)."""
    return [w for w in (norm(t) for t in text.split() if not re.fullmatch(r"[A-Z]:", t)) if w]


def nearest_word(words: list[Word], t: float, text: str, edge: str) -> tuple[Word | None, bool]:
    """The word whose `edge` time is nearest `t` (within the window), preferring the same text."""
    near = [w for w in words if abs(getattr(w, edge) - t) <= ALIGN_WINDOW_S]
    same = [w for w in near if norm(w.text) == text]
    pool = same or near
    if not pool:
        return None, False
    return min(pool, key=lambda w: abs(getattr(w, edge) - t)), bool(same)


def align(items: list[tuple[str, float, float, str]], words: list[Word]):
    """Per item (id, start, end, text): (id, start delta, end delta, both matched by text)."""
    out = []
    for ident, start, end, text in items:
        toks = span_words(text)
        if not toks:
            continue
        first, ok1 = nearest_word(words, start, toks[0], "start")
        last, ok2 = nearest_word(words, end, toks[-1], "end")
        out.append((ident,
                    None if first is None else first.start - start,
                    None if last is None else last.end - end,
                    ok1 and ok2))
    return out


# ---------------------------------------------------------------------------------------
# Joining transcripts.

def concat_transcripts(transcripts: list[dict], seconds: float) -> dict:
    """Transcripts end to end, repeated, times shifted, cut to `seconds` (whole segments)."""
    if not transcripts or not any(t.get("segments") for t in transcripts):
        raise EvalError("no transcript with segments to join")
    segments, offset, i = [], 0.0, 0
    while offset < seconds:
        t = transcripts[i % len(transcripts)]
        i += 1
        for seg in t.get("segments") or []:
            if offset + seg["start"] >= seconds:
                break
            s = dict(seg)
            s["start"] = round(seg["start"] + offset, 3)
            s["end"] = round(seg["end"] + offset, 3)
            s["words"] = [dict(w, start=round(w["start"] + offset, 3), end=round(w["end"] + offset, 3))
                          for w in seg.get("words") or []]
            segments.append(s)
        last_end = max((s["end"] for s in t.get("segments") or []), default=0.0)
        offset += max(float(t.get("duration") or 0.0), last_end + 1.0)
    end = max(seconds, segments[-1]["end"])
    return {"language": transcripts[0].get("language", "en"), "duration": round(end, 3), "segments": segments}


# ---------------------------------------------------------------------------------------
# Commands.

def r3(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def fmt(x: float | None, spec: str = ".2f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def print_result(r: Result, spans: list[Span], words: list[Word]) -> None:
    print(f"== {r.name}: {len(r.matches)} suggestions, {r.strong} planted strong spans"
          + (f" (message: {r.message})" if r.message else ""))
    print(f"  {'rank':>4} {'start':>8} {'end':>8} {'dur':>5} {'score':>6}  {'match':<26} {'dstart':>7} {'dend':>7}  note")
    for m in r.matches:
        c = m.clip
        notes = []
        for rank, edge, t, w in r.cuts:
            if rank == m.rank:
                notes.append(f"{edge} cuts '{w.text}' [{w.start:.2f}, {w.end:.2f}]")
        if m.span is None:
            best = max(spans, key=lambda s: overlap(c.start, c.end, s.start, s.end))
            ov = overlap(c.start, c.end, best.start, best.end)
            label = f"({best.kind} {best.id} {ov:.0f}s)" if ov > 0 else "-"
            ds = de = None
        else:
            label, ds, de = m.span.id, c.start - m.span.start, c.end - m.span.end
        print(f"  {m.rank:>4} {c.start:8.2f} {c.end:8.2f} {c.end - c.start:5.1f} {fmt(c.score, '6.2f'):>6}  "
              f"{label:<26} {fmt(ds, '+7.2f'):>7} {fmt(de, '+7.2f'):>7}  {'; '.join(notes)}")
    if r.missed:
        print(f"  strong spans not found in the top {len(r.matches)}: {', '.join(r.missed)}")


def result_json(r: Result) -> dict:
    errs = r.errors
    return {
        "podcast": r.name, "strong_spans": r.strong, "suggestions": len(r.matches), "message": r.message,
        "p_at_5": r3(r.p_at_5), "recall_at_5": r3(r.recall(5)), "recall_at_10": r3(r.recall(10)),
        "boundary_error_s": r3(statistics.fmean(errs)) if errs else None,
        "boundary_error_max_s": r3(max(errs)) if errs else None,
        "cuts_inside_words": len(r.cuts), "filler_in_top_5": r.fillers_in_top, "missed_strong": r.missed,
        "ranked": [{"rank": m.rank, "start": m.clip.start, "end": m.clip.end, "score": m.clip.score,
                    "hit": m.span.id if m.span else None, "boundary_error_s": r3(m.boundary_error)}
                   for m in r.matches],
        "cuts": [{"rank": rank, "edge": edge, "time": t, "word": w.text, "word_start": w.start,
                  "word_end": w.end} for rank, edge, t, w in r.cuts],
    }


def cmd_score(args) -> int:
    results = []
    for case in cases(args.cases):
        spans = read_labels(load_json(Path(f"{case}.labels.json")))
        clips, message = read_suggestions(load_json(Path(f"{case}.suggest.json")))
        words = read_words(load_json(Path(f"{case}.transcript.json")))
        r = evaluate(case.name, spans, clips, words, args.top, message)
        print_result(r, spans, words)
        print()
        results.append(r)
    total = overall(results)

    print(f"{'podcast':<14} {'P@5':>5} {'R@5':>5} {'R@10':>5} {'bound err s':>11} {'max s':>6} {'cuts':>5} {'filler@5':>8}")
    for r in results:
        errs = r.errors
        print(f"{r.name:<14} {r.p_at_5:5.2f} {r.recall(5):5.2f} {r.recall(10):5.2f} "
              f"{fmt(statistics.fmean(errs) if errs else None):>11} {fmt(max(errs) if errs else None):>6} "
              f"{len(r.cuts):>5} {len(r.fillers_in_top):>8}")
    print(f"{'overall':<14} {total.p_at_5:5.2f} {total.recall_5:5.2f} {total.recall_10:5.2f} "
          f"{fmt(total.boundary_error):>11} {fmt(total.boundary_error_max):>6} {total.cuts:>5} {total.fillers_in_top:>8}")
    print(f"goals: P@5 >= {GOAL_P_AT_5}, boundary error <= {GOAL_BOUNDARY_S} s, {GOAL_CUTS} cuts inside words: "
          + ("met" if not total.failures else "missed (" + "; ".join(total.failures) + ")"))

    if args.json:
        summary = {
            "top": args.top,
            "goals": {"p_at_5": GOAL_P_AT_5, "boundary_error_s": GOAL_BOUNDARY_S, "cuts_inside_words": GOAL_CUTS},
            "overall": {"p_at_5": r3(total.p_at_5), "recall_at_5": r3(total.recall_5),
                        "recall_at_10": r3(total.recall_10), "boundary_error_s": r3(total.boundary_error),
                        "boundary_error_max_s": r3(total.boundary_error_max),
                        "cuts_inside_words": total.cuts, "filler_in_top_5": total.fillers_in_top},
            "goals_met": not total.failures,
            "failures": total.failures,
            "podcasts": [result_json(r) for r in results],
        }
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if args.check and total.failures else 0


def cmd_align(args) -> int:
    all_deltas = []
    for case in cases(args.cases):
        labels = load_json(Path(f"{case}.labels.json"))
        words = read_words(load_json(Path(f"{case}.transcript.json")))
        if args.lines:
            items = [(f"line {x['index']}", x["start"], x["end"], x["text"]) for x in labels["lines"]]
        else:
            items = [(f"{s.kind} {s.id}", s.start, s.end, s.text) for s in read_labels(labels)]
        print(f"== {case.name}: label duration {labels['duration']:.1f} s, transcript words {len(words)}")
        print(f"  {'span':<34} {'dstart':>7} {'dend':>7}  text match")
        deltas = []
        for ident, ds, de, ok in align(items, words):
            print(f"  {ident:<34} {fmt(ds, '+7.2f'):>7} {fmt(de, '+7.2f'):>7}  {'yes' if ok else 'no'}")
            deltas += [abs(d) for d in (ds, de) if d is not None]
        if deltas:
            print(f"  |delta|: median {statistics.median(deltas):.2f} s, max {max(deltas):.2f} s, "
                  f"{sum(d <= 0.3 for d in deltas)}/{len(deltas)} within 0.3 s")
        all_deltas += deltas
    if all_deltas:
        print(f"all: |delta| median {statistics.median(all_deltas):.2f} s, max {max(all_deltas):.2f} s, "
              f"{sum(d <= 0.3 for d in all_deltas)}/{len(all_deltas)} within 0.3 s")
    return 0


def cmd_concat(args) -> int:
    joined = concat_transcripts([load_json(Path(p)) for p in args.transcripts], args.seconds)
    tmp = Path(f"{args.out}.part")
    tmp.write_text(json.dumps(joined) + "\n")
    tmp.replace(args.out)
    words = sum(len(s["words"]) for s in joined["segments"])
    print(f"{args.out}: {joined['duration']:.0f} s, {len(joined['segments'])} segments, {words} words")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("score", help="score suggestions against the planted labels")
    p.add_argument("cases", nargs="+", help="case prefixes or folders")
    p.add_argument("--top", type=int, default=10, help="how many suggestions to score (default 10)")
    p.add_argument("--json", help="write a JSON summary here")
    p.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    p.set_defaults(run=cmd_score)
    p = sub.add_parser("align", help="label times against transcript word times")
    p.add_argument("cases", nargs="+", help="case prefixes or folders")
    p.add_argument("--lines", action="store_true", help="every line, not only the spans")
    p.set_defaults(run=cmd_align)
    p = sub.add_parser("concat", help="join transcripts into one long transcript")
    p.add_argument("transcripts", nargs="+")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--out", required=True)
    p.set_defaults(run=cmd_concat)
    args = ap.parse_args(argv)
    try:
        return args.run(args)
    except KeyError as e:
        print(f"suggest_eval: error: a file lacks the field {e}", file=sys.stderr)
        return 2
    except (EvalError, TypeError, ValueError) as e:
        print(f"suggest_eval: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
