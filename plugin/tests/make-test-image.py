#!/usr/bin/python3
"""Writes plugin/tests/data/source.png, the 48x40 RGB picture the GIMP tests
load as their source layer (GIMP 3.0 has no plasma plug-in, and a file gives
both GIMP versions the same pixels).  Smooth colour ramps plus a few dark
strokes, so that both filters see something sketch- and photo-like.
Developer tool (Debian's python3-pil); CI uses the committed file."""
import os
import sys

from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, 'data', 'source.png')
w, h = 48, 40
img = Image.new('RGB', (w, h))
px = img.load()
for y in range(h):
    for x in range(w):
        px[x, y] = (40 + 4 * x, 30 + 5 * y, 200 - 2 * x - y)
d = ImageDraw.Draw(img)
d.line((2, 35, 45, 4), fill=(10, 10, 10), width=2)
d.ellipse((12, 8, 34, 30), outline=(250, 250, 240), width=2)
d.rectangle((30, 24, 44, 36), fill=(180, 60, 40))
img.save(out)
