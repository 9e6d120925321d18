/* test-pipeline.c - p2p_pipeline_run() behaviour on tiny random models.
 *
 * What the network computes is covered by the golden tests; here the
 * models are random (tests/tiny-model.c) and the checks are about the
 * pipeline: sizes, channels, alpha, grey input, the colorize recombination,
 * agreement with a hand-assembled run, cancellation and input validation.
 */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"
#include "tiny-model.h"

static P2pModel *
tiny_model_norm (const char *arch, int in_nc, int out_nc, const char *task, int native,
                 const char *norm)
{
  TinyModelSpec spec = { arch, 2, in_nc, out_nc, task, native, 17, norm };
  g_autoptr(GBytes) bytes = tiny_model_build (&spec);
  g_autoptr(GError) error = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (model);
  return model;
}

static P2pModel *
tiny_model (const char *arch, int in_nc, int out_nc, const char *task, int native)
{
  return tiny_model_norm (arch, in_nc, out_nc, task, native, NULL);
}

static P2pImage *
random_image (GRand *rand, int w, int h, int ch)
{
  P2pImage *im = p2p_image_new (w, h, ch, NULL);

  g_assert_nonnull (im);
  for (gsize i = 0; i < (gsize) w * h * ch; i++)
    im->data[i] = (float) g_rand_double (rand);
  return im;
}

static void
options_init (P2pPipelineOptions *o, P2pSizeMode mode)
{
  p2p_pipeline_options_init (o);
  o->size_mode = mode;
  /* One thread: the test machine is shared, and results must not depend
   * on it anyway. */
  o->net.threads = 1;
}

static P2pImage *
run_ok (const P2pModel *model, const P2pImage *in, const P2pPipelineOptions *o)
{
  g_autoptr(GError) error = NULL;
  P2pImage *out = p2p_pipeline_run (model, in, o, &error);

  g_assert_no_error (error);
  g_assert_nonnull (out);
  return out;
}

static void
assert_valid_output (const P2pImage *in, const P2pImage *out)
{
  gsize n = (gsize) out->width * out->height * out->channels;

  g_assert_cmpint (out->width, ==, in->width);
  g_assert_cmpint (out->height, ==, in->height);
  g_assert_cmpint (out->channels, ==, p2p_image_has_alpha (in) ? 4 : 3);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (isfinite (out->data[i]));
      g_assert_cmpfloat (out->data[i], >=, 0.0f);
      g_assert_cmpfloat (out->data[i], <=, 1.0f);
    }
}

static const int odd_sizes[][2] = {
  { 1, 1 }, { 1, 9 }, { 9, 1 }, { 5, 3 }, { 13, 9 }, { 16, 16 }, { 33, 2 }, { 40, 24 },
};

static void
test_sizes (gconstpointer data)
{
  const char *arch = data;
  g_autoptr(P2pModel) model = tiny_model (arch, 3, 3, "sketch-to-photo", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);

  for (guint s = 0; s < G_N_ELEMENTS (odd_sizes); s++)
    for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_TILE; mode++)
      {
        g_autoptr(P2pImage) in = random_image (rand, odd_sizes[s][0], odd_sizes[s][1], 3);
        g_autoptr(P2pImage) out = NULL;
        P2pPipelineOptions o;

        options_init (&o, mode);
        out = run_ok (model, in, &o);
        assert_valid_output (in, out);
      }
}

/* At a size the net takes as is, both size modes equal the network's own
 * output mapped by (y + 1) / 2. */
static void
test_matches_net (void)
{
  /* No norm: an instance-normalised net would not see a wrong input
   * mapping (see tiny-model.h). */
  g_autoptr(P2pModel) model = tiny_model_norm ("resnet_1blocks", 3, 3, "generic", 16, "none");
  g_autoptr(GRand) rand = g_rand_new_with_seed (2);
  g_autoptr(P2pImage) in = random_image (rand, 16, 16, 3);
  g_autoptr(P2pTensor) t = p2p_tensor_new (3, 16, 16, NULL);
  g_autoptr(P2pTensor) y = NULL;
  P2pPipelineOptions o;

  for (int p = 0; p < 256; p++)
    for (int c = 0; c < 3; c++)
      t->data[c * 256 + p] = in->data[p * 3 + c] * 2.0f - 1.0f;
  options_init (&o, P2P_SIZE_MODE_WHOLE);
  y = p2p_net_run (model, &o.net, t, NULL);
  g_assert_nonnull (y);

  for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_WHOLE; mode++)
    {
      g_autoptr(P2pImage) out = NULL;

      o.size_mode = mode;
      out = run_ok (model, in, &o);
      for (int p = 0; p < 256; p++)
        for (int c = 0; c < 3; c++)
          {
            float v = CLAMP ((y->data[c * 256 + p] + 1.0f) / 2.0f, 0.0f, 1.0f);

            g_assert_cmpfloat (out->data[p * 3 + c], ==, v);
          }
    }
}

/* Whole mode on a size the net cannot take: the result is the crop of a
 * run on the reflect-padded image. */
static void
test_whole_is_padded_run (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autoptr(P2pImage) in = random_image (rand, 13, 10, 3);
  /* 13 -> 16 (pad 1 left, 2 right), 10 -> 12 (1 top, 1 bottom). */
  g_autoptr(P2pImage) padded = p2p_image_pad_reflect (in, 1, 1, 16, 12, NULL);
  g_autoptr(P2pImage) direct = NULL;
  g_autoptr(P2pImage) out = NULL;
  P2pPipelineOptions o;

  options_init (&o, P2P_SIZE_MODE_WHOLE);
  direct = run_ok (model, padded, &o);
  out = run_ok (model, in, &o);
  for (int y = 0; y < 10; y++)
    for (int x = 0; x < 13; x++)
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat (out->data[(y * 13 + x) * 3 + c], ==,
                           direct->data[((y + 1) * 16 + x + 1) * 3 + c]);
}

/* Resize mode: Pillow-style resize to the native size, run, resize back. */
static void
test_resize_is_resampled_run (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (4);
  g_autoptr(P2pImage) in = random_image (rand, 37, 11, 3);
  g_autoptr(P2pImage) small = p2p_image_resize_bicubic_clamped (in, 16, 16, NULL);
  g_autoptr(P2pImage) direct = NULL;
  g_autoptr(P2pImage) back = NULL;
  g_autoptr(P2pImage) out = NULL;
  P2pPipelineOptions o;

  options_init (&o, P2P_SIZE_MODE_RESIZE);
  direct = run_ok (model, small, &o);
  back = p2p_image_resize_bicubic_clamped (direct, 37, 11, NULL);
  out = run_ok (model, in, &o);
  g_assert_cmpmem (out->data, 37 * 11 * 3 * sizeof (float), back->data, 37 * 11 * 3 * sizeof (float));

  /* A chosen network size: the same, at 24 x 24. */
  {
    g_autoptr(P2pImage) small24 = p2p_image_resize_bicubic_clamped (in, 24, 24, NULL);
    g_autoptr(P2pImage) direct24 = NULL, back24 = NULL, out24 = NULL;

    o.net_size = 24;    /* also makes the direct run at 24 x 24 a plain run */
    direct24 = run_ok (model, small24, &o);
    back24 = p2p_image_resize_bicubic_clamped (direct24, 37, 11, NULL);
    out24 = run_ok (model, in, &o);
    g_assert_cmpmem (out24->data, 37 * 11 * 3 * sizeof (float), back24->data, 37 * 11 * 3 * sizeof (float));
  }
}

/* Resize mode at the default network size: a model declaring
 * resize_max_size runs a large image at its longer side (down to the net's
 * multiple, up to that size), exactly as if that size had been chosen; an
 * image no larger than the native size, and any image of a model without
 * the key, at the native size. */
static void
test_resize_side (void)
{
  TinyModelSpec spec = { "unet_32", 2, 3, 3, "generic", 32, 17, "none", 96 };
  g_autoptr(GBytes) bytes = tiny_model_build (&spec);
  g_autoptr(P2pModel) model = p2p_model_new_from_bytes (bytes, NULL);
  g_autoptr(P2pModel) plain = tiny_model_norm ("unet_32", 3, 3, "generic", 32, "none");
  static const int cases[][3] = {
    /* width, height, side */
    { 1, 1, 32 }, { 32, 32, 32 }, { 63, 20, 32 }, { 50, 63, 32 }, { 64, 10, 64 },
    { 70, 60, 64 }, { 95, 95, 64 }, { 20, 96, 96 }, { 500, 400, 96 }, { 4000, 3000, 96 },
  };
  g_autoptr(GRand) rand = g_rand_new_with_seed (41);
  g_autoptr(P2pImage) in = random_image (rand, 75, 40, 3);
  g_autoptr(P2pImage) out_auto = NULL, out_64 = NULL, out_plain = NULL, out_32 = NULL;
  const gsize bytes_out = 75 * 40 * 3 * sizeof (float);
  P2pPipelineOptions o;

  g_assert_nonnull (model);
  g_assert_cmpint (p2p_model_get_info (model)->resize_max_size, ==, 96);
  g_assert_cmpint (p2p_model_get_info (plain)->resize_max_size, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpint (p2p_model_resize_side (model, cases[i][0], cases[i][1]), ==, cases[i][2]);
      g_assert_cmpint (p2p_model_resize_side (plain, cases[i][0], cases[i][1]), ==, 32);
    }

  /* 75 x 40: the longer side 75 rounds down to 64. */
  options_init (&o, P2P_SIZE_MODE_RESIZE);
  out_auto = run_ok (model, in, &o);
  out_plain = run_ok (plain, in, &o);
  o.net_size = 64;
  out_64 = run_ok (model, in, &o);
  o.net_size = 32;
  out_32 = run_ok (plain, in, &o);
  g_assert_cmpmem (out_auto->data, bytes_out, out_64->data, bytes_out);
  g_assert_cmpmem (out_plain->data, bytes_out, out_32->data, bytes_out);
  /* and the two sizes do give different pictures */
  g_assert_true (memcmp (out_auto->data, out_32->data, bytes_out) != 0);
}

static void
test_unet_small_images (void)
{
  /* unet_32: every side padded to 32 in whole mode, 1 x 1 included. */
  g_autoptr(P2pModel) model = tiny_model_norm ("unet_32", 3, 3, "generic", 32, "none");
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);

  g_assert_cmpint (p2p_model_size_multiple (model), ==, 32);
  for (guint s = 0; s < G_N_ELEMENTS (odd_sizes); s++)
    for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_TILE; mode++)
      {
        g_autoptr(P2pImage) in = random_image (rand, odd_sizes[s][0], odd_sizes[s][1], 4);
        g_autoptr(P2pImage) out = NULL;
        P2pPipelineOptions o;

        options_init (&o, mode);
        out = run_ok (model, in, &o);
        assert_valid_output (in, out);
      }
}

static void
test_alpha (void)
{
  /* Generic models carry alpha; sketches are flattened (test_sketch_paper). */
  g_autoptr(P2pModel) rgb_model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(P2pModel) col_model = tiny_model ("resnet_1blocks", 1, 2, "colorize", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (6);
  const P2pModel *models[2] = { rgb_model, col_model };

  for (int m = 0; m < 2; m++)
    for (int ch = 2; ch <= 4; ch += 2)
      for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_TILE; mode++)
        {
          g_autoptr(P2pImage) in = random_image (rand, 11, 7, ch);
          g_autoptr(P2pImage) rgb_only = p2p_image_strip_alpha (in, NULL);
          g_autoptr(P2pImage) out = NULL;
          g_autoptr(P2pImage) out_plain = NULL;
          P2pPipelineOptions o;

          /* Odd alpha values, also outside what 8 bits can hold. */
          for (int p = 0; p < 77; p++)
            in->data[p * ch + ch - 1] = (float) (p / 76.0 + 1e-7 * p);
          options_init (&o, mode);
          out = run_ok (models[m], in, &o);
          out_plain = run_ok (models[m], rgb_only, &o);
          g_assert_cmpint (out->channels, ==, 4);
          g_assert_cmpint (out_plain->channels, ==, 3);
          for (int p = 0; p < 77; p++)
            {
              /* Alpha bit for bit; colour unaffected by the alpha. */
              g_assert_cmpfloat (out->data[p * 4 + 3], ==, in->data[p * ch + ch - 1]);
              g_assert_cmpmem (out->data + p * 4, 3 * sizeof (float),
                               out_plain->data + p * 3, 3 * sizeof (float));
            }
        }
}

/* A sketch-to-photo model sees a drawing with transparency on white paper
 * and gives an opaque result: an RGBA line drawing whose transparent pixels
 * hide black (Tux Paint's colouring pages) or garbage gives exactly the
 * result of the same drawing flattened on white, in every size mode; grey +
 * alpha likewise.  The reference flattening is a naive loop here. */
static void
test_sketch_paper (void)
{
  g_autoptr(P2pModel) model = tiny_model ("unet_32", 3, 3, "sketch-to-photo", 32);
  g_autoptr(GRand) rand = g_rand_new_with_seed (61);
  const int w = 37, h = 29;

  for (int ch = 2; ch <= 4; ch += 2)
    for (int partial = 0; partial <= 1; partial++)
      for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_TILE; mode++)
        {
          g_autoptr(P2pImage) drawing = p2p_image_new (w, h, ch, NULL);
          g_autoptr(P2pImage) flat = p2p_image_new (w, h, ch - 1, NULL);
          g_autoptr(P2pImage) out = NULL;
          g_autoptr(P2pImage) out_flat = NULL;
          P2pPipelineOptions o;
          const gsize n = (gsize) w * h;

          for (gsize p = 0; p < n; p++)
            {
              /* Dark strokes on a transparent sheet: a diagonal line and a
               * ring; elsewhere alpha 0 over black (or, every 7th pixel,
               * NaN and huge values: nothing under alpha 0 may count). */
              const int x = (int) (p % w), y = (int) (p / w);
              const double r = hypot (x - 18.0, y - 14.0);
              const gboolean line = abs (x - y) <= 1 || fabs (r - 9.0) < 1.2;
              float a = line ? 1.0f : 0.0f;

              if (partial && line && (x + y) % 3 == 0)
                a = (float) g_rand_double_range (rand, 0.05, 0.95);
              for (int c = 0; c < ch - 1; c++)
                {
                  float v = line ? (float) g_rand_double_range (rand, 0.0, 0.3)
                                 : p % 7 == 0 ? (c == 0 ? NAN : 1e30f) : 0.0f;

                  drawing->data[p * ch + c] = v;
                  flat->data[p * (ch - 1) + c] = a > 0.0f ? v * a + (1.0f - a) : 1.0f;
                }
              drawing->data[p * ch + ch - 1] = a;
            }

          options_init (&o, mode);
          out = run_ok (model, drawing, &o);
          out_flat = run_ok (model, flat, &o);
          g_assert_cmpint (out->channels, ==, 3);
          g_assert_cmpint (out_flat->channels, ==, 3);
          g_assert_cmpmem (out->data, n * 3 * sizeof (float), out_flat->data, n * 3 * sizeof (float));
        }

  /* A generic model keeps today's behaviour: alpha carried (test_alpha),
   * the colour under it as it is. */
  {
    g_autoptr(P2pModel) generic = tiny_model ("unet_32", 3, 3, "generic", 32);
    g_autoptr(P2pImage) in = random_image (rand, 8, 8, 4);
    g_autoptr(P2pImage) out = NULL;
    P2pPipelineOptions o;

    options_init (&o, P2P_SIZE_MODE_RESIZE);
    out = run_ok (generic, in, &o);
    g_assert_cmpint (out->channels, ==, 4);
  }
}

static void
test_grey_input (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(P2pModel) col = tiny_model ("resnet_1blocks", 1, 2, "colorize", 16);
  g_autoptr(P2pModel) grey_model = tiny_model ("resnet_1blocks", 1, 1, "generic", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autoptr(P2pImage) grey = random_image (rand, 9, 6, 1);
  g_autoptr(P2pImage) rgb = p2p_image_new (9, 6, 3, NULL);
  P2pPipelineOptions o;

  for (int p = 0; p < 54; p++)
    rgb->data[p * 3] = rgb->data[p * 3 + 1] = rgb->data[p * 3 + 2] = grey->data[p];

  for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_WHOLE; mode++)
    {
      g_autoptr(P2pImage) a = NULL;
      g_autoptr(P2pImage) b = NULL;
      g_autoptr(P2pImage) c = NULL;
      g_autoptr(P2pImage) d = NULL;
      g_autoptr(P2pImage) e = NULL;

      options_init (&o, mode);
      /* Grey in = the same grey as R = G = B, for RGB and colorize models. */
      a = run_ok (model, grey, &o);
      b = run_ok (model, rgb, &o);
      assert_valid_output (grey, a);
      g_assert_cmpmem (a->data, 54 * 3 * sizeof (float), b->data, 54 * 3 * sizeof (float));
      c = run_ok (col, grey, &o);
      d = run_ok (col, rgb, &o);
      assert_valid_output (grey, c);
      g_assert_cmpmem (c->data, 54 * 3 * sizeof (float), d->data, 54 * 3 * sizeof (float));
      /* A one-channel model gives grey RGB output. */
      e = run_ok (grey_model, rgb, &o);
      for (int p = 0; p < 54; p++)
        {
          g_assert_cmpfloat (e->data[p * 3], ==, e->data[p * 3 + 1]);
          g_assert_cmpfloat (e->data[p * 3], ==, e->data[p * 3 + 2]);
        }
    }
}

static void
test_colorize (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 1, 2, "colorize", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (8);
  g_autoptr(P2pImage) in = random_image (rand, 23, 14, 3);
  g_autoptr(P2pImage) l_in = p2p_image_lab_lightness (in, NULL);
  P2pPipelineOptions o;

  for (int mode = P2P_SIZE_MODE_RESIZE; mode <= P2P_SIZE_MODE_WHOLE; mode++)
    {
      g_autoptr(P2pImage) out = NULL;
      g_autoptr(P2pImage) grey = NULL;
      int checked = 0, coloured = 0;

      options_init (&o, mode);
      out = run_ok (model, in, &o);
      assert_valid_output (in, out);
      o.chroma = 0.0;
      grey = run_ok (model, in, &o);
      assert_valid_output (in, grey);

      for (int p = 0; p < 23 * 14; p++)
        {
          double px[3], lab[3];
          gboolean clipped = FALSE;

          /* Chroma 0: grey (to skimage's matrix precision), same L. */
          g_assert_cmpfloat_with_epsilon (grey->data[p * 3], grey->data[p * 3 + 1], 1e-4);
          g_assert_cmpfloat_with_epsilon (grey->data[p * 3 + 1], grey->data[p * 3 + 2], 1e-4);
          for (int c = 0; c < 3; c++)
            px[c] = grey->data[p * 3 + c];
          p2p_srgb_to_lab (px, lab);
          g_assert_cmpfloat_with_epsilon (lab[0], l_in->data[p], 1e-3);

          /* Chroma 1: the input's L wherever lab2rgb did not clip. */
          for (int c = 0; c < 3; c++)
            {
              px[c] = out->data[p * 3 + c];
              clipped |= px[c] <= 0.0 || px[c] >= 1.0;
            }
          coloured += fabs (px[0] - px[1]) > 0.01 || fabs (px[1] - px[2]) > 0.01;
          if (clipped)
            continue;
          p2p_srgb_to_lab (px, lab);
          g_assert_cmpfloat_with_epsilon (lab[0], l_in->data[p], 1e-3);
          checked++;
        }
      /* The random model does colour the image, and enough pixels are in
       * gamut that the checks above were not vacuous.  (On this noise
       * image the guided upsampling of resize mode follows the random L
       * pixel by pixel, so fewer pixels stay in gamut than in whole mode.) */
      g_assert_cmpint (coloured, >, 23 * 14 / 2);
      g_assert_cmpint (checked, >, 23 * 14 / 5);
    }
}

/* The colorize net sees L / 50 - 1 and its output is ab / 110: check
 * against a hand-assembled run at the net's size. */
static void
test_colorize_matches_net (void)
{
  g_autoptr(P2pModel) model = tiny_model_norm ("resnet_1blocks", 1, 2, "colorize", 16, "none");
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);
  g_autoptr(P2pImage) in = random_image (rand, 16, 16, 3);
  g_autoptr(P2pImage) l = p2p_image_lab_lightness (in, NULL);
  g_autoptr(P2pTensor) t = p2p_tensor_new (1, 16, 16, NULL);
  g_autoptr(P2pTensor) y = NULL;
  g_autoptr(P2pImage) out = NULL;
  P2pPipelineOptions o;

  options_init (&o, P2P_SIZE_MODE_WHOLE);
  o.chroma = 0.7;
  for (int p = 0; p < 256; p++)
    t->data[p] = l->data[p] / 50.0f - 1.0f;
  y = p2p_net_run (model, &o.net, t, NULL);
  g_assert_nonnull (y);
  out = run_ok (model, in, &o);
  for (int p = 0; p < 256; p++)
    {
      double lab[3] = { l->data[p], y->data[p] * 110.0 * 0.7, y->data[256 + p] * 110.0 * 0.7 };
      double rgb[3];

      p2p_lab_to_srgb (lab, rgb);
      for (int c = 0; c < 3; c++)
        g_assert_cmpfloat_with_epsilon (out->data[p * 3 + c], rgb[c], 1e-5);
    }
}

typedef struct {
  int calls;
  int cancel_at;
  double last;
  gboolean monotonic;
} Progress;

static gboolean
progress_cb (double fraction, gpointer data)
{
  Progress *pr = data;

  if (fraction < pr->last || fraction < 0.0 || fraction > 1.0)
    pr->monotonic = FALSE;
  pr->last = fraction;
  return ++pr->calls < pr->cancel_at;
}

static void
test_progress_and_cancel (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(P2pModel) col = tiny_model ("resnet_1blocks", 1, 2, "colorize", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (10);
  g_autoptr(P2pImage) in = random_image (rand, 20, 12, 3);
  const P2pModel *models[2] = { model, col };
  P2pPipelineOptions o;
  int total[2];

  /* A full run: progress rises from 0 to 1. */
  for (int m = 0; m < 2; m++)
    {
      Progress pr = { 0, G_MAXINT, 0.0, TRUE };
      g_autoptr(P2pImage) out = NULL;

      options_init (&o, P2P_SIZE_MODE_RESIZE);
      o.net.progress = progress_cb;
      o.net.progress_data = &pr;
      out = run_ok (models[m], in, &o);
      g_assert_true (pr.monotonic);
      g_assert_cmpfloat (pr.last, ==, 1.0);
      g_assert_cmpint (pr.calls, >=, 4);
      total[m] = pr.calls;
    }

  /* Cancelling at any call, before, inside or after the net, fails with
   * CANCELLED and no image. */
  for (int m = 0; m < 2; m++)
    for (int at = 1; at <= total[m]; at++)
      {
        Progress pr = { 0, at, 0.0, TRUE };
        g_autoptr(GError) error = NULL;
        P2pImage *out;

        options_init (&o, at % 2 ? P2P_SIZE_MODE_RESIZE : P2P_SIZE_MODE_WHOLE);
        o.net.progress = progress_cb;
        o.net.progress_data = &pr;
        out = p2p_pipeline_run (models[m], in, &o, &error);
        g_assert_null (out);
        g_assert_error (error, P2P_ERROR, P2P_ERROR_CANCELLED);
        g_assert_cmpint (pr.calls, ==, at);
      }
}

static void
test_bad_input (void)
{
  g_autoptr(P2pModel) model = tiny_model ("resnet_1blocks", 3, 3, "generic", 16);
  g_autoptr(P2pModel) col = tiny_model ("resnet_1blocks", 1, 2, "colorize", 16);
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(P2pImage) in = random_image (rand, 4, 4, 3);
  double bad_chroma[] = { -0.5, NAN, INFINITY, -INFINITY };
  P2pImage fake;
  P2pPipelineOptions o;

  /* Images built by hand by a caller, bypassing p2p_image_new. */
  struct { int w, h, ch; } bad_images[] = {
    { 4, 4, 0 }, { 4, 4, 5 }, { 0, 4, 3 }, { 4, -1, 3 }, { P2P_IMAGE_MAX_SIDE + 1, 1, 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_images); i++)
    {
      g_autoptr(GError) error = NULL;

      fake.width = bad_images[i].w;
      fake.height = bad_images[i].h;
      fake.channels = bad_images[i].ch;
      fake.data = in->data;
      options_init (&o, P2P_SIZE_MODE_WHOLE);
      g_assert_null (p2p_pipeline_run (model, &fake, &o, &error));
      g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad_chroma); i++)
    {
      g_autoptr(GError) error = NULL;

      options_init (&o, P2P_SIZE_MODE_RESIZE);
      o.chroma = bad_chroma[i];
      g_assert_null (p2p_pipeline_run (col, in, &o, &error));
      g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
    }

  {
    g_autoptr(GError) error = NULL;

    options_init (&o, P2P_SIZE_MODE_RESIZE);
    o.size_mode = (P2pSizeMode) 42;
    g_assert_null (p2p_pipeline_run (model, in, &o, &error));
    g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  }
}

static void
test_options_and_names (void)
{
  P2pPipelineOptions o;
  P2pSizeMode mode = (P2pSizeMode) 99;

  memset (&o, 0xa5, sizeof o);
  p2p_pipeline_options_init (&o);
  g_assert_cmpint (o.size_mode, ==, P2P_SIZE_MODE_RESIZE);
  g_assert_cmpfloat (o.chroma, ==, 1.0);
  g_assert_cmpint (o.net.norm_mode, ==, P2P_NORM_MODE_OFFICIAL);
  g_assert_null (o.net.progress);

  g_assert_cmpstr (p2p_size_mode_to_string (P2P_SIZE_MODE_RESIZE), ==, "resize");
  g_assert_cmpstr (p2p_size_mode_to_string (P2P_SIZE_MODE_WHOLE), ==, "whole");
  g_assert_true (p2p_size_mode_from_string ("whole", &mode));
  g_assert_cmpint (mode, ==, P2P_SIZE_MODE_WHOLE);
  g_assert_true (p2p_size_mode_from_string ("resize", &mode));
  g_assert_cmpint (mode, ==, P2P_SIZE_MODE_RESIZE);
  g_assert_true (p2p_size_mode_from_string ("tile", &mode));
  g_assert_cmpint (mode, ==, P2P_SIZE_MODE_TILE);
  g_assert_true (p2p_size_mode_from_string ("resize", &mode));
  g_assert_false (p2p_size_mode_from_string ("tiles", &mode));
  g_assert_false (p2p_size_mode_from_string ("", &mode));
  g_assert_false (p2p_size_mode_from_string (NULL, &mode));
  g_assert_cmpint (mode, ==, P2P_SIZE_MODE_RESIZE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/pipeline/options-and-names", test_options_and_names);
  g_test_add_data_func ("/pipeline/sizes/resnet", "resnet_1blocks", test_sizes);
  g_test_add_data_func ("/pipeline/sizes/unet", "unet_32", test_sizes);
  g_test_add_func ("/pipeline/sizes/unet-small-images", test_unet_small_images);
  g_test_add_func ("/pipeline/rgb/matches-net", test_matches_net);
  g_test_add_func ("/pipeline/rgb/whole-is-padded-run", test_whole_is_padded_run);
  g_test_add_func ("/pipeline/rgb/resize-is-resampled-run", test_resize_is_resampled_run);
  g_test_add_func ("/pipeline/rgb/resize-side", test_resize_side);
  g_test_add_func ("/pipeline/alpha", test_alpha);
  g_test_add_func ("/pipeline/sketch-on-paper", test_sketch_paper);
  g_test_add_func ("/pipeline/grey-input", test_grey_input);
  g_test_add_func ("/pipeline/colorize/lightness-and-chroma", test_colorize);
  g_test_add_func ("/pipeline/colorize/matches-net", test_colorize_matches_net);
  g_test_add_func ("/pipeline/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/pipeline/bad-input", test_bad_input);

  return g_test_run ();
}
