/* fuzz-pipeline.c - libFuzzer target for the image pipeline's size
 * handling (core/p2p-pipeline.c with the resampling, padding, tiling,
 * guided upsampling and colour code behind it).
 *
 * The first bytes choose a tiny model (built in memory by
 * tests/tiny-model.c: U-Net and ResNet, RGB and colorize), the image's
 * width, height and channel count, the size mode, net size, tile size and
 * overlap, colour strength and norm mode; the rest fill the pixels (one
 * byte a value: 0..250 map to [0, 1], the others to NaN, +-Inf and values
 * out of range).  Images are capped at 65536 pixels (and, in whole and tile
 * mode, the padded image at 2^18, in resize mode the resampling
 * intermediates at 2^18, in tile mode the tile count at about 256) so that
 * one input stays fast.
 *
 * Every input must end in an image of the input's size, with 3 channels
 * (4 with alpha), colour channels in [0, 1] and no NaN or Inf anywhere, or
 * in a GError in P2P_ERROR.  See tests/fuzz/README.md for building and
 * running.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>

#include "p2p-error.h"
#include "p2p-image.h"
#include "p2p-model.h"
#include "p2p-pipeline.h"
#include "tiny-model.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define MAX_PIXELS (1 << 16)
#define MAX_NET_PIXELS (1 << 18)
#define MAX_TILES 256

static const TinyModelSpec specs[] = {
  { "resnet_1blocks", 2, 3, 3, "sketch-to-photo", 16, 1, NULL },
  { "unet_32", 2, 3, 3, "generic", 32, 2, "none" },
  { "unet_32", 2, 1, 2, "colorize", 32, 3, NULL },
  { "resnet_1blocks", 2, 1, 2, "colorize", 24, 4, "none" },
  { "resnet_1blocks", 2, 1, 1, "generic", 8, 5, NULL },
};
static P2pModel *models[G_N_ELEMENTS (specs)];

typedef struct {
  const guint8 *p;
  size_t        left;
} Reader;

static guint
take (Reader *r, int nbytes)
{
  guint v = 0;
  for (int i = 0; i < nbytes; i++)
    {
      v = v << 8 | (r->left ? *r->p : 0);
      if (r->left)
        {
          r->p++;
          r->left--;
        }
    }
  return v;
}

static float
pixel_value (guint8 b)
{
  switch (b)
    {
    case 251: return NAN;
    case 252: return INFINITY;
    case 253: return -INFINITY;
    case 254: return 3.0e38f;
    case 255: return -0.5f;
    default:  return b / 250.0f;
    }
}

static void
silent_log (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

static void
init (void)
{
  g_log_set_default_handler (silent_log, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (specs); i++)
    {
      GBytes *bytes = tiny_model_build (&specs[i]);
      models[i] = p2p_model_new_from_bytes (bytes, NULL);
      g_bytes_unref (bytes);
      if (!models[i])
        abort ();
    }
}

static int
round_up (int v, int m)
{
  return (v + m - 1) / m * m;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean initialised = FALSE;
  Reader r = { data, size };
  const P2pModel *model;
  P2pPipelineOptions opts;
  P2pImage *in, *out;
  GError *error = NULL;
  int w, h, ch, mult, min_size, net_w, net_h;
  guint chroma_code;
  gsize n;

  if (!initialised)
    {
      init ();
      initialised = TRUE;
    }

  model = models[take (&r, 1) % G_N_ELEMENTS (models)];
  w = (int) take (&r, 2);
  h = (int) take (&r, 2);
  ch = (int) (take (&r, 1) % 4) + 1;

  p2p_pipeline_options_init (&opts);
  opts.size_mode = (P2pSizeMode) (take (&r, 1) % 4);          /* 3: invalid */
  opts.net_size = (int) (take (&r, 2) % 320) - 16;           /* some negative */
  opts.tile_size = (int) (take (&r, 2) % 320) - 8;
  opts.tile_overlap = (int) (take (&r, 2) % 200) - 8;
  chroma_code = take (&r, 1);
  opts.chroma = chroma_code == 255 ? NAN : chroma_code == 254 ? INFINITY
                : ((int) chroma_code - 8) / 32.0;
  opts.net.norm_mode = (P2pNormMode) (take (&r, 1) % 3);
  opts.net.seed = take (&r, 1);
  opts.net.threads = 1;

  /* Cost caps: skip inputs that would take seconds, not bugs. */
  if ((gint64) w * h > MAX_PIXELS)
    return 0;
  mult = p2p_model_size_multiple (model);
  min_size = p2p_model_min_size (model);
  net_w = MAX (round_up (MAX (w, 1), mult), min_size);
  net_h = MAX (round_up (MAX (h, 1), mult), min_size);
  if (opts.size_mode != P2P_SIZE_MODE_RESIZE && (gint64) net_w * net_h > MAX_NET_PIXELS)
    return 0;
  /* Resize mode: the first pass of each resampling (horizontal) makes a
   * net-width x image-height intermediate, and back an image-width x
   * net-height one; a 1 x 51200 image at net size 212 takes seconds under
   * the fuzzer's instrumentation for nothing new. */
  /* Tile mode: thousands of 8 x 8 tiles (a 24576 x 1 image, tile size 2)
   * are as many net passes, seconds under instrumentation. */
  if (opts.size_mode == P2P_SIZE_MODE_TILE)
    {
      const int asked = opts.tile_size > 0 ? opts.tile_size
                        : MAX (2 * p2p_model_get_info (model)->native_size, 256);
      const int tile = MAX (round_up (asked, mult), min_size);
      if ((gint64) (w / tile + 1) * (h / tile + 1) > MAX_TILES)
        return 0;
    }
  if (opts.size_mode == P2P_SIZE_MODE_RESIZE)
    {
      const gint64 net = opts.net_size > 0 ? opts.net_size : p2p_model_get_info (model)->native_size;
      if (net * MAX (w, h) > MAX_NET_PIXELS)
        return 0;
    }

  /* The image struct is filled by hand: p2p_image_new() refuses 0 sizes
   * itself, and the pipeline must check what it is given. */
  n = (gsize) w * h * ch;
  in = g_new0 (P2pImage, 1);
  in->width = w;
  in->height = h;
  in->channels = ch;
  in->data = g_new (float, MAX (n, 1));
  for (gsize i = 0; i < n; i++)
    in->data[i] = r.left ? pixel_value (r.p[i % r.left]) : 0.0f;

  out = p2p_pipeline_run (model, in, &opts, &error);
  if (!out)
    {
      if (!error || error->domain != P2P_ERROR || !error->message || !*error->message)
        {
          fprintf (stderr, "fuzz-pipeline: NULL without a P2P_ERROR\n");
          abort ();
        }
      g_error_free (error);
    }
  else
    {
      const int want_ch = (ch == 2 || ch == 4) ? 4 : 3;
      const gsize m = (gsize) w * h;

      if (error || out->width != w || out->height != h || out->channels != want_ch)
        {
          fprintf (stderr, "fuzz-pipeline: %d x %d x %d in, %d x %d x %d out\n",
                   w, h, ch, out->width, out->height, out->channels);
          abort ();
        }
      for (gsize p = 0; p < m; p++)
        for (int c = 0; c < want_ch; c++)
          {
            const float v = out->data[p * want_ch + c];
            if (!isfinite (v) || (c < 3 && (v < 0.0f || v > 1.0f)))
              {
                fprintf (stderr, "fuzz-pipeline: %s, mode %d, %d x %d x %d: "
                         "output pixel %zu channel %d is %g\n", p2p_model_get_info (model)->arch_name,
                         (int) opts.size_mode, w, h, ch, (size_t) p, c, (double) v);
                abort ();
              }
          }
      p2p_image_free (out);
    }
  g_free (in->data);
  g_free (in);
  return 0;
}
