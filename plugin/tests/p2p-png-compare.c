/* p2p-png-compare.c - pixel checks for the headless GIMP tests.
 *
 *   p2p-png-compare same A.png B.png
 *       A and B have the same size and identical RGBA pixels (images
 *       without alpha count as opaque; grey/indexed are expanded to RGB).
 *   p2p-png-compare cli RESULT.png CLI.png TOL REGION
 *       RESULT (the plug-in's new layer) against CLI (pix2pix-cli's output
 *       for the same source and options).  TOL: largest allowed difference
 *       in 8-bit levels, or "grey" (RESULT is a grey layer: compare with the
 *       luminance of CLI as GEGL computes it, within 2).  REGION: "-" (alpha
 *       equal), "X,Y,W,H" (a hard selection in layer coordinates: alpha
 *       equal inside, 0 outside) or "feather" (alpha not compared).  Colours
 *       are compared where both alphas are non-zero.
 *
 *   p2p-png-compare xwd2png SCREEN.xwd OUT.png
 *       Converts an Xvfb -fbdir frame buffer (XWD, 24/32-bit TrueColor)
 *       to PNG: the dialog screenshot test needs no ImageMagick.
 *   p2p-png-compare newbox BEFORE.png AFTER.png X Y W H
 *       Finds what appeared in the rectangle between two screenshots of the
 *       same size: the rightmost group of changed columns (gaps of up to 8
 *       unchanged columns inside a group) and its changed rows.  Prints
 *       "X Y W H" of that box, exit 1 when nothing changed.  The cancel
 *       test uses it to find GIMP 3's Cancel button at the right end of
 *       the status bar, which appears only while a progress runs.
 *
 *   p2p-png-compare reddish FILE X Y MARGIN
 *       Pixel (X, Y) of FILE is red: R exceeds both G and B by more than
 *       MARGIN levels (MARGIN may be negative: "not red" is the opposite
 *       check, see the hints test).  Prints "R G B A".
 *
 * Exit 0 when the check holds, 1 otherwise, with one line on stderr.
 * Uses GdkPixbuf (already needed by pix2pix-cli), so 16-bit PNGs are read
 * as 8-bit: the tests save 8-bit files.
 */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

typedef struct {
  int     w, h;
  guchar *rgba;  /* w*h*4 */
} Img;

static gboolean
load (const char *path, Img *img)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file (path, &error);
  int stride, nc;
  const guchar *px;

  if (pb == NULL)
    {
      fprintf (stderr, "cannot read %s: %s\n", path, error->message);
      return FALSE;
    }
  img->w = gdk_pixbuf_get_width (pb);
  img->h = gdk_pixbuf_get_height (pb);
  stride = gdk_pixbuf_get_rowstride (pb);
  nc = gdk_pixbuf_get_n_channels (pb);
  px = gdk_pixbuf_read_pixels (pb);
  img->rgba = g_malloc ((gsize) img->w * img->h * 4);
  for (int y = 0; y < img->h; y++)
    for (int x = 0; x < img->w; x++)
      {
        const guchar *s = px + (gsize) y * stride + (gsize) x * nc;
        guchar *d = img->rgba + ((gsize) y * img->w + x) * 4;
        d[0] = s[0];
        d[1] = s[1];
        d[2] = s[2];
        d[3] = nc == 4 ? s[3] : 255;
      }
  return TRUE;
}

static double
srgb_to_linear (double v)
{
  return v <= 0.04045 ? v / 12.92 : pow ((v + 0.055) / 1.055, 2.4);
}

static double
linear_to_srgb (double v)
{
  return v <= 0.0031308 ? v * 12.92 : 1.055 * pow (v, 1.0 / 2.4) - 0.055;
}

/* Y' of an sRGB colour the way babl converts R'G'B' to Y': luminance from
 * linear light, then the sRGB curve.  babl's sRGB space is ICC-style,
 * adapted to D50 (Bradford), so its Y row is 0.2225 0.7169 0.0606 rather
 * than the D65 0.2126 0.7152 0.0722 (which differs by up to 6 levels). */
static int
grey_of (const guchar *p)
{
  double y = 0.2225 * srgb_to_linear (p[0] / 255.0) +
             0.7169 * srgb_to_linear (p[1] / 255.0) +
             0.0606 * srgb_to_linear (p[2] / 255.0);
  return (int) floor (linear_to_srgb (y) * 255.0 + 0.5);
}

static guint32
be32 (const guchar *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* XWD: a header of big-endian CARD32 fields (header_size first), the
 * colour map (12 bytes per entry), then the pixels as the server lays them
 * out.  Only what Xvfb writes for a 24-bit screen is handled. */
static int
xwd_to_png (const char *in,
            const char *out)
{
  g_autoptr(GError) error = NULL;
  g_autofree guchar *data = NULL;
  g_autoptr(GdkPixbuf) pb = NULL;
  gsize len;
  guint32 header_size, width, height, bpp, bpl, ncolors, byte_order;
  gsize offset;

  if (!g_file_get_contents (in, (char **) &data, &len, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  if (len < 100)
    {
      fprintf (stderr, "%s: too short for XWD\n", in);
      return 1;
    }
  header_size = be32 (data);
  byte_order = be32 (data + 7 * 4);
  width = be32 (data + 4 * 4);
  height = be32 (data + 5 * 4);
  bpp = be32 (data + 11 * 4);
  bpl = be32 (data + 12 * 4);
  ncolors = be32 (data + 19 * 4);
  offset = (gsize) header_size + (gsize) ncolors * 12;
  if (bpp != 32 || width == 0 || height == 0 || width > 16384 || height > 16384 ||
      bpl < width * 4 || offset > len || (len - offset) / bpl < height)
    {
      fprintf (stderr, "%s: unsupported XWD (%u bpp, %ux%u)\n", in, bpp, width, height);
      return 1;
    }
  pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, (int) width, (int) height);
  for (guint32 y = 0; y < height; y++)
    {
      const guchar *src = data + offset + (gsize) y * bpl;
      guchar *dst = gdk_pixbuf_get_pixels (pb) + (gsize) y * gdk_pixbuf_get_rowstride (pb);

      for (guint32 x = 0; x < width; x++, src += 4, dst += 3)
        {
          /* LSBFirst: B G R X in memory; MSBFirst: X R G B. */
          dst[0] = byte_order == 0 ? src[2] : src[1];
          dst[1] = byte_order == 0 ? src[1] : src[2];
          dst[2] = byte_order == 0 ? src[0] : src[3];
        }
    }
  if (!gdk_pixbuf_save (pb, out, "png", &error, NULL))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  return 0;
}

static gboolean
changed_px (const Img *a,
            const Img *b,
            int        x,
            int        y)
{
  const guchar *p = a->rgba + ((gsize) y * a->w + x) * 4;
  const guchar *q = b->rgba + ((gsize) y * b->w + x) * 4;

  for (int c = 0; c < 3; c++)
    if (abs ((int) p[c] - (int) q[c]) > 16)
      return TRUE;
  return FALSE;
}

static int
new_box (const char *before,
         const char *after,
         int         rx,
         int         ry,
         int         rw,
         int         rh)
{
  Img a = { 0 }, b = { 0 };
  int right = -1, left = -1, top = -1, bottom = -1, gap = 0;

  if (!load (before, &a) || !load (after, &b))
    return 2;
  if (a.w != b.w || a.h != b.h)
    {
      fprintf (stderr, "sizes differ: %dx%d vs %dx%d\n", a.w, a.h, b.w, b.h);
      return 1;
    }
  rx = CLAMP (rx, 0, a.w);
  ry = CLAMP (ry, 0, a.h);
  rw = CLAMP (rw, 0, a.w - rx);
  rh = CLAMP (rh, 0, a.h - ry);
  for (int x = rx + rw - 1; x >= rx; x--)
    {
      gboolean col = FALSE;

      for (int y = ry; y < ry + rh; y++)
        if (changed_px (&a, &b, x, y))
          {
            col = TRUE;
            top = top < 0 || y < top ? y : top;
            bottom = y > bottom ? y : bottom;
          }
      if (col)
        {
          if (right < 0)
            right = x;
          left = x;
          gap = 0;
        }
      else if (right >= 0 && ++gap > 8)
        break;
    }
  g_free (a.rgba);
  g_free (b.rgba);
  if (right < 0)
    {
      fprintf (stderr, "nothing changed in %d,%d %dx%d\n", rx, ry, rw, rh);
      return 1;
    }
  printf ("%d %d %d %d\n", left, top, right - left + 1, bottom - top + 1);
  return 0;
}

static int
reddish (const char *path, int x, int y, int margin)
{
  Img img = { 0 };
  const guchar *p;
  int ok;

  if (!load (path, &img))
    return 1;
  if (x < 0 || y < 0 || x >= img.w || y >= img.h)
    {
      fprintf (stderr, "%s: pixel %d,%d is outside %dx%d\n", path, x, y, img.w, img.h);
      return 1;
    }
  p = img.rgba + ((gsize) y * img.w + x) * 4;
  printf ("%d %d %d %d\n", p[0], p[1], p[2], p[3]);
  ok = p[0] - p[1] > margin && p[0] - p[2] > margin;
  if (!ok)
    fprintf (stderr, "%s: pixel %d,%d = %d %d %d is not red by more than %d levels\n", path,
             x, y, p[0], p[1], p[2], margin);
  g_free (img.rgba);
  return ok ? 0 : 1;
}

int
main (int argc, char **argv)
{
  Img a = { 0 }, b = { 0 };
  int maxd = 0, maxa = 0, bad_outside = 0, tol = 0, rx = 0, ry = 0, rw = 0, rh = 0;
  gboolean grey = FALSE, cli, feather = FALSE, rect = FALSE;
  long compared = 0;

  if (argc == 4 && strcmp (argv[1], "xwd2png") == 0)
    return xwd_to_png (argv[2], argv[3]);
  if (argc == 6 && strcmp (argv[1], "reddish") == 0)
    return reddish (argv[2], atoi (argv[3]), atoi (argv[4]), atoi (argv[5]));
  if (argc == 8 && strcmp (argv[1], "newbox") == 0)
    return new_box (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]), atoi (argv[6]),
                    atoi (argv[7]));
  if (argc < 4 || (strcmp (argv[1], "same") != 0 && strcmp (argv[1], "cli") != 0) ||
      (strcmp (argv[1], "cli") == 0 && argc != 6))
    {
      fprintf (stderr, "usage: %s same A B | cli RESULT CLI TOL REGION | xwd2png IN OUT | "
               "newbox BEFORE AFTER X Y W H | reddish FILE X Y MARGIN\n", argv[0]);
      return 2;
    }
  cli = strcmp (argv[1], "cli") == 0;
  if (cli)
    {
      if (strcmp (argv[4], "grey") == 0)
        grey = TRUE, tol = 2;
      else
        tol = atoi (argv[4]);
      if (strcmp (argv[5], "feather") == 0)
        feather = TRUE;
      else if (strcmp (argv[5], "-") != 0)
        {
          if (sscanf (argv[5], "%d,%d,%d,%d", &rx, &ry, &rw, &rh) != 4)
            {
              fprintf (stderr, "bad region %s\n", argv[5]);
              return 2;
            }
          rect = TRUE;
        }
    }

  if (!load (argv[2], &a) || !load (argv[3], &b))
    return 1;
  if (a.w != b.w || a.h != b.h)
    {
      fprintf (stderr, "size differs: %dx%d vs %dx%d\n", a.w, a.h, b.w, b.h);
      return 1;
    }

  for (int y = 0; y < a.h; y++)
    for (int x = 0; x < a.w; x++)
      {
        const guchar *p = a.rgba + ((gsize) y * a.w + x) * 4;
        const guchar *q = b.rgba + ((gsize) y * a.w + x) * 4;
        gboolean inside = !rect || (x >= rx && x < rx + rw && y >= ry && y < ry + rh);
        int expect_alpha = inside ? q[3] : 0;

        if (!cli)
          {
            for (int k = 0; k < 4; k++)
              maxd = MAX (maxd, abs (p[k] - q[k]));
            compared++;
            continue;
          }
        if (!feather)
          {
            maxa = MAX (maxa, abs (p[3] - expect_alpha));
            if (!inside && p[3] != 0)
              bad_outside++;
          }
        if (p[3] == 0 || q[3] == 0)
          continue;
        compared++;
        if (grey)
          maxd = MAX (maxd, abs (p[0] - grey_of (q)));
        else
          for (int k = 0; k < 3; k++)
            maxd = MAX (maxd, abs (p[k] - q[k]));
      }

  printf ("%s: %ld pixels compared, max colour difference %d, max alpha difference %d\n",
          argv[2], compared, maxd, maxa);
  if (compared == 0)
    {
      fprintf (stderr, "no pixels compared\n");
      return 1;
    }
  if (maxd > tol || maxa > (cli ? tol : 0) || bad_outside > 0)
    {
      fprintf (stderr, "difference too large (colour %d, alpha %d, tolerance %d, %d pixels outside the selection not transparent)\n",
               maxd, maxa, tol, bad_outside);
      return 1;
    }
  return 0;
}
