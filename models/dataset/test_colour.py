"""Tests of the coloured-sketch synthesis (models/dataset/colour.py).

    /usr/bin/python3 -m unittest -v models.dataset.test_colour      # from the repository root
"""
import unittest

import numpy as np
from scipy import ndimage as ndi

from models.dataset import colour


def two_tone(h=96, w=128):
    """Left third red-ish, the rest blue-ish, with mild noise (so means are not trivial)."""
    rng = np.random.default_rng(3)
    img = np.zeros((h, w, 3), np.float64)
    img[:, : w // 3] = (200, 40, 30)
    img[:, w // 3:] = (30, 60, 190)
    img += rng.normal(0, 6, img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def line_sketch(h=96, w=128):
    """Paper 240 with one black vertical line and one grey horizontal line."""
    s = np.full((h, w), 240, np.uint8)
    s[40, :] = 90
    s[:, 60:62] = 0
    return s


class SegmentTest(unittest.TestCase):
    def test_regions_connected_and_cover(self):
        rng = np.random.default_rng(0)
        img = (np.random.default_rng(1).random((64, 80, 3)) * 255).astype(np.uint8)
        img = ndi.gaussian_filter(img.astype(float), (4, 4, 0)).astype(np.uint8)
        lab = colour.segments(img, rng)
        self.assertEqual(lab.shape, (64, 80))
        self.assertEqual(lab.min(), 0)
        for k in range(lab.max() + 1):
            _, n = ndi.label(lab == k)
            self.assertEqual(n, 1, "label %d is not one connected region" % k)

    def test_respects_colour_edge(self):
        img = two_tone()
        lab = colour.segments(img, n=6, compactness=5.0)
        # No region straddles the red/blue boundary.
        w = img.shape[1]
        left = set(np.unique(lab[:, : w // 3 - 2]))
        right = set(np.unique(lab[:, w // 3 + 2:]))
        self.assertFalse(left & right)

    def test_small_pieces_absorbed(self):
        img = two_tone()
        img[10:13, 100:103] = (250, 250, 0)          # a 9-px yellow speck
        lab = colour.segments(img, n=6, compactness=5.0, min_frac=0.01)
        area = np.bincount(lab.ravel())
        self.assertGreaterEqual(area.min(), 0.01 * lab.size)


class FillTest(unittest.TestCase):
    def test_fill_is_region_mean(self):
        img = two_tone()
        lab = colour.segments(img, n=6, compactness=5.0)
        layer, cov = colour.fill_layer(img, lab)
        self.assertTrue((cov == 1).all())
        for k in range(lab.max() + 1):
            m = lab == k
            want = img[m].astype(np.float64).mean(axis=0) / 255.0
            got = layer[m]
            np.testing.assert_allclose(got, np.broadcast_to(want, got.shape), atol=1e-5)

    def test_partial_leaves_paper_white(self):
        img = two_tone()
        lab = colour.segments(img, n=6, compactness=5.0)
        keep = np.zeros(lab.max() + 1, bool)
        keep[0] = True
        layer, cov = colour.fill_layer(img, lab, keep)
        self.assertTrue((layer[lab != 0] == 1.0).all())
        self.assertTrue((cov[lab != 0] == 0).all())
        self.assertTrue((cov[lab == 0] == 1).all())


class StrokeTest(unittest.TestCase):
    def test_paths_follow_deepfill_ranges(self):
        rng = np.random.default_rng(5)
        for _ in range(50):
            paths = colour.stroke_paths(256, 256, rng)
            self.assertTrue(1 <= len(paths) <= 3)
            for pts, width in paths:
                self.assertTrue(4 <= len(pts) <= 11)
                self.assertTrue(12 <= width <= 40)
        for pts, width in colour.stroke_paths(128, 128, rng, 3):
            self.assertTrue(6 <= width <= 20)

    def test_stroke_colour_is_median_under_it(self):
        img = two_tone()
        rng = np.random.default_rng(11)
        layer, cov = colour.stroke_layer(img, rng, n_strokes=1, per_segment=False, soft=False)
        m = cov > 0
        self.assertTrue(m.any())
        want = np.median(img[m].astype(np.float32), axis=0) / 255.0
        np.testing.assert_allclose(layer[m], np.broadcast_to(want, layer[m].shape), atol=1e-5)
        self.assertTrue((layer[~m] == 1.0).all())


class CompositeTest(unittest.TestCase):
    def test_lines_only_equals_plain_sketch(self):
        img, s = two_tone(), line_sketch()
        out, kind = colour.coloured_sketch(img, s, np.random.default_rng(0), "lines")
        self.assertEqual(kind, "lines")
        self.assertEqual(out.dtype, np.uint8)
        np.testing.assert_array_equal(out, np.repeat(s[..., None], 3, axis=2))

    def test_lines_stay_dark(self):
        img, s = two_tone(), line_sketch()
        for kind in ("fills", "partial", "strokes"):
            for seed in range(5):
                out, _ = colour.coloured_sketch(img, s, np.random.default_rng(seed), kind)
                self.assertTrue((out[:, 60:62] == 0).all(), kind)          # black ink stays black
                # grey ink: never lighter than on white paper
                self.assertTrue((out[40, :70] <= 90).all(), kind)

    def test_fill_colour_survives_composite(self):
        img = two_tone()
        s = np.full(img.shape[:2], 255, np.uint8)
        out, _ = colour.coloured_sketch(img, s, np.random.default_rng(2), "fills")
        # On blank paper with no jitter drawn, the fill is the photo's colour region by region:
        # mean abs difference to the photo is small (flat regions of a two-tone image).
        self.assertLess(np.abs(out.astype(float) - img).mean(), 12.0)

    def test_seeded_and_mixed(self):
        img, s = two_tone(), line_sketch()
        a, ka = colour.coloured_sketch(img, s, np.random.default_rng(7))
        b, kb = colour.coloured_sketch(img, s, np.random.default_rng(7))
        self.assertEqual(ka, kb)
        np.testing.assert_array_equal(a, b)
        rng = np.random.default_rng(0)
        kinds = [colour.coloured_sketch(img, s, rng)[1] for _ in range(300)]
        frac = {k: kinds.count(k) / len(kinds) for k in colour.KINDS}
        self.assertGreater(frac["lines"], 0.25)
        for k in ("fills", "partial", "strokes"):
            self.assertGreater(frac[k], 0.1, k)


if __name__ == "__main__":
    unittest.main()
