/* p2p-color.c - sRGB <-> CIE Lab as scikit-image computes it.
 *
 * The colorization model was trained on skimage.color.rgb2lab output and
 * its results are turned back with skimage.color.lab2rgb, so we use their
 * exact constants (D65 white (0.95047, 1, 1.08883), 2 degree observer, the
 * sRGB matrix with six decimals, the 0.008856 / 7.787 linear segment) rather
 * than the CIE-exact ones; the difference would shift every colour a little.
 * Everything is double per pixel, as skimage works in float64.
 */
#include <math.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"

static const double xyz_from_rgb[3][3] = {
  { 0.412453, 0.357580, 0.180423 },
  { 0.212671, 0.715160, 0.072169 },
  { 0.019334, 0.119193, 0.950227 },
};

static const double white_d65[3] = { 0.95047, 1.0, 1.08883 };

/* skimage uses numpy's inverse of xyz_from_rgb; the adjugate formula gives
 * the same matrix to the last bit or two, far below what matters here. */
static double rgb_from_xyz[3][3];

static void
p2p_color_init_inverse (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      const double (*m)[3] = xyz_from_rgb;
      double det, adj[3][3];

      adj[0][0] = m[1][1] * m[2][2] - m[1][2] * m[2][1];
      adj[0][1] = m[0][2] * m[2][1] - m[0][1] * m[2][2];
      adj[0][2] = m[0][1] * m[1][2] - m[0][2] * m[1][1];
      adj[1][0] = m[1][2] * m[2][0] - m[1][0] * m[2][2];
      adj[1][1] = m[0][0] * m[2][2] - m[0][2] * m[2][0];
      adj[1][2] = m[0][2] * m[1][0] - m[0][0] * m[1][2];
      adj[2][0] = m[1][0] * m[2][1] - m[1][1] * m[2][0];
      adj[2][1] = m[0][1] * m[2][0] - m[0][0] * m[2][1];
      adj[2][2] = m[0][0] * m[1][1] - m[0][1] * m[1][0];
      det = m[0][0] * adj[0][0] + m[0][1] * adj[1][0] + m[0][2] * adj[2][0];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
          rgb_from_xyz[i][j] = adj[i][j] / det;
      g_once_init_leave (&done, 1);
    }
}

static inline double
p2p_srgb_decode (double c)
{
  return c > 0.04045 ? pow ((c + 0.055) / 1.055, 2.4) : c / 12.92;
}

static inline double
p2p_srgb_encode (double v)
{
  return v > 0.0031308 ? 1.055 * pow (v, 1.0 / 2.4) - 0.055 : 12.92 * v;
}

static inline double
p2p_lab_f (double t)
{
  return t > 0.008856 ? cbrt (t) : 7.787 * t + 16.0 / 116.0;
}

static inline double
p2p_lab_finv (double t)
{
  return t > 0.2068966 ? t * t * t : (t - 16.0 / 116.0) / 7.787;
}

/* Most images come from 8 bits (k / 255.0f exactly).  For those the
 * decoded value is looked up instead of computed: the table holds
 * p2p_srgb_decode() of the very same float, so the result is identical. */
static float  decode_key[256];
static double decode_lut[256];

static void
p2p_color_init_decode (void)
{
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      for (int k = 0; k < 256; k++)
        {
          decode_key[k] = (float) k / 255.0f;
          decode_lut[k] = p2p_srgb_decode (decode_key[k]);
        }
      g_once_init_leave (&done, 1);
    }
}

static inline double
p2p_srgb_decode_float (float v)
{
  if (v >= 0.0f && v <= 1.0f)
    {
      int k = (int) (v * 255.0f + 0.5f);

      if (decode_key[k] == v)
        return decode_lut[k];
    }
  return p2p_srgb_decode (v);
}

/* L alone needs only Y: the same operations as in p2p_srgb_to_lab(), so
 * the same bits, at a third of the cube roots. */
static inline double
p2p_srgb_to_lightness (const float rgb[3])
{
  double y = xyz_from_rgb[1][0] * p2p_srgb_decode_float (rgb[0]) +
             xyz_from_rgb[1][1] * p2p_srgb_decode_float (rgb[1]) +
             xyz_from_rgb[1][2] * p2p_srgb_decode_float (rgb[2]);

  return 116.0 * p2p_lab_f (y / white_d65[1]) - 16.0;
}

void
p2p_srgb_to_lab (const double rgb[3], double lab[3])
{
  double lin[3], f[3];

  for (int i = 0; i < 3; i++)
    lin[i] = p2p_srgb_decode (rgb[i]);
  for (int i = 0; i < 3; i++)
    {
      double xyz = xyz_from_rgb[i][0] * lin[0] + xyz_from_rgb[i][1] * lin[1] +
                   xyz_from_rgb[i][2] * lin[2];

      f[i] = p2p_lab_f (xyz / white_d65[i]);
    }
  lab[0] = 116.0 * f[1] - 16.0;
  lab[1] = 500.0 * (f[0] - f[1]);
  lab[2] = 200.0 * (f[1] - f[2]);
}

void
p2p_lab_to_srgb (const double lab[3], double rgb[3])
{
  double f[3], xyz[3];

  p2p_color_init_inverse ();

  f[1] = (lab[0] + 16.0) / 116.0;
  f[0] = lab[1] / 500.0 + f[1];
  f[2] = f[1] - lab[2] / 200.0;
  /* lab2xyz sets negative z to 0 (with a warning) before inverting f. */
  if (f[2] < 0.0)
    f[2] = 0.0;
  for (int i = 0; i < 3; i++)
    xyz[i] = p2p_lab_finv (f[i]) * white_d65[i];
  for (int i = 0; i < 3; i++)
    {
      double v = rgb_from_xyz[i][0] * xyz[0] + rgb_from_xyz[i][1] * xyz[1] +
                 rgb_from_xyz[i][2] * xyz[2];

      v = p2p_srgb_encode (v);
      /* np.clip (arr, 0, 1); NaN (from NaN input) becomes 0 here. */
      rgb[i] = v > 1.0 ? 1.0 : (v >= 0.0 ? v : 0.0);
    }
}

P2pImage *
p2p_image_lab_lightness (const P2pImage *src, GError **error)
{
  const gsize n = (gsize) src->width * src->height;
  const int ch = src->channels;
  P2pImage *dst;

  dst = p2p_image_new (src->width, src->height, 1, error);
  if (!dst)
    return NULL;

  p2p_color_init_decode ();
#pragma omp parallel for schedule(static) if (n > P2P_PARALLEL_MIN)
  for (gsize p = 0; p < n; p++)
    {
      const float *px = src->data + p * ch;
      float rgb[3];

      if (ch <= 2)
        rgb[0] = rgb[1] = rgb[2] = px[0];
      else
        {
          rgb[0] = px[0];
          rgb[1] = px[1];
          rgb[2] = px[2];
        }
      dst->data[p] = (float) p2p_srgb_to_lightness (rgb);
    }
  return dst;
}

void
p2p_lab_planes_to_srgb (const P2pImage *l,
                        const P2pImage *ab,
                        double          chroma,
                        P2pImage       *dst)
{
  const gsize n = (gsize) dst->width * dst->height;
  const int ch = dst->channels;

  g_return_if_fail (l->channels == 1 && ab->channels == 2 && ch >= 3);
  g_return_if_fail (l->width == dst->width && l->height == dst->height);
  g_return_if_fail (ab->width == dst->width && ab->height == dst->height);

  p2p_color_init_inverse ();
#pragma omp parallel for schedule(static) if (n > P2P_PARALLEL_MIN)
  for (gsize p = 0; p < n; p++)
    {
      double lab[3], rgb[3];

      lab[0] = l->data[p];
      lab[1] = ab->data[2 * p] * chroma;
      lab[2] = ab->data[2 * p + 1] * chroma;
      p2p_lab_to_srgb (lab, rgb);
      for (int c = 0; c < 3; c++)
        dst->data[p * ch + c] = (float) rgb[c];
    }
}
