#!/usr/bin/env python3
"""Tests of scripts/suggest_eval.py and of the podcast markup (scripts/podcast.py):
`python3 -m unittest discover -s scripts -p 'test_*.py'`."""

import array
import contextlib
import io
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import podcast  # noqa: E402
import suggest_eval as se  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def strong(ident, start, end):
    return se.Span(ident, "strong", start, end)


def filler(ident, start, end):
    return se.Span(ident, "filler", start, end)


def clips(*pairs):
    return [se.Clip(a, b) for a, b in pairs]


class Hits(unittest.TestCase):
    def test_needs_half_of_both_lengths(self):
        span = strong("s", 100.0, 130.0)
        self.assertTrue(se.is_hit(se.Clip(100.0, 130.0), span))
        self.assertTrue(se.is_hit(se.Clip(110.0, 140.0), span))  # 20 s of 30 s, 20 of 30
        self.assertTrue(se.is_hit(se.Clip(115.0, 145.0), span))  # exactly half of both
        self.assertFalse(se.is_hit(se.Clip(116.0, 146.0), span))  # 14 s: less than half
        # Half of the span, but a long clip that mostly holds something else.
        self.assertFalse(se.is_hit(se.Clip(90.0, 160.0), span))
        # A small piece of the span, all of the clip.
        self.assertFalse(se.is_hit(se.Clip(105.0, 112.0), span))
        self.assertFalse(se.is_hit(se.Clip(130.0, 150.0), span))  # touching is not overlapping

    def test_each_span_matches_once_in_rank_order(self):
        spans = [strong("a", 0.0, 30.0), strong("b", 40.0, 70.0), filler("f", 30.0, 40.0)]
        got = se.match(clips((1.0, 29.0), (0.0, 30.0), (41.0, 69.0), (30.0, 40.0)), spans)
        self.assertEqual([m.span.id if m.span else None for m in got], ["a", None, "b", None])
        self.assertEqual([m.rank for m in got], [1, 2, 3, 4])

    def test_a_clip_takes_the_span_it_overlaps_most(self):
        # Short spans next to each other: the clip qualifies for both, and takes b.
        spans = [strong("a", 0.0, 10.0), strong("b", 10.0, 30.0)]
        got = se.match(clips((4.0, 30.0)), spans)
        self.assertEqual(got[0].span.id, "b")


class Metrics(unittest.TestCase):
    SPANS = [strong("s1", 10.0, 40.0), strong("s2", 100.0, 130.0), strong("s3", 200.0, 240.0),
             filler("f1", 50.0, 60.0), filler("dead-air", 300.0, 305.0)]
    WORDS = [se.Word(9.8, 10.3, "Here"), se.Word(39.5, 40.1, "end."), se.Word(101.0, 101.5, "word"),
             se.Word(300.0, 300.0, "zero")]

    def result(self, cl, top=10):
        return se.evaluate("p", self.SPANS, cl, self.WORDS, top)

    def test_precision_recall_and_boundary_error(self):
        r = self.result(clips((10.5, 41.0), (45.0, 65.0), (99.0, 129.0), (290.0, 310.0), (500.0, 530.0),
                              (201.0, 240.0)))
        self.assertEqual(r.hits_at_5, 2)
        self.assertAlmostEqual(r.p_at_5, 0.4)
        self.assertAlmostEqual(r.recall(5), 2 / 3)
        self.assertAlmostEqual(r.recall(10), 1.0)
        # (0.5 + 1.0) / 2, (1 + 1) / 2, (1 + 0) / 2
        self.assertEqual([round(e, 3) for e in r.errors], [0.75, 1.0, 0.5])
        self.assertEqual(r.fillers_in_top, ["f1", "dead-air"])
        self.assertEqual(r.missed, [])

    def test_fewer_than_five_suggestions_count_as_misses(self):
        r = self.result(clips((10.0, 40.0), (100.0, 130.0)))
        self.assertAlmostEqual(r.p_at_5, 0.4)
        self.assertEqual(r.missed, ["s3"])
        empty = self.result([])
        self.assertEqual((empty.p_at_5, empty.errors, empty.recall(10)), (0.0, [], 0.0))

    def test_top_limits_what_is_scored(self):
        r = self.result(clips((500.0, 530.0), (10.0, 40.0)), top=1)
        self.assertEqual(len(r.matches), 1)
        self.assertEqual(r.errors, [])

    def test_cuts_inside_words(self):
        # 10.3 is the end of "Here" (not a cut), 10.305 within tolerance, 39.8 inside "end.",
        # 101.2 inside "word"; a zero-length word cannot be cut.
        r = self.result(clips((10.3, 39.8), (10.305, 40.1), (101.2, 130.0), (300.0, 310.0)))
        self.assertEqual([(rank, edge) for rank, edge, _, _ in r.cuts], [(1, "end"), (3, "start")])
        self.assertEqual([w.text for _, _, _, w in r.cuts], ["end.", "word"])
        self.assertIsNone(se.inside_word(9.805, self.WORDS))
        self.assertIsNotNone(se.inside_word(9.815, self.WORDS))

    def test_overall_pools_podcasts(self):
        a = self.result(clips((10.0, 40.0), (100.0, 131.0), (200.0, 240.0), (0.0, 5.0), (60.0, 90.0)))
        b = self.result(clips((10.0, 42.0), (1.0, 5.0)))
        total = se.overall([a, b])
        self.assertAlmostEqual(total.p_at_5, 4 / 10)
        self.assertAlmostEqual(total.recall_5, 4 / 6)
        self.assertAlmostEqual(total.boundary_error, (0 + 0.5 + 0 + 1.0) / 4)
        self.assertAlmostEqual(total.boundary_error_max, 1.0)
        self.assertIn("P@5 0.40 < 0.8", total.failures[0])

    def test_goals(self):
        ok = se.Overall(p_at_5=0.8, recall_5=1, recall_10=1, boundary_error=1.0, boundary_error_max=2,
                        cuts=0, fillers_in_top=3)
        self.assertEqual(ok.failures, [])
        no_hits = se.Overall(0.0, 0, 0, None, None, 0, 0)
        self.assertEqual(len(no_hits.failures), 2)
        cut = se.Overall(1.0, 1, 1, 0.2, 0.3, 1, 0)
        self.assertEqual(cut.failures, ["1 cuts inside words"])


class Files(unittest.TestCase):
    LABELS = {"duration": 300.0, "spans": [
        {"id": "s1", "kind": "strong", "start": 10.0, "end": 40.0, "text": "A: Here is the thing. B: Yes."},
        {"id": "s2", "kind": "strong", "start": 100.0, "end": 130.0, "text": "B: Why? Because."},
        {"id": "f1", "kind": "filler", "start": 50.0, "end": 60.0, "text": "A: Um, so, anyway."}],
        "lines": [{"index": 0, "speaker": "A", "start": 10.0, "end": 20.0, "span": "s1", "text": "Here is the thing."}]}
    TRANSCRIPT = {"language": "en", "duration": 300.0, "segments": [
        {"start": 10.2, "end": 40.3, "text": "Here is the thing. Yes.", "words": [
            {"start": 10.2, "end": 10.5, "text": "Here", "confidence": 0.9},
            {"start": 10.5, "end": 39.0, "text": "is", "confidence": 0.9},
            {"start": 39.9, "end": 40.3, "text": "yes.", "confidence": 0.9}]},
        {"start": 99.9, "end": 130.0, "text": "Why? Because.", "words": [
            {"start": 99.9, "end": 100.5, "text": "Why?", "confidence": 0.9},
            {"start": 129.0, "end": 130.0, "text": "Because.", "confidence": 0.9}]}]}

    def write_case(self, d: Path, suggestions) -> Path:
        (d / "podcast-1.labels.json").write_text(json.dumps(self.LABELS))
        (d / "podcast-1.transcript.json").write_text(json.dumps(self.TRANSCRIPT))
        (d / "podcast-1.suggest.json").write_text(json.dumps(suggestions))
        return d / "podcast-1"

    def run_main(self, argv):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            status = se.main(argv)
        return status, out.getvalue()

    def test_score_writes_a_summary_and_checks_the_goals(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            good = {"suggestions": [{"start": 10.2, "end": 40.3, "score": 0.9},
                                    {"start": 99.9, "end": 130.0, "score": 0.8}]}
            case = self.write_case(d, good)
            status, text = self.run_main(["score", str(case), "--json", str(d / "s.json"), "--check"])
            # Two hits of five: P@5 0.4 misses the goal, so --check fails.
            self.assertEqual(status, 1)
            self.assertIn("overall", text)
            summary = json.loads((d / "s.json").read_text())
            self.assertAlmostEqual(summary["overall"]["p_at_5"], 0.4)
            self.assertAlmostEqual(summary["overall"]["boundary_error_s"], (0.25 + 0.05) / 2)
            self.assertEqual(summary["overall"]["cuts_inside_words"], 0)
            self.assertEqual(summary["podcasts"][0]["ranked"][0]["hit"], "s1")
            # Without --check the measurement always exits 0; a folder finds its cases.
            self.assertEqual(self.run_main(["score", tmp])[0], 0)

    def test_score_counts_cuts_and_reads_messages(self):
        with tempfile.TemporaryDirectory() as tmp:
            case = self.write_case(Path(tmp), {"suggestions": [{"start": 20.0, "end": 45.0}], "message": "short"})
            status, text = self.run_main(["score", str(case)])
            self.assertEqual(status, 0)
            self.assertIn("start cuts 'is'", text)
            self.assertIn("message: short", text)
            case = self.write_case(Path(tmp), {"suggestions": [], "message": "too short to clip"})
            self.assertEqual(self.run_main(["score", str(case), "--check"])[0], 1)

    def test_bad_input_is_an_error(self):
        with tempfile.TemporaryDirectory() as tmp:
            case = self.write_case(Path(tmp), {"suggestions": [{"start": 20.0, "end": 10.0}]})
            self.assertEqual(self.run_main(["score", str(case)])[0], 2)
            self.assertEqual(self.run_main(["score", str(Path(tmp) / "nothing")])[0], 2)

    def test_align_prefers_words_with_the_same_text(self):
        words = se.read_words(self.TRANSCRIPT)
        got = se.align([("s1", 10.0, 40.0, "A: Here is the thing. B: Yes."),
                        ("s2", 100.0, 130.0, "B: Why? Because."),
                        ("x", 200.0, 210.0, "A: Nothing near.")], words)
        self.assertEqual([(i, round(a, 2), round(b, 2), ok) for i, a, b, ok in got[:2]],
                         [("s1", 0.2, 0.3, True), ("s2", -0.1, 0.0, True)])
        self.assertEqual(got[2], ("x", None, None, False))


class Concat(unittest.TestCase):
    def test_repeats_and_shifts_to_the_length_asked(self):
        t = {"language": "en", "duration": 100.0, "segments": [
            {"start": 1.0, "end": 3.0, "text": "a b", "words": [
                {"start": 1.0, "end": 2.0, "text": "a", "confidence": 1.0},
                {"start": 2.0, "end": 3.0, "text": "b", "confidence": 1.0}]},
            {"start": 60.0, "end": 61.0, "text": "c", "words": [
                {"start": 60.0, "end": 61.0, "text": "c", "confidence": 1.0}]}]}
        joined = se.concat_transcripts([t], 250.0)
        starts = [s["start"] for s in joined["segments"]]
        self.assertEqual(starts, [1.0, 60.0, 101.0, 160.0, 201.0])
        words = [w["start"] for s in joined["segments"] for w in s["words"]]
        self.assertEqual(words, sorted(words))
        self.assertEqual(joined["duration"], 250.0)
        self.assertEqual(t["segments"][0]["start"], 1.0)  # inputs untouched
        with self.assertRaises(se.EvalError):
            se.concat_transcripts([{"segments": []}], 10.0)


class Markup(unittest.TestCase):
    def test_parses_speakers_pauses_and_spans(self):
        script = podcast.parse(
            "# a comment\n"
            "A: Hello there.\n"
            "  And more of the same line.\n"
            "[strong s1]\n"
            "B: Here is a number.\n"
            "A: Wow.\n"
            "[/strong]\n"
            "[filler dead]\n"
            "[pause 2]\n"
            "[pause 1.5]\n"
            "[/filler]\n"
            "B: Anyway.\n"
            "[pause 3]\n")
        self.assertEqual([(x.speaker, x.span) for x in script.lines],
                         [("A", None), ("B", "s1"), ("A", "s1"), ("B", None)])
        self.assertEqual(script.lines[0].text, "Hello there. And more of the same line.")
        self.assertEqual(script.lines[3].pause_before, 3.5)
        dead = script.spans[1]
        self.assertEqual((dead.kind, dead.lines, dead.before_line, dead.pause_from, dead.pause_to),
                         ("filler", [], 3, 0.0, 3.5))
        self.assertEqual(script.trailing_pause, 3.0)

    def test_rejects_mistakes(self):
        for bad in ("[strong a]\nA: x\n", "[/strong]\n", "[strong a]\n[filler b]\n", "C: who?\n",
                    "[strong a]\nA: x\n[/strong]\n[strong a]\nA: y\n[/strong]\n", "[pausee 2]\n",
                    "[strong a]\n[/strong]\n", "text before any speaker\n"):
            with self.subTest(bad=bad), self.assertRaises(podcast.ScriptError):
                podcast.parse(bad)

    def test_speech_bounds(self):
        rate = podcast.RATE
        samples = array.array("h", [0] * rate)
        for i in range(4000, 8000):
            samples[i] = 3000 if i % 2 else -3000
        begin, end = podcast.speech_bounds(samples)
        self.assertLessEqual(abs(begin - 4000), podcast.FRAME)
        self.assertLessEqual(abs(end - 8000), podcast.FRAME)

    def test_committed_podcasts_plant_what_the_readme_promises(self):
        scripts = sorted((ROOT / "eval" / "suggest").glob("podcast-*.txt"))
        self.assertGreaterEqual(len(scripts), 2)
        for path in scripts:
            with self.subTest(podcast=path.name):
                script = podcast.parse(path.read_text())
                kinds = [s.kind for s in script.spans]
                self.assertIn(kinds.count("strong"), (6, 7))
                self.assertGreaterEqual(kinds.count("filler"), 3)
                self.assertGreaterEqual(sum(len(x.text.split()) for x in script.lines), 1700)
                self.assertGreaterEqual(sum((x.pause_before or 0) >= 3 for x in script.lines), 2)
                for s in script.spans:
                    if s.kind == "strong":
                        words = sum(len(script.lines[i].text.split()) for i in s.lines)
                        self.assertTrue(55 <= words <= 140, f"{s.id}: {words} words")


if __name__ == "__main__":
    unittest.main()
