/* test-resize.c - bicubic resize, reflect padding, crop, image <-> tensor.
 *
 * The resize is checked three ways: against values computed by Pillow
 * itself (pasted below), against a naive dense reimplementation written
 * here from the definition (no windows, no separable passes, no float
 * intermediate), and against plain facts (identity, constants).
 */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"

/* ---- expected values from Pillow ---------------------------------------

 * Computed with Debian's python3-pil 9.4.0 (development time only):
 *
 *   a[y, x] = ((x * 37 + y * 11) % 23) / 22.0            (float32, mode 'F')
 *   out = np.asarray(Image.fromarray(a, 'F').resize((ow, oh), Image.BICUBIC))
 */
static float
pil_input_value (int x, int y)
{
  return (float) (((x * 37 + y * 11) % 23) / 22.0);
}

typedef struct {
  int w, h, ow, oh;
  float v[32];
} PilFloatCase;

static const PilFloatCase pil_float_cases[] = {
  { 5, 4, 3, 7, {
    0.252128184, 0.486213714, 0.626254022, 0.258107483, 0.482959211, 0.655569077, 0.304740667,
    0.472372025, 0.69764328, 0.611276209, 0.432663858, 0.641608357, 0.813748002, 0.399579108,
    0.585573494, 0.461469144, 0.414381623, 0.627647758, 0.23435314, 0.425963044, 0.656962812 } },
  { 7, 3, 2, 1, {
    0.482302606, 0.464021802 } },
  { 8, 6, 3, 5, {
    0.345525533, 0.530876696, 0.397484779, 0.477469236, 0.557108521, 0.431710392, 0.488733768,
    0.492947578, 0.367233962, 0.490847468, 0.580231309, 0.530646741, 0.337729365, 0.535968125,
    0.422173291 } },
  { 4, 4, 9, 2, {
    0.325614423, 0.339938283, 0.37299937, 0.405181855, 0.41065225, 0.428496093, 0.512905598,
    0.608052909, 0.648468196, 0.769407809, 0.673970878, 0.440525174, 0.274277151, 0.347001791,
    0.46708706, 0.500742316, 0.504936993, 0.509367406 } },
  { 3, 1, 10, 1, {
    -0.0687756389, -0.0147810625, 0.12972793, 0.365372092, 0.585871994, 0.623945415,
    0.486227185, 0.318845391, 0.217770621, 0.183059826 } },
  { 1, 5, 1, 2, {
    0.430613875, 0.774226606 } },
  { 16, 3, 5, 3, {
    0.399263203, 0.442204922, 0.529066205, 0.480407268, 0.535687327, 0.414589792, 0.575341463,
    0.568181813, 0.56575346, 0.369326741, 0.6242612, 0.372867525, 0.483611643, 0.434952706,
    0.490232766 } },
};

/* Pillow on 8-bit RGB (fixed-point weights, rounding and clipping after
 * each pass), same Pillow, input
 *   a[y, x, c] = (x * 53 + y * 97 + c * 31 + x * y * 7) % 256   (uint8)
 * Our float resize must land within one level of it. */
static guint8
pil_u8_value (int x, int y, int c)
{
  return (guint8) ((x * 53 + y * 97 + c * 31 + x * y * 7) % 256);
}

typedef struct {
  int w, h, ow, oh;
  guint8 v[128];
} PilU8Case;

static const PilU8Case pil_u8_cases[] = {
  { 7, 5, 4, 9, {
    12, 43, 75, 113, 144, 192, 173, 204, 79, 27, 58, 93, 52, 83, 117, 128, 159, 149, 135, 166, 102,
    81, 112, 94, 124, 155, 185, 152, 183, 76, 70, 101, 140, 172, 203, 97, 130, 161, 119, 118, 149,
    96, 104, 135, 115, 126, 157, 103, 106, 137, 27, 74, 105, 150, 157, 188, 77, 55, 86, 109, 80,
    111, 82, 96, 127, 176, 100, 131, 108, 135, 166, 112, 80, 111, 139, 118, 149, 176, 61, 92, 128,
    190, 221, 115, 140, 171, 122, 102, 133, 128, 117, 148, 88, 109, 140, 123, 175, 206, 110, 92,
    123, 101, 151, 182, 65, 61, 92, 127 } },
  { 6, 6, 11, 3, {
    66, 95, 92, 71, 102, 114, 86, 117, 154, 119, 150, 133, 151, 182, 95, 126, 157, 130, 99, 130,
    160, 138, 169, 105, 149, 180, 72, 91, 122, 110, 62, 89, 132, 117, 157, 76, 106, 143, 86, 86,
    118, 113, 103, 133, 140, 128, 159, 161, 92, 128, 153, 62, 101, 130, 111, 146, 90, 138, 169, 79,
    100, 131, 125, 78, 109, 151, 165, 69, 119, 158, 101, 104, 143, 162, 81, 120, 166, 116, 103,
    137, 168, 132, 96, 143, 160, 73, 101, 143, 122, 78, 121, 158, 85, 106, 140, 139, 98, 129,
    169 } },
};

/* ---- naive reference --------------------------------------------------- */

static double
naive_cubic (double t)
{
  /* Keys (1981) with a = -0.5, written from the piecewise definition. */
  double a = -0.5, x = fabs (t);

  if (x <= 1.0)
    return (a + 2) * x * x * x - (a + 3) * x * x + 1;
  if (x < 2.0)
    return a * x * x * x - 5 * a * x * x + 8 * a * x - 4 * a;
  return 0.0;
}

/* Dense weight matrix [out][in]: every input pixel, weight of its centre
 * distance to the output pixel's centre in input coordinates, the kernel
 * stretched by the scale factor when shrinking; rows normalised. */
static double *
naive_weights (int in, int out)
{
  double *m = g_new0 (double, (gsize) in * out);
  double scale = (double) in / out;
  double stretch = scale > 1 ? scale : 1;

  for (int j = 0; j < out; j++)
    {
      double centre = (j + 0.5) * scale, sum = 0;

      for (int i = 0; i < in; i++)
        sum += m[j * in + i] = naive_cubic ((i + 0.5 - centre) / stretch);
      for (int i = 0; i < in; i++)
        m[j * in + i] /= sum;
    }
  return m;
}

static P2pImage *
naive_resize (const P2pImage *src, int ow, int oh)
{
  P2pImage *dst = p2p_image_new (ow, oh, src->channels, NULL);
  g_autofree double *wx = naive_weights (src->width, ow);
  g_autofree double *wy = naive_weights (src->height, oh);
  int ch = src->channels;

  for (int y = 0; y < oh; y++)
    for (int x = 0; x < ow; x++)
      for (int c = 0; c < ch; c++)
        {
          double acc = 0;

          for (int sy = 0; sy < src->height; sy++)
            for (int sx = 0; sx < src->width; sx++)
              acc += wy[y * src->height + sy] * wx[x * src->width + sx] *
                     src->data[((gsize) sy * src->width + sx) * ch + c];
          dst->data[((gsize) y * ow + x) * ch + c] = (float) acc;
        }
  return dst;
}

static P2pImage *
random_image (GRand *rand, int w, int h, int ch)
{
  P2pImage *im = p2p_image_new (w, h, ch, NULL);
  gsize n = (gsize) w * h * ch;

  g_assert_nonnull (im);
  for (gsize i = 0; i < n; i++)
    im->data[i] = (float) g_rand_double (rand);
  return im;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_image_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pImage) im = p2p_image_new (3, 2, 4, &error);
  P2pImage *bad;

  g_assert_no_error (error);
  g_assert_nonnull (im);
  g_assert_cmpint (im->width, ==, 3);
  g_assert_cmpint (im->height, ==, 2);
  g_assert_cmpint (im->channels, ==, 4);
  for (int i = 0; i < 3 * 2 * 4; i++)
    g_assert_cmpfloat (im->data[i], ==, 0.0f);

  bad = p2p_image_new (0, 5, 3, &error);
  g_assert_null (bad);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  bad = p2p_image_new (5, -1, 3, &error);
  g_assert_null (bad);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  bad = p2p_image_new (P2P_IMAGE_MAX_BUFFER_SIDE + 1, 1, 1, &error);
  g_assert_null (bad);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
}

static void
test_resize_pil_float (void)
{
  for (guint t = 0; t < G_N_ELEMENTS (pil_float_cases); t++)
    {
      const PilFloatCase *pc = &pil_float_cases[t];
      g_autoptr(P2pImage) src = p2p_image_new (pc->w, pc->h, 1, NULL);
      g_autoptr(P2pImage) dst = NULL;
      g_autoptr(GError) error = NULL;

      for (int y = 0; y < pc->h; y++)
        for (int x = 0; x < pc->w; x++)
          src->data[y * pc->w + x] = pil_input_value (x, y);
      dst = p2p_image_resize_bicubic (src, pc->ow, pc->oh, &error);
      g_assert_no_error (error);
      g_assert_cmpint (dst->width, ==, pc->ow);
      g_assert_cmpint (dst->height, ==, pc->oh);
      for (int i = 0; i < pc->ow * pc->oh; i++)
        {
          if (fabsf (dst->data[i] - pc->v[i]) > 2e-6f)
            g_error ("case %dx%d -> %dx%d, value %d: %.9g, Pillow %.9g",
                     pc->w, pc->h, pc->ow, pc->oh, i, dst->data[i], pc->v[i]);
        }
    }
}

static void
test_resize_pil_u8 (void)
{
  for (guint t = 0; t < G_N_ELEMENTS (pil_u8_cases); t++)
    {
      const PilU8Case *pc = &pil_u8_cases[t];
      g_autoptr(P2pImage) src = p2p_image_new (pc->w, pc->h, 3, NULL);
      g_autoptr(P2pImage) dst = NULL;
      int n = pc->ow * pc->oh * 3, equal = 0;

      for (int y = 0; y < pc->h; y++)
        for (int x = 0; x < pc->w; x++)
          for (int c = 0; c < 3; c++)
            src->data[(y * pc->w + x) * 3 + c] = pil_u8_value (x, y, c) / 255.0f;
      dst = p2p_image_resize_bicubic_clamped (src, pc->ow, pc->oh, NULL);
      g_assert_nonnull (dst);
      for (int i = 0; i < n; i++)
        {
          double v = CLAMP (dst->data[i] * 255.0, 0.0, 255.0);
          int ours = (int) floor (v + 0.5);

          g_assert_cmpint (abs (ours - pc->v[i]), <=, 1);
          equal += ours == pc->v[i];
        }
      /* Pillow rounds the intermediate image to 8 bits: about 1 value in 6
       * differs by one level here (90 of 108 equal in the first case). */
      g_assert_cmpint (equal, >=, n * 3 / 4);
    }
}

static void
test_resize_naive (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);

  for (int t = 0; t < 300; t++)
    {
      int w = g_rand_int_range (rand, 1, 30), h = g_rand_int_range (rand, 1, 30);
      int ow = g_rand_int_range (rand, 1, 45), oh = g_rand_int_range (rand, 1, 45);
      int ch = g_rand_int_range (rand, 1, 5);
      g_autoptr(P2pImage) src = random_image (rand, w, h, ch);
      g_autoptr(P2pImage) ref = naive_resize (src, ow, oh);
      g_autoptr(P2pImage) dst = p2p_image_resize_bicubic (src, ow, oh, NULL);
      gsize n = (gsize) ow * oh * ch;

      g_assert_nonnull (dst);
      g_assert_cmpint (dst->channels, ==, ch);
      for (gsize i = 0; i < n; i++)
        if (fabsf (dst->data[i] - ref->data[i]) > 1e-5f)
          g_error ("%dx%dx%d -> %dx%d, value %" G_GSIZE_FORMAT ": %.9g, naive %.9g",
                   w, h, ch, ow, oh, i, dst->data[i], ref->data[i]);
    }
}

static void
test_resize_identity (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  int sizes[][2] = { { 1, 1 }, { 1, 9 }, { 9, 1 }, { 17, 5 }, { 256, 3 } };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    for (int ch = 1; ch <= 4; ch++)
      {
        g_autoptr(P2pImage) src = random_image (rand, sizes[s][0], sizes[s][1], ch);
        g_autoptr(P2pImage) dst = p2p_image_resize_bicubic (src, src->width, src->height, NULL);

        g_assert_nonnull (dst);
        g_assert_true (dst->data != src->data);
        g_assert_cmpmem (dst->data, (gsize) src->width * src->height * ch * sizeof (float),
                         src->data, (gsize) src->width * src->height * ch * sizeof (float));
      }
}

static void
test_resize_constant (void)
{
  int sizes[][4] = {
    { 1, 1, 256, 256 }, { 256, 256, 1, 1 }, { 1, 7, 300, 2 }, { 33, 17, 256, 256 },
    { 256, 256, 33, 17 }, { 2, 2, 3, 3 }, { 1000, 3, 7, 700 },
  };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autoptr(P2pImage) src = p2p_image_new (sizes[s][0], sizes[s][1], 3, NULL);
      g_autoptr(P2pImage) dst = NULL;
      gsize n = (gsize) sizes[s][0] * sizes[s][1];

      for (gsize p = 0; p < n; p++)
        {
          src->data[p * 3] = 0.25f;
          src->data[p * 3 + 1] = 0.8f;
          src->data[p * 3 + 2] = 1.0f;
        }
      dst = p2p_image_resize_bicubic (src, sizes[s][2], sizes[s][3], NULL);
      g_assert_nonnull (dst);
      n = (gsize) sizes[s][2] * sizes[s][3];
      for (gsize p = 0; p < n; p++)
        {
          g_assert_cmpfloat_with_epsilon (dst->data[p * 3], 0.25f, 1e-6);
          g_assert_cmpfloat_with_epsilon (dst->data[p * 3 + 1], 0.8f, 1e-6);
          g_assert_cmpfloat_with_epsilon (dst->data[p * 3 + 2], 1.0f, 1e-6);
        }
    }
}

static void
test_resize_bad_size (void)
{
  g_autoptr(P2pImage) src = p2p_image_new (4, 4, 1, NULL);
  g_autoptr(GError) error = NULL;
  P2pImage *dst;

  dst = p2p_image_resize_bicubic (src, 0, 4, &error);
  g_assert_null (dst);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  dst = p2p_image_resize_bicubic (src, 4, P2P_IMAGE_MAX_BUFFER_SIDE + 1, &error);
  g_assert_null (dst);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
}

/* Reflection by walking: mirror at each end until inside. */
static int
naive_reflect (int i, int n)
{
  if (n == 1)
    return 0;
  while (i < 0 || i >= n)
    {
      if (i < 0)
        i = -i;
      if (i >= n)
        i = 2 * (n - 1) - i;
    }
  return i;
}

static void
test_reflect_index (void)
{
  /* PyTorch ReflectionPad / F.pad(mode='reflect') facts for pads < n. */
  g_assert_cmpint (p2p_reflect_index (-1, 4), ==, 1);
  g_assert_cmpint (p2p_reflect_index (-3, 4), ==, 3);
  g_assert_cmpint (p2p_reflect_index (4, 4), ==, 2);
  g_assert_cmpint (p2p_reflect_index (6, 4), ==, 0);
  g_assert_cmpint (p2p_reflect_index (0, 4), ==, 0);
  g_assert_cmpint (p2p_reflect_index (3, 4), ==, 3);
  g_assert_cmpint (p2p_reflect_index (-1, 2), ==, 1);
  g_assert_cmpint (p2p_reflect_index (2, 2), ==, 0);
  g_assert_cmpint (p2p_reflect_index (-200, 1), ==, 0);
  g_assert_cmpint (p2p_reflect_index (77, 1), ==, 0);

  for (int n = 1; n < 12; n++)
    for (int i = -60; i < 60; i++)
      g_assert_cmpint (p2p_reflect_index (i, n), ==, naive_reflect (i, n));
}

static void
test_pad_crop (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  int cases[][6] = {
    /* w, h, left, top, new w, new h */
    { 3, 2, 2, 1, 8, 5 }, { 1, 1, 127, 127, 256, 256 }, { 1, 5, 3, 0, 8, 5 },
    { 5, 3, 0, 0, 5, 3 }, { 7, 7, 12, 3, 32, 16 }, { 2, 9, 100, 1, 256, 10 },
  };

  for (guint t = 0; t < G_N_ELEMENTS (cases); t++)
    for (int ch = 1; ch <= 4; ch += 1)
      {
        int *c = cases[t];
        g_autoptr(P2pImage) src = random_image (rand, c[0], c[1], ch);
        g_autoptr(P2pImage) pad = p2p_image_pad_reflect (src, c[2], c[3], c[4], c[5], NULL);
        g_autoptr(P2pImage) back = NULL;

        g_assert_nonnull (pad);
        g_assert_cmpint (pad->width, ==, c[4]);
        g_assert_cmpint (pad->height, ==, c[5]);
        for (int y = 0; y < c[5]; y++)
          for (int x = 0; x < c[4]; x++)
            for (int k = 0; k < ch; k++)
              {
                int sx = naive_reflect (x - c[2], c[0]), sy = naive_reflect (y - c[3], c[1]);

                g_assert_cmpfloat (pad->data[((gsize) y * c[4] + x) * ch + k], ==,
                                   src->data[((gsize) sy * c[0] + sx) * ch + k]);
              }
        back = p2p_image_crop (pad, c[2], c[3], c[0], c[1], NULL);
        g_assert_nonnull (back);
        g_assert_cmpmem (back->data, (gsize) c[0] * c[1] * ch * sizeof (float),
                         src->data, (gsize) c[0] * c[1] * ch * sizeof (float));
      }
}

static void
test_tensor_conversions (void)
{
  g_autoptr(P2pImage) rgba = p2p_image_new (2, 1, 4, NULL);
  g_autoptr(P2pImage) ga = p2p_image_new (2, 1, 2, NULL);
  g_autoptr(P2pTensor) t3 = NULL;
  g_autoptr(P2pTensor) t1 = NULL;
  g_autoptr(P2pTensor) g3 = NULL;
  g_autoptr(P2pImage) back = NULL;
  g_autoptr(P2pTensor) one = NULL;
  g_autoptr(P2pImage) tiled = NULL;
  const float px[8] = { 0.0f, 0.5f, 1.0f, 0.3f,   0.2f, 0.4f, 0.6f, 0.9f };

  memcpy (rgba->data, px, sizeof px);
  ga->data[0] = 0.25f;
  ga->data[1] = 0.7f;
  ga->data[2] = 1.0f;
  ga->data[3] = 0.1f;

  /* RGB: v * 2 - 1, planar, alpha ignored. */
  t3 = p2p_image_to_tensor (rgba, 3, NULL);
  g_assert_cmpint (t3->c, ==, 3);
  g_assert_cmpint (t3->h, ==, 1);
  g_assert_cmpint (t3->w, ==, 2);
  g_assert_cmpfloat (t3->data[0], ==, -1.0f);
  g_assert_cmpfloat (t3->data[1], ==, 0.2f * 2 - 1);
  g_assert_cmpfloat (t3->data[2], ==, 0.0f);
  g_assert_cmpfloat (t3->data[3], ==, 0.4f * 2 - 1);
  g_assert_cmpfloat (t3->data[4], ==, 1.0f);
  g_assert_cmpfloat (t3->data[5], ==, 0.6f * 2 - 1);

  /* RGB -> grey with PIL's convert('L') weights. */
  t1 = p2p_image_to_tensor (rgba, 1, NULL);
  g_assert_cmpint (t1->c, ==, 1);
  g_assert_cmpfloat_with_epsilon (t1->data[0], (0.587 * 0.5 + 0.114) * 2 - 1, 1e-6);
  g_assert_cmpfloat_with_epsilon (t1->data[1], (0.299 * 0.2 + 0.587 * 0.4 + 0.114 * 0.6) * 2 - 1,
                                  1e-6);

  /* Grey (+ alpha) -> RGB replicated. */
  g3 = p2p_image_to_tensor (ga, 3, NULL);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat (g3->data[c * 2], ==, -0.5f);
      g_assert_cmpfloat (g3->data[c * 2 + 1], ==, 1.0f);
    }

  /* Out-of-range input (float images) is clamped to [0, 1] first. */
  {
    g_autoptr(P2pImage) hdr = p2p_image_new (1, 1, 3, NULL);
    g_autoptr(P2pTensor) th = NULL;

    hdr->data[0] = 1.5f;
    hdr->data[1] = -0.25f;
    hdr->data[2] = NAN;
    th = p2p_image_to_tensor (hdr, 3, NULL);
    g_assert_cmpfloat (th->data[0], ==, 1.0f);
    g_assert_cmpfloat (th->data[1], ==, -1.0f);
    g_assert_cmpfloat (th->data[2], ==, -1.0f);
  }

  /* Back: (y + 1) / 2; a one-channel output is tiled to RGB. */
  back = p2p_tensor_to_rgb_image (t3, NULL);
  g_assert_cmpint (back->channels, ==, 3);
  for (int p = 0; p < 2; p++)
    for (int c = 0; c < 3; c++)
      g_assert_cmpfloat_with_epsilon (back->data[p * 3 + c], px[p * 4 + c], 1e-7);
  one = p2p_tensor_new (1, 1, 2, NULL);
  one->data[0] = -1.0f;
  one->data[1] = 0.5f;
  tiled = p2p_tensor_to_rgb_image (one, NULL);
  for (int c = 0; c < 3; c++)
    {
      g_assert_cmpfloat (tiled->data[c], ==, 0.0f);
      g_assert_cmpfloat (tiled->data[3 + c], ==, 0.75f);
    }
}

static void
test_tensor_affine (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  g_autoptr(P2pImage) src = random_image (rand, 5, 3, 2);
  g_autoptr(P2pTensor) t = p2p_image_to_tensor_affine (src, 2.0, -1.0, NULL);
  g_autoptr(P2pImage) back = p2p_tensor_to_image (t, 0.5, 0.5, NULL);

  g_assert_cmpint (t->c, ==, 2);
  for (int c = 0; c < 2; c++)
    for (int p = 0; p < 15; p++)
      g_assert_cmpfloat_with_epsilon (t->data[c * 15 + p], src->data[p * 2 + c] * 2.0 - 1.0, 1e-6);
  g_assert_cmpint (back->channels, ==, 2);
  for (int i = 0; i < 30; i++)
    g_assert_cmpfloat_with_epsilon (back->data[i], src->data[i], 1e-6);
}

static void
test_clamp_alpha (void)
{
  g_autoptr(P2pImage) im = p2p_image_new (2, 1, 4, NULL);
  g_autoptr(P2pImage) rgb = NULL;
  const float v[8] = { -0.5f, 1.5f, NAN, 2.0f,   0.25f, 1.0f, 0.0f, -3.0f };

  memcpy (im->data, v, sizeof v);
  p2p_image_clamp (im, 0, 3);
  g_assert_cmpfloat (im->data[0], ==, 0.0f);
  g_assert_cmpfloat (im->data[1], ==, 1.0f);
  g_assert_cmpfloat (im->data[2], ==, 0.0f);
  g_assert_cmpfloat (im->data[3], ==, 2.0f);     /* alpha untouched */
  g_assert_cmpfloat (im->data[4], ==, 0.25f);
  g_assert_cmpfloat (im->data[7], ==, -3.0f);

  g_assert_true (p2p_image_has_alpha (im));
  rgb = p2p_image_strip_alpha (im, NULL);
  g_assert_cmpint (rgb->channels, ==, 3);
  g_assert_false (p2p_image_has_alpha (rgb));
  g_assert_cmpfloat (rgb->data[3], ==, 0.25f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/image/new", test_image_new);
  g_test_add_func ("/resize/pil-float", test_resize_pil_float);
  g_test_add_func ("/resize/pil-u8", test_resize_pil_u8);
  g_test_add_func ("/resize/naive", test_resize_naive);
  g_test_add_func ("/resize/identity", test_resize_identity);
  g_test_add_func ("/resize/constant", test_resize_constant);
  g_test_add_func ("/resize/bad-size", test_resize_bad_size);
  g_test_add_func ("/pad/reflect-index", test_reflect_index);
  g_test_add_func ("/pad/reflect-and-crop", test_pad_crop);
  g_test_add_func ("/tensor/conversions", test_tensor_conversions);
  g_test_add_func ("/tensor/affine", test_tensor_affine);
  g_test_add_func ("/image/clamp-and-alpha", test_clamp_alpha);

  return g_test_run ();
}
