/* test-tile.c - the tiled size mode: correctness and seams.
 *
 * 1. An image that is exactly one tile gives the whole-mode result.
 * 2. Seam visibility: the mean gradient energy across the columns and rows
 *    where tiles begin or end, relative to the mean over the whole image.
 *    Naive tiling (each tile run on its own with its own statistics, pasted
 *    side by side) shows its seams in this measure; the blended tiles with
 *    shared statistics must stay close to 1.  Measured on a tiny random net
 *    and, more sharply, on the bundled trained Sketch to Photo model.
 * 3. Colorize and RGB, odd sizes, thin images, cancellation.
 */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"
#include "tiny-model.h"

static P2pModel *
model_new (const char *arch, int in_nc, int out_nc, const char *task)
{
  TinyModelSpec spec = { arch, 4, in_nc, out_nc, task, 32, 5, NULL };
  g_autoptr(GBytes) bytes = tiny_model_build (&spec);
  g_autoptr(GError) error = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return model;
}

/* Smooth gradients, discs and a little noise: structure on every scale. */
static P2pImage *
scene (int w, int h, int ch, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  P2pImage *im = p2p_image_new (w, h, ch, NULL);
  double cx[6], cy[6], r[6], v[6];

  for (int i = 0; i < 6; i++)
    {
      cx[i] = g_rand_double (rand) * w;
      cy[i] = g_rand_double (rand) * h;
      r[i] = (0.1 + 0.2 * g_rand_double (rand)) * MIN (w, h);
      v[i] = g_rand_double (rand);
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        {
          double val = 0.3 + 0.4 * (c == 0 ? (double) x / w : (double) y / h);
          for (int i = 0; i < 6; i++)
            if ((x - cx[i]) * (x - cx[i]) + (y - cy[i]) * (y - cy[i]) < r[i] * r[i])
              val = v[i];
          val += 0.02 * (g_rand_double (rand) - 0.5);
          im->data[((gsize) y * w + x) * ch + c] = (float) CLAMP (val, 0.0, 1.0);
        }
  return im;
}

static P2pImage *
run (const P2pModel *model, const P2pImage *in, P2pSizeMode mode, int tile, int overlap)
{
  g_autoptr(GError) error = NULL;
  P2pPipelineOptions o;
  P2pImage *out;

  p2p_pipeline_options_init (&o);
  o.size_mode = mode;
  o.tile_size = tile;
  o.tile_overlap = overlap;
  o.net.threads = 1;
  out = p2p_pipeline_run (model, in, &o, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_cmpint (out->width, ==, in->width);
  g_assert_cmpint (out->height, ==, in->height);
  return out;
}

static double
max_abs_diff (const P2pImage *a, const P2pImage *b)
{
  double m = 0;
  g_assert_cmpint (a->channels, ==, b->channels);
  for (gsize i = 0; i < (gsize) a->width * a->height * a->channels; i++)
    m = MAX (m, fabs ((double) a->data[i] - b->data[i]));
  return m;
}

static void
test_one_tile_equals_whole (void)
{
  const char *archs[] = { "unet_32", "resnet_2blocks", "unet_rc_32" };
  for (guint i = 0; i < G_N_ELEMENTS (archs); i++)
    {
      g_autoptr(P2pModel) model = model_new (archs[i], 3, 3, "sketch-to-photo");
      g_autoptr(P2pImage) in = scene (64, 64, 3, 1);
      g_autoptr(P2pImage) whole = run (model, in, P2P_SIZE_MODE_WHOLE, 0, 0);
      g_autoptr(P2pImage) tiled = run (model, in, P2P_SIZE_MODE_TILE, 64, 16);
      double d = max_abs_diff (whole, tiled);

      g_test_message ("%s: one tile vs whole: max difference %g", archs[i], d);
      g_assert_cmpfloat (d, <=, 1e-6);
    }
}

/* Step energy: the mean squared difference between the means of the K
 * columns right of x and the K columns left of it (rows when @rows), over
 * every x or only at @cuts.  Averaging K pixels first hides the pixel-scale
 * texture a random network makes (ConvT checkerboards), leaving the steps
 * a seam makes. */
#define K 4
static double
step_energy (const P2pImage *im, gboolean rows, const int *cuts, int n_cuts)
{
  const int ch = im->channels, len = rows ? im->height : im->width;
  const int across = rows ? im->width : im->height;
  double sum = 0;
  gsize count = 0;

  for (int k = 0; k < (cuts ? n_cuts : len); k++)
    {
      const int p = cuts ? cuts[k] : k;
      if (p < K || p + K > len)
        continue;
      for (int q = 0; q < across; q++)
        for (int c = 0; c < ch; c++)
          {
            double d = 0;
            for (int j = 0; j < K; j++)
              {
                const int a = p + j, b = p - 1 - j;
                d += im->data[((gsize) (rows ? a : q) * im->width + (rows ? q : a)) * ch + c] -
                     im->data[((gsize) (rows ? b : q) * im->width + (rows ? q : b)) * ch + c];
              }
            d /= K;
            sum += d * d;
            count++;
          }
    }
  return sum / MAX (count, 1);
}

/* Naive tiling for comparison: each tile run alone (own statistics) in
 * whole mode, pasted without blending, at the same tile starts. */
static P2pImage *
naive_tiles (const P2pModel *model, const P2pImage *in, int tile, const int *xs, int nx,
             const int *ys, int ny)
{
  P2pImage *out = p2p_image_new (in->width, in->height, 3, NULL);
  for (int j = 0; j < ny; j++)
    for (int i = 0; i < nx; i++)
      {
        const int x1 = i + 1 < nx ? xs[i + 1] : in->width;
        const int y1 = j + 1 < ny ? ys[j + 1] : in->height;
        g_autoptr(P2pImage) t = p2p_image_crop (in, xs[i], ys[j], tile, tile, NULL);
        g_autoptr(P2pImage) r = run (model, t, P2P_SIZE_MODE_WHOLE, 0, 0);
        for (int y = ys[j]; y < y1; y++)
          memcpy (out->data + ((gsize) y * in->width + xs[i]) * 3,
                  r->data + ((gsize) (y - ys[j]) * tile) * 3, sizeof (float) * 3 * (x1 - xs[i]));
      }
  return out;
}

/* @data: the architecture (unet_32, unet_rc_32). */
static void
test_seams (gconstpointer data)
{
  /* 208 = 4 tiles of 64 overlapping by 16 (starts 0, 48, 96, 144), 160 = 3. */
  const int W = 208, H = 160, tile = 64, overlap = 16;
  g_autoptr(P2pModel) model = model_new (data, 3, 3, "sketch-to-photo");
  g_autoptr(P2pImage) in = scene (W, H, 3, 7);
  g_autoptr(P2pImage) tiled = run (model, in, P2P_SIZE_MODE_TILE, tile, overlap);
  const int xs[] = { 0, 48, 96, 144 }, ys[] = { 0, 48, 96 };
  /* The cuts of the tiled run: where each tile starts and ends. */
  const int xcuts[] = { 48, 96, 144, 64, 112, 160 }, ycuts[] = { 48, 96, 64, 112 };
  const int naive_xcuts[] = { 48, 96, 144 }, naive_ycuts[] = { 48, 96 };
  g_autoptr(P2pImage) naive = naive_tiles (model, in, tile, xs, 4, ys, 3);
  double all, seam, ratio, naive_ratio;

  all = step_energy (tiled, FALSE, NULL, 0) + step_energy (tiled, TRUE, NULL, 0);
  seam = step_energy (tiled, FALSE, xcuts, 6) + step_energy (tiled, TRUE, ycuts, 4);
  ratio = seam / all;
  naive_ratio = (step_energy (naive, FALSE, naive_xcuts, 3) +
                 step_energy (naive, TRUE, naive_ycuts, 2)) /
                (step_energy (naive, FALSE, NULL, 0) + step_energy (naive, TRUE, NULL, 0));
  g_test_message ("seam step energy / mean: tiled %.3f, naive tiles %.3f", ratio, naive_ratio);

  /* The measure sees naive seams ... */
  g_assert_cmpfloat (naive_ratio, >, 1.3);
  /* ... and blended tiles with shared statistics have none to speak of. */
  g_assert_cmpfloat (ratio, <, 1.15);
}

/* A line drawing made of curves: a wavy horizon, circles and straight
 * strokes, 2.4 px wide, black on white (what Sketch to Photo expects). */
static P2pImage *
line_drawing (int w, int h)
{
  static const double circles[][3] = { { 90, 80, 40 }, { 300, 230, 55 }, { 220, 60, 25 }, { 60, 250, 30 } };
  static const double strokes[][4] = { { 10, 310, 200, 180 }, { 240, 300, 400, 170 }, { 330, 20, 400, 120 } };
  P2pImage *im = p2p_image_new (w, h, 3, NULL);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        gboolean ink = fabs (y - (150 + 25 * sin (x / 37.0))) < 1.2;
        for (guint i = 0; i < G_N_ELEMENTS (circles); i++)
          ink |= fabs (hypot (x - circles[i][0], y - circles[i][1]) - circles[i][2]) < 1.2;
        for (guint i = 0; i < G_N_ELEMENTS (strokes); i++)
          {
            const double dx = strokes[i][2] - strokes[i][0], dy = strokes[i][3] - strokes[i][1];
            const double len2 = dx * dx + dy * dy;
            const double t = ((x - strokes[i][0]) * dx + (y - strokes[i][1]) * dy) / len2;
            const double d = fabs ((x - strokes[i][0]) * dy - (y - strokes[i][1]) * dx) / sqrt (len2);
            ink |= d < 1.2 && t >= 0 && t <= 1;
          }
        for (int c = 0; c < 3; c++)
          im->data[((gsize) y * w + x) * 3 + c] = ink ? 0.0f : 1.0f;
      }
  return im;
}

/* The seam measure on a random tiny net is weak (its output is mostly
 * pixel-scale texture: unblended tiles measure 1.04 there).  The bundled,
 * trained Sketch to Photo model makes smooth, structured images where a
 * seam stands out: measured when this test was written, tiled 1.18 against
 * 1.20 for the whole-image run at the same columns and rows (the picture's
 * own steps there), unblended tiles (weights all 1) 2.41, naive tiles with
 * their own statistics far above.  The whole-image figure is the picture's
 * own and moves with the model (1.12 with step 21,733, 0.85 with the
 * averaged model of 2026-12-03, whose tiled run measures 1.01): where the
 * picture happens to be smoother than average at the cut columns, the bound
 * is the mean step itself (ratio 1), since a seam is a step well above the
 * mean (2.41 unblended).  Skipped when the model file is absent and under
 * valgrind. */
static void
test_seams_trained_model (void)
{
  /* 416 = 4 tiles of 128 overlapping by 32 (starts 0, 96, 192, 288), 320 = 3. */
  const int W = 416, H = 320, tile = 128, overlap = 32;
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "..", "models",
                                                 "sketch-to-photo.safetensors", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(P2pImage) in = line_drawing (W, H);
  g_autoptr(P2pImage) tiled = NULL;
  g_autoptr(P2pImage) whole = NULL;
  g_autoptr(P2pImage) naive = NULL;
  const int xs[] = { 0, 96, 192, 288 }, ys[] = { 0, 96, 192 };
  const int xcuts[] = { 96, 192, 288, 128, 224, 320 }, ycuts[] = { 96, 192, 128, 224 };
  const int naive_xcuts[] = { 96, 192, 288 }, naive_ycuts[] = { 96, 192 };
  double ratio, whole_ratio, naive_ratio;

  if (!g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("models/sketch-to-photo.safetensors is not there");
      return;
    }
  /* 25 passes of the real model: 20 minutes under memcheck, which the
   * tiny-model tile tests above already take through the same code. */
  if (g_getenv ("P2P_UNDER_VALGRIND"))
    {
      g_test_skip ("numbers only: left out under valgrind");
      return;
    }
  model = p2p_model_load (path, &error);
  g_assert_no_error (error);
  tiled = run (model, in, P2P_SIZE_MODE_TILE, tile, overlap);
  whole = run (model, in, P2P_SIZE_MODE_WHOLE, 0, 0);
  naive = naive_tiles (model, in, tile, xs, 4, ys, 3);

#define RATIO(im, xc, nxc, yc, nyc) \
  ((step_energy (im, FALSE, xc, nxc) + step_energy (im, TRUE, yc, nyc)) / \
   (step_energy (im, FALSE, NULL, 0) + step_energy (im, TRUE, NULL, 0)))
  ratio = RATIO (tiled, xcuts, 6, ycuts, 4);
  whole_ratio = RATIO (whole, xcuts, 6, ycuts, 4);
  naive_ratio = RATIO (naive, naive_xcuts, 3, naive_ycuts, 2);
#undef RATIO
  g_test_message ("trained model, seam step energy / mean: tiled %.3f, whole image at the "
                  "same cuts %.3f, naive tiles %.3f", ratio, whole_ratio, naive_ratio);

  g_assert_cmpfloat (naive_ratio, >, 2.0);
  g_assert_cmpfloat (ratio, <, 1.5);
  /* no more step at the tile borders than the picture itself has there, or
   * than it has on average anywhere */
  g_assert_cmpfloat (ratio, <, MAX (whole_ratio, 1.0) * 1.15);
}

static double
mean_abs_diff (const P2pImage *a, const P2pImage *b)
{
  const gsize n = (gsize) a->width * a->height * a->channels;
  double s = 0;
  for (gsize i = 0; i < n; i++)
    s += fabs ((double) a->data[i] - b->data[i]);
  return s / n;
}

/* Where the statistics image is the image itself (at most two tiles a
 * side), the tiles are normalised exactly as the whole-image run, and the
 * tiled result differs from it only through the tiles' borders. */
static void
test_tiles_agree_with_whole (gconstpointer data)
{
  g_autoptr(P2pModel) model = model_new (data, 3, 3, "sketch-to-photo");
  g_autoptr(P2pImage) in = scene (224, 224, 3, 11);
  g_autoptr(P2pImage) whole = run (model, in, P2P_SIZE_MODE_WHOLE, 0, 0);
  g_autoptr(P2pImage) tiled = run (model, in, P2P_SIZE_MODE_TILE, 128, 32);
  const int starts[] = { 0, 96 };
  g_autoptr(P2pImage) naive = naive_tiles (model, in, 128, starts, 2, starts, 2);
  double d = mean_abs_diff (whole, tiled), dn = mean_abs_diff (whole, naive);

  g_test_message ("%s: tiled vs whole: mean difference %.4f (naive tiles, own statistics: "
                  "%.4f)", (const char *) data, d, dn);
  /* unet_32: per-tile statistics gave 0.06.  The resize-conv decoder's
   * zero-padded 3x3 convolutions at every level see more of the tile
   * border, so both differences are larger there: the shared statistics
   * must still take away at least half of the naive tiles' difference. */
  if (g_strcmp0 (data, "unet_32") == 0)
    g_assert_cmpfloat (d, <, 0.03);
  g_assert_cmpfloat (d, <, 0.5 * dn);
}

static void
test_colorize_and_shapes (void)
{
  g_autoptr(P2pModel) colorize = model_new ("unet_32", 1, 2, "colorize");
  g_autoptr(P2pModel) rgb = model_new ("resnet_1blocks", 3, 3, "generic");
  const int sizes[][2] = { { 1, 1 }, { 1, 300 }, { 300, 1 }, { 97, 131 }, { 200, 40 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr(P2pImage) in = scene (sizes[s][0], sizes[s][1], 4, 3);
      g_autoptr(P2pImage) a = run (colorize, in, P2P_SIZE_MODE_TILE, 64, 16);
      g_autoptr(P2pImage) b = run (rgb, in, P2P_SIZE_MODE_TILE, 32, 8);

      g_assert_cmpint (a->channels, ==, 4);
      g_assert_cmpint (b->channels, ==, 4);
      for (gsize i = 0; i < (gsize) in->width * in->height; i++)
        {
          g_assert_cmpfloat (a->data[i * 4 + 3], ==, in->data[i * 4 + 3]);  /* alpha carried */
          g_assert_cmpfloat (b->data[i * 4 + 3], ==, in->data[i * 4 + 3]);
          for (int c = 0; c < 3; c++)
            {
              g_assert_true (a->data[i * 4 + c] >= 0.0f && a->data[i * 4 + c] <= 1.0f);
              g_assert_true (b->data[i * 4 + c] >= 0.0f && b->data[i * 4 + c] <= 1.0f);
            }
        }
    }
}

static gboolean
cancel_after (double fraction, gpointer data)
{
  int *calls = data;
  return --(*calls) > 0;
}

static void
test_cancel (void)
{
  g_autoptr(P2pModel) model = model_new ("unet_32", 3, 3, "generic");
  g_autoptr(P2pImage) in = scene (150, 100, 3, 2);
  P2pPipelineOptions o;
  int calls = 30;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pImage) out = NULL;

  p2p_pipeline_options_init (&o);
  o.size_mode = P2P_SIZE_MODE_TILE;
  o.tile_size = 32;
  o.net.threads = 1;
  o.net.progress = cancel_after;
  o.net.progress_data = &calls;
  out = p2p_pipeline_run (model, in, &o, &error);
  g_assert_null (out);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_CANCELLED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tile/one-tile-equals-whole", test_one_tile_equals_whole);
  g_test_add_data_func ("/tile/seams", "unet_32", test_seams);
  g_test_add_data_func ("/tile/seams/unet-rc", "unet_rc_32", test_seams);
  g_test_add_func ("/tile/seams-trained-model", test_seams_trained_model);
  g_test_add_data_func ("/tile/agrees-with-whole", "unet_32", test_tiles_agree_with_whole);
  g_test_add_data_func ("/tile/agrees-with-whole/unet-rc", "unet_rc_32", test_tiles_agree_with_whole);
  g_test_add_func ("/tile/colorize-and-shapes", test_colorize_and_shapes);
  g_test_add_func ("/tile/cancel", test_cancel);
  return g_test_run ();
}
