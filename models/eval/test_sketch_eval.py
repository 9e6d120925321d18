"""Tests of models.eval.sketch: seeded inputs, and the evaluation end to end through the real
pix2pix-cli (found as models/eval/cli.py finds it; the meson test sets $P2P_CLI) on a one-photo
pack made from models/examples/lake-sherburne.jpg, so the dataset work folder is not needed.

    /usr/bin/python3 -m unittest models.eval.test_sketch_eval      # from the repository root
"""
import json
import os
import shutil
import tempfile
import unittest

import numpy as np
from PIL import Image

from models.eval import cli, metrics, sketch, sketch_snapshots

EXAMPLE = os.path.join(cli.REPO, "models", "examples", "lake-sherburne.jpg")
SHIPPED = os.path.join(cli.REPO, "models", "sketch-to-photo.safetensors")


class Inputs(unittest.TestCase):
    def setUp(self):
        img = np.asarray(Image.open(EXAMPLE).convert("RGB"))
        self.rgb = sketch.square(img, 128, 128)

    def test_seeded_kinds(self):
        a, style = sketch.make_inputs(self.rgb, 3, 1, None)
        b, _ = sketch.make_inputs(self.rgb, 3, 1, None)
        self.assertEqual(set(a), set(sketch.KINDS))
        self.assertIn(style, sketch.LINE_STYLES)
        for k in sketch.KINDS:
            self.assertEqual(a[k].shape, (128, 128, 3))
            np.testing.assert_array_equal(a[k], b[k])
        # lines-only inputs are grey; the coloured ones carry colour
        for k in ("lines", "lines-log"):
            self.assertTrue((a[k][..., 0] == a[k][..., 1]).all() and (a[k][..., 1] == a[k][..., 2]).all())
        self.assertGreater(metrics.colourfulness(a["fills"]), 5.0)
        # the coloured kinds keep the lines: wherever the lines input is ink, they are at least as dark
        ink = a["lines"][..., 0] < 60
        for k in ("fills", "partial", "strokes"):
            self.assertTrue((a[k][ink].max(axis=1) <= a["lines"][ink][:, 0]).all(), k)

    def test_bucket_fill_fills_closed_regions(self):
        g = np.full((64, 64), 255, np.uint8)
        g[16, 16:48] = g[47, 16:48] = 0
        g[16:48, 16] = g[16:48, 47] = 0
        out = sketch.bucket_fill(g, np.random.default_rng(0))
        inside = out[18:46, 18:46].reshape(-1, 3)
        self.assertEqual(len(np.unique(inside, axis=0)), 1)                # one flat colour
        self.assertIn(tuple(inside[0]), sketch.PALETTE)
        self.assertTrue((out[16, 16:48] == 0).all())                       # lines stay black

    def test_log_is_binary_and_sparse(self):
        s = sketch.log_sketch(self.rgb)
        self.assertEqual(set(np.unique(s)) - {0, 255}, set())
        self.assertTrue(0.01 < (s == 0).mean() < 0.4)


class SketchEvalThroughCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="p2p-sketch-eval-")
        photos = os.path.join(cls.tmp, "work", "photos")
        os.makedirs(os.path.join(photos, "eval_in"))
        img = Image.open(EXAMPLE).convert("RGB")
        img.thumbnail((512, 512))  # short side 288: both views (128 and 256)
        img.save(os.path.join(photos, "eval_in", "lake.jpg"), quality=92)
        with open(os.path.join(photos, "index.tsv"), "w") as f:
            f.write("id\tpackage\tpath\tsplit\tnative_w\tnative_h\tw\th\tmean_saturation\n")
            f.write("lake\texample\t-\teval_in\t%d\t%d\t%d\t%d\t0.3\n" % (img.size * 2))
        cls.out = os.path.join(cls.tmp, "out")
        cls.res, cls.per = sketch.evaluate([SHIPPED], os.path.join(cls.tmp, "work"), cls.out,
                                           sheet_rows=2, log=lambda *a: None)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_files_and_tables(self):
        d = "inputs-s%d-128" % sketch.SEED
        for k in sketch.KINDS:
            for v in (0, 1):
                self.assertTrue(os.path.exists(os.path.join(self.out, d, k, "lake-v%d.png" % v)))
                self.assertTrue(os.path.exists(os.path.join(self.out, "runs/sketch-to-photo", k, "lake-v%d.png" % v)))
            self.assertTrue(os.path.exists(os.path.join(self.out, "contact-sketch-to-photo-%s.png" % k)))
        json.dumps(self.res)
        self.assertIn("| fills | sketch-to-photo |", sketch.markdown(self.res))
        self.assertEqual(self.res["means"]["sketch-to-photo@lines"]["n"], 2)

    def test_scores_are_of_the_cli_output(self):
        d = "inputs-s%d-128" % sketch.SEED
        photo = np.asarray(Image.open(os.path.join(self.out, d, "photo", "lake-v0.png")).convert("RGB"))
        for method, path in (("sketch-to-photo", "runs/sketch-to-photo/strokes/lake-v0.png"),
                             ("input", d + "/strokes/lake-v0.png")):
            img = np.asarray(Image.open(os.path.join(self.out, path)).convert("RGB"))
            e = [p for p in self.per if p["method"] == method and p["kind"] == "strokes" and p["id"] == "lake-v0"][0]
            self.assertAlmostEqual(e["psnr"], metrics.psnr(img, photo))
            self.assertAlmostEqual(e["detail"], metrics.detail_ratio(img, photo))
            self.assertAlmostEqual(e["grid"], metrics.grid_peak(img))
        # the model's output is not its input
        out = np.asarray(Image.open(os.path.join(self.out, "runs/sketch-to-photo/lines/lake-v0.png")).convert("RGB"))
        inp = np.asarray(Image.open(os.path.join(self.out, d, "lines/lake-v0.png")).convert("RGB"))
        self.assertGreater(np.abs(out.astype(int) - inp).mean(), 5)

    def test_snapshot_table(self):
        table = os.path.join(self.tmp, "snap.tsv")
        argv = ["--work", os.path.join(self.tmp, "work"), "--snapshots", os.path.join(self.tmp, "none"),
                "--table", table, "--out", os.path.join(self.tmp, "snap-out"), "--model", SHIPPED]
        self.assertEqual(sketch_snapshots.main(argv), 0)
        rows = sketch_snapshots.read_table(table)
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["step"], str(cli.training_step(cli.model_metadata(SHIPPED))))
        self.assertEqual(rows[0]["views"], "2")
        # the same figures as the evaluation above (same seeded inputs, same CLI)
        self.assertAlmostEqual(float(rows[0]["psnr_fills"]),
                               self.res["means"]["sketch-to-photo@fills"]["psnr"], places=3)
        self.assertIn("# input itself: lines", open(table).read())
        sketch_snapshots.main(argv)                 # a rerun adds nothing
        self.assertEqual(len(sketch_snapshots.read_table(table)), 1)


if __name__ == "__main__":
    unittest.main()
