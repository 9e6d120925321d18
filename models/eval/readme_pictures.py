"""The README's example pictures, made through pix2pix-cli with default options (what users get).

    /usr/bin/python3 -m models.eval.readme_pictures [--cli PATH] [--out docs/images]

From models/examples/lake-sherburne*.{jpg,png} (CC0, in the eval_in split) it writes:
  colorize-before-after.png  grey | Auto Colorize (default) | --net-size 384 | the photo
  colorize-hints.png         grey with 10 hints drawn | without hints | with them | the photo
  sketch-colour.png          lines | Sketch to Photo | the lines with colour fills | Sketch to
                             Photo | the photo
and models/examples/lake-sherburne-coloured-sketch.png (the filled drawing, an example to try),
and prints each result's PSNR against the photo (for the captions).  The hints are 10 seeded
9x9-px squares, each in the photo's mean colour there (models/eval/hints.py); the fills colour
segments of the photo in their mean colour under the lines (models/dataset/colour.py), as a user
would bucket-fill the drawing.
"""
import argparse
import os
import tempfile

import numpy as np
from PIL import Image, ImageDraw

from models.dataset import colour
from models.eval import cli, hints, metrics
from models.eval.sheets import grid, strip

REPO = cli.REPO
EXAMPLES = os.path.join(REPO, "models", "examples")
SEED = 2026
HINT_SIDE = 9


def load_rgb(path):
    return np.asarray(Image.open(path).convert("RGB"))


def draw_dots(grey_rgb, pos, hints_rgba, side, radius=7):
    """The hint squares drawn enlarged as white rings filled with the hint colour, so that they
    show at README size."""
    im = Image.fromarray(np.ascontiguousarray(grey_rgb))
    d = ImageDraw.Draw(im)
    for y, x in pos:
        cy, cx = y + side / 2, x + side / 2
        col = tuple(int(v) for v in hints_rgba[y + side // 2, x + side // 2, :3])
        d.ellipse((cx - radius, cy - radius, cx + radius, cy + radius), fill=col,
                  outline=(255, 255, 255), width=2)
    return np.asarray(im)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", help="pix2pix-cli binary (default: see models/eval/cli.py)")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "images"))
    ap.add_argument("--colorize", default=os.path.join(REPO, "models", "colorize.safetensors"))
    ap.add_argument("--sketch", default=os.path.join(REPO, "models", "sketch-to-photo.safetensors"))
    args = ap.parse_args(argv)
    exe = cli.find_cli(args.cli)
    photo = load_rgb(os.path.join(EXAMPLES, "lake-sherburne.jpg"))
    grey_path = os.path.join(EXAMPLES, "lake-sherburne-grey.jpg")
    grey = load_rgb(grey_path)
    lines_path = os.path.join(EXAMPLES, "lake-sherburne-sketch.png")
    lines = np.asarray(Image.open(lines_path).convert("L"))
    os.makedirs(args.out, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        def run(model, inp, name, **kw):
            out = os.path.join(tmp, name + ".png")
            cli.run(exe, model, inp, out, **kw)
            res = load_rgb(out)
            print("%-22s PSNR %.1f dB" % (name, metrics.psnr(res, photo)))
            return res

        print("%-22s PSNR %.1f dB" % ("grey", metrics.psnr(grey, photo)))
        plain = run(args.colorize, grey_path, "colorize")
        big = run(args.colorize, grey_path, "colorize-384", extra=("--net-size", "384"))
        strip([grey, plain, big, photo], 320).save(os.path.join(args.out, "colorize-before-after.png"))

        if cli.takes_hints(cli.model_metadata(args.colorize)):
            pos = hints.positions(photo.shape, 10, SEED, "lake-sherburne", HINT_SIDE)
            hints_rgba = hints.hints_image(photo, pos, HINT_SIDE)
            hints_path = os.path.join(tmp, "hints.png")
            Image.fromarray(hints_rgba, "RGBA").save(hints_path)
            hinted = run(args.colorize, grey_path, "colorize-10-hints", hints=hints_path)
            shown = draw_dots(grey, pos, hints_rgba, HINT_SIDE)
            grid([[shown, plain], [hinted, photo]], 384, gap=6).save(
                os.path.join(args.out, "colorize-hints.png"))

        rng = np.random.default_rng(SEED)
        labels = colour.segments(photo, rng, n=12, compactness=20.0)
        layer, _ = colour.fill_layer(photo, labels, None, 0.0, rng)
        filled = colour.composite(lines, layer)
        # an example users can try too (models/examples/README.md)
        filled_path = os.path.join(EXAMPLES, "lake-sherburne-coloured-sketch.png")
        Image.fromarray(filled).save(filled_path)
        lines_rgb = np.repeat(lines[..., None], 3, axis=2)
        print("%-22s PSNR %.1f dB" % ("coloured sketch", metrics.psnr(filled, photo)))
        from_lines = run(args.sketch, lines_path, "sketch-lines")
        from_fills = run(args.sketch, filled_path, "sketch-fills")
        strip([lines_rgb, from_lines, filled, from_fills, photo], 256).save(
            os.path.join(args.out, "sketch-colour.png"))


if __name__ == "__main__":
    main()
