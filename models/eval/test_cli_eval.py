"""End-to-end test of models.eval.colorize through the real pix2pix-cli (found as the
evaluation finds it: $P2P_CLI, _build/cli/, _build/core/, $PATH; the meson test sets $P2P_CLI).
A one-photo "photo pack" is made from models/examples/lake-sherburne.jpg, so the dataset work
folder is not needed.

    /usr/bin/python3 -m unittest models.eval.test_cli_eval      # from the repository root
"""
import json
import os
import shutil
import struct
import tempfile
import unittest

import numpy as np
from PIL import Image

from models.dataset import p2p_data
from models.eval import cli, colorize, hints, metrics

EXAMPLE = os.path.join(cli.REPO, "models", "examples", "lake-sherburne.jpg")
SHIPPED = os.path.join(cli.REPO, "models", "colorize.safetensors")


def one_photo_pack(root):
    """A photo pack (work folder) holding the example photo as its only eval_in photo."""
    photos = os.path.join(root, "work", "photos")
    os.makedirs(os.path.join(photos, "eval_in"))
    img = Image.open(EXAMPLE).convert("RGB")
    img.thumbnail((400, 400))  # the pack keeps photos small; short side stays above 256
    img.save(os.path.join(photos, "eval_in", "lake.jpg"), quality=92)
    with open(os.path.join(photos, "index.tsv"), "w") as f:
        f.write("id\tpackage\tpath\tsplit\tnative_w\tnative_h\tw\th\tmean_saturation\n")
        f.write("lake\texample\t-\teval_in\t%d\t%d\t%d\t%d\t0.3\n" % (img.size * 2))
    return os.path.join(root, "work")


FAKE_CLI = """#!/usr/bin/python3
import json, sys
from PIL import Image
with open(%r, "a") as f:
    f.write(json.dumps(sys.argv[1:]) + "\\n")
Image.open(sys.argv[-2]).convert("RGB").save(sys.argv[-1])
"""


def header_only_model(path, metadata):
    head = json.dumps({"__metadata__": metadata}).encode("utf-8")
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)) + head)


class HintsArePassedOnlyWhenTheyCount(unittest.TestCase):
    """With a stand-in CLI that logs its arguments: --hints goes to a model that takes hints,
    for N > 0 only, and a model without hints input runs once per photo."""

    def test_arguments(self):
        tmp = tempfile.mkdtemp(prefix="p2p-eval-fake-")
        self.addCleanup(shutil.rmtree, tmp, True)
        work = one_photo_pack(tmp)
        log = os.path.join(tmp, "calls.jsonl")
        fake = os.path.join(tmp, "fake-cli")
        with open(fake, "w") as f:
            f.write(FAKE_CLI % log)
        os.chmod(fake, 0o755)
        hm = os.path.join(tmp, "hinted.safetensors")
        pm = os.path.join(tmp, "plain.safetensors")
        header_only_model(hm, {"task": "colorize", "input_space": "lab_l_hints", "training": "step=7"})
        header_only_model(pm, {"task": "colorize", "input_space": "lab_l"})
        out = os.path.join(tmp, "out")
        res, _ = colorize.evaluate([hm, pm], work, out, counts=(0, 2, 5), cli_path=fake,
                                   with_levin=False, log=lambda *a: None)
        res_whole, _ = colorize.evaluate([pm], work, os.path.join(tmp, "out2"), counts=(0,), cli_path=fake,
                                         with_levin=False, log=lambda *a: None,
                                         cli_args=("--size-mode", "whole"))
        with open(log) as f:
            calls = [json.loads(ln) for ln in f]
        # Default options unless asked (the diagnostic --cli-arg), and then said so in the report.
        self.assertEqual(sum("--size-mode" in c for c in calls), 1)
        self.assertEqual(calls[-1][-4:-2], ["--size-mode", "whole"])
        self.assertIn("Not the default options", colorize.markdown(res_whole))
        self.assertNotIn("Not the default options", colorize.markdown(res))
        calls = calls[:-1]
        hinted = [c for c in calls if c[c.index("--model") + 1] == hm]
        plain = [c for c in calls if c[c.index("--model") + 1] == pm]
        self.assertEqual(len(hinted), 3)
        self.assertEqual(len(plain), 1)
        self.assertNotIn("--hints", plain[0])
        given = [c[c.index("--hints") + 1] if "--hints" in c else None for c in hinted]
        hdir = os.path.join(out, "hints-s%d" % hints.SEED)
        self.assertEqual(given, [None, os.path.join(hdir, "lake-n02.png"),
                                 os.path.join(hdir, "lake-n05.png")])
        for c in calls:
            self.assertEqual(c[0], "run")
            self.assertEqual(c[-2], os.path.join(out, "inputs", "lake.png"))
        self.assertEqual(res["models"][0]["step"], 7)
        self.assertTrue(res["models"][0]["takes_hints"])


class ColorizeEvalThroughCli(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="p2p-eval-")
        work = one_photo_pack(cls.tmp)
        cls.out = os.path.join(cls.tmp, "out")
        cls.res, cls.per = colorize.evaluate([SHIPPED], work, cls.out,
                                             counts=(0, 2, 10), log=lambda *a: None)
        cls.lab = cls.res["models"][0]["label"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_files(self):
        for f in ("inputs/lake.png", "hints-s%d/lake-n10.png" % hints.SEED,
                  "levin-s%d/lake-n10.png" % hints.SEED,
                  "runs/%s/lake-n00.png" % self.lab, "contact-%s.png" % self.lab):
            self.assertTrue(os.path.exists(os.path.join(self.out, f)), f)
        json.dumps(self.res)  # the summary is plain JSON
        self.assertIn("| %s |" % self.lab, colorize.markdown(self.res))

    def test_output_is_the_cli_output_and_keeps_the_lightness(self):
        out = np.asarray(Image.open(os.path.join(self.out, "runs", self.lab, "lake-n00.png")).convert("RGB"))
        grey = np.asarray(Image.open(os.path.join(self.out, "inputs/lake.png")))
        self.assertEqual(out.shape[:2], grey.shape)
        L_out = p2p_data.rgb2lab(out)[..., 0]
        L_in = p2p_data.grey_to_L(grey / 255.0)
        # Colorize keeps the input's lightness (up to 8-bit rounding and gamut clipping).
        self.assertLess(float(np.median(np.abs(L_out - L_in))), 1.0)
        e = [p for p in self.per if p["method"] == self.lab and p["n"] == 0][0]
        photo = Image.open(os.path.join(self.tmp, "work/photos/eval_in/lake.jpg")).convert("RGB")
        rgb, _ = hints.prepare(np.asarray(photo))
        self.assertAlmostEqual(e["psnr"], metrics.psnr(out, rgb))

    def test_runs_per_hint_count(self):
        m = self.res["means"]
        n10 = os.path.join(self.out, "runs", self.lab, "lake-n10.png")
        if self.res["models"][0]["takes_hints"]:
            # A hints model runs at every N, and ten hints change its output.
            n0 = np.asarray(Image.open(os.path.join(self.out, "runs", self.lab, "lake-n00.png")))
            self.assertFalse(np.array_equal(n0, np.asarray(Image.open(n10))))
        else:
            # A model without hints input runs once; that output stands for every N.
            self.assertFalse(os.path.exists(n10))
            self.assertEqual(m[self.lab + "@0"]["psnr"], m[self.lab + "@10"]["psnr"])

    def test_baselines(self):
        m = self.res["means"]
        # Grey: no colour at all; Levin without hints is the grey image, with hints it obeys them.
        self.assertEqual(m["grey@0"]["colourfulness"], 0.0)
        self.assertAlmostEqual(m["levin@0"]["psnr"], m["grey@0"]["psnr"], places=1)
        self.assertLess(m["levin@10"]["hint_err"], 2.0)
        self.assertGreater(m["grey@10"]["hint_err"], m["levin@10"]["hint_err"])
        self.assertLess(m["levin@10"]["ab_err"], m["grey@10"]["ab_err"])
        d = self.res["paired"][self.lab + "@2"]["psnr_vs_grey"]
        self.assertEqual(d["n"], 1)
        self.assertAlmostEqual(d["mean"], m[self.lab + "@2"]["psnr"] - m["grey@2"]["psnr"])


if __name__ == "__main__":
    unittest.main()


class ModesPassTheirOptions(unittest.TestCase):
    """models.eval.modes with a stand-in CLI that logs its arguments: every mode of the table
    reaches pix2pix-cli with its options, for both filters and every input kind, and the
    summary has a row per mode (the input itself as a baseline)."""

    def test_modes(self):
        from models.eval import modes
        tmp = tempfile.mkdtemp(prefix="p2p-eval-modes-")
        self.addCleanup(shutil.rmtree, tmp, True)
        work = one_photo_pack(tmp)
        log = os.path.join(tmp, "calls.jsonl")
        fake = os.path.join(tmp, "fake-cli")
        with open(fake, "w") as f:
            f.write(FAKE_CLI % log)
        os.chmod(fake, 0o755)
        other = os.path.join(tmp, "candidate.safetensors")
        shutil.copyfile(modes.MODELS["sketch-to-photo"], other)
        res = modes.evaluate(work, os.path.join(tmp, "out"), ["colorize", "sketch-to-photo"],
                             cli_path=fake, log=lambda *a: None, models={"sketch-to-photo": other})
        with open(log) as f:
            calls = [json.loads(line) for line in f]
        # every mode: colorize on the grey photo, sketch on three drawings (lines, lines with
        # coloured fills, held-out lines)
        self.assertEqual(len(calls), len(modes.MODES) * 4)
        # argv: run --model M [mode options] INPUT OUTPUT
        import collections
        seen = collections.Counter(tuple(c[3:-2]) for c in calls)
        self.assertEqual(seen, collections.Counter({tuple(o): 4 for _, o in modes.MODES}))
        models_used = collections.Counter(c[c.index("--model") + 1] for c in calls)
        # the candidate replaces the bundled sketch model, the bundled colorize model stays
        n = len(modes.MODES)
        self.assertEqual(models_used, collections.Counter({modes.MODELS["colorize"]: n, other: 3 * n}))
        self.assertEqual(res["models"], {"colorize": modes.MODELS["colorize"], "sketch-to-photo": other})
        fills = np.asarray(Image.open(os.path.join(tmp, "out", "inputs", "sketch-to-photo",
                                                   "lake-fills.png")))
        self.assertEqual(fills.ndim, 3)  # the drawing with colour is an RGB input
        for f, inp in (("colorize", "grey"), ("sketch-to-photo", "xdog"),
                       ("sketch-to-photo", "fills"), ("sketch-to-photo", "held-out")):
            for mode in ["input"] + [m for m, _ in modes.MODES]:
                self.assertIn("%s|%s|%s" % (f, inp, mode), res["means"])
        # the stand-in returns its input: every mode scores as the input does
        self.assertAlmostEqual(res["means"]["colorize|grey|whole"]["psnr"],
                               res["means"]["colorize|grey|input"]["psnr"], places=6)
        self.assertIn("| whole |", modes.markdown(res))
