"""Tests of the photo list models/dataset/photo-sources.tsv (no network, no unpacked packages).

    /usr/bin/python3 -m unittest -v models.dataset.test_photo_sources      # from the repository root

The real list must keep every rule of photo_sources.problems(); each rule is also shown to catch a
list that breaks it (a copy of the real list with one mutation), so a check that can never fail
would show up here.
"""
import copy
import unittest

from models.dataset import photo_sources as ps


class RealListTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.header, cls.rows = ps.read()

    def test_no_problems(self):
        self.assertEqual(ps.problems(self.header, self.rows), [])

    def test_counts(self):
        n = {s: sum(r["split"] == s for r in self.rows) for s in ps.SPLITS}
        self.assertGreaterEqual(n["train"], 2 * 370)
        self.assertEqual(n["eval_in"], 33)
        self.assertEqual(ps.eval_in_digest(self.rows), ps.EVAL_IN_SHA256)

    def test_eval_photos_never_in_train(self):
        train = {(r["package"], r["path_in_package"]) for r in self.rows if r["split"] == "train"}
        held = {(r["package"], r["path_in_package"]) for r in self.rows if r["split"] != "train"}
        self.assertEqual(train & held, set())

    def test_every_row_credited(self):
        for r in self.rows:
            self.assertTrue(r["licence"].strip(), r)
            self.assertTrue(r["package"].strip() and r["path_in_package"].strip(), r)


class MutationTest(unittest.TestCase):
    """Each rule fires on a list that breaks it."""

    @classmethod
    def setUpClass(cls):
        cls.header, cls.rows = ps.read()

    def mutated(self, fn):
        rows = copy.deepcopy(self.rows)
        fn(rows)
        return ps.problems(self.header, rows)

    def assertProblem(self, problems, text):
        self.assertTrue(any(text in p for p in problems), "no problem mentioning %r in %s" % (text, problems[:5]))

    def first(self, rows, split):
        return next(r for r in rows if r["split"] == split)

    def test_duplicate_path(self):
        def dup(rows):
            r = copy.deepcopy(self.first(rows, "train"))
            r["_line"] = 99999
            rows.append(r)
        self.assertProblem(self.mutated(dup), "twice")

    def test_eval_photo_also_in_train(self):
        def leak(rows):
            r = copy.deepcopy(self.first(rows, "eval_in"))
            r["split"], r["_line"] = "train", 99999
            rows.append(r)
        self.assertProblem(self.mutated(leak), "in two splits")

    def test_missing_licence(self):
        self.assertProblem(self.mutated(lambda rows: rows[5].update(licence="")), "empty licence")

    def test_missing_split_or_unknown_split(self):
        self.assertProblem(self.mutated(lambda rows: rows[7].update(split="")), "empty split")
        self.assertProblem(self.mutated(lambda rows: rows[7].update(split="test")), "split 'test'")

    def test_doubtful_licence(self):
        def doubt(rows):
            rows[3]["note"] = "licence doubtful: exclude"
        self.assertProblem(self.mutated(doubt), "doubtful")

    def test_eval_in_changed(self):
        def move(rows):
            self.first(rows, "eval_in")["split"] = "eval_in2"
        self.assertProblem(self.mutated(move), "32 eval_in photos")

        def swap(rows):
            e = self.first(rows, "eval_in")
            t = self.first(rows, "train")
            e["split"], t["split"] = "train", "eval_in"
        self.assertProblem(self.mutated(swap), "differ from the 33")

    def test_too_few_train(self):
        def drop(rows):
            keep = [r for r in rows if r["split"] != "train"][:]
            keep += [r for r in rows if r["split"] == "train"][:100]
            rows[:] = keep
        self.assertProblem(self.mutated(drop), "fewer than 740")

    def test_suite_conflict(self):
        def conflict(rows):
            pkg = next(r["package"] for r in rows if r["suite"] == "trixie")
            next(r for r in rows if r["package"] == pkg)["suite"] = "bookworm"
            for r in rows:
                if r["package"] == pkg and r["suite"] != "bookworm":
                    r["suite"] = "trixie"
        self.assertProblem(self.mutated(conflict), "one package comes from one suite")

    def test_cutout_across_splits(self):
        def cross(rows):
            # A held-out cut-out whose only possible background is a train photo.
            for r in rows:
                if r["split"] == "eval_in2" and not r["container"].startswith("cut-out"):
                    r["split"] = "train"
        self.assertProblem(self.mutated(cross), "no background photo for split eval_in2")


if __name__ == "__main__":
    unittest.main()
