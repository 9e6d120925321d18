"""Test of models/tools/average_models.py against numpy's own mean:

    /usr/bin/python3 -m unittest models.tools.test_average      (from the repository root)
"""
import os
import tempfile
import unittest

import numpy as np

from models.tools import average_models, p2p_safetensors


def write(path, tensors, step, arch="unet_128", ngf=4):
    md = {"arch": arch, "ngf": ngf, "input_nc": 3, "output_nc": 3, "norm": "batch",
          "dropout": True, "task": "sketch-to-photo", "input_space": "rgb", "output_space": "rgb",
          "native_size": 128, "name": "test", "license": "CC0-1.0",
          "training": "step=%d lambda_l1=30" % step}
    p2p_safetensors.save_model(tensors, path, md, "F32")


class Average(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        rng = np.random.default_rng(3)
        self.nets = [{"a.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
                      "a.bias": rng.normal(size=(4,)).astype(np.float32)} for _ in range(3)]
        self.paths = []
        for i, t in enumerate(self.nets):
            self.paths.append(os.path.join(self.tmp, "s%d.safetensors" % i))
            write(self.paths[-1], t, 1000 * (i + 1))

    def test_equal_weights_give_the_mean_and_record_the_steps(self):
        out = os.path.join(self.tmp, "mean.safetensors")
        self.assertEqual(average_models.main([out] + self.paths + ["--dtype", "F32"]), 0)
        t, md = p2p_safetensors.load_model(out)
        for k in t:
            ref = np.mean([n[k].astype(np.float64) for n in self.nets], axis=0)
            self.assertLess(float(np.abs(t[k] - ref).max()), 1e-6, k)
        self.assertTrue(md["training"].endswith("averaged=1000+2000+3000"), md["training"])
        self.assertEqual(md["arch"], "unet_128")

    def test_weights(self):
        t, md = average_models.average(self.paths[:2], [0.25, 0.75])
        ref = 0.25 * self.nets[0]["a.bias"] + 0.75 * self.nets[1]["a.bias"]
        self.assertLess(float(np.abs(t["a.bias"] - ref).max()), 1e-6)
        self.assertIn("weights=0.25,0.75", md["training"])

    def test_other_networks_are_refused(self):
        other = os.path.join(self.tmp, "other.safetensors")
        write(other, self.nets[0], 5, arch="unet_256")
        with self.assertRaisesRegex(ValueError, "arch"):
            average_models.average([self.paths[0], other])
        shape = os.path.join(self.tmp, "shape.safetensors")
        write(shape, {"a.weight": self.nets[0]["a.weight"][:2], "a.bias": self.nets[0]["a.bias"]}, 6)
        with self.assertRaisesRegex(ValueError, "other tensors"):
            average_models.average([self.paths[0], shape])
        self.assertEqual(average_models.main([os.path.join(self.tmp, "x.safetensors"), self.paths[0]]), 2)
        self.assertEqual(average_models.main([os.path.join(self.tmp, "x.safetensors"), self.paths[0],
                                              self.paths[1], "--weights", "1"]), 2)


if __name__ == "__main__":
    unittest.main()
