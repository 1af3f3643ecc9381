#!/usr/bin/env python3
"""Tests of scripts/wer.py: `python3 -m unittest discover -s scripts -p 'test_*.py'`."""

import json
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import wer  # noqa: E402


class Normalise(unittest.TestCase):
    def test_case_punctuation_and_apostrophes(self):
        self.assertEqual(wer.normalise("Well, I don't KNOW... really?!"),
                         ["well", "i", "dont", "know", "really"])
        self.assertEqual(wer.normalise("ill-disposed — cold/hearted"),
                         ["ill", "disposed", "cold", "hearted"])

    def test_numbers_become_words(self):
        self.assertEqual(wer.normalise("21st of 1,905 items, 3.5% off"),
                         ["twenty", "first", "of", "one", "thousand", "nine", "hundred", "five",
                          "items", "three", "point", "five", "percent", "off"])
        self.assertEqual(wer.normalise("the 1990s and 2nd 12th 40th"),
                         ["the", "one", "thousand", "nine", "hundred", "nineties", "and",
                          "second", "twelfth", "fortieth"])
        self.assertEqual(wer.normalise("1905", numbers=False), ["1905"])

    def test_titles_and_fillers(self):
        self.assertEqual(wer.normalise("Um, Mr. Dashwood, uh, and Dr Smith"),
                         ["mister", "dashwood", "and", "doctor", "smith"])
        self.assertEqual(wer.normalise("um yes", fillers=True), ["um", "yes"])


class Align(unittest.TestCase):
    def test_counts_each_kind_of_error(self):
        score, ops = wer.align("a b c d".split(), "a x c d e".split())
        self.assertEqual((score.sub, score.dele, score.ins, score.ref_words), (1, 0, 1, 4))
        self.assertAlmostEqual(score.wer, 0.5)
        self.assertEqual([op for op, *_ in ops], ["=", "S", "=", "=", "I"])
        score, _ = wer.align("a b c".split(), [])
        self.assertEqual((score.dele, score.wer), (3, 1.0))
        score, _ = wer.align([], [])
        self.assertEqual(score.wer, 0.0)

    def test_alignment_is_minimal(self):
        score, _ = wer.align("the cat sat on the mat".split(), "cat sat on a mat today".split())
        self.assertEqual(score.errors, 3)  # del the, sub the->a, ins today


class Files(unittest.TestCase):
    def test_reads_every_hypothesis_format(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            (d / "ref").mkdir()
            (d / "hyp").mkdir()
            for name in ("a", "b", "c", "d"):
                (d / "ref" / f"{name}.txt").write_text("hello there general kenobi\n")
            (d / "hyp" / "a.json").write_text(json.dumps(
                {"language": "en", "duration": 2.0, "segments": [
                    {"start": 0, "end": 1, "text": " Hello there,", "words": []},
                    {"start": 1, "end": 2, "text": " General Kenobi!", "words": []}]}))
            (d / "hyp" / "b.srt").write_text(
                "1\n00:00:00,000 --> 00:00:01,000\nHello there,\ngeneral\n\n"
                "2\n00:00:01,000 --> 00:00:02,000\nKenobi.\n\n")
            (d / "hyp" / "c.vtt").write_text(
                "WEBVTT\n\nNOTE a comment\nthat spans lines\n\n"
                "00:00:00.000 --> 00:00:02.000\n<v Speaker 1>Hello there general &amp; Kenobi\n")
            out = subprocess.run([sys.executable, str(Path(wer.__file__)), str(d / "ref"),
                                  str(d / "hyp"), "--json"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 1, out.stderr)  # d has no hypothesis
            self.assertIn("no hypothesis for d", out.stderr)
            result = json.loads(out.stdout)
            files = {f["id"]: f for f in result["files"]}
            self.assertEqual(files["a"]["wer"], 0.0)
            self.assertEqual(files["b"]["wer"], 0.0)
            self.assertEqual(files["c"]["ins"], 1)  # "and"
            self.assertTrue(files["d"]["missing"])
            self.assertEqual(result["total"]["ref_words"], 16)
            self.assertEqual(result["total"]["del"], 4)


if __name__ == "__main__":
    unittest.main()
