"""Picture grids for contact sheets and the README's pictures: the one helper every evaluation
uses (colorize, sketch, size modes, readme_pictures).

Every panel (HxWx3 or HxW uint8) is scaled to `width` pixels wide, its aspect ratio kept, and
placed in rows with `gap` white pixels between panels and between rows; a row is as tall as its
tallest panel.  Optional column titles go into a strip on top.
"""
import numpy as np
from PIL import Image, ImageDraw

TITLE_HEIGHT = 18


def _panel(p, width, resample):
    im = Image.fromarray(np.ascontiguousarray(p)).convert("RGB")
    return im.resize((width, max(1, round(im.height * width / im.width))), resample)


def strip(panels, width, gap=4, resample=Image.LANCZOS):
    """One row: the panels side by side."""
    ims = [_panel(p, width, resample) for p in panels]
    h = max(im.height for im in ims)
    out = Image.new("RGB", (len(ims) * width + (len(ims) - 1) * gap, h), "white")
    for i, im in enumerate(ims):
        out.paste(im, (i * (width + gap), 0))
    return out


def grid(rows, width, gap=4, titles=None, resample=Image.LANCZOS):
    """Rows of panels, one strip per row stacked; -> a PIL image.  Rows may differ in length
    (the grid is as wide as the longest)."""
    strips = [strip(r, width, gap, resample) for r in rows]
    top = TITLE_HEIGHT if titles else 0
    out = Image.new("RGB", (max(s.width for s in strips),
                            top + sum(s.height for s in strips) + gap * (len(strips) - 1)), "white")
    d = ImageDraw.Draw(out)
    for j, t in enumerate(titles or []):
        d.text((j * (width + gap) + 4, 3), t, fill=(0, 0, 0))
    y = top
    for s in strips:
        out.paste(s, (0, y))
        y += s.height + gap
    return out
