"""Tests of the training recipe options (models/train/recipe.py, train.py's flags):

    /usr/bin/python3 -m unittest models.train.test_recipe      (from the repository root)

Cheap checks only: shapes, that the default recipe computes exactly what train.py computed before
the options existed (so running jobs resume identically), that each loss moves the right way, and
that DiffAugment moves the condition and the image together.
"""
import unittest

import numpy as np
import torch
import torch.nn as nn

from models.dataset import p2p_data
from models.tools import p2p_nets
from models.train import recipe, train


def setUpModule():
    # Tiny tensors: one thread is faster, and two threads spin against each other on a machine
    # whose cores are busy with training runs (a 1-second test took minutes that way).
    torch.set_num_threads(1)


def pair(n=2, c=6, s=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, s, s, generator=g) * 2 - 1


class DefaultsUnchanged(unittest.TestCase):
    def test_single_scale_is_the_old_discriminator(self):
        torch.manual_seed(3)
        D = recipe.build_discriminator(6, 8)
        self.assertIsInstance(D, p2p_nets.NLayerDiscriminator)
        torch.manual_seed(3)
        old = p2p_nets.NLayerDiscriminator(6, 8, 3, "batch")
        p2p_nets.init_weights(old)
        self.assertEqual(list(D.state_dict()), list(old.state_dict()))
        for k, v in old.state_dict().items():
            self.assertTrue(torch.equal(D.state_dict()[k], v), k)
        x = pair()
        out = recipe.discriminate(D, x)
        self.assertEqual(len(out), 1)
        self.assertTrue(torch.equal(out[0][-1], old(x)))

    def test_lsgan_losses_are_bit_identical(self):
        f, r = torch.randn(2, 1, 6, 6), torch.randn(2, 1, 6, 6)
        mse = nn.MSELoss()
        old_d = 0.5 * (mse(f, torch.full_like(f, 0.0)) + mse(r, torch.full_like(r, 1.0)))
        self.assertTrue(torch.equal(recipe.d_loss("lsgan", [r], [f]), old_d))
        self.assertTrue(torch.equal(recipe.g_loss("lsgan", [f]), mse(f, torch.full_like(f, 1.0))))
        bce = nn.BCEWithLogitsLoss()
        old_d = 0.5 * (bce(f, torch.full_like(f, 0.0)) + bce(r, torch.full_like(r, 1.0)))
        self.assertTrue(torch.equal(recipe.d_loss("vanilla", [r], [f]), old_d))

    def test_no_augmentation_draws_no_random_numbers(self):
        self.assertEqual(recipe.parse_diffaug(""), ())
        state = torch.get_rng_state()
        x = pair()
        self.assertIs(recipe.diffaug(x, (), {}), x)
        self.assertTrue(torch.equal(torch.get_rng_state(), state))

    def test_default_arguments_and_export_text(self):
        args = train.parse_args(["--task", "sketch-to-photo", "--state", "/nonexistent"])
        for k, v in train.RECIPE_KEYS.items():
            self.assertEqual(getattr(args, k), v, k)
        self.assertEqual(train.recipe_text(args), "")
        args = train.parse_args(["--task", "sketch-to-photo", "--state", "/nonexistent",
                                 "--d-scales", "2", "--gan", "hinge", "--diffaug", "cutout"])
        self.assertEqual(train.recipe_text(args), " d_scales=2 diffaug=cutout")


class Resume(unittest.TestCase):
    def test_resume_needs_the_same_recipe(self):
        base = ["--task", "sketch-to-photo", "--state", "/nonexistent"]
        rc = train.parse_args(base + ["--arch", "unet_rc_128", "--stop-step", "9"])
        # An old checkpoint (no recipe keys saved) resumes with the defaults only.
        train.check_resume_args({"arch": "unet_128", "gan": "lsgan"}, train.parse_args(base), "c")
        with self.assertRaises(SystemExit) as e:
            train.check_resume_args({"arch": "unet_128"}, rc, "c")
        self.assertIn("--arch unet_128 (now unet_rc_128)", str(e.exception))
        # Options that do not change what is computed (stop, snapshots) may differ.
        train.check_resume_args(vars(train.parse_args(base + ["--arch", "unet_rc_128"])), rc, "c")
        with self.assertRaises(SystemExit):
            train.check_resume_args(vars(rc), train.parse_args(base + ["--arch", "unet_rc_128",
                                                                       "--diffaug", "cutout"]), "c")


class Discriminators(unittest.TestCase):
    def test_multi_scale_shapes(self):
        D = recipe.build_discriminator(6, 8, scales=3)
        out = recipe.discriminate(D, pair(s=128))
        self.assertEqual(len(out), 3)
        # 4 LeakyReLU outputs + the score map per scale; the score maps shrink with the scale.
        self.assertEqual([len(o) for o in out], [5, 5, 5])
        self.assertEqual([tuple(o[-1].shape) for o in out], [(2, 1, 14, 14), (2, 1, 6, 6), (2, 1, 2, 2)])
        self.assertEqual(tuple(out[1][0].shape), (2, 8, 32, 32))

    def test_spectral_norm(self):
        D = recipe.build_discriminator(6, 8, scales=2, norm="instance", spectral=True)
        keys = list(D.state_dict())
        convs = [m for m in D.modules() if isinstance(m, nn.Conv2d)]
        self.assertEqual(sum(k.endswith("weight_orig") for k in keys), len(convs))
        # After some power iterations every conv's largest singular value is about 1.
        x = pair(s=64)
        for _ in range(30):
            recipe.discriminate(D, x)
        for m in convs:
            w = m.weight.detach().reshape(m.weight.shape[0], -1)
            self.assertAlmostEqual(float(torch.linalg.matrix_norm(w, 2)), 1.0, delta=0.05)


class Losses(unittest.TestCase):
    def test_hinge_moves_the_right_way(self):
        real, fake = torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4)
        base = float(recipe.d_loss("hinge", [real], [fake]))
        self.assertAlmostEqual(base, 2.0)
        self.assertLess(float(recipe.d_loss("hinge", [real + 0.5], [fake])), base)
        self.assertLess(float(recipe.d_loss("hinge", [real], [fake - 0.5])), base)
        # Beyond the margins D has nothing left to learn.
        self.assertEqual(float(recipe.d_loss("hinge", [real + 1.5], [fake - 1.5])), 0.0)
        self.assertLess(float(recipe.g_loss("hinge", [fake + 1.0])), float(recipe.g_loss("hinge", [fake])))

    def test_losses_average_over_scales(self):
        a, b = torch.ones(1, 1, 2, 2), -torch.ones(1, 1, 2, 2)
        self.assertAlmostEqual(float(recipe.g_loss("hinge", [a, b])), 0.0)
        self.assertAlmostEqual(float(recipe.d_loss("hinge", [a, a], [b, b])), 0.0)

    def test_feature_matching(self):
        D = recipe.build_discriminator(6, 8, scales=2)
        x = pair()
        real = recipe.discriminate(D, x)
        self.assertEqual(float(recipe.feature_matching(real, real)), 0.0)
        fake_in = x.clone().requires_grad_(True)
        fake = recipe.discriminate(D, fake_in + 0.3)
        fm = recipe.feature_matching(real, fake)
        self.assertGreater(float(fm), 0.0)
        fm.backward()
        self.assertGreater(float(fake_in.grad.abs().sum()), 0.0)

    def test_a_few_hinge_steps_separate_real_from_fake(self):
        torch.manual_seed(0)
        D = recipe.build_discriminator(6, 8, scales=2, norm="instance", spectral=True)
        opt = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
        real, fake = pair(seed=1) * 0.5 + 0.3, pair(seed=2) * 0.5 - 0.3
        losses = []
        for _ in range(40):
            opt.zero_grad()
            loss = recipe.d_loss("hinge", [o[-1] for o in recipe.discriminate(D, real)],
                                 [o[-1] for o in recipe.discriminate(D, fake)])
            loss.backward()
            opt.step()
            losses.append(float(loss))
        self.assertLess(losses[-1], 0.7 * losses[0])


class DiffAugment(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(recipe.parse_diffaug("translation, cutout,colour"),
                         ("translation", "cutout", "colour"))
        with self.assertRaises(ValueError):
            recipe.parse_diffaug("translation,flip")

    def test_translation_moves_condition_and_image_together(self):
        x = pair(n=3, c=6, s=32)
        p = {"shift": torch.tensor([[2, -3], [0, 0], [-4, 4]])}
        y = recipe.diffaug(x, ("translation",), p)
        self.assertEqual(y.shape, x.shape)
        for i, (dy, dx) in enumerate(p["shift"].tolist()):
            for yy in range(32):
                for xx in range(32):
                    sy, sx = yy - dy, xx - dx
                    want = x[i, :, sy, sx] if 0 <= sy < 32 and 0 <= sx < 32 else torch.zeros(6)
                    self.assertTrue(torch.equal(y[i, :, yy, xx], want), (i, yy, xx))

    def test_cutout_zeroes_one_square_in_every_channel(self):
        x = pair(n=1, c=6, s=16) + 3.0    # no zeros of its own
        y = recipe.diffaug(x, ("cutout",), {"cut": torch.tensor([[8, 8]])})
        zero = (y == 0)
        self.assertTrue(bool((zero.all(dim=1) == zero.any(dim=1)).all()))
        self.assertEqual(int(zero[0, 0].sum()), 8 * 8)
        self.assertTrue(bool(zero[0, 0, 4:12, 4:12].all()))

    def test_colour_same_for_both_halves_and_identity_at_neutral(self):
        img = pair(n=2, c=3, s=8)
        x = torch.cat([img, img], 1)
        p = recipe.diffaug_params(("colour",), 2, 8, 8, "cpu")
        y = recipe.diffaug(x, ("colour",), p)
        self.assertTrue(torch.equal(y[:, :3], y[:, 3:]))
        self.assertFalse(torch.allclose(y, x))
        neutral = {"bright": torch.zeros(2), "sat": torch.ones(2), "contrast": torch.ones(2)}
        self.assertTrue(torch.allclose(recipe.diffaug(x, ("colour",), neutral), x, atol=1e-6))
        with self.assertRaises(ValueError):
            recipe.diffaug(pair(c=4), ("colour",), recipe.diffaug_params(("colour",), 2, 64, 64, "cpu"))

    def test_random_parameters_in_range_and_differentiable(self):
        ops = recipe.DIFFAUG_OPS
        p = recipe.diffaug_params(ops, 64, 128, 128, "cpu")
        self.assertTrue(bool((p["shift"].abs() <= 16).all()))
        self.assertTrue(bool(((p["cut"] >= 0) & (p["cut"] < 128)).all()))
        x = pair(n=64, s=128).requires_grad_(True)
        recipe.diffaug(x, ops, p).sum().backward()
        self.assertGreater(float(x.grad.abs().sum()), 0.0)


class ResizeConvGenerator(unittest.TestCase):
    def test_unet_rc_and_partial_init(self):
        import os
        import tempfile
        from models.tools import p2p_safetensors
        G = p2p_nets.build_generator("unet_rc_128", 3, 3, 4, "batch", True)
        self.assertEqual(G(torch.zeros(1, 3, 128, 128)).shape, (1, 3, 128, 128))
        # A unet_128 export: every tensor but the decoder's fits unet_rc_128.
        src = p2p_nets.build_generator("unet_128", 3, 3, 4, "batch", True)
        md = {"arch": "unet_128", "ngf": "4", "input_nc": "3", "output_nc": "3", "norm": "batch",
              "dropout": "true", "task": "sketch-to-photo", "input_space": "rgb",
              "output_space": "rgb", "native_size": "128", "name": "t", "license": "CC0-1.0",
              "training": "step=123"}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "u.safetensors")
            with open(path, "wb") as f:
                f.write(p2p_safetensors.encode_model(src.state_dict(), md, dtype="F32"))
            with self.assertRaises(SystemExit):
                train.load_generator_from_export(G, path)
            step, skipped = train.load_generator_from_export(G, path, partial=True)
        self.assertEqual(step, 123)
        up = [k for k, v in G.state_dict().items() if v.dim() == 4 and v.shape[2] == 3]
        self.assertEqual(sorted(skipped), sorted(k + " (projected)" for k in up))
        self.assertEqual(len(up), 7)
        self.assertTrue(torch.equal(G.state_dict()["model.model.0.weight"],
                                    src.state_dict()["model.model.0.weight"]))


    def test_projection_of_conv_transpose_weights(self):
        import torch.nn.functional as F
        g = torch.Generator().manual_seed(5)
        w = torch.randn(4, 3, 3, 3, generator=g, dtype=torch.float64)    # [out, in, 3, 3]
        x = torch.randn(1, 3, 9, 7, generator=g, dtype=torch.float64)
        rc = F.conv2d(F.interpolate(x, scale_factor=2, mode="nearest"), w, padding=1)
        # The conv-transpose that computes exactly the resize-conv (T = M w), checked by PyTorch's
        # own conv_transpose2d; projecting it back gives w.
        m = torch.from_numpy(train._RC_FROM_T_1D)
        t = torch.einsum("ay,bx,oiyx->ioab", m, m, w)                   # [in, out, 4, 4]
        ct = F.conv_transpose2d(x, t, stride=2, padding=1)
        self.assertLess(float((ct - rc).abs().max()), 1e-12)
        back = train.resize_conv_from_conv_t(t.numpy())
        self.assertLess(float(abs(back - w.numpy()).max()), 1e-5)
        # A general conv-transpose: the projection is the least-squares fit, so no other w
        # (e.g. w itself, perturbed) comes closer to its outputs' phase kernels.
        t2 = t + 0.3 * torch.randn(t.shape, generator=g, dtype=torch.float64)
        p = torch.from_numpy(train.resize_conv_from_conv_t(t2.numpy()).astype("float64"))
        def err(v):
            return float((torch.einsum("ay,bx,oiyx->ioab", m, m, v) - t2).pow(2).sum())
        self.assertLess(err(p), err(w))
        self.assertLess(err(p), err(p + 0.01 * torch.randn(p.shape, generator=g, dtype=torch.float64)))


class UnhintedL1Weight(unittest.TestCase):
    def args(self, lam, unhinted):
        import argparse
        return argparse.Namespace(lambda_l1=lam, lambda_l1_unhinted=unhinted)

    def test_only_samples_without_hints_get_the_lighter_weight(self):
        x = torch.zeros(3, 4, 8, 8)
        x[0, 3, 2, 5] = 1.0                                  # one hint pixel
        x[2, 3] = 1.0                                        # hints everywhere
        w = train.l1_weights(x, self.args(100.0, 10.0))
        self.assertEqual(w.tolist(), [100.0, 10.0, 100.0])

    def test_default_is_one_weight_and_the_old_loss(self):
        x, y, fake = pair(3, 4, 8, 1), pair(3, 2, 8, 2), pair(3, 2, 8, 3)
        x[:, 3] = 0.0
        w = train.l1_weights(x, self.args(100.0, None))
        self.assertEqual(w.tolist(), [100.0] * 3)
        new = (w * (fake - y).abs().mean(dim=(1, 2, 3))).mean()
        self.assertLess(abs(float(new - 100.0 * (fake - y).abs().mean())), 1e-4)
        # Only a task with a hints input takes the option.
        with self.assertRaises(SystemExit):
            train.parse_args(["--task", "sketch-to-photo", "--state", "/nonexistent",
                              "--lambda-l1-unhinted", "10"])
        self.assertEqual(train.parse_args(["--task", "colorize", "--state", "/nonexistent",
                                           "--lambda-l1-unhinted", "10"]).lambda_l1_unhinted, 10.0)
        # Sketch inputs (3 channels) never count as unhinted.
        self.assertEqual(train.l1_weights(pair(2, 3, 8), self.args(30.0, 5.0)).tolist(), [30.0] * 2)


class Subject(unittest.TestCase):
    """--subject: the content words that make a subject, and SketchData keeping only its crops."""

    def test_content_words(self):
        words = [p2p_data.content_word(c) for c in
                 ("landscape", "plant (flower)", "nature/texture", "people/landscape", "Sky", "texture")]
        self.assertEqual(words, ["landscape", "plant", "nature", "people", "sky", "texture"])

    def test_sketch_data_keeps_only_the_chosen_photos(self):
        import os
        import tempfile
        import numpy as np
        from models.dataset import p2p_data
        work = tempfile.mkdtemp()
        os.makedirs(os.path.join(work, "photos"))
        with open(os.path.join(work, "photos", "index.tsv"), "w") as f:
            f.write("id\tpackage\tpath\tsplit\tnative_w\tnative_h\tw\th\tmean_saturation\n")
            for i, pkg in enumerate(("a", "b", "c")):
                f.write("p%d\t%s\t/x.jpg\ttrain\t9\t9\t9\t9\t0.3\n" % (i, pkg))
        src = os.path.join(work, "sources.tsv")
        with open(src, "w") as f:
            f.write("package\tpath_in_package\tcontent\n")
            f.write("a\t/x.jpg\tlandscape (sunset)\nb\t/x.jpg\tpeople/landscape\nc\t/x.jpg\tplant\n")
        ids = p2p_data.subject_ids("nature", work, sources=src)
        self.assertEqual(ids, {"p0", "p2"})
        d = os.path.join(work, "sketch-train")
        os.makedirs(d)
        n = 6
        photos = np.zeros((n, 16, 16, 3), np.uint8)
        for i in range(n):
            photos[i] = i
        np.save(os.path.join(d, "photos.npy"), photos)
        np.save(os.path.join(d, "sketches.npy"), np.full((n, 2, 16, 16), 255, np.uint8))
        with open(os.path.join(d, "crops.tsv"), "w") as f:
            f.write("index\tphoto\tscale\tx\ty\tstyles\n")
            for i in range(n):
                f.write("%d\tp%d\t16\t0\t0\txdog\n" % (i, i % 3))
        data = train.SketchData(work, 16, 1, photo_ids=ids)
        self.assertEqual(sorted(i for _, i in data.index), [0, 2, 3, 5])
        seen = set()
        for _ in range(8):
            _, y = data.batch(2)
            seen |= {int(round((float(v) + 1) * 127.5)) for v in y[:, 0, 0, 0]}
        self.assertEqual(seen, {0, 2, 3, 5})
        self.assertEqual(len(train.SketchData(work, 16, 1).index), n)


class SsimLoss(unittest.TestCase):
    """recipe.ssim_luma against the evaluation's own measure (models/eval/metrics.ssim, written
    with scipy's Gaussian filter), which is what the lines-only target is scored with."""

    def test_matches_the_evaluation_measure(self):
        import numpy as np
        from models.eval import metrics
        a, b = pair(2, 3, 40, 4), pair(2, 3, 40, 5)
        b = 0.6 * a + 0.4 * b                                # related images: SSIM well above 0
        got = recipe.ssim_luma(a, b)
        for i in range(2):
            def y(t):
                rgb = ((t[i].permute(1, 2, 0).double().numpy() + 1) * 127.5)
                return rgb @ np.array([0.299, 0.587, 0.114])
            want = metrics.ssim(y(a), y(b))
            self.assertGreater(want, 0.2)
            self.assertAlmostEqual(float(got[i]), want, places=4)

    def test_identity_is_one_and_the_loss_moves_towards_the_target(self):
        a, b = pair(1, 3, 32, 6), pair(1, 3, 32, 7)
        self.assertAlmostEqual(float(recipe.ssim_luma(a, a)[0]), 1.0, places=5)
        x = b.clone().requires_grad_(True)
        before = float(recipe.ssim_luma(x, a)[0])
        opt = torch.optim.Adam([x], lr=0.02)
        for _ in range(40):
            opt.zero_grad()
            (1 - recipe.ssim_luma(x, a)).mean().backward()
            opt.step()
        self.assertGreater(float(recipe.ssim_luma(x, a)[0]), before + 0.2)

    def test_option_only_for_rgb_output(self):
        with self.assertRaises(SystemExit):
            train.parse_args(["--task", "colorize", "--state", "/nonexistent", "--lambda-ssim", "5"])
        args = train.parse_args(["--task", "sketch-to-photo", "--state", "/nonexistent",
                                 "--lambda-ssim", "5"])
        self.assertEqual(args.lambda_ssim, 5.0)
        self.assertIn("lambda_ssim=5", train.recipe_text(args))
        self.assertNotIn("ssim", train.recipe_text(train.parse_args(
            ["--task", "sketch-to-photo", "--state", "/nonexistent"])))


class HintCount(unittest.TestCase):
    def test_default_count_is_zhangs_geometric_one(self):
        a, b = np.random.default_rng(5), np.random.default_rng(5)
        for _ in range(200):
            n = 0
            while n < 64 and b.random() >= 1.0 / 8.0:
                n += 1
            self.assertEqual(p2p_data.hint_count(a), n)

    def test_hint_mean_keeps_the_unhinted_share(self):
        rng = np.random.default_rng(7)
        n = np.array([p2p_data.hint_count(rng, p_stop=1 / 20, p_none=1 / 8) for _ in range(20000)])
        self.assertAlmostEqual((n == 0).mean(), 1 / 8, delta=0.01)
        self.assertAlmostEqual(n[n > 0].mean(), 20 * (1 - (1 - 1 / 20) ** 64), delta=0.5)
        self.assertLessEqual(n.max(), 64)

    def test_option_in_the_export_text_and_refused_without_hints(self):
        args = train.parse_args(["--task", "colorize", "--state", "/nonexistent",
                                 "--hint-mean", "20"])
        self.assertEqual(train.recipe_text(args), " hint_mean=20")
        with self.assertRaises(SystemExit):
            train.parse_args(["--task", "sketch-to-photo", "--state", "/x", "--hint-mean", "20"])


class Rebalance(unittest.TestCase):
    """--rebalance: recipe.rebalance_table against a plain loop over bins and pixels."""

    @staticmethod
    def naive_table(ab, lam, sigma):
        import math
        nb, size = recipe.AB_BINS, recipe.AB_BIN
        counts = [[0] * nb for _ in range(nb)]
        a, b = (ab[:, 0].flatten() * 110).tolist(), (ab[:, 1].flatten() * 110).tolist()
        for va, vb in zip(a, b):
            i = min(nb - 1, max(0, math.floor((va + 110) / size)))
            j = min(nb - 1, max(0, math.floor((vb + 110) / size)))
            counts[i][j] += 1
        total = len(a)
        used = sum(c > 0 for row in counts for c in row)
        r = max(1, round(3 * sigma / size))
        g = [math.exp(-0.5 * (k * size / sigma) ** 2) for k in range(-r, r + 1)]
        g = [v / sum(g) for v in g]
        w = [[0.0] * nb for _ in range(nb)]
        for i in range(nb):
            for j in range(nb):
                p = sum(g[di + r] * g[dj + r] * counts[i + di][j + dj] / total
                        for di in range(-r, r + 1) for dj in range(-r, r + 1)
                        if 0 <= i + di < nb and 0 <= j + dj < nb)
                w[i][j] = 1.0 / ((1 - lam) * p + lam / used)
        top = max(w[i][j] for i in range(nb) for j in range(nb) if counts[i][j])
        for i in range(nb):
            for j in range(nb):
                if not counts[i][j]:
                    w[i][j] = top
        scale = total / sum(w[i][j] * counts[i][j] for i in range(nb) for j in range(nb))
        return [w[i][j] * scale for i in range(nb) for j in range(nb)]

    def sample(self):
        g = torch.Generator().manual_seed(11)
        ab = torch.randn(3, 2, 16, 16, generator=g) * 0.04          # mostly greyish
        ab[0, 0, :4, :4], ab[0, 1, :4, :4] = 0.6, 0.5              # one rare saturated patch
        ab[1, :, 0, 0] = 1.5                                         # out of range: clamped
        return ab

    def test_table_matches_a_plain_loop(self):
        ab = self.sample()
        for lam, sigma in ((0.5, 5.0), (0.2, 10.0)):
            got = recipe.rebalance_table(ab, lam, sigma).tolist()
            want = self.naive_table(ab, lam, sigma)
            for g_, w_ in zip(got, want):
                self.assertAlmostEqual(g_, w_, delta=1e-4 * max(1.0, w_))

    def test_pixel_weights_rare_colours_weigh_more_and_mean_is_one(self):
        ab = self.sample()
        table = recipe.rebalance_table(ab, 0.5)
        w = recipe.rebalance_weights(ab, table)
        self.assertEqual(tuple(w.shape), (3, 1, 16, 16))
        self.assertAlmostEqual(float(w.mean()), 1.0, places=4)
        self.assertGreater(float(w[0, 0, 1, 1]), 2 * float(w[2, 0].median()))
        # Each pixel's weight is its own bin's entry.
        i = int((ab[2, 0, 5, 7] * 110 + 110) // 10)
        j = int((ab[2, 1, 5, 7] * 110 + 110) // 10)
        self.assertAlmostEqual(float(w[2, 0, 5, 7]), float(table[i * recipe.AB_BINS + j]), places=6)
        # lam 1: no rebalancing, every pixel weighs 1.
        flat = recipe.rebalance_weights(ab, recipe.rebalance_table(ab, 1.0))
        self.assertLess(float((flat - 1).abs().max()), 1e-5)

    def test_loss_weighs_pixels_and_only_unhinted_samples_when_asked(self):
        import argparse
        y, fake = pair(2, 2, 8, 4) * 0.3, pair(2, 2, 8, 5) * 0.3
        x = torch.zeros(2, 4, 8, 8)
        x[1, 3, 3, 3] = 1.0                                  # sample 1 has a hint
        table = recipe.rebalance_table(y, 0.5)
        w = recipe.rebalance_weights(y, table)
        off = argparse.Namespace(rebalance_unhinted_only=False)
        plain = train.l1_per_sample(fake, y, x, off)
        self.assertTrue(torch.equal(plain, (fake - y).abs().mean(dim=(1, 2, 3))))
        every = train.l1_per_sample(fake, y, x, off, table)
        want = [float((w[i] * (fake[i] - y[i]).abs()).mean()) for i in range(2)]
        self.assertAlmostEqual(float(every[0]), want[0], places=6)
        self.assertAlmostEqual(float(every[1]), want[1], places=6)
        only = train.l1_per_sample(fake, y, x, argparse.Namespace(rebalance_unhinted_only=True), table)
        self.assertAlmostEqual(float(only[0]), want[0], places=6)
        self.assertAlmostEqual(float(only[1]), float(plain[1]), places=6)
        self.assertNotAlmostEqual(float(only[1]), want[1], places=4)

    def test_option_colorize_only_and_in_the_export_text(self):
        args = train.parse_args(["--task", "colorize", "--state", "/x", "--rebalance", "0.5"])
        self.assertEqual(train.recipe_text(args), " rebalance=0.5")
        self.assertEqual(train.RECIPE_KEYS["rebalance"], 0.0)
        args = train.parse_args(["--task", "colorize", "--state", "/x", "--rebalance", "0.5",
                                 "--rebalance-unhinted-only"])
        self.assertEqual(train.recipe_text(args), " rebalance=0.5 rebalance_unhinted_only=true")
        for bad in (["--task", "sketch-to-photo", "--rebalance", "0.5"],
                    ["--task", "colorize", "--rebalance-unhinted-only"],
                    ["--task", "colorize-auto", "--rebalance", "0.5", "--rebalance-unhinted-only"],
                    ["--task", "colorize", "--rebalance", "1.5"]):
            with self.assertRaises(SystemExit):
                train.parse_args(bad + ["--state", "/x"])


if __name__ == "__main__":
    unittest.main()
