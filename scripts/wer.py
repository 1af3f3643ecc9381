#!/usr/bin/env python3
"""Word error rate of transcripts against references (Python standard library only).

    scripts/wer.py REF HYP [--details] [--json | --total] [--sclite] [--no-numbers] [--keep-fillers]

REF and HYP are files or folders. Folders are paired by file stem: every reference
(`<id>.txt`) is scored against `<id>.json`, `<id>.txt`, `<id>.srt` or `<id>.vtt` in HYP. A
`.trn` file (sclite format: `text (id)` per line) holds several references or hypotheses
at once. Hypotheses may be clipforge or faster-whisper JSON transcripts, SRT, WebVTT or
plain text.

Both sides are normalised the same way before scoring: Unicode NFKC, lower case,
punctuation removed (hyphens and dashes split words, apostrophes are dropped), numbers
written as words ("21st" -> "twenty first", "3.5" -> "three point five"), common titles
spelled out ("mr" -> "mister") and hesitations ("um", "uh") dropped. Words are aligned
by Levenshtein distance; WER = (substitutions + deletions + insertions) / reference words,
per file and in total (summed errors over summed reference words).

A missing hypothesis counts as all deletions and makes the exit status 1. With --sclite
the same normalised texts are also scored by NIST sclite (sctk) when it is installed,
as a cross-check.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

HYP_EXTENSIONS = (".json", ".txt", ".srt", ".vtt")
FILLERS = {"um", "umm", "uh", "uhm", "er", "erm", "ah", "hmm", "mm", "mhm"}
SPELLED = {
    "mr": "mister",
    "mrs": "missus",
    "dr": "doctor",
    "prof": "professor",
    "vs": "versus",
    "ok": "okay",
    "%": "percent",
    "&": "and",
}

ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen").split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
ORDINAL = {"one": "first", "two": "second", "three": "third", "five": "fifth",
           "eight": "eighth", "nine": "ninth", "twelve": "twelfth"}


def number_words(n: int) -> list[str]:
    """Cardinal number as words: 1905 -> one thousand nine hundred five."""
    if n < 20:
        return [ONES[n]]
    if n < 100:
        tens, ones = divmod(n, 10)
        return [TENS[tens]] + ([ONES[ones]] if ones else [])
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return [ONES[hundreds], "hundred"] + (number_words(rest) if rest else [])
    for scale, name in SCALES:
        if n >= scale:
            high, rest = divmod(n, scale)
            return number_words(high) + [name] + (number_words(rest) if rest else [])
    raise ValueError(n)


def ordinal_words(n: int) -> list[str]:
    words = number_words(n)
    last = words[-1]
    if last in ORDINAL:
        words[-1] = ORDINAL[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return words


NUMBER = re.compile(r"^(\d+)(?:\.(\d+))?(st|nd|rd|th|s)?$")


def spell_number(token: str) -> list[str] | None:
    """Words for a numeric token, or None when it is not one."""
    m = NUMBER.match(token)
    if not m or len(m.group(1)) > 15:
        return None
    whole, fraction, suffix = m.groups()
    n = int(whole)
    if suffix in ("st", "nd", "rd", "th") and not fraction:
        return ordinal_words(n)
    words = number_words(n)
    if fraction:
        words += ["point"] + [ONES[int(d)] for d in fraction]
    if suffix == "s":  # 1990s, 80s
        words[-1] = words[-1][:-1] + "ies" if words[-1].endswith("y") else words[-1] + "s"
    return words


def normalise(text: str, numbers: bool = True, fillers: bool = False) -> list[str]:
    """The words of `text` as scored."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = re.sub(r"[‘’ʼ`']", "", text)  # don't -> dont, on both sides alike
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)  # 1,000 -> 1000
    text = re.sub(r"(\d)\s*%", r"\1 %", text)
    text = re.sub(r"[-‐‑‒–—―/]", " ", text)
    words: list[str] = []
    for raw in text.split():
        if raw in SPELLED:
            words.append(SPELLED[raw])
            continue
        token = re.sub(r"[^\w.%&]", "", raw)
        token = token.rstrip(".").lstrip(".")
        if token in SPELLED:
            words.append(SPELLED[token])
            continue
        spelled = spell_number(token) if numbers else None
        if spelled:
            words.extend(spelled)
            continue
        token = re.sub(r"[^\w]", "", token).replace("_", "")
        if not token or (not fillers and token in FILLERS):
            continue
        words.append(token)
    return words


@dataclass
class Score:
    ref_words: int = 0
    sub: int = 0
    dele: int = 0
    ins: int = 0

    @property
    def errors(self) -> int:
        return self.sub + self.dele + self.ins

    @property
    def wer(self) -> float:
        if self.ref_words == 0:
            return 0.0 if self.errors == 0 else 1.0
        return self.errors / self.ref_words

    def add(self, other: "Score") -> None:
        self.ref_words += other.ref_words
        self.sub += other.sub
        self.dele += other.dele
        self.ins += other.ins


def align(ref: list[str], hyp: list[str]) -> tuple[Score, list[tuple[str, str, str]]]:
    """Levenshtein alignment of word lists: the score and the operations, in order, as
    (op, ref word, hyp word) with op one of = S D I."""
    n, m = len(ref), len(hyp)
    ids: dict[str, int] = {}
    r = [ids.setdefault(w, len(ids)) for w in ref]
    h = [ids.setdefault(w, len(ids)) for w in hyp]
    # One row of costs per reference word, plus backpointers packed in a bytearray.
    back = bytearray((n + 1) * (m + 1))
    prev = list(range(m + 1))
    for j in range(1, m + 1):
        back[j] = 3  # insertion
    for i in range(1, n + 1):
        cur = [i] + [0] * m
        back[i * (m + 1)] = 2  # deletion
        ri = r[i - 1]
        row = i * (m + 1)
        for j in range(1, m + 1):
            diag = prev[j - 1] + (ri != h[j - 1])
            up = prev[j] + 1
            left = cur[j - 1] + 1
            if diag <= up and diag <= left:
                cur[j] = diag
                back[row + j] = 1
            elif up <= left:
                cur[j] = up
                back[row + j] = 2
            else:
                cur[j] = left
                back[row + j] = 3
        prev = cur
    score = Score(ref_words=n)
    ops: list[tuple[str, str, str]] = []
    i, j = n, m
    while i > 0 or j > 0:
        step = back[i * (m + 1) + j]
        if step == 1:
            same = ref[i - 1] == hyp[j - 1]
            if not same:
                score.sub += 1
            ops.append(("=" if same else "S", ref[i - 1], hyp[j - 1]))
            i, j = i - 1, j - 1
        elif step == 2:
            score.dele += 1
            ops.append(("D", ref[i - 1], ""))
            i -= 1
        else:
            score.ins += 1
            ops.append(("I", "", hyp[j - 1]))
            j -= 1
    ops.reverse()
    return score, ops


def read_transcript_text(path: Path) -> str:
    """The spoken text of a transcript file in any of the supported formats."""
    raw = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        data = json.loads(raw)
        if isinstance(data, dict) and isinstance(data.get("segments"), list):
            return " ".join(str(s.get("text", "")) for s in data["segments"])
        if isinstance(data, dict) and isinstance(data.get("text"), str):
            return data["text"]
        raise ValueError(f"{path}: JSON without segments or text")
    if suffix in (".srt", ".vtt"):
        lines = []
        in_note = False
        for line in raw.splitlines():
            s = line.strip()
            if not s:
                in_note = False
                continue
            if in_note or s.startswith("WEBVTT") or "-->" in s or s.isdigit():
                continue
            if s.startswith(("NOTE", "STYLE", "REGION")):
                in_note = True
                continue
            lines.append(html.unescape(re.sub(r"<[^>]*>", "", s)))
        return " ".join(lines)
    return raw


def read_trn(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"^(.*)\(([^()]*)\)\s*$", line)
        if m:
            out[m.group(2).strip()] = re.sub(r"</?s>", " ", m.group(1))
    return out


def collect(path: Path, is_ref: bool) -> dict[str, Path | str]:
    """id -> file (or text, for .trn entries) of one side."""
    if path.is_dir():
        out: dict[str, Path | str] = {}
        if is_ref:
            for f in sorted(path.glob("*.txt")):
                out[f.stem] = f
            for f in sorted(path.glob("*.trn")):
                if not out:
                    out.update(read_trn(f))
        else:
            for ext in reversed(HYP_EXTENSIONS):  # earlier extensions win
                for f in sorted(path.glob(f"*{ext}")):
                    out[f.stem] = f
            for f in sorted(path.glob("*.trn")):
                for k, v in read_trn(f).items():
                    out.setdefault(k, v)
        return out
    if not path.exists():
        sys.exit(f"wer.py: {path} does not exist")
    if path.suffix == ".trn":
        return dict(read_trn(path))
    return {path.stem: path}


def text_of(item: Path | str) -> str:
    return read_transcript_text(item) if isinstance(item, Path) else item


def sclite_wer(pairs: list[tuple[str, list[str], list[str]]]) -> float | None:
    """Total WER from NIST sclite over the same normalised words, if sclite is installed."""
    exe = shutil.which("sclite") or next(
        (p for p in ("/usr/lib/sctk/bin/sclite",) if os.access(p, os.X_OK)), None)
    if not exe:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        ref, hyp = Path(tmp, "ref.trn"), Path(tmp, "hyp.trn")
        ref.write_text("".join(f"{' '.join(r)} ({i})\n" for i, r, _ in pairs))
        hyp.write_text("".join(f"{' '.join(h)} ({i})\n" for i, _, h in pairs))
        out = subprocess.run([exe, "-r", str(ref), "trn", "-h", str(hyp), "trn", "-i", "rm",
                              "-o", "sum", "stdout"], capture_output=True, text=True, check=False)
    for line in out.stdout.splitlines():
        if "Sum/Avg" in line:
            # | Sum/Avg |  #Snt  #Wrd | Corr  Sub  Del  Ins  Err  S.Err |
            fields = [f for f in re.split(r"[|\s]+", line) if f]
            try:
                return float(fields[-2]) / 100.0
            except (ValueError, IndexError):
                return None
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("ref", type=Path, help="reference file or folder")
    ap.add_argument("hyp", type=Path, help="hypothesis file or folder")
    ap.add_argument("--details", action="store_true", help="print the word alignment of errors")
    ap.add_argument("--json", action="store_true", help="print the scores as JSON")
    ap.add_argument("--total", action="store_true",
                    help="print only the total WER in percent (for scripts)")
    ap.add_argument("--sclite", action="store_true", help="cross-check the total with sclite")
    ap.add_argument("--no-numbers", action="store_true", help="leave digits as they are")
    ap.add_argument("--keep-fillers", action="store_true", help="score um/uh too")
    ap.add_argument("--label", default="", help="name printed on the total line")
    args = ap.parse_args()

    refs = collect(args.ref, is_ref=True)
    if not refs:
        sys.exit(f"wer.py: no references in {args.ref}")
    if args.ref.is_file() and args.hyp.is_file() and args.ref.suffix != ".trn":
        hyps = {next(iter(refs)): args.hyp}
    else:
        hyps = collect(args.hyp, is_ref=False)

    def norm(text: str) -> list[str]:
        return normalise(text, numbers=not args.no_numbers, fillers=args.keep_fillers)

    total = Score()
    rows = []
    pairs = []
    missing = []
    for key, ref_item in refs.items():
        ref_words = norm(text_of(ref_item))
        hyp_item = hyps.get(key)
        if hyp_item is None:
            missing.append(key)
            hyp_words: list[str] = []
        else:
            hyp_words = norm(text_of(hyp_item))
        score, ops = align(ref_words, hyp_words)
        total.add(score)
        pairs.append((key, ref_words, hyp_words))
        rows.append((key, score, ops, hyp_item is None))

    sclite = sclite_wer(pairs) if args.sclite else None
    label = args.label or "total"
    if args.total:
        print(f"{100 * total.wer:.2f}")
    elif args.json:
        print(json.dumps({
            "files": [{"id": k, "ref_words": s.ref_words, "sub": s.sub, "del": s.dele,
                       "ins": s.ins, "wer": round(s.wer, 4), "missing": miss}
                      for k, s, _, miss in rows],
            "total": {"ref_words": total.ref_words, "sub": total.sub, "del": total.dele,
                      "ins": total.ins, "wer": round(total.wer, 4)},
            "sclite_wer": sclite,
        }, indent=2))
    else:
        width = max(len(label), *(len(k) for k, *_ in rows))
        print(f"{'file':<{width}}  {'words':>6} {'sub':>5} {'del':>5} {'ins':>5}   {'WER':>6}")
        for key, s, ops, miss in rows:
            note = "  (no hypothesis)" if miss else ""
            print(f"{key:<{width}}  {s.ref_words:>6} {s.sub:>5} {s.dele:>5} {s.ins:>5}  "
                  f"{100 * s.wer:6.2f}%{note}")
            if args.details:
                for op, r, h in ops:
                    if op != "=":
                        print(f"{'':<{width}}    {op} {r!r:>20} -> {h!r}")
        print(f"{label:<{width}}  {total.ref_words:>6} {total.sub:>5} {total.dele:>5} "
              f"{total.ins:>5}  {100 * total.wer:6.2f}%")
        if args.sclite:
            print(f"sclite cross-check: {'not installed' if sclite is None else f'{100 * sclite:.2f}%'}")
    if missing:
        print(f"wer.py: no hypothesis for {', '.join(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
