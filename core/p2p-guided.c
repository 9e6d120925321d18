/* p2p-guided.c - edge-aware upsampling of colour planes (fast guided filter).
 *
 * The colorize network predicts a and b at its own, small resolution; the
 * output keeps the input's full-resolution L.  Upsampling a and b with a
 * plain interpolator lets colour bleed across the edges of L.  The guided
 * filter (He, Sun, Tang; "fast" variant of He and Sun 2015) models each
 * colour plane p locally as a linear function of the guide I:
 *
 *   q = A * I + B,   A = cov(I, p) / (var(I) + eps),   B = mean(p) - A * mean(I)
 *
 * with means over (2r+1)^2 windows centred on each pixel.  A and B are computed at the low
 * resolution, where p is known, then interpolated (bilinear) to full size
 * and applied to the full-resolution guide, pixel by pixel: colour edges
 * snap to the edges of L.  Memory: a few low-resolution planes; the full
 * resolution output is written row by row.
 */
#include <math.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"

/* Mean over a (2r+1) x (2r+1) window, clipped at the borders (the window
 * shrinks; the mean is over the pixels inside).  Separable running sums. */
static void
box_mean (const float *src, float *dst, int w, int h, int r, float *tmp)
{
  for (int y = 0; y < h; y++)
    {
      const float *row = src + (gsize) y * w;
      float *out = tmp + (gsize) y * w;
      double acc = 0;
      int lo = 0, hi = -1;   /* current window [lo, hi] */
      for (int x = 0; x < w; x++)
        {
          while (hi < MIN (w - 1, x + r))
            acc += row[++hi];
          while (lo < x - r)
            acc -= row[lo++];
          out[x] = (float) (acc / (hi - lo + 1));
        }
    }
  for (int x = 0; x < w; x++)
    {
      double acc = 0;
      int lo = 0, hi = -1;
      for (int y = 0; y < h; y++)
        {
          while (hi < MIN (h - 1, y + r))
            acc += tmp[(gsize) ++hi * w + x];
          while (lo < y - r)
            acc -= tmp[(gsize) lo++ * w + x];
          dst[(gsize) y * w + x] = (float) (acc / (hi - lo + 1));
        }
    }
}

/* Bilinear interpolation at low-resolution position (x, y), pixel centres
 * at integers, clamped to the plane. */
typedef struct {
  gsize  i00, i01, i10, i11;   /* the four neighbours */
  float  w00, w01, w10, w11;
} Bilinear;

static inline void
bilinear_setup (Bilinear *b, int w, int h, double x, double y)
{
  int x0, y0, x1, y1;
  double tx, ty;

  x = CLAMP (x, 0.0, (double) (w - 1));
  y = CLAMP (y, 0.0, (double) (h - 1));
  x0 = (int) x;
  y0 = (int) y;
  x1 = MIN (x0 + 1, w - 1);
  y1 = MIN (y0 + 1, h - 1);
  tx = x - x0;
  ty = y - y0;
  b->i00 = (gsize) y0 * w + x0;
  b->i01 = (gsize) y0 * w + x1;
  b->i10 = (gsize) y1 * w + x0;
  b->i11 = (gsize) y1 * w + x1;
  b->w00 = (float) ((1 - ty) * (1 - tx));
  b->w01 = (float) ((1 - ty) * tx);
  b->w10 = (float) (ty * (1 - tx));
  b->w11 = (float) (ty * tx);
}

static inline float
bilinear (const Bilinear *b, const float *p)
{
  return b->w00 * p[b->i00] + b->w01 * p[b->i01] + b->w10 * p[b->i10] + b->w11 * p[b->i11];
}

P2pImage *
p2p_guided_upsample (const P2pImage *src_low,
                     const P2pImage *guide_low,
                     const P2pImage *guide_full,
                     double          guide_range,
                     int             radius,
                     double          eps,
                     GError        **error)
{
  const int lw = src_low->width, lh = src_low->height, ch = src_low->channels;
  const int W = guide_full->width, H = guide_full->height;
  const gsize ln = (gsize) lw * lh;
  g_autofree float *buf = NULL;
  float *I, *mI, *vI, *p, *mp, *cIp, *tmp, *A, *B, *Lo, *Hi;
  P2pImage *out;

  g_return_val_if_fail (guide_low->width == lw && guide_low->height == lh, NULL);
  g_return_val_if_fail (guide_low->channels == 1 && guide_full->channels == 1, NULL);
  g_return_val_if_fail (guide_range > 0 && radius >= 0 && eps > 0, NULL);

  /* 7 shared planes + A, B, and the local range (lo, hi) for every
   * channel, all at low resolution. */
  buf = g_try_new (float, ln * (7 + 4 * (gsize) ch));
  out = buf ? p2p_image_new (W, H, ch, error) : NULL;
  if (!out)
    {
      if (!buf)
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Not enough memory to upsample the colours"));
      return NULL;
    }
  I = buf;
  mI = I + ln;
  vI = mI + ln;
  p = vI + ln;
  mp = p + ln;
  cIp = mp + ln;
  tmp = cIp + ln;
  A = tmp + ln;
  B = A + ln * ch;
  Lo = B + ln * ch;
  Hi = Lo + ln * ch;

  for (gsize i = 0; i < ln; i++)
    I[i] = (float) (guide_low->data[i] / guide_range);
  box_mean (I, mI, lw, lh, radius, tmp);
  for (gsize i = 0; i < ln; i++)
    p[i] = I[i] * I[i];
  box_mean (p, vI, lw, lh, radius, tmp);
  for (gsize i = 0; i < ln; i++)
    vI[i] = MAX (vI[i] - mI[i] * mI[i], 0.0f);

  for (int c = 0; c < ch; c++)
    {
      float *Ac = A + ln * c, *Bc = B + ln * c;
      for (gsize i = 0; i < ln; i++)
        p[i] = src_low->data[i * ch + c];
      box_mean (p, mp, lw, lh, radius, tmp);
      for (gsize i = 0; i < ln; i++)
        p[i] *= I[i];
      box_mean (p, cIp, lw, lh, radius, tmp);
      for (gsize i = 0; i < ln; i++)
        {
          const float cov = cIp[i] - mI[i] * mp[i];
          Ac[i] = (float) (cov / (vI[i] + eps));
          Bc[i] = mp[i] - Ac[i] * mI[i];
        }
      /* Range of the colour over each window: the guided result may
       * sharpen within it but never invents values outside it. */
      for (int y = 0; y < lh; y++)
        for (int x = 0; x < lw; x++)
          {
            float lo = G_MAXFLOAT, hi = -G_MAXFLOAT;
            for (int yy = MAX (0, y - radius); yy <= MIN (lh - 1, y + radius); yy++)
              for (int xx = MAX (0, x - radius); xx <= MIN (lw - 1, x + radius); xx++)
                {
                  const float v = src_low->data[((gsize) yy * lw + xx) * ch + c];
                  lo = MIN (lo, v);
                  hi = MAX (hi, v);
                }
            Lo[ln * c + (gsize) y * lw + x] = lo;
            Hi[ln * c + (gsize) y * lw + x] = hi;
          }
      /* The classic filter also averages A and B over the windows that
       * cover each pixel; here the bilinear interpolation to full size
       * already smooths them, and averaging would mix the exact
       * coefficients of windows across an edge with the zero slope of flat
       * ones beside it, softening the very edges we want. */
    }

  {
    const double sx = (double) lw / W, sy = (double) lh / H;
#pragma omp parallel for schedule(static) if ((gsize) W * H > P2P_PARALLEL_MIN)
    for (int y = 0; y < H; y++)
      {
        const double ly = (y + 0.5) * sy - 0.5;
        const float *g = guide_full->data + (gsize) y * W;
        float *o = out->data + (gsize) y * W * ch;
        for (int x = 0; x < W; x++)
          {
            const float gi = (float) (g[x] / guide_range);
            Bilinear bl;
            bilinear_setup (&bl, lw, lh, (x + 0.5) * sx - 0.5, ly);
            for (int c = 0; c < ch; c++)
              {
                /* The linear model may overshoot where the guide has
                 * contrast the colour does not: stay within the colour's
                 * range over the windows of the four neighbours. */
                const float *lc = Lo + ln * c, *hc = Hi + ln * c;
                const float lo = MIN (MIN (lc[bl.i00], lc[bl.i01]), MIN (lc[bl.i10], lc[bl.i11]));
                const float hi = MAX (MAX (hc[bl.i00], hc[bl.i01]), MAX (hc[bl.i10], hc[bl.i11]));
                const float q = bilinear (&bl, A + ln * c) * gi + bilinear (&bl, B + ln * c);
                o[(gsize) x * ch + c] = CLAMP (q, lo, hi);
              }
          }
      }
  }
  return out;
}
