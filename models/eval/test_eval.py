"""Unit tests of the evaluation tools: hints maker, Levin 2004, metrics (numpy, scipy, PIL only).

    /usr/bin/python3 -m unittest models.eval.test_eval      # from the repository root
"""
import math
import unittest

import numpy as np
from scipy import ndimage as ndi

from models.dataset import p2p_data
from models.eval import hints, levin, metrics


def smooth_photo(h, w, seed=3):
    """A colourful test photo: smooth random colour fields plus some texture."""
    rng = np.random.default_rng(seed)
    x = ndi.gaussian_filter(rng.uniform(0, 255, (h, w, 3)), (6, 6, 0))
    x = (x - x.min()) / (x.max() - x.min()) * 230 + 10 + rng.normal(0, 4, (h, w, 3))
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


class HintsTest(unittest.TestCase):
    def setUp(self):
        self.rgb = smooth_photo(80, 120)
        self.h = hints.photo_hints(self.rgb, "photo-a", counts=(0, 1, 5, 10, 20))

    def test_zero_hints_is_transparent(self):
        self.assertEqual(self.h[0].shape, (80, 120, 4))
        self.assertEqual(int(self.h[0][..., 3].max()), 0)

    def test_count_and_size(self):
        for n, img in self.h.items():
            mask = img[..., 3] >= 128
            lab, k = ndi.label(mask)
            self.assertEqual(k, n)
            for s in ndi.find_objects(lab):
                self.assertEqual((s[0].stop - s[0].start, s[1].stop - s[1].start), (hints.SIDE, hints.SIDE))
            self.assertEqual(int(mask.sum()), n * hints.SIDE ** 2)
            # Only fully opaque or fully transparent pixels.
            self.assertTrue(set(np.unique(img[..., 3])) <= {0, 255})

    def test_nested(self):
        for a, b in ((1, 5), (5, 10), (10, 20)):
            ma = self.h[a][..., 3] > 0
            self.assertTrue(np.array_equal(self.h[a][ma], self.h[b][ma]), (a, b))

    def test_seeded(self):
        again = hints.photo_hints(self.rgb, "photo-a", counts=(0, 1, 5, 10, 20))
        for n in self.h:
            self.assertTrue(np.array_equal(self.h[n], again[n]))
        other = hints.photo_hints(self.rgb, "photo-b", counts=(10,))
        self.assertFalse(np.array_equal(self.h[10], other[10]))
        other_seed = hints.photo_hints(self.rgb, "photo-a", counts=(10,), seed=hints.SEED + 1)
        self.assertFalse(np.array_equal(self.h[10], other_seed[10]))

    def test_squares_do_not_touch(self):
        pos = hints.positions((60, 60), 30, 1, "crowded")
        taken = np.zeros((60, 60), int)
        for y, x in pos:
            taken[y:y + hints.SIDE, x:x + hints.SIDE] += 1
        # Dilating each square by one pixel never reaches another square.
        lab, k = ndi.label(taken > 0, structure=np.ones((3, 3)))
        self.assertEqual(k, 30)
        self.assertEqual(int(taken.max()), 1)

    def test_hint_colour_is_the_mean_ab_of_the_patch(self):
        lab = p2p_data.rgb2lab(self.rgb)
        hab, mask = hints.read_hints(self.h[20])
        lbl, k = ndi.label(mask)
        for i in range(1, k + 1):
            sel = lbl == i
            true_mean = lab[sel][:, 1:].mean(axis=0)
            got = hab[sel]
            self.assertTrue(np.all(got == got[0]))  # one colour per square
            # 8-bit rounding of an sRGB colour moves a, b by at most about one unit.
            self.assertLess(float(np.abs(got[0] - true_mean).max()), 1.5)
        self.assertTrue(np.all(hab[~mask] == 0))

    def test_prepare(self):
        big = smooth_photo(300, 500)
        rgb, grey = hints.prepare(big)
        self.assertEqual(min(rgb.shape[:2]), 256)
        self.assertEqual(rgb.shape[:2], grey.shape)
        exp = np.rint(rgb.astype(np.float64) @ np.array([0.299, 0.587, 0.114]))
        self.assertLessEqual(float(np.abs(grey - exp).max()), 0)

    def test_draw_hints(self):
        grey = p2p_data.to_grey(self.rgb, "rec601")
        out = hints.draw_hints(grey, self.h[5])
        self.assertEqual(out.shape, (80, 120, 3))
        mask = self.h[5][..., 3] > 0
        self.assertTrue(np.array_equal(out[mask], self.h[5][..., :3][mask]))


class LevinTest(unittest.TestCase):
    def two_regions(self):
        """A dark region (columns 0-35) and a light one (36-47); hint A at the far left of the
        dark region, hint B in the light one.  Geometrically, the dark region's right part is
        nearer hint B: only luminance-aware weights keep it with A."""
        h, w = 24, 48
        grey = np.full((h, w), 60, np.uint8)
        grey[:, 36:] = 180
        mask = np.zeros((h, w), bool)
        hab = np.zeros((h, w, 2))
        mask[10:13, 1:4] = True
        hab[10:13, 1:4] = (60.0, 40.0)
        mask[10:13, 42:45] = True
        hab[10:13, 42:45] = (10.0, -50.0)
        L = p2p_data.grey_to_L(grey / 255.0)
        return L, hab, mask

    def checks(self, ab):
        """-> (each region's mean colour is nearer its own hint, the colour changes at the
        luminance edge: the step between columns 35 and 36 is well above every step inside
        the regions)."""
        A, B = np.array([60.0, 40.0]), np.array([10.0, -50.0])
        left, right = ab[:, :36].mean(axis=(0, 1)), ab[:, 36:].mean(axis=(0, 1))
        nearer = (np.linalg.norm(left - A) < np.linalg.norm(left - B)
                  and np.linalg.norm(right - B) < np.linalg.norm(right - A))
        steps = np.abs(np.diff(ab, axis=1)).sum(axis=2).mean(axis=0)
        return nearer, steps[35] > 2.5 * np.delete(steps, 35).max()

    def test_each_region_takes_its_hint(self):
        L, hab, mask = self.two_regions()
        nearer, edge = self.checks(levin.colorize_ab(L, hab, mask))
        self.assertTrue(nearer)
        self.assertTrue(edge)

    def test_weights_matter(self):
        """With uniform weights (a huge variance floor) the colour ramps through the edge: the
        edge check above fails, so it would catch weights that ignore the luminance.  (The
        paper's weights do not stop all bleeding: inside a region the solution is harmonic, so
        with few hints colour still ramps across wide regions; see levin.py.)"""
        L, hab, mask = self.two_regions()
        nearer, edge = self.checks(levin.colorize_ab(L, hab, mask, eps=1e6))
        self.assertFalse(edge)

    def test_weights_are_normalised_and_follow_luminance(self):
        Y = np.array([[0.2, 0.2, 0.8], [0.2, 0.2, 0.8], [0.2, 0.2, 0.8]])
        rows, cols, vals = levin.weights(Y)
        tot = np.bincount(rows, weights=vals, minlength=9)
        self.assertTrue(np.allclose(tot, 1.0))
        centre = rows == 4
        w = dict(zip(cols[centre].tolist(), vals[centre].tolist()))
        self.assertEqual(len(w), 8)
        # Same-intensity neighbours weigh more than the different ones; equal ones equally.
        self.assertGreater(w[3], 5 * w[5])
        self.assertAlmostEqual(w[0], w[3])
        # The variance of the centre's window: 6 of 9 at 0.2, 3 at 0.8.
        var = np.var([0.2] * 6 + [0.8] * 3)
        self.assertAlmostEqual(w[5] / w[3], math.exp(-0.36 / (2 * var)))

    def test_hints_fixed_and_flat_image_filled(self):
        L = np.full((20, 30), 50.0)
        mask = np.zeros((20, 30), bool)
        hab = np.zeros((20, 30, 2))
        mask[5, 7] = True
        hab[5, 7] = (20.0, -30.0)
        ab = levin.colorize_ab(L, hab, mask)
        self.assertTrue(np.allclose(ab, (20.0, -30.0)))

    def test_no_hints_gives_the_grey_image(self):
        grey = p2p_data.to_grey(smooth_photo(30, 40), "rec601")
        out = levin.colorize(grey, np.zeros((30, 40, 2)), np.zeros((30, 40), bool))
        self.assertLessEqual(int(np.abs(out.astype(int) - grey[..., None]).max()), 1)

    def test_hint_pixels_keep_their_colour(self):
        rgb = smooth_photo(40, 60)
        grey = p2p_data.to_grey(rgb, "rec601")
        hab, mask = hints.read_hints(hints.photo_hints(rgb, "k", counts=(10,))[10])
        ab = levin.colorize_ab(p2p_data.grey_to_L(grey / 255.0), hab, mask)
        self.assertTrue(np.allclose(ab[mask], hab[mask]))


class MetricsTest(unittest.TestCase):
    def test_psnr(self):
        a = smooth_photo(20, 30)
        b = a.astype(int) + 1
        b[a == 255] = 254
        self.assertAlmostEqual(metrics.psnr(a, b.astype(np.uint8)), 10 * math.log10(255.0 ** 2), places=6)
        self.assertGreater(metrics.psnr(a, a), 100)

    def test_ssim(self):
        a = smooth_photo(40, 40)
        self.assertAlmostEqual(metrics.ssim(a, a), 1.0)
        noisy = np.clip(a + np.random.default_rng(1).normal(0, 30, a.shape), 0, 255).astype(np.uint8)
        self.assertLess(metrics.ssim(a, noisy), 0.9)

    def test_colourfulness(self):
        grey = np.full((10, 10, 3), 128, np.uint8)
        self.assertEqual(metrics.colourfulness(grey), 0.0)
        # Half pure red, half pure blue: rg in {255, 0}, yb in {127.5, -255}.
        img = np.zeros((10, 10, 3), np.uint8)
        img[:5, :, 0] = 255
        img[5:, :, 2] = 255
        exp = math.hypot(127.5, 191.25) + 0.3 * math.hypot(127.5, -63.75)
        self.assertAlmostEqual(metrics.colourfulness(img), exp)

    def test_ab_error(self):
        red = np.zeros((4, 4, 3), np.uint8)
        red[..., 0] = 255
        grey = np.full((4, 4, 3), 128, np.uint8)
        self.assertEqual(metrics.ab_error(grey, grey), 0.0)
        # sRGB red is Lab (53.24, 80.09, 67.20) (D65); grey has a = b = 0.
        self.assertAlmostEqual(metrics.ab_error(red, grey), math.hypot(80.09, 67.20), delta=0.1)

    def test_hint_error(self):
        rgb = smooth_photo(40, 60)
        h = hints.photo_hints(rgb, "x", counts=(0, 5))
        hab, mask = hints.read_hints(h[5])
        obeys = rgb.copy()
        obeys[mask] = h[5][..., :3][mask]
        self.assertLess(metrics.hint_error(obeys, hab, mask), 1e-9)
        grey = np.repeat(p2p_data.to_grey(rgb, "rec601")[..., None], 3, axis=2)
        self.assertAlmostEqual(metrics.hint_error(grey, hab, mask),
                               float(np.linalg.norm(hab[mask], axis=1).mean()), delta=0.05)
        hab0, mask0 = hints.read_hints(h[0])
        self.assertTrue(math.isnan(metrics.hint_error(rgb, hab0, mask0)))

    def test_detail_ratio(self):
        a = smooth_photo(60, 60)
        blur = ndi.gaussian_filter(a, (3, 3, 0))
        self.assertAlmostEqual(metrics.detail_ratio(a, a), 1.0)
        self.assertLess(metrics.detail_ratio(blur, a), 0.8)

    def test_grid_peak(self):
        # A photo-like image (smooth field plus fine noise) has no peak at the upsampling lattice;
        # a faint checkerboard (period 2, 2 levels) or period-4 grid added to it does.
        rng = np.random.default_rng(4)
        a = ndi.gaussian_filter(rng.normal(size=(128, 128)), 3) * 40 + 128 + rng.normal(size=(128, 128))
        yy, xx = np.indices(a.shape)
        checker = ((yy + xx) % 2) * 2.0 - 1.0
        grid4 = (((yy // 2) + (xx // 2)) % 2) * 2.0 - 1.0
        self.assertLess(metrics.grid_peak(a), 2.0)
        self.assertLess(metrics.grid_peak(ndi.gaussian_filter(a, 2)), 2.0)
        self.assertGreater(metrics.grid_peak(a + 2 * checker), 5.0)
        self.assertGreater(metrics.grid_peak(a + 2 * grid4), 5.0)
        rgb = np.clip(np.repeat((a + 2 * checker)[..., None], 3, axis=2), 0, 255).astype(np.uint8)
        self.assertGreater(metrics.grid_peak(rgb), 5.0)
        with self.assertRaises(ValueError):
            metrics.grid_peak(a[:126, :126])


class SketchEvalTest(unittest.TestCase):
    def test_held_out_style_draws_the_edges(self):
        from models.eval.sketch import log_sketch
        img = np.full((40, 40, 3), 30, np.uint8)
        img[:, 20:] = 220
        s = log_sketch(img)
        self.assertEqual(s.shape, (40, 40))
        self.assertTrue(set(np.unique(s)) <= {0, 255})
        ink = s == 0
        self.assertTrue(ink[:-1, 18:22].any(axis=1).all())  # a line along the edge (last row left blank)
        self.assertFalse(ink[:, :14].any() or ink[:, 26:].any())  # nothing in the flat parts


class SheetsTest(unittest.TestCase):
    def test_grid_layout(self):
        from PIL import Image
        from models.eval import sheets
        a = np.zeros((10, 20, 3), np.uint8)                 # scaled to 40 x 20
        b = np.full((30, 20), 255, np.uint8)                # grey input, scaled to 40 x 60
        c = np.zeros((4, 4, 3), np.uint8)
        c[0, 0] = (255, 0, 0)
        g = sheets.grid([[a, b], [c]], 40, gap=4, titles=["x", "y"], resample=Image.NEAREST)
        self.assertEqual(g.size, (2 * 40 + 4, sheets.TITLE_HEIGHT + 60 + 4 + 40))
        px = np.asarray(g)
        top = sheets.TITLE_HEIGHT
        self.assertTrue((px[top:top + 20, :40] == 0).all())          # a, black
        self.assertTrue((px[top + 20:top + 60, :40] == 255).all())   # below a: white fill to b's height
        self.assertTrue((px[top:top + 60, 40:44] == 255).all())      # the gap
        self.assertTrue((px[top + 64:top + 74, :10] == (255, 0, 0)).all())  # c's red pixel, 10x by nearest
        self.assertTrue((px[:top] != 255).any())                     # the titles are drawn


if __name__ == "__main__":
    unittest.main()
