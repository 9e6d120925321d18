/* test-image-edges.c - edge-case images through the public pipeline API.
 *
 * Table driven, every image case for every size mode (resize, whole,
 * tile) and for three tiny models: a generic RGB one (ResNet, alpha
 * carried), a sketch-to-photo one (ResNet, drawing on white paper, opaque
 * result) and a colorize one (L -> ab, U-Net).
 *
 * What the core promises (p2p-image.h, p2p-pipeline.h): images are float,
 * gamma-encoded, nominally in [0, 1], 1 to 4 channels.  It takes float
 * only: the plug-ins hand GIMP's 8-bit, 16-bit and float buffers over as
 * babl "R'G'B'(A) float", so 16-bit data arrives as multiples of 1/65535
 * and float data may lie outside [0, 1] or hold NaN and infinities.  So
 * the cases are sizes (1 x 1, thin, 65535 wide and tall), channel layouts
 * (grey, grey + alpha, RGB, RGBA), 16-bit levels, out-of-range floats and
 * NaN / +Inf / -Inf in colour and alpha.  Every run must give an image of
 * the input's size, 3 channels (4 with alpha), colour in [0, 1], no NaN or
 * Inf anywhere, and finite alpha carried unchanged.
 *
 * Refusals, each with its error code and a message naming the problem:
 * 0 x 0 and other empty sizes, sides over 65535, channel counts outside
 * 1..4, images whose buffers overflow 32 bits and exceed the physical
 * memory (refused before any allocation: the test hands the pipeline an
 * image struct whose pixel pointer covers only a few pixels, so a run that
 * went on would read out of bounds), and invalid options.
 */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-tensor.h"
#include "tiny-model.h"

/* ---- models ------------------------------------------------------------ */

/* RGB: a generic model (alpha carried); sketch: an RGB model that sees
 * the drawing on white paper (opaque result); Lab: colorize. */
typedef enum { MODEL_RGB, MODEL_SKETCH, MODEL_LAB, N_MODELS } ModelKind;

static const char *const model_names[N_MODELS] = { "rgb", "sketch", "lab" };
static P2pModel *models[N_MODELS];

static void
models_init (void)
{
  static const TinyModelSpec specs[N_MODELS] = {
    [MODEL_RGB] = { "resnet_1blocks", 2, 3, 3, "generic", 16, 11, NULL },
    [MODEL_SKETCH] = { "resnet_1blocks", 2, 3, 3, "sketch-to-photo", 16, 13, NULL },
    [MODEL_LAB] = { "unet_32", 2, 1, 2, "colorize", 32, 12, NULL },
  };
  for (int m = 0; m < N_MODELS; m++)
    {
      g_autoptr(GBytes) bytes = tiny_model_build (&specs[m]);
      g_autoptr(GError) error = NULL;
      models[m] = p2p_model_new_from_bytes (bytes, &error);
      g_assert_no_error (error);
    }
}

static void
models_free (void)
{
  for (int m = 0; m < N_MODELS; m++)
    g_clear_pointer (&models[m], p2p_model_free);
}

/* ---- images that must run ------------------------------------------- */

typedef enum {
  FILL_RANDOM,      /* uniform [0, 1] */
  FILL_LEVELS16,    /* 16-bit data: k / 65535 */
  FILL_HDR,         /* float data outside [0, 1]: -2 .. 3, and +-1e30 */
  FILL_NONFINITE,   /* NaN, +Inf, -Inf scattered over colour and alpha */
  FILL_ALL_NAN,     /* every value NaN */
} Fill;

typedef struct {
  const char *name;
  int         width, height, channels;
  Fill        fill;
} ImageCase;

static const ImageCase image_cases[] = {
  { "1x1-rgb", 1, 1, 3, FILL_RANDOM },
  { "1x1-grey-alpha", 1, 1, 2, FILL_RANDOM },
  { "1x37", 1, 37, 3, FILL_RANDOM },
  { "37x1", 37, 1, 3, FILL_RANDOM },
  { "2x3-rgba", 2, 3, 4, FILL_RANDOM },
  { "65535x1-wide", 65535, 1, 3, FILL_RANDOM },
  { "1x65535-tall-grey", 1, 65535, 1, FILL_RANDOM },
  { "grey", 23, 17, 1, FILL_RANDOM },
  { "grey-alpha", 23, 17, 2, FILL_RANDOM },
  { "rgba", 23, 17, 4, FILL_RANDOM },
  { "16-bit-levels", 29, 19, 3, FILL_LEVELS16 },
  { "16-bit-levels-grey-alpha", 29, 19, 2, FILL_LEVELS16 },
  { "float-out-of-range", 29, 19, 4, FILL_HDR },
  { "float-nan-inf-rgb", 31, 21, 3, FILL_NONFINITE },
  { "float-nan-inf-rgba", 31, 21, 4, FILL_NONFINITE },
  { "float-nan-inf-grey-alpha", 31, 21, 2, FILL_NONFINITE },
  { "float-all-nan-rgba", 9, 9, 4, FILL_ALL_NAN },
};

static const P2pSizeMode modes[] = { P2P_SIZE_MODE_RESIZE, P2P_SIZE_MODE_WHOLE, P2P_SIZE_MODE_TILE };

typedef struct {
  ModelKind        model;
  P2pSizeMode      mode;
  const ImageCase *image;
} RunCase;

static float
fill_value (Fill fill, GRand *rand, gsize i)
{
  static const float specials[] = { NAN, INFINITY, -INFINITY, -NAN };

  switch (fill)
    {
    case FILL_LEVELS16:
      return (float) g_rand_int_range (rand, 0, 65536) / 65535.0f;
    case FILL_HDR:
      if (i % 97 == 5)
        return (i / 97) % 2 ? 1e30f : -1e30f;
      return (float) g_rand_double_range (rand, -2.0, 3.0);
    case FILL_NONFINITE:
      if (i % 7 == 3)
        return specials[(i / 7) % G_N_ELEMENTS (specials)];
      return (float) g_rand_double (rand);
    case FILL_ALL_NAN:
      return NAN;
    case FILL_RANDOM:
    default:
      return (float) g_rand_double (rand);
    }
}

static void
test_run (gconstpointer data)
{
  const RunCase *rc = data;
  const ImageCase *ic = rc->image;
  g_autoptr(GRand) rand = g_rand_new_with_seed (ic->width * 31 + ic->height);
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pImage) in = p2p_image_new (ic->width, ic->height, ic->channels, &error);
  g_autoptr(P2pImage) out = NULL;
  P2pPipelineOptions opts;
  const gboolean alpha = (ic->channels == 2 || ic->channels == 4) && rc->model != MODEL_SKETCH;
  const int out_ch = alpha ? 4 : 3;
  const gsize n = (gsize) ic->width * ic->height;
  gsize bad = 0;

  g_assert_no_error (error);
  for (gsize i = 0; i < n * ic->channels; i++)
    in->data[i] = fill_value (ic->fill, rand, i);

  p2p_pipeline_options_init (&opts);
  opts.size_mode = rc->mode;
  opts.net.threads = 1;
  out = p2p_pipeline_run (models[rc->model], in, &opts, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  g_assert_cmpint (out->width, ==, ic->width);
  g_assert_cmpint (out->height, ==, ic->height);
  g_assert_cmpint (out->channels, ==, out_ch);

  for (gsize p = 0; p < n; p++)
    {
      for (int c = 0; c < 3; c++)
        {
          const float v = out->data[p * out_ch + c];
          if (!(v >= 0.0f && v <= 1.0f))   /* also catches NaN */
            {
              if (bad++ < 5)
                g_test_message ("pixel %" G_GSIZE_FORMAT " channel %d is %g", p, c, (double) v);
            }
        }
      if (alpha)
        {
          const float a_in = in->data[p * ic->channels + ic->channels - 1];
          const float a_out = out->data[p * 4 + 3];
          const float want = isfinite (a_in) ? a_in : a_in > 0 ? 1.0f : 0.0f;
          if (memcmp (&a_out, &want, sizeof (float)) != 0)
            {
              if (bad++ < 5)
                g_test_message ("pixel %" G_GSIZE_FORMAT " alpha %g from %g",
                                p, (double) a_out, (double) a_in);
            }
        }
    }
  g_assert_cmpuint (bad, ==, 0);
}

/* ---- refusals ---------------------------------------------------------- */

/* A few real pixels behind any claimed size: a run that does not refuse
 * the image reads past them, which valgrind and ASan report. */
static float few_pixels[64];

typedef struct {
  const char *name;
  int         width, height, channels;
  int         code;        /* P2pErrorCode */
  const char *needle;      /* in the message */
  gboolean    needs_ram;   /* refused only where physical memory is smaller */
} RefuseCase;

static const RefuseCase refuse_cases[] = {
  { "0x0", 0, 0, 3, P2P_ERROR_BAD_INPUT, "empty" },
  { "0x5", 0, 5, 3, P2P_ERROR_BAD_INPUT, "empty" },
  { "5x0", 5, 0, 1, P2P_ERROR_BAD_INPUT, "empty" },
  { "negative", -3, 4, 3, P2P_ERROR_BAD_INPUT, "empty" },
  { "65536x1", 65536, 1, 3, P2P_ERROR_BAD_INPUT, "too large" },
  { "1x65536", 1, 65536, 3, P2P_ERROR_BAD_INPUT, "too large" },
  { "int-max", G_MAXINT, G_MAXINT, 4, P2P_ERROR_BAD_INPUT, "too large" },
  { "0-channels", 4, 4, 0, P2P_ERROR_BAD_INPUT, "channels" },
  { "5-channels", 4, 4, 5, P2P_ERROR_BAD_INPUT, "channels" },
  /* 65535^2 * 4 channels * 4 bytes = 2^36: overflows 32 bits in values,
   * pixels and bytes; 46341^2 pixels overflow a signed 32-bit count. */
  { "65535x65535-rgba", 65535, 65535, 4, P2P_ERROR_NO_MEMORY, "memory", TRUE },
  { "46341x46341-grey", 46341, 46341, 1, P2P_ERROR_NO_MEMORY, "memory", TRUE },
};

static void
test_refuse (gconstpointer data)
{
  const RefuseCase *rc = data;

  for (int m = 0; m < N_MODELS; m++)
    {
      P2pImage fake = { rc->width, rc->height, rc->channels, few_pixels };
      g_autoptr(GError) error = NULL;
      g_autoptr(P2pImage) out = NULL;

      if (rc->needs_ram)
        {
          /* Lower bound of what the run needs: input colour and output. */
          const guint64 need = (guint64) rc->width * rc->height * (3 + 3) * sizeof (float);
          if (need <= p2p_physical_memory ())
            {
              g_test_skip ("this computer has the memory for the image");
              return;
            }
        }
      out = p2p_pipeline_run (models[m], &fake, NULL, &error);
      g_assert_null (out);
      g_assert_error (error, P2P_ERROR, rc->code);
      g_test_message ("%s, %s model: %s", rc->name, model_names[m], error->message);
      g_assert_nonnull (strstr (error->message, rc->needle));
    }
}

/* p2p_image_new() itself: empty and oversized refused (it makes the
 * pipelines' buffers too, which may exceed the input limit by the padding
 * to the net's multiple); a buffer larger than
 * the physical memory is refused without asking the allocator (so ASan's
 * allocator, which aborts on a failed huge request, is never asked). */
static void
test_image_new (void)
{
  g_autoptr(GError) error = NULL;
  P2pImage *im;

  im = p2p_image_new (0, 0, 3, &error);
  g_assert_null (im);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);

  im = p2p_image_new (P2P_IMAGE_MAX_BUFFER_SIDE + 1, 1, 3, &error);
  g_assert_null (im);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);

  im = p2p_image_new (65535, 1, 4, &error);
  g_assert_no_error (error);
  g_assert_nonnull (im);
  p2p_image_free (im);

  if ((guint64) 65535 * 65535 * 4 * sizeof (float) > p2p_physical_memory ())
    {
      im = p2p_image_new (65535, 65535, 4, &error);
      g_assert_null (im);
      g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "65535 x 65535"));
      g_clear_error (&error);
    }
}

typedef struct {
  const char *name;
  int         size_mode, net_size, tile_size, tile_overlap;
  double      chroma;
  const char *needle;
} OptionCase;

static const OptionCase option_cases[] = {
  { "size-mode-7", 7, 0, 0, 0, 1.0, "size mode" },
  { "net-size-negative", P2P_SIZE_MODE_RESIZE, -1, 0, 0, 1.0, "network size" },
  { "net-size-huge", P2P_SIZE_MODE_RESIZE, 1 << 20, 0, 0, 1.0, "network size" },
  { "tile-size-negative", P2P_SIZE_MODE_TILE, 0, -1, 0, 1.0, "tile size" },
  { "tile-overlap-negative", P2P_SIZE_MODE_TILE, 0, 0, -1, 1.0, "overlap" },
  { "chroma-nan", P2P_SIZE_MODE_RESIZE, 0, 0, 0, NAN, "colour strength" },
  { "chroma-inf", P2P_SIZE_MODE_RESIZE, 0, 0, 0, INFINITY, "colour strength" },
  { "chroma-negative", P2P_SIZE_MODE_RESIZE, 0, 0, 0, -1.0, "colour strength" },
};

static void
test_options (gconstpointer data)
{
  const OptionCase *oc = data;
  g_autoptr(P2pImage) in = p2p_image_new (8, 8, 3, NULL);

  for (int m = 0; m < N_MODELS; m++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(P2pImage) out = NULL;
      P2pPipelineOptions opts;

      p2p_pipeline_options_init (&opts);
      opts.size_mode = (P2pSizeMode) oc->size_mode;
      opts.net_size = oc->net_size;
      opts.tile_size = oc->tile_size;
      opts.tile_overlap = oc->tile_overlap;
      opts.chroma = oc->chroma;
      out = p2p_pipeline_run (models[m], in, &opts, &error);
      g_assert_null (out);
      g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
      g_assert_nonnull (strstr (error->message, oc->needle));
    }
}

int
main (int argc, char **argv)
{
  g_autoptr(GPtrArray) runs = g_ptr_array_new_with_free_func (g_free);
  int status;

  g_test_init (&argc, &argv, NULL);
  models_init ();

  for (int m = 0; m < N_MODELS; m++)
    for (guint k = 0; k < G_N_ELEMENTS (modes); k++)
      for (guint i = 0; i < G_N_ELEMENTS (image_cases); i++)
        {
          RunCase *rc = g_new (RunCase, 1);
          g_autofree char *path = NULL;

          rc->model = (ModelKind) m;
          rc->mode = modes[k];
          rc->image = &image_cases[i];
          g_ptr_array_add (runs, rc);
          path = g_strdup_printf ("/image-edges/run/%s/%s/%s", model_names[m],
                                  p2p_size_mode_to_string (modes[k]), image_cases[i].name);
          g_test_add_data_func (path, rc, test_run);
        }
  for (guint i = 0; i < G_N_ELEMENTS (refuse_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/image-edges/refuse/", refuse_cases[i].name, NULL);
      g_test_add_data_func (path, &refuse_cases[i], test_refuse);
    }
  for (guint i = 0; i < G_N_ELEMENTS (option_cases); i++)
    {
      g_autofree char *path = g_strconcat ("/image-edges/options/", option_cases[i].name, NULL);
      g_test_add_data_func (path, &option_cases[i], test_options);
    }
  g_test_add_func ("/image-edges/image-new", test_image_new);

  status = g_test_run ();
  models_free ();
  return status;
}
