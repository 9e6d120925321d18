"""Tests of the photo pack's readers for the containers added with the grown list, and of the
debian/copyright (DEP-5) reader the credits use.  Synthetic inputs only: no network, no packages.

    /usr/bin/python3 -m unittest -v models.dataset.test_extract      # from the repository root
"""
import bz2
import io
import os
import shutil
import tempfile
import unittest
import zipfile

import numpy as np
from PIL import Image

from models.dataset import dep5, extract


def rows_for(tmp, split="train"):
    """A list with one landscape photo (the only possible ground) and one cut-out, both `split`."""
    ground = {"package": "pkg-a", "suite": "bookworm", "path_in_package": "/usr/share/a/ground.png",
              "container": "", "width": "600", "height": "400", "licence": "CC0",
              "content": "landscape", "split": split, "note": ""}
    stamp = {"package": "pkg-b", "suite": "bookworm", "path_in_package": "/usr/share/b/stamp.png",
             "container": "cut-out on a transparent ground", "width": "200", "height": "100",
             "licence": "CC0", "content": "animal (cut-out)", "split": split, "note": ""}
    return [ground, stamp]


class CutoutTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def write_ground(self, rows, colour=(20, 200, 40)):
        g = rows[0]
        d = os.path.join(self.tmp, g["split"])
        os.makedirs(d, exist_ok=True)
        Image.new("RGB", (600, 400), colour).save(
            os.path.join(d, extract.photo_id(g["package"], g["path_in_package"]) + ".jpg"), quality=95)

    def stamp(self):
        """200 x 100 RGBA: an opaque red 80 x 40 box in the middle, transparent elsewhere."""
        a = np.zeros((100, 200, 4), np.uint8)
        a[30:70, 60:140] = (230, 10, 10, 255)
        return Image.fromarray(a, "RGBA")

    def test_composite_shows_object_on_ground(self):
        rows = rows_for(self.tmp)
        self.write_ground(rows)
        out, bg = extract.composite_cutout(self.stamp(), rows[1], rows, self.tmp)
        self.assertIs(bg, rows[0])
        a = np.asarray(out).astype(int)
        red = (a[..., 0] > 180) & (a[..., 1] < 60)
        green = (a[..., 1] > 150) & (a[..., 0] < 80)
        # The object is cropped to its opaque box (80 x 40) and covers about 60 % of each side.
        ys, xs = np.nonzero(red)
        self.assertAlmostEqual((xs.max() - xs.min() + 1) / out.width, 0.6, delta=0.05)
        self.assertGreater(green.mean(), 0.4)  # the rest is the ground, not white
        self.assertLess(((a > 245).all(axis=2)).mean(), 0.01)

    def test_deterministic(self):
        rows = rows_for(self.tmp)
        self.write_ground(rows)
        a = np.asarray(extract.composite_cutout(self.stamp(), rows[1], rows, self.tmp)[0])
        b = np.asarray(extract.composite_cutout(self.stamp(), rows[1], rows, self.tmp)[0])
        self.assertTrue((a == b).all())

    def test_never_across_splits(self):
        rows = rows_for(self.tmp)
        rows[0]["split"] = "eval_in2"  # the only ground is held out; the cut-out is train
        with self.assertRaises(ValueError):
            extract.cutout_background(rows[1], rows)

    def test_textures_and_small_photos_are_not_ground(self):
        rows = rows_for(self.tmp)
        rows[0]["content"] = "texture"
        self.assertEqual(extract.background_pool(rows, "train"), [])
        rows = rows_for(self.tmp)
        rows[0]["width"], rows[0]["height"] = "300", "300"
        self.assertEqual(extract.background_pool(rows, "train"), [])
        rows = rows_for(self.tmp)
        rows[0]["note"] = "logo drawn over the photo; not used as ground under cut-outs"
        self.assertEqual(extract.background_pool(rows, "train"), [])

    def test_missing_ground_file_is_an_error(self):
        rows = rows_for(self.tmp)
        with self.assertRaises(ValueError):
            extract.composite_cutout(self.stamp(), rows[1], rows, self.tmp)

    def test_fully_transparent_is_an_error(self):
        rows = rows_for(self.tmp)
        self.write_ground(rows)
        with self.assertRaises(ValueError):
            extract.composite_cutout(Image.new("RGBA", (50, 50), (0, 0, 0, 0)), rows[1], rows, self.tmp)


class ReaderTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.tmp)

    def test_zip_member(self):
        os.makedirs(os.path.join(self.tmp, "usr/share/g"))
        buf = io.BytesIO()
        Image.new("RGB", (8, 4), (1, 2, 3)).save(buf, "PNG")
        with zipfile.ZipFile(os.path.join(self.tmp, "usr/share/g/data.pk3"), "w") as z:
            z.writestr("textures/a.png", buf.getvalue())
        im = extract.archive_member(self.tmp, "/usr/share/g/data.pk3:textures/a.png")
        self.assertEqual(im.size, (8, 4))
        self.assertEqual(im.convert("RGB").getpixel((0, 0)), (1, 2, 3))
        self.assertIsNone(extract.ARCHIVE_RE.match("/usr/share/g/photo.jpg"))

    def test_scipy_face(self):
        rng = np.random.default_rng(0)
        a = rng.integers(0, 256, (768, 1024, 3), dtype=np.uint8)
        os.makedirs(os.path.join(self.tmp, "s"))
        with open(os.path.join(self.tmp, "s/face.dat"), "wb") as f:
            f.write(bz2.compress(a.tobytes()))
        im = extract.scipy_face(self.tmp, "/s/face.dat")
        self.assertEqual(im.size, (1024, 768))
        self.assertTrue((np.asarray(im) == a).all())
        with open(os.path.join(self.tmp, "s/face.dat"), "wb") as f:
            f.write(bz2.compress(a.tobytes()[:-3]))
        with self.assertRaises(ValueError):
            extract.scipy_face(self.tmp, "/s/face.dat")

    def test_kphotoalbum_angle(self):
        d = os.path.join(self.tmp, "usr/share/kphotoalbum/demo")
        os.makedirs(d)
        # 6 x 4 photo, top-left pixel red: turned 90 degrees clockwise it becomes 4 x 6 with the
        # red pixel at the top right.
        a = np.zeros((4, 6, 3), np.uint8)
        a[0, 0] = (255, 0, 0)
        Image.fromarray(a).save(os.path.join(d, "p.png"))
        Image.fromarray(a).save(os.path.join(d, "q.png"))
        with open(os.path.join(d, "index.xml"), "w") as f:
            f.write('<KPhotoAlbum><images><image file="p.png" angle="90"/><image file="q.png" angle="0"/>'
                    '</images></KPhotoAlbum>')
        extract._kpa_angles.clear()
        p = np.asarray(extract.kphotoalbum_photo(self.tmp, "/usr/share/kphotoalbum/demo/p.png").convert("RGB"))
        self.assertEqual(p.shape[:2], (6, 4))
        self.assertEqual(tuple(p[0, 3]), (255, 0, 0))
        q = np.asarray(extract.kphotoalbum_photo(self.tmp, "/usr/share/kphotoalbum/demo/q.png").convert("RGB"))
        self.assertEqual(q.shape[:2], (4, 6))


COPYRIGHT = """Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: x

Files: *
Copyright: 2020 Team
License: GPL-2+

Files: images/land/*
Copyright: Various
License: public-domain
 Taken from somewhere.
 .
 Second paragraph.

Files: images/land/bwerner*
 images/land/other?.jpg
Copyright: Berthold Werner
License: CC-BY-SA-3.0

Files: images/land/badlands0*
Copyright: Unsplash
License: public-domain

License: GPL-2+
 Text.
"""


class Dep5Test(unittest.TestCase):
    def setUp(self):
        self.c = dep5.Copyright(COPYRIGHT)

    def who(self, path):
        return dep5.first_line(self.c.covering(path), "copyright")

    def test_last_match_wins(self):
        self.assertEqual(self.who("images/land/bwerner3.jpg"), "Berthold Werner")
        self.assertEqual(self.who("images/land/badlands0.jpg"), "Unsplash")
        self.assertEqual(self.who("images/land/badlands1.jpg"), "Various")
        self.assertEqual(self.who("images/ship/x.png"), "2020 Team")

    def test_question_mark_and_continuation(self):
        self.assertEqual(self.who("images/land/other7.jpg"), "Berthold Werner")
        self.assertEqual(self.who("images/land/other77.jpg"), "Various")
        st = self.c.covering("images/land/a.jpg")
        self.assertEqual(st["license"], "public-domain\nTaken from somewhere.\n\nSecond paragraph.")
        self.assertEqual(dep5.short_licence(st), "public-domain")

    def test_star_matches_across_folders(self):
        # "*" in DEP-5 matches "/" too: images/land/* covers a file in a sub-folder.
        self.assertEqual(self.who("images/land/sub/a.jpg"), "Various")

    def test_standalone_licence(self):
        self.assertIn("GPL-2+", self.c.licences)

    def test_source_path(self):
        self.assertEqual(dep5.source_path("endless-sky-data", "/usr/share/games/endless-sky/images/land/a.jpg"),
                         "images/land/a.jpg")
        self.assertEqual(dep5.source_path("ufoai-textures", "/usr/share/games/ufoai/base/0textures.pk3:textures/t/a.png"),
                         "base/textures/t/a.png")
        self.assertEqual(dep5.source_path("other", "/usr/share/x.jpg"), "usr/share/x.jpg")


if __name__ == "__main__":
    unittest.main()
