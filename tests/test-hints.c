/* test-hints.c - colour hints (issue 13): the hint plane, its reduction to
 * the network's size against a naive area-overlap loop, and the pipeline
 * with a model that takes hints in every size mode, through images and
 * through rows. */
#include <math.h>
#include <string.h>

#include "p2p.h"
#include "p2p-imgproc.h"
#include "p2p-task.h"
#include "tiny-model.h"

static P2pModel *
build_model (const TinyModelSpec *spec)
{
  g_autoptr(GBytes) bytes = tiny_model_build (spec);
  g_autoptr(GError) error = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return model;
}

static P2pModel *
hints_model (gboolean hints)
{
  /* norm none: the net is not blind to its input's offsets */
  TinyModelSpec spec = { "unet_32", 4, hints ? 4 : 1, 2, "colorize", 32, 7, "none" };

  return build_model (&spec);
}

/* The weights of hints_model (TRUE) with a no-hint gain: @percent
 * (unhinted_chroma_percent) and @target (unhinted_chroma_target; 0: none). */
static P2pModel *
gain_model (int percent, int target)
{
  TinyModelSpec spec = { "unet_32", 4, 4, 2, "colorize", 32, 7, "none", 0, percent, target };

  return build_model (&spec);
}

static P2pImage *
grey_photo (int w, int h)
{
  P2pImage *img = p2p_image_new (w, h, 3, NULL);

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < 3; c++)
        img->data[((gsize) y * w + x) * 3 + c] = (float) (0.5 + 0.4 * sin (x * 0.21 + y * 0.13));
  return img;
}

/* Transparent, with a few opaque dots of colour. */
static P2pImage *
dots (int w, int h, guint32 seed, int n)
{
  P2pImage *img = p2p_image_new (w, h, 4, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (int i = 0; i < n; i++)
    {
      int x0 = g_rand_int_range (rand, 0, w - 2), y0 = g_rand_int_range (rand, 0, h - 2);
      float r = (float) g_rand_double (rand), g = (float) g_rand_double (rand);
      float b = (float) g_rand_double (rand);

      for (int y = y0; y < y0 + 3; y++)
        for (int x = x0; x < x0 + 3; x++)
          {
            float *px = img->data + ((gsize) y * w + x) * 4;

            px[0] = r;
            px[1] = g;
            px[2] = b;
            px[3] = 1.0f;
          }
    }
  return img;
}

static void
test_hints_plane (void)
{
  /* red opaque, red at alpha 0.49 (no hint), at 0.5 (a hint), NaN colour,
   * out-of-range colour (clamped), transparent */
  float px[6][4] = {
    { 1, 0, 0, 1 }, { 1, 0, 0, 0.49f }, { 0, 0, 1, 0.5f }, { NAN, 0, 0, 1 },
    { 2, -1, 0, 1 }, { 0.3f, 0.6f, 0.9f, 0 },
  };
  P2pImage hints = { 6, 1, 4, &px[0][0] };
  float plane[6 * 5];
  double lab[3];

  for (int i = 0; i < 6 * 5; i++)
    plane[i] = -7.0f;
  p2p_task_hints_to_plane (&hints, plane, 5, 2);

  p2p_srgb_to_lab ((const double[3]) { 1, 0, 0 }, lab);
  g_assert_cmpfloat_with_epsilon (plane[2], lab[1], 1e-4);
  g_assert_cmpfloat_with_epsilon (plane[3], lab[2], 1e-4);
  g_assert_cmpfloat (plane[4], ==, 1.0f);
  g_assert_cmpfloat (plane[5 + 2], ==, 0.0f);
  g_assert_cmpfloat (plane[5 + 4], ==, 0.0f);
  p2p_srgb_to_lab ((const double[3]) { 0, 0, 1 }, lab);
  g_assert_cmpfloat_with_epsilon (plane[10 + 2], lab[1], 1e-4);
  g_assert_cmpfloat (plane[10 + 4], ==, 1.0f);
  g_assert_cmpfloat (plane[15 + 4], ==, 0.0f);
  g_assert_cmpfloat (plane[15 + 2], ==, 0.0f);
  g_assert_cmpfloat_with_epsilon (plane[20 + 2], plane[2], 1e-4);   /* (2,-1,0) -> red */
  g_assert_cmpfloat (plane[25 + 4], ==, 0.0f);
  /* the channels before @first are left alone */
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (plane[i * 5], ==, -7.0f);
}

/* Naive reference: output pixel X of @n covers [X len / n, (X + 1) len / n)
 * of the source; source pixel s covers [s, s + 1); every source hint whose
 * pixel overlaps the output pixel by a positive length counts, weighted by
 * its mask. */
static void
reference_reduce (const P2pImage *plane, int ic, int w, int h, float *out)
{
  const int pc = plane->channels, W = plane->width, H = plane->height;

  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      {
        double sa = 0, sb = 0, sm = 0;

        for (int sy = 0; sy < H; sy++)
          {
            if (!((gint64) sy * h < (gint64) (y + 1) * H && (gint64) (sy + 1) * h > (gint64) y * H))
              continue;
            for (int sx = 0; sx < W; sx++)
              {
                const float *p;

                if (!((gint64) sx * w < (gint64) (x + 1) * W && (gint64) (sx + 1) * w > (gint64) x * W))
                  continue;
                p = plane->data + ((gsize) sy * W + sx) * pc + ic;
                sa += p[0] * (double) p[2];
                sb += p[1] * (double) p[2];
                sm += p[2];
              }
          }
        out[((gsize) y * w + x) * 3 + 0] = sm > 0 ? (float) (sa / sm) : 0.0f;
        out[((gsize) y * w + x) * 3 + 1] = sm > 0 ? (float) (sb / sm) : 0.0f;
        out[((gsize) y * w + x) * 3 + 2] = sm > 0 ? 1.0f : 0.0f;
      }
}

static void
check_reduce (int W, int H, int w, int h, int n_dots)
{
  g_autoptr(P2pModel) model = hints_model (TRUE);
  g_autoptr(GError) error = NULL;
  const P2pTaskSpec *task = p2p_task_for_model (p2p_model_get_info (model), &error);
  g_autoptr(P2pImage) photo = grey_photo (W, H);
  g_autoptr(P2pImage) hints = dots (W, H, W * 31 + H, n_dots);
  g_autoptr(P2pImage) plane = NULL;
  g_autoptr(P2pImage) small = NULL;
  g_autoptr(P2pImage) l = NULL;
  g_autoptr(P2pImage) l_small = NULL;
  g_autofree float *want = g_new (float, (gsize) w * h * 3);
  int n_hints = 0;

  g_assert_no_error (error);
  g_assert_cmpint (task->hint_channels, ==, 3);
  plane = p2p_task_make_plane (task, photo, hints, &error);
  g_assert_no_error (error);
  g_assert_cmpint (plane->channels, ==, 4);
  small = p2p_task_resize_plane (task, plane, w, h, &error);
  g_assert_no_error (error);
  g_assert_cmpint (small->channels, ==, 4);

  /* L: bicubic, as without hints */
  l = p2p_image_lab_lightness (photo, &error);
  l_small = p2p_image_resize_bicubic (l, w, h, &error);
  g_assert_no_error (error);
  reference_reduce (plane, 1, w, h, want);
  for (gsize p = 0; p < (gsize) w * h; p++)
    {
      g_assert_cmpfloat (small->data[p * 4], ==, l_small->data[p]);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (small->data[p * 4 + 1 + c], want[p * 3 + c], 1e-3);
      n_hints += small->data[p * 4 + 3] > 0;
    }
  if (n_dots > 0)
    g_assert_cmpint (n_hints, >, 0);
}

static void
test_hints_reduce (void)
{
  check_reduce (97, 61, 32, 32, 6);     /* down, ragged boxes */
  check_reduce (300, 200, 30, 30, 3);   /* tenfold */
  check_reduce (20, 13, 64, 64, 4);     /* up: one source pixel each */
  check_reduce (40, 40, 32, 32, 0);     /* no hints at all */
}

/* A 3-pixel dot survives a tenfold reduction with its own colour. */
static void
test_hints_small_dot (void)
{
  g_autoptr(P2pModel) model = hints_model (TRUE);
  const P2pTaskSpec *task = p2p_task_for_model (p2p_model_get_info (model), NULL);
  g_autoptr(P2pImage) photo = grey_photo (300, 300);
  g_autoptr(P2pImage) hints = p2p_image_new (300, 300, 4, NULL);
  g_autoptr(P2pImage) plane = NULL;
  g_autoptr(P2pImage) small = NULL;
  g_autoptr(GError) error = NULL;
  double lab[3];
  int marked = 0;

  for (int x = 150; x < 153; x++)
    {
      float *px = hints->data + ((gsize) 151 * 300 + x) * 4;

      px[0] = 0.9f;
      px[1] = 0.1f;
      px[2] = 0.1f;
      px[3] = 1.0f;
    }
  plane = p2p_task_make_plane (task, photo, hints, &error);
  small = p2p_task_resize_plane (task, plane, 30, 30, &error);
  g_assert_no_error (error);
  p2p_srgb_to_lab ((const double[3]) { 0.9f, 0.1f, 0.1f }, lab);
  for (int p = 0; p < 30 * 30; p++)
    if (small->data[p * 4 + 3] > 0)
      {
        marked++;
        g_assert_cmpint (p / 30, ==, 15);
        g_assert_cmpfloat_with_epsilon (small->data[p * 4 + 1], lab[1], 1e-3);
        g_assert_cmpfloat_with_epsilon (small->data[p * 4 + 2], lab[2], 1e-3);
      }
  g_assert_cmpint (marked, ==, 1);
}

/* Rows API reader over two images. */
typedef struct {
  const P2pImage *in, *hints;
  P2pImage       *out;
} Rows;

static gboolean
read_rows (P2pInput input, int y, int n, float *rows, gpointer data, GError **error)
{
  const Rows *r = data;
  const P2pImage *img = input == P2P_INPUT_HINTS ? r->hints : r->in;
  const gsize len = (gsize) img->width * img->channels;

  g_assert_nonnull (img);
  memcpy (rows, img->data + (gsize) y * len, (gsize) n * len * sizeof (float));
  return TRUE;
}

static gboolean
write_rows (int y, int n, const float *rows, int channels, gpointer data, GError **error)
{
  P2pImage *out = ((Rows *) data)->out;
  const gsize len = (gsize) out->width * out->channels;

  g_assert_cmpint (channels, ==, out->channels);
  memcpy (out->data + (gsize) y * len, rows, (gsize) n * len * sizeof (float));
  return TRUE;
}

static gboolean
same (const P2pImage *a, const P2pImage *b)
{
  return a->width == b->width && a->height == b->height && a->channels == b->channels &&
         memcmp (a->data, b->data, (gsize) a->width * a->height * a->channels * sizeof (float)) == 0;
}

/* One run of @model through images, or through rows (the reader serving
 * @hints), at tile size 32 (tile mode), one thread. */
static P2pImage *
run_with (const P2pModel *model, const P2pImage *photo, const P2pImage *hints,
          P2pSizeMode mode, double chroma, gboolean rows)
{
  P2pPipelineOptions o;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pImage) out = p2p_image_new (photo->width, photo->height, 3, NULL);
  Rows r = { photo, hints, out };

  p2p_pipeline_options_init (&o);
  o.size_mode = mode;
  o.tile_size = 32;
  o.net.threads = 1;
  o.chroma = chroma;
  if (!rows)
    {
      P2pImage *res;

      o.hints = hints;
      res = p2p_pipeline_run (model, photo, &o, &error);
      g_assert_no_error (error);
      return res;
    }
  o.read_hints = hints != NULL;
  g_assert_true (p2p_pipeline_run_rows (model, photo->width, photo->height, 3, read_rows,
                                        write_rows, &r, &o, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&out);
}

static void
test_hints_pipeline (void)
{
  g_autoptr(P2pModel) model = hints_model (TRUE);
  g_autoptr(P2pImage) photo = grey_photo (83, 57);
  g_autoptr(P2pImage) hints = dots (83, 57, 5, 8);
  g_autoptr(P2pImage) empty = p2p_image_new (83, 57, 4, NULL);
  const P2pSizeMode modes[] = { P2P_SIZE_MODE_RESIZE, P2P_SIZE_MODE_WHOLE, P2P_SIZE_MODE_TILE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(P2pImage) plain = run_with (model, photo, NULL, modes[m], 1.0, FALSE);
      g_autoptr(P2pImage) with_empty = run_with (model, photo, empty, modes[m], 1.0, FALSE);
      g_autoptr(P2pImage) with_hints = run_with (model, photo, hints, modes[m], 1.0, FALSE);
      g_autoptr(P2pImage) rows_out = run_with (model, photo, hints, modes[m], 1.0, TRUE);

      /* transparent hints are no hints; real ones reach the net */
      g_assert_true (same (plain, with_empty));
      g_assert_false (same (plain, with_hints));
      /* rows with the reader serving the hints: the same result */
      g_assert_true (same (rows_out, with_hints));
      /* the lightness is the photo's, whatever the hints */
      for (gsize p = 0; p < (gsize) 83 * 57; p++)
        {
          double a[3] = { with_hints->data[p * 3], with_hints->data[p * 3 + 1], with_hints->data[p * 3 + 2] };
          double b[3] = { photo->data[p * 3], photo->data[p * 3 + 1], photo->data[p * 3 + 2] };
          double la[3], lb[3];

          p2p_srgb_to_lab (a, la);
          p2p_srgb_to_lab (b, lb);
          /* out-of-gamut colours are clipped, which can move L */
          g_assert_cmpfloat (fabs (la[0] - lb[0]), <, 12.0);
        }
    }
}

/* A model's unhinted_chroma_percent: a run without a hint (no hints, or
 * transparent ones; through images and through rows, in every size mode)
 * gives what the same weights without the key give at that colour
 * strength times the user's; a run with a hint is left as it is. */
static void
test_hints_unhinted_chroma (void)
{
  g_autoptr(P2pModel) gained = gain_model (150, 0);
  g_autoptr(P2pModel) plain = hints_model (TRUE);
  g_autoptr(P2pImage) photo = grey_photo (83, 57);
  g_autoptr(P2pImage) hints = dots (83, 57, 5, 8);
  g_autoptr(P2pImage) empty = p2p_image_new (83, 57, 4, NULL);
  const P2pSizeMode modes[] = { P2P_SIZE_MODE_RESIZE, P2P_SIZE_MODE_WHOLE, P2P_SIZE_MODE_TILE };

  g_assert_cmpint (p2p_model_get_info (gained)->unhinted_chroma_percent, ==, 150);
  g_assert_cmpint (p2p_model_get_info (plain)->unhinted_chroma_percent, ==, 100);
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (int rows = 0; rows <= 1; rows++)
      {
        g_autoptr(P2pImage) none = run_with (gained, photo, NULL, modes[m], 1.0, rows);
        g_autoptr(P2pImage) blank = run_with (gained, photo, empty, modes[m], 1.0, rows);
        g_autoptr(P2pImage) hinted = run_with (gained, photo, hints, modes[m], 1.0, rows);
        g_autoptr(P2pImage) halved = run_with (gained, photo, NULL, modes[m], 0.5, rows);
        g_autoptr(P2pImage) plain_1 = run_with (plain, photo, NULL, modes[m], 1.0, rows);
        g_autoptr(P2pImage) plain_15 = run_with (plain, photo, NULL, modes[m], 1.5, rows);
        g_autoptr(P2pImage) plain_075 = run_with (plain, photo, NULL, modes[m], 0.75, rows);
        g_autoptr(P2pImage) plain_hinted = run_with (plain, photo, hints, modes[m], 1.0, rows);

        g_assert_true (same (none, plain_15));
        g_assert_true (same (blank, plain_15));
        g_assert_true (same (halved, plain_075));
        g_assert_true (same (hinted, plain_hinted));
        /* and the gain does change the picture */
        g_assert_false (same (none, plain_1));
      }
}

/* Mean Lab chroma of an sRGB image (the test's own measure, from the
 * finished colours rather than the net's output). */
static double
rgb_mean_chroma (const P2pImage *img)
{
  const gsize n = (gsize) img->width * img->height;
  double sum = 0.0;

  for (gsize p = 0; p < n; p++)
    {
      const float *px = img->data + p * img->channels;
      double lab[3];

      p2p_srgb_to_lab ((const double[3]) { px[0], px[1], px[2] }, lab);
      sum += hypot (lab[1], lab[2]);
    }
  return sum / n;
}

/* p2p_task_mean_chroma against a plain sum; p2p_task_unhinted_gain's rule. */
static void
test_hints_gain_rule (void)
{
  float px[3 * 2 * 2] = { 3, 4, -6, 8, 0, 0,
                          5, 12, -1, 0, 0, -2 };
  P2pImage ab = { 3, 2, 2, px };

  g_assert_cmpfloat_with_epsilon (p2p_task_mean_chroma (&ab, 0, 0, 3, 2),
                                  (5.0 + 10 + 0 + 13 + 1 + 2) / 6, 1e-9);
  g_assert_cmpfloat_with_epsilon (p2p_task_mean_chroma (&ab, 1, 0, 2, 2), (10.0 + 0 + 1 + 2) / 4,
                                  1e-9);
  g_assert_cmpfloat_with_epsilon (p2p_task_mean_chroma (&ab, 0, 1, 1, 1), 13.0, 1e-9);
  g_assert_cmpfloat (p2p_task_mean_chroma (&ab, 2, 1, 0, 1), ==, 0.0);
  /* target / mean, between 1 and the cap */
  g_assert_cmpfloat_with_epsilon (p2p_task_unhinted_gain (12.0, 16.0, 1.6), 16.0 / 12.0, 1e-12);
  g_assert_cmpfloat (p2p_task_unhinted_gain (20.0, 16.0, 1.6), ==, 1.0);
  g_assert_cmpfloat (p2p_task_unhinted_gain (16.0, 16.0, 1.6), ==, 1.0);
  g_assert_cmpfloat (p2p_task_unhinted_gain (5.0, 16.0, 1.6), ==, 1.6);
  g_assert_cmpfloat (p2p_task_unhinted_gain (10.0, 16.0, 1.6), ==, 1.6);
  g_assert_cmpfloat (p2p_task_unhinted_gain (0.0, 16.0, 1.6), ==, 1.6);
  g_assert_cmpfloat (p2p_task_unhinted_gain (NAN, 16.0, 1.6), ==, 1.6);
}

/* A model's unhinted_chroma_target: without a hint the gain is per image,
 * what brings the prediction's mean chroma to the target within [1, the
 * cap]; with a hint nothing changes.  Every size mode, images and rows. */
static void
test_hints_unhinted_target (void)
{
  g_autoptr(P2pModel) plain = hints_model (TRUE);
  g_autoptr(P2pImage) photo = grey_photo (83, 57);
  g_autoptr(P2pImage) hints = dots (83, 57, 5, 8);
  const P2pSizeMode modes[] = { P2P_SIZE_MODE_RESIZE, P2P_SIZE_MODE_WHOLE, P2P_SIZE_MODE_TILE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (int rows = 0; rows <= 1; rows++)
      {
        g_autoptr(P2pImage) plain_1 = run_with (plain, photo, NULL, modes[m], 1.0, rows);
        g_autoptr(P2pImage) plain_2 = run_with (plain, photo, NULL, modes[m], 2.0, rows);
        g_autoptr(P2pImage) plain_hinted = run_with (plain, photo, hints, modes[m], 1.0, rows);
        const double c = rgb_mean_chroma (plain_1);
        /* a target 1.3 times the result's chroma, a cap of 2 */
        const int target = (int) lround (1.3 * c);
        g_autoptr(P2pModel) adaptive = NULL;
        g_autoptr(P2pImage) none = NULL, hinted = NULL;

        g_assert_cmpfloat (c, >, 4.0);
        g_assert_cmpint (target, <=, P2P_UNHINTED_CHROMA_TARGET_MAX);
        adaptive = gain_model (200, target);
        g_assert_cmpint (p2p_model_get_info (adaptive)->unhinted_chroma_target, ==, target);
        none = run_with (adaptive, photo, NULL, modes[m], 1.0, rows);
        hinted = run_with (adaptive, photo, hints, modes[m], 1.0, rows);
        /* Resize mode: the gain is measured on the finished-size prediction,
         * whose colours stay in gamut here, so the result sits at the target.
         * Whole and tile mode: sRGB clips the tiny model's strongest colours
         * (and tile mode measures a downscaled copy): between gain 1 and 2. */
        if (modes[m] == P2P_SIZE_MODE_RESIZE)
          g_assert_cmpfloat (fabs (rgb_mean_chroma (none) / target - 1.0), <, 0.03);
        g_assert_cmpfloat (rgb_mean_chroma (none), >, 1.05 * c);
        g_assert_cmpfloat (rgb_mean_chroma (none), <, 0.95 * rgb_mean_chroma (plain_2));
        g_assert_true (same (hinted, plain_hinted));
      }

  /* A target the prediction already reaches: gain 1; one far above it: the cap. */
  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    {
      g_autoptr(P2pModel) low_model = gain_model (200, 1);
      g_autoptr(P2pModel) high_model = gain_model (110, 100);
      g_autoptr(P2pImage) at_low = run_with (low_model, photo, NULL, modes[m], 1.0, FALSE);
      g_autoptr(P2pImage) at_high = run_with (high_model, photo, NULL, modes[m], 0.5, TRUE);
      g_autoptr(P2pImage) plain_1 = run_with (plain, photo, NULL, modes[m], 1.0, FALSE);
      g_autoptr(P2pImage) plain_055 = run_with (plain, photo, NULL, modes[m], 0.55, TRUE);

      g_assert_true (same (at_low, plain_1));
      g_assert_true (same (at_high, plain_055));
    }

  /* A model file that declares a target for an RGB task runs as without it
   * (the tests make criticals fatal). */
  {
    TinyModelSpec rgb = { "unet_32", 4, 3, 3, "generic", 32, 7, "none", 0, 150, 16 };
    TinyModelSpec rgb_plain = { "unet_32", 4, 3, 3, "generic", 32, 7, "none" };
    g_autoptr(P2pModel) rgb_model = build_model (&rgb);
    g_autoptr(P2pModel) rgb_plain_model = build_model (&rgb_plain);

    for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
      {
        g_autoptr(P2pImage) a = run_with (rgb_model, photo, NULL, modes[m], 1.0, m == 2);
        g_autoptr(P2pImage) b = run_with (rgb_plain_model, photo, NULL, modes[m], 1.0, m == 2);

        g_assert_true (same (a, b));
      }
  }
}

static void
test_hints_errors (void)
{
  g_autoptr(P2pModel) plain_model = hints_model (FALSE);
  g_autoptr(P2pModel) model = hints_model (TRUE);
  g_autoptr(P2pImage) photo = grey_photo (40, 30);
  g_autoptr(P2pImage) hints = dots (40, 30, 1, 2);
  g_autoptr(P2pImage) small = dots (39, 30, 1, 2);
  g_autoptr(P2pImage) rgb = p2p_image_new (40, 30, 3, NULL);
  P2pPipelineOptions o;
  GError *error = NULL;

  p2p_pipeline_options_init (&o);
  o.hints = hints;
  g_assert_null (p2p_pipeline_run (plain_model, photo, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  o.hints = small;
  g_assert_null (p2p_pipeline_run (model, photo, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  o.hints = rgb;
  g_assert_null (p2p_pipeline_run (model, photo, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  /* the rows API takes hints only through its reader */
  o.hints = hints;
  g_assert_false (p2p_pipeline_run_rows (model, 40, 30, 3, read_rows, write_rows, NULL, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  o.hints = NULL;
  o.read_hints = TRUE;
  g_assert_null (p2p_pipeline_run (model, photo, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hints/plane", test_hints_plane);
  g_test_add_func ("/hints/reduce", test_hints_reduce);
  g_test_add_func ("/hints/small-dot", test_hints_small_dot);
  g_test_add_func ("/hints/pipeline", test_hints_pipeline);
  g_test_add_func ("/hints/errors", test_hints_errors);
  g_test_add_func ("/hints/unhinted-chroma", test_hints_unhinted_chroma);
  g_test_add_func ("/hints/gain-rule", test_hints_gain_rule);
  g_test_add_func ("/hints/unhinted-target", test_hints_unhinted_target);
  return g_test_run ();
}
