/* make-fixtures.c - writes the small files test-cli.sh needs, and reads
 * back PNG sizes (so the script needs nothing beyond a POSIX shell).
 *
 *   make-fixtures model OUT.safetensors [rgb|colorize|colorize-hints]
 *   make-fixtures png OUT.png W H rgb|rgba
 *   make-fixtures size FILE.png      -> prints "W H CHANNELS"
 *   make-fixtures flat OUT.png W H V    an opaque grey RGB image of level V
 *   make-fixtures dot OUT.png W H X Y S R G B
 *                                    a transparent RGBA image with one opaque
 *                                    S x S square of colour R G B at X, Y
 *   make-fixtures pixel FILE.png X Y -> prints "R G B" of that pixel
 *   make-fixtures drawing OUT.png FLAT.png W H
 *                                    a line drawing on a transparent sheet
 *                                    whose transparent pixels hide black (as
 *                                    Tux Paint's colouring pages), and the same
 *                                    drawing flattened on white (opaque RGB)
 */
#include <stdio.h>
#include <stdlib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "tiny-model.h"

static int
write_model (const char *path, const char *kind)
{
  TinyModelSpec spec = { "resnet_1blocks", 2, 3, 3, "sketch-to-photo", 16, 1 };
  g_autoptr(GError) error = NULL;

  if (g_strcmp0 (kind, "colorize") == 0)
    {
      spec.input_nc = 1;
      spec.output_nc = 2;
      spec.task = "colorize";
    }
  if (g_strcmp0 (kind, "colorize-hints") == 0)
    {
      spec.input_nc = 4;
      spec.output_nc = 2;
      spec.task = "colorize";
    }
  if (!tiny_model_write (&spec, path, &error))
    {
      fprintf (stderr, "make-fixtures: %s\n", error->message);
      return 1;
    }
  return 0;
}

static int
write_png (const char *path, int w, int h, gboolean alpha)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, alpha, 8, w, h);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb), nch = alpha ? 4 : 3;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < nch; c++)
        pixels[y * stride + x * nch + c] = (guchar) ((x * 29 + y * 53 + c * 71) & 255);
  if (!gdk_pixbuf_save (pb, path, "png", &error, NULL))
    {
      fprintf (stderr, "make-fixtures: %s\n", error->message);
      return 1;
    }
  return 0;
}

static int
print_size (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file (path, &error);

  if (!pb)
    {
      fprintf (stderr, "make-fixtures: %s\n", error->message);
      return 1;
    }
  printf ("%d %d %d\n", gdk_pixbuf_get_width (pb), gdk_pixbuf_get_height (pb),
          gdk_pixbuf_get_n_channels (pb));
  return 0;
}

static int
write_flat_or_dot (const char *path, int w, int h, gboolean dot, int v, int x0, int y0, int size,
                   const int rgb[3])
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, dot, 8, w, h);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pb);
  int stride = gdk_pixbuf_get_rowstride (pb), nch = dot ? 4 : 3;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guchar *p = pixels + y * stride + x * nch;
        gboolean in = dot && x >= x0 && x < x0 + size && y >= y0 && y < y0 + size;

        for (int c = 0; c < 3; c++)
          p[c] = (guchar) (dot ? (in ? rgb[c] : 0) : v);
        if (dot)
          p[3] = in ? 255 : 0;
      }
  if (!gdk_pixbuf_save (pb, path, "png", &error, NULL))
    {
      fprintf (stderr, "make-fixtures: %s\n", error->message);
      return 1;
    }
  return 0;
}

static int
write_drawing (const char *path, const char *flat_path, int w, int h)
{
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new (GDK_COLORSPACE_RGB, TRUE, 8, w, h);
  g_autoptr(GdkPixbuf) flat = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, w, h);
  g_autoptr(GError) error = NULL;
  guchar *pixels = gdk_pixbuf_get_pixels (pb), *fp = gdk_pixbuf_get_pixels (flat);
  int stride = gdk_pixbuf_get_rowstride (pb), fstride = gdk_pixbuf_get_rowstride (flat);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        guchar *p = pixels + y * stride + x * 4, *f = fp + y * fstride + x * 3;
        /* a diagonal and a frame, in dark blue-grey strokes */
        gboolean line = abs (x - y) <= 1 || x == 2 || y == 2 || x == w - 3 || y == h - 3;

        for (int c = 0; c < 3; c++)
          {
            p[c] = line ? (guchar) (20 + 15 * c) : 0;
            f[c] = line ? p[c] : 255;
          }
        p[3] = line ? 255 : 0;
      }
  if (!gdk_pixbuf_save (pb, path, "png", &error, NULL) ||
      !gdk_pixbuf_save (flat, flat_path, "png", &error, NULL))
    {
      fprintf (stderr, "make-fixtures: %s\n", error->message);
      return 1;
    }
  return 0;
}

static int
print_pixel (const char *path, int x, int y)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pb = gdk_pixbuf_new_from_file (path, &error);
  const guchar *p;

  if (!pb || x < 0 || y < 0 || x >= gdk_pixbuf_get_width (pb) || y >= gdk_pixbuf_get_height (pb))
    {
      fprintf (stderr, "make-fixtures: %s\n", error ? error->message : "pixel outside the image");
      return 1;
    }
  p = gdk_pixbuf_read_pixels (pb) + y * gdk_pixbuf_get_rowstride (pb) +
      x * gdk_pixbuf_get_n_channels (pb);
  printf ("%d %d %d\n", p[0], p[1], p[2]);
  return 0;
}

int
main (int argc, char **argv)
{
  if (argc >= 3 && g_str_equal (argv[1], "model"))
    return write_model (argv[2], argc > 3 ? argv[3] : "rgb");
  if (argc == 6 && g_str_equal (argv[1], "png"))
    return write_png (argv[2], atoi (argv[3]), atoi (argv[4]), g_str_equal (argv[5], "rgba"));
  if (argc == 3 && g_str_equal (argv[1], "size"))
    return print_size (argv[2]);
  if (argc == 6 && g_str_equal (argv[1], "flat"))
    return write_flat_or_dot (argv[2], atoi (argv[3]), atoi (argv[4]), FALSE, atoi (argv[5]),
                              0, 0, 0, (const int[3]) { 0, 0, 0 });
  if (argc == 11 && g_str_equal (argv[1], "dot"))
    return write_flat_or_dot (argv[2], atoi (argv[3]), atoi (argv[4]), TRUE, 0, atoi (argv[5]),
                              atoi (argv[6]), atoi (argv[7]),
                              (const int[3]) { atoi (argv[8]), atoi (argv[9]), atoi (argv[10]) });
  if (argc == 6 && g_str_equal (argv[1], "drawing"))
    return write_drawing (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]));
  if (argc == 5 && g_str_equal (argv[1], "pixel"))
    return print_pixel (argv[2], atoi (argv[3]), atoi (argv[4]));
  fprintf (stderr, "usage: make-fixtures model OUT [rgb|colorize|colorize-hints] | png OUT W H rgb|rgba | size FILE\n");
  return 2;
}
