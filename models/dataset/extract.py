#!/usr/bin/python3
"""Extract every photo listed in photo-sources.tsv into a 512-px JPEG photo pack.

Usage: /usr/bin/python3 -m models.dataset.extract [--work DIR] [--size 512]

Reads the packages unpacked by fetch.sh (WORK/unpacked/<package>) and writes
WORK/photos/<split>/<id>.jpg plus WORK/photos/index.tsv (id, package, path, split, size, mean
saturation).  Each photo is scaled (never up) so that its short side is at most --size, its long
side is centre-cropped to at most twice the short side, and it is saved as JPEG quality 90.

Containers handled here (formats from training-data.md section 3, parsers written for this project):
* GCompris Qt resource bundles (.rcc) holding WebP files: a TSV path "activity:<act>/<path>" means
  the file <path> inside /usr/share/gcompris-qt/rcc/<act>.rcc;
* Jigzo .pzl puzzles: the photo is the "image x y w h" rectangle of the colour atlas;
* members of zip archives (0 A.D.'s public.zip, UFO:AI's .pk3, Sweet Home 3D's .jar): a TSV path
  "<archive>:<member>"; DDS textures (DXT1/3/5) decode with Pillow;
* scipy's raccoon (misc/face.dat: bz2-compressed raw RGB, 768 x 1024 x 3);
* KPhotoAlbum's demo photos: turned by the angle its demo/index.xml records;
* cut-outs on a transparent ground (container "cut-out ..."; Tux Paint's photo stamps): composited
  onto a landscape, plant or texture photo of the same split, chosen and placed deterministically
  from the cut-out's path (so no train photo ever shows an eval photo's pixels, or the reverse);
* plain files (JPEG, PNG, TGA) at the listed path.
"""
import argparse
import bz2
import hashlib
import io
import os
import re
import struct
import sys
import xml.etree.ElementTree as ET
import zipfile
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


class RccError(Exception):
    pass


class RccBundle:
    """Reader for Qt's binary resource format (rcc), versions 1-3, big-endian."""

    def __init__(self, data):
        self.data = data
        if data[:4] != b"qres":
            raise RccError("not a Qt resource bundle (magic is %r)" % data[:4])
        self.version, self.tree, self.payload, self.names = struct.unpack(">IIII", data[4:20])
        if self.version not in (1, 2, 3):
            raise RccError("unsupported rcc version %d" % self.version)
        self.node_size = 14 if self.version == 1 else 22

    def _node(self, index):
        off = self.tree + index * self.node_size
        name_off, flags = struct.unpack(">IH", self.data[off:off + 6])
        if flags & 2:
            count, first = struct.unpack(">II", self.data[off + 6:off + 14])
            return name_off, flags, (count, first)
        _terr, _lang, data_off = struct.unpack(">HHI", self.data[off + 6:off + 14])
        return name_off, flags, data_off

    def _name(self, name_off):
        off = self.names + name_off
        (length,) = struct.unpack(">H", self.data[off:off + 2])
        return self.data[off + 6:off + 6 + 2 * length].decode("utf-16-be")

    def _content(self, flags, data_off):
        off = self.payload + data_off
        (length,) = struct.unpack(">I", self.data[off:off + 4])
        raw = self.data[off + 4:off + 4 + length]
        if flags & 4:
            raise RccError("zstd-compressed rcc entries are not supported")
        if flags & 1:
            # qCompress: u32 big-endian uncompressed size, then a zlib stream.
            (size,) = struct.unpack(">I", raw[:4])
            out = zlib.decompress(raw[4:])
            if len(out) != size:
                raise RccError("qCompress size mismatch")
            return out
        return raw

    def walk(self, index=0, prefix=""):
        """Yield (path, bytes) for every file below node `index`."""
        name_off, flags, info = self._node(index)
        name = "" if index == 0 else self._name(name_off)
        path = prefix + ("/" if prefix else "") + name if index else ""
        if flags & 2:
            count, first = info
            for child in range(first, first + count):
                yield from self.walk(child, path)
        else:
            yield path, flags, info

    def read(self, path):
        """Return the bytes of `path` (no leading slash)."""
        parts = [p for p in path.split("/") if p]
        index = 0
        for part in parts:
            _, flags, info = self._node(index)
            if not flags & 2:
                raise RccError("%s: not a directory in the bundle" % part)
            count, first = info
            # Children are sorted by name hash, so a linear scan by name is simplest and safe.
            for child in range(first, first + count):
                if self._name(self._node(child)[0]) == part:
                    index = child
                    break
            else:
                raise RccError("%s: not found in the bundle" % path)
        _, flags, info = self._node(index)
        if flags & 2:
            raise RccError("%s is a directory" % path)
        return self._content(flags, info)


def read_pzl(path):
    """Return {member name: bytes} of a Jigzo .pzl file."""
    data = open(path, "rb").read()
    pos = 0

    def line():
        nonlocal pos
        end = data.index(b"\n", pos)
        s = data[pos:end].decode("latin-1")
        pos = end + 1
        return s

    if line() != "PzlF":
        raise ValueError("%s: not a Jigzo puzzle" % path)
    line()  # version
    line()  # name
    line()  # URL
    members = {}
    while pos < len(data):
        name = line().strip()
        if not name:
            continue
        n = int(line())
        members[name] = data[pos:pos + n]
        pos += n
        if pos < len(data) and data[pos:pos + 1] == b"\n":
            pos += 1
    return members


def jigzo_photo(root, member):
    """The photo of puzzle `member` (e.g. bike-3x4.jpg) as a PIL image."""
    stem = member.rsplit(".", 1)[0]
    pzl = os.path.join(root, "usr/share/games/jigzo/puzzles/00_default", stem + ".pzl")
    m = read_pzl(pzl)
    # Member names do not always follow the file name (bird-2x3.pzl holds 05AMWABR.*): pick the
    # texture map and the colour atlas by their suffixes.
    maps = [k for k in m if k.endswith(".map")]
    atlases = [k for k in m if k.endswith(".jpg") and not k.endswith("-t.jpg")]
    if len(maps) != 1 or len(atlases) != 1:
        raise ValueError("%s: unexpected members %s" % (pzl, sorted(m)))
    mapping = m[maps[0]].decode("latin-1")
    rect = re.search(r"^image\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", mapping, re.M)
    if not rect:
        raise ValueError("%s: no image rectangle in the map" % pzl)
    x, y, w, h = map(int, rect.groups())
    atlas = Image.open(io.BytesIO(m[atlases[0]]))
    atlas.load()
    return atlas.crop((x, y, x + w, y + h))


_rcc_cache = {}


def gcompris_photo(root, spec):
    act, inner = spec[len("activity:"):].split("/", 1)
    rcc = os.path.join(root, "usr/share/gcompris-qt/rcc", act + ".rcc")
    if rcc not in _rcc_cache:
        _rcc_cache.clear()
        _rcc_cache[rcc] = RccBundle(open(rcc, "rb").read())
    im = Image.open(io.BytesIO(_rcc_cache[rcc].read(inner)))
    im.load()
    return im


_zip_cache = {}
ARCHIVE_RE = re.compile(r"^(.+\.(?:zip|pk3|jar)):(.+)$")


def archive_member(root, spec):
    """The image stored as `member` inside the zip archive of "<archive>:<member>"."""
    m = ARCHIVE_RE.match(spec)
    arc = os.path.join(root, m.group(1).lstrip("/"))
    if arc not in _zip_cache:
        for z in _zip_cache.values():
            z.close()
        _zip_cache.clear()
        _zip_cache[arc] = zipfile.ZipFile(arc)
    im = Image.open(io.BytesIO(_zip_cache[arc].read(m.group(2))))
    im.load()
    return im


def scipy_face(root, path):
    """scipy.misc.face(): bz2-compressed raw RGB bytes, 768 rows x 1024 columns."""
    with open(os.path.join(root, path.lstrip("/")), "rb") as f:
        raw = bz2.decompress(f.read())
    if len(raw) != 768 * 1024 * 3:
        raise ValueError("%s: %d bytes, expected 768 x 1024 x 3" % (path, len(raw)))
    return Image.fromarray(np.frombuffer(raw, np.uint8).reshape(768, 1024, 3))


_kpa_angles = {}


def kphotoalbum_photo(root, path):
    """A KPhotoAlbum demo photo turned upright by the angle (clockwise degrees) that the demo
    album's index.xml records for it; the JPEG files carry no orientation tag of their own."""
    full = os.path.join(root, path.lstrip("/"))
    d = os.path.dirname(full)
    if d not in _kpa_angles:
        angles = {}
        xml = os.path.join(d, "index.xml")
        if os.path.exists(xml):
            for el in ET.parse(xml).iter("image"):
                angles[el.get("file", "")] = int(el.get("angle", "0") or 0)
        _kpa_angles[d] = angles
    im = Image.open(full)
    im.load()
    angle = _kpa_angles[d].get(os.path.basename(full), 0) % 360
    if angle:
        im = im.rotate(-angle, expand=True)  # PIL turns counter-clockwise
    return im


# Grounds for cut-outs: scenes and natural surfaces.  Textures are left out: tiles, wicker and
# aerial farmland made animals look pasted onto a pattern.
BACKGROUND_KINDS = ("landscape", "plant", "nature", "seascape")


def is_cutout(row):
    return row.get("container", "").startswith("cut-out")


def background_pool(rows, split):
    """Rows that may serve as ground under a cut-out of `split`: whole photos (no cut-outs) of
    the same split, at least 360 px on the short side, whose content starts with a landscape,
    plant, nature or seascape kind and whose note does not say "not used as ground"; sorted by
    package and path."""
    def ok(r):
        try:
            short = min(int(r["width"]), int(r["height"]))
        except ValueError:
            return False
        return (r["split"] == split and not is_cutout(r) and short >= 360
                and "not used as ground" not in r.get("note", "")
                and re.split(r"[ /(]", r["content"])[0] in BACKGROUND_KINDS)
    return sorted((r for r in rows if ok(r)),
                  key=lambda r: (r["package"], r["path_in_package"]))


def _cutout_hash(row):
    return hashlib.sha1((row["package"] + ":" + row["path_in_package"]).encode()).digest()


def cutout_background(row, rows):
    """The row of the photo that cut-out `row` is composited onto (a function of the TSV alone,
    so make_credits.py names the same photo)."""
    pool = background_pool(rows, row["split"])
    if not pool:
        raise ValueError("no background photo for split %s in the list" % row["split"])
    return pool[int.from_bytes(_cutout_hash(row)[:4], "big") % len(pool)]


def composite_cutout(stamp, row, rows, photos_dir):
    """Cut-out `stamp` (RGBA) on the background photo cutout_background() names, read from the
    photo pack already written to photos_dir: the object covers about 60 % of each side of the
    picture; the ground's crop and the object's position follow from the SHA-1 of the path."""
    h = _cutout_hash(row)
    stamp = stamp.convert("RGBA")
    box = stamp.getchannel("A").point(lambda a: 255 if a >= 16 else 0).getbbox()
    if box is None:
        raise ValueError("cut-out is fully transparent")
    stamp = stamp.crop(box)
    bg_row = cutout_background(row, rows)
    bg_file = os.path.join(photos_dir, bg_row["split"],
                           photo_id(bg_row["package"], bg_row["path_in_package"]) + ".jpg")
    if not os.path.exists(bg_file):
        raise ValueError("background %s was not extracted" % bg_row["path_in_package"])
    bg = Image.open(bg_file).convert("RGB")
    # Canvas: the object at ~60 % of each side, aspect clamped to 1:2 so pack() keeps all of it;
    # the object is scaled down when the canvas would not fit in the background (which is never
    # scaled up, so the ground stays as sharp as the photo pack).
    sw, sh = stamp.size
    cw, ch = max(sw / 0.6, sh / 0.6 / 2), max(sh / 0.6, sw / 0.6 / 2)
    f = min(1.0, bg.width / cw, bg.height / ch)
    if f < 1.0:
        sw, sh = max(1, int(sw * f)), max(1, int(sh * f))
        stamp = stamp.resize((sw, sh), Image.LANCZOS)
    cw, ch = min(bg.width, int(round(cw * f))), min(bg.height, int(round(ch * f)))
    x0 = h[5] * (bg.width - cw) // 255
    y0 = h[6] * (bg.height - ch) // 255
    canvas = bg.crop((x0, y0, x0 + cw, y0 + ch)).convert("RGBA")
    # Object position: anywhere that keeps it inside, biased to the lower half (things stand).
    px = h[7] * (cw - sw) // 255
    py = (ch - sh) // 2 + h[8] * (ch - sh - (ch - sh) // 2) // 255
    canvas.alpha_composite(stamp, (px, py))
    return canvas.convert("RGB"), bg_row


def to_rgb(im):
    if im.mode in ("RGBA", "LA", "P", "PA") or "transparency" in im.info:
        im = im.convert("RGBA")
        bg = Image.new("RGBA", im.size, (255, 255, 255, 255))
        im = Image.alpha_composite(bg, im)
    return im.convert("RGB")


def pack(im, size):
    """Scale (down only) to short side `size`, centre-crop long side to <= 2x short side."""
    w, h = im.size
    s = min(w, h)
    if s > size:
        scale = size / s
        im = im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)
        w, h = im.size
    s = min(w, h)
    if w > 2 * s:
        x = (w - 2 * s) // 2
        im = im.crop((x, 0, x + 2 * s, h))
    elif h > 2 * s:
        y = (h - 2 * s) // 2
        im = im.crop((0, y, w, y + 2 * s))
    return im


def photo_id(pkg, path):
    base = re.sub(r"[^A-Za-z0-9]+", "-", os.path.splitext(os.path.basename(path))[0]).strip("-")
    return "%s__%s__%s" % (pkg, base[:40], hashlib.sha1(path.encode()).hexdigest()[:6])


def mean_saturation(im):
    a = np.asarray(im.convert("RGB"), dtype=np.float32) / 255.0
    mx = a.max(axis=2)
    mn = a.min(axis=2)
    sat = np.where(mx > 0, (mx - mn) / np.maximum(mx, 1e-6), 0.0)
    return float(sat.mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--work", default=os.path.join(HERE, "work"))
    ap.add_argument("--tsv", default=os.path.join(HERE, "photo-sources.tsv"))
    ap.add_argument("--size", type=int, default=512)
    args = ap.parse_args()

    out = os.path.join(args.work, "photos")
    rows = []
    with open(args.tsv, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for ln in f:
            if ln.strip():
                rows.append(dict(zip(header, ln.rstrip("\n").split("\t"))))
    per_pkg = {}
    failures = []
    index = []
    # Whole photos first: cut-outs are composited onto photos already written.
    for r in sorted(rows, key=is_cutout):
        pkg, path, split = r["package"], r["path_in_package"], r["split"]
        root = os.path.join(args.work, "unpacked", pkg)
        try:
            if path.startswith("activity:"):
                im = gcompris_photo(root, path)
            elif pkg == "jigzo-data":
                im = jigzo_photo(root, path)
            elif ARCHIVE_RE.match(path):
                im = archive_member(root, path)
            elif pkg == "python3-scipy" and path.endswith("/face.dat"):
                im = scipy_face(root, path)
            elif pkg == "kphotoalbum":
                im = kphotoalbum_photo(root, path)
            else:
                im = Image.open(os.path.join(root, path.lstrip("/")))
                im.load()
            native = im.size
            if is_cutout(r):
                im, _ = composite_cutout(im, r, rows, out)
            im = pack(to_rgb(im), args.size)
        except Exception as e:  # report and go on: one bad file must not stop the pack
            failures.append((pkg, path, str(e)))
            continue
        pid = photo_id(pkg, path)
        d = os.path.join(out, split)
        os.makedirs(d, exist_ok=True)
        tmp = os.path.join(d, pid + ".tmp.jpg")
        im.save(tmp, "JPEG", quality=90)
        os.replace(tmp, os.path.join(d, pid + ".jpg"))
        index.append((pid, pkg, path, split, native[0], native[1], im.size[0], im.size[1],
                      mean_saturation(im)))
        per_pkg.setdefault(pkg, {}).setdefault(split, 0)
        per_pkg[pkg][split] += 1
    with open(os.path.join(out, "index.tsv"), "w", encoding="utf-8") as f:
        f.write("id\tpackage\tpath\tsplit\tnative_w\tnative_h\tw\th\tmean_saturation\n")
        for t in index:
            f.write("%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%.4f\n" % t)
    for pkg in sorted(per_pkg):
        print("%-30s %s" % (pkg, " ".join("%s=%d" % kv for kv in sorted(per_pkg[pkg].items()))))
    print("total: %d photos of %d listed" % (len(index), len(rows)))
    for fl in failures:
        print("FAILED: %s %s: %s" % fl, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
