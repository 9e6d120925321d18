"""Test of models/tools/set_metadata.py:

    /usr/bin/python3 -m unittest models.tools.test_set_metadata      (from the repository root)
"""
import os
import shutil
import struct
import tempfile
import unittest

import numpy as np

from models.tools import p2p_safetensors, set_metadata
from models.tools.test_average import write


def data_section(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack_from("<Q", data, 0)
    return data[8 + n:]


class SetMetadata(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp, True)
        rng = np.random.default_rng(5)
        self.path = os.path.join(self.tmp, "m.safetensors")
        write(self.path, {"a.weight": rng.normal(size=(4, 3, 3, 3)).astype(np.float32),
                          "a.bias": rng.normal(size=(4,)).astype(np.float32)}, 1234)

    def test_sets_and_removes_keys_and_keeps_the_tensors(self):
        before = data_section(self.path)
        t0, _ = p2p_safetensors.load_model(self.path)
        out = os.path.join(self.tmp, "out.safetensors")
        self.assertEqual(set_metadata.main([self.path, "resize_max_size=384", "name=Renamed",
                                            "--out", out]), 0)
        t1, md = p2p_safetensors.load_model(out)
        self.assertEqual(md["resize_max_size"], "384")
        self.assertEqual(md["name"], "Renamed")
        self.assertEqual(md["training"], "step=1234 lambda_l1=30")
        self.assertEqual(data_section(out), before)
        for k in t0:
            self.assertTrue(np.array_equal(t0[k], t1[k]), k)
        self.assertEqual(set_metadata.main([out, "resize_max_size="]), 0)
        _, md = p2p_safetensors.load_model(out)
        self.assertNotIn("resize_max_size", md)

    def test_invalid_values_are_refused_and_the_file_is_left_alone(self):
        with open(self.path, "rb") as f:
            before = f.read()
        # native_size is 128: a resize limit below it, above 4096, or not a number; a colour
        # gain outside 100-400 %; a chroma target outside 1-100
        for bad in ("resize_max_size=64", "resize_max_size=5000", "resize_max_size=big",
                    "unhinted_chroma_percent=99", "unhinted_chroma_percent=401",
                    "unhinted_chroma_percent=1.2", "unhinted_chroma_target=0",
                    "unhinted_chroma_target=101", "native_size=", "novalue"):
            self.assertEqual(set_metadata.main([self.path, bad]), 2, bad)
            with open(self.path, "rb") as f:
                self.assertEqual(f.read(), before, bad)
        self.assertFalse(os.path.exists(self.path + ".tmp"))


if __name__ == "__main__":
    unittest.main()
