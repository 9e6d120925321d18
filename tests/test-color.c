/* test-color.c - sRGB <-> Lab as scikit-image's rgb2lab / lab2rgb.
 *
 * Expected values come from an independent float64 numpy implementation of
 * the skimage formulas (pix2pix-reference.md §5.4; scikit-image is not
 * installed on the development machine), run once with Debian's
 * python3-numpy 1.24 and pasted here:
 *
 *   M = [[0.412453, 0.357580, 0.180423], [0.212671, 0.715160, 0.072169],
 *        [0.019334, 0.119193, 0.950227]];  W = [0.95047, 1.0, 1.08883]
 *   rgb2lab: masked gamma decode, xyz = rgb @ M.T, t = xyz / W,
 *            f = cbrt(t) if t > 0.008856 else 7.787 t + 16/116,
 *            L = 116 fy - 16, a = 500 (fx - fy), b = 200 (fy - fz)
 *   lab2rgb: y = (L + 16) / 116, x = a / 500 + y, z = y - b / 200, z < 0 -> 0,
 *            t^3 if t > 0.2068966 else (t - 16/116) / 7.787, times W,
 *            rgb = xyz @ inv(M).T, gamma encode, np.clip(0, 1)
 */
#include <math.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"

typedef struct {
  double in[3];
  double out[3];
} ColorCase;

static const ColorCase rgb2lab_cases[] = {
  { { 0, 0, 0 }, { 0, 0, 0 } },
  { { 1, 1, 1 }, { 100, -0.0024549378619953544, 0.0046534211540549819 } },
  { { 1, 0, 0 }, { 53.240587943744885, 80.09230822569225, 67.20275104442868 } },
  { { 0, 1, 0 }, { 87.735099488318951, -86.183029744395014, 83.179703175384503 } },
  { { 0, 0, 1 }, { 32.295672565013518, 79.185590911765587, -107.85730020669489 } },
  { { 0.5, 0.5, 0.5 }, { 53.388964741114307, -0.0014684965237710124, 0.0027835868654069174 } },
  { { 0.02, 0.03, 0.04 }, { 1.9991963370092876, -0.31239466545621153, -1.1996808574004925 } },
  { { 0.2, 0.6, 0.9 }, { 60.92953202887729, -3.0601553174189888, -46.837653637657972 } },
  { { 0.9, 0.8, 0.1 }, { 81.83907275201247, -6.9674205018535051, 79.450349150172187 } },
  { { 0.04045, 0.5, 0.003 }, { 46.144435813471262, -50.703535918658339, 49.705806883139935 } },
  { { 123 / 255., 45 / 255., 67 / 255. },
    { 30.626305087040649, 36.011150081811991, 4.1594678356680177 } },
  { { 0.001, 0, 0 }, { 0.014868731651080935, 0.066682324095415635, 0.023495322785194173 } },
};

static const ColorCase lab2rgb_cases[] = {
  { { 50, 0, 0 }, { 0.46632823364204584, 0.46632434773601533, 0.46634423289776322 } },
  { { 0, 0, 0 }, { 0, 0, 0 } },
  { { 100, 0, 0 }, { 1, 0.99999542334384384, 1 } },
  { { 53.24, 80.09, 67.2 }, { 0.99998068998102541, 6.7945595271585944e-05, 2.9284833983685042e-05 } },
  { { 75, -40, 30 }, { 0.48012376157497832, 0.79486003355896129, 0.4999941030901533 } },
  { { 30, 20, -60 }, { 0, 0.26157005705072489, 0.65052984958461968 } },
  /* z < 0, clamped */
  { { 10, 0, 100 }, { 0.17919118581525872, 0.099524061875285286, 0 } },
  { { 60, 90, -90 }, { 0.81478392333749106, 0.2527938299773706, 1 } },
  { { 5, -3, 2 }, { 0.049142838040518451, 0.071775477206786092, 0.050891307116000949 } },
  { { 90, 10, 120 }, { 1, 0.84488767515507479, 0 } },
  { { 40, -128, 127 }, { 0, 0.48399391830021538, 0 } },
  { { 0.5, 1, -1 }, { 0.012868949034401297, 0.0044698871943312573, 0.01687818813703524 } },
};

static void
test_rgb2lab (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (rgb2lab_cases); i++)
    {
      const ColorCase *c = &rgb2lab_cases[i];
      double lab[3];

      p2p_srgb_to_lab (c->in, lab);
      for (int k = 0; k < 3; k++)
        if (fabs (lab[k] - c->out[k]) > 1e-9)
          g_error ("rgb2lab case %u, component %d: %.17g, expected %.17g", i, k, lab[k], c->out[k]);
    }
}

static void
test_lab2rgb (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (lab2rgb_cases); i++)
    {
      const ColorCase *c = &lab2rgb_cases[i];
      double rgb[3];

      p2p_lab_to_srgb (c->in, rgb);
      for (int k = 0; k < 3; k++)
        if (fabs (rgb[k] - c->out[k]) > 1e-9)
          g_error ("lab2rgb case %u, component %d: %.17g, expected %.17g", i, k, rgb[k], c->out[k]);
    }
}

static void
test_round_trip (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (5);
  double worst = 0;

  /* lab2rgb inverts rgb2lab up to rounding and the tiny mismatch of the
   * two linear segments' thresholds (0.008856 vs 0.2068966): measured
   * worst error 2.4e-14. */
  for (int i = 0; i < 100000; i++)
    {
      double rgb[3], lab[3], back[3];

      for (int k = 0; k < 3; k++)
        rgb[k] = i < 256 ? i / 255.0 : g_rand_double (rand);
      p2p_srgb_to_lab (rgb, lab);
      g_assert_cmpfloat (lab[0], >=, 0.0);
      g_assert_cmpfloat (lab[0], <=, 100.0 + 1e-9);
      p2p_lab_to_srgb (lab, back);
      for (int k = 0; k < 3; k++)
        worst = MAX (worst, fabs (back[k] - rgb[k]));
    }
  g_test_message ("worst round-trip error %g", worst);
  g_assert_cmpfloat (worst, <, 1e-9);
}

static void
test_clipping (void)
{
  double rgb[3];
  const double nan_lab[3] = { NAN, 0, 0 };
  const double far[3] = { 50, 500, -500 };

  p2p_lab_to_srgb (far, rgb);
  for (int k = 0; k < 3; k++)
    {
      g_assert_cmpfloat (rgb[k], >=, 0.0);
      g_assert_cmpfloat (rgb[k], <=, 1.0);
    }
  p2p_lab_to_srgb (nan_lab, rgb);
  for (int k = 0; k < 3; k++)
    g_assert_cmpfloat (rgb[k], ==, 0.0);
}

static void
test_lightness_image (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (9);

  for (int ch = 1; ch <= 4; ch++)
    {
      g_autoptr(P2pImage) im = p2p_image_new (7, 3, ch, NULL);
      g_autoptr(P2pImage) l = NULL;

      for (int i = 0; i < 7 * 3 * ch; i++)
        im->data[i] = (float) g_rand_double (rand);
      l = p2p_image_lab_lightness (im, NULL);
      g_assert_nonnull (l);
      g_assert_cmpint (l->channels, ==, 1);
      g_assert_cmpint (l->width, ==, 7);
      g_assert_cmpint (l->height, ==, 3);
      for (int p = 0; p < 21; p++)
        {
          const float *px = im->data + p * ch;
          double rgb[3], lab[3];

          /* Grey is R = G = B; alpha is ignored. */
          for (int k = 0; k < 3; k++)
            rgb[k] = ch <= 2 ? px[0] : px[k];
          p2p_srgb_to_lab (rgb, lab);
          g_assert_cmpfloat_with_epsilon (l->data[p], lab[0], 1e-4);
        }
    }
}

/* 8-bit values take a table path in p2p_image_lab_lightness(): same L. */
static void
test_lightness_8bit (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (21);
  g_autoptr(P2pImage) im = p2p_image_new (256, 2, 3, NULL);
  g_autoptr(P2pImage) l = NULL;

  for (int x = 0; x < 256; x++)
    for (int c = 0; c < 3; c++)
      {
        im->data[x * 3 + c] = (float) x / 255.0f;                              /* greys */
        im->data[(256 + x) * 3 + c] = (float) g_rand_int_range (rand, 0, 256) / 255.0f;
      }
  l = p2p_image_lab_lightness (im, NULL);
  for (int p = 0; p < 512; p++)
    {
      double rgb[3] = { im->data[p * 3], im->data[p * 3 + 1], im->data[p * 3 + 2] }, lab[3];

      p2p_srgb_to_lab (rgb, lab);
      g_assert_cmpfloat_with_epsilon (l->data[p], lab[0], 1e-5);
    }
  /* Known greys (numpy reference above): 0 -> 0, 255 -> 100. */
  g_assert_cmpfloat_with_epsilon (l->data[0], 0.0, 1e-6);
  g_assert_cmpfloat_with_epsilon (l->data[255], 100.0, 1e-4);
}

static void
test_planes (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (13);
  g_autoptr(P2pImage) rgb = p2p_image_new (16, 16, 3, NULL);
  g_autoptr(P2pImage) l = NULL;
  g_autoptr(P2pImage) ab = p2p_image_new (16, 16, 2, NULL);
  g_autoptr(P2pImage) out = p2p_image_new (16, 16, 4, NULL);
  g_autoptr(P2pImage) grey = p2p_image_new (16, 16, 3, NULL);

  for (int i = 0; i < 256 * 3; i++)
    rgb->data[i] = (float) g_rand_double_range (rand, 0.05, 0.95);
  /* ab of the image itself: planes -> sRGB gives the image back. */
  l = p2p_image_lab_lightness (rgb, NULL);
  for (int p = 0; p < 256; p++)
    {
      double in[3] = { rgb->data[p * 3], rgb->data[p * 3 + 1], rgb->data[p * 3 + 2] }, lab[3];

      p2p_srgb_to_lab (in, lab);
      ab->data[p * 2] = (float) lab[1];
      ab->data[p * 2 + 1] = (float) lab[2];
      out->data[p * 4 + 3] = 0.5f;
    }
  p2p_lab_planes_to_srgb (l, ab, 1.0, out);
  for (int p = 0; p < 256; p++)
    {
      for (int k = 0; k < 3; k++)
        g_assert_cmpfloat_with_epsilon (out->data[p * 4 + k], rgb->data[p * 3 + k], 2e-5);
      g_assert_cmpfloat (out->data[p * 4 + 3], ==, 0.5f);
    }

  /* Chroma 0: neutral grey of the same L.  R, G and B differ by ~1e-5 only
   * because skimage's matrix rows do not sum exactly to the white point. */
  p2p_lab_planes_to_srgb (l, ab, 0.0, grey);
  for (int p = 0; p < 256; p++)
    {
      double px[3] = { grey->data[p * 3], grey->data[p * 3 + 1], grey->data[p * 3 + 2] }, lab[3];

      g_assert_cmpfloat_with_epsilon (px[0], px[1], 1e-4);
      g_assert_cmpfloat_with_epsilon (px[1], px[2], 1e-4);
      p2p_srgb_to_lab (px, lab);
      g_assert_cmpfloat_with_epsilon (lab[0], l->data[p], 1e-3);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/color/rgb2lab", test_rgb2lab);
  g_test_add_func ("/color/lab2rgb", test_lab2rgb);
  g_test_add_func ("/color/round-trip", test_round_trip);
  g_test_add_func ("/color/clipping", test_clipping);
  g_test_add_func ("/color/lightness-image", test_lightness_image);
  g_test_add_func ("/color/lightness-8bit", test_lightness_8bit);
  g_test_add_func ("/color/planes", test_planes);

  return g_test_run ();
}
