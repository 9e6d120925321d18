/* norm.c - instance / batch normalisation.
 *
 * Per-image statistics (InstanceNorm, and BatchNorm in train mode at batch
 * size 1, which is what the official pix2pix test does):
 *   y = (x - mean_hw) / sqrt(var_hw + eps) * gamma + beta,  var biased.
 * Running statistics (BatchNorm eval mode):
 *   y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
 * Both are "statistics, then apply"; the two halves are separate so that the
 * tiled pipeline can apply statistics measured on another image.
 * Sums end in double: a 1024x1024 channel has a million terms (see
 * norm_sum for the float blocks they are made of).
 */
#include <math.h>

#include "p2p-ops.h"

/* Sums over one channel.  A plain double accumulator is one long chain of
 * dependent additions (about a nanosecond per element: the norm cost more
 * than the convolution before it on large layers); instead each block of
 * NORM_BLOCK elements is summed in float over sixteen independent lanes,
 * which vectorise, and the block sums are added in double. */
#define NORM_BLOCK 1024

static inline float
norm_hsum (P2pF4 a, P2pF4 b, P2pF4 c, P2pF4 d)
{
  const P2pF4 s = (a + b) + (c + d);
  return (s[0] + s[1]) + (s[2] + s[3]);
}

/* With @squares: the sum of (x - @shift)^2, else the sum of x - @shift. */
static double
norm_sum (const float *x, gsize n, float shift, gboolean squares)
{
  const P2pF4 sv = { shift, shift, shift, shift };
  double total = 0.0;

  for (gsize i0 = 0; i0 < n; i0 += NORM_BLOCK)
    {
      const gsize m = MIN (NORM_BLOCK, n - i0);
      const float *p = x + i0;
      P2pF4 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };
      float rest = 0.0f;
      gsize i = 0;

      if (squares)
        for (; i + 16 <= m; i += 16)
          {
            const P2pF4 e = p2p_f4_load (p + i) - sv, f = p2p_f4_load (p + i + 4) - sv;
            const P2pF4 g = p2p_f4_load (p + i + 8) - sv, h = p2p_f4_load (p + i + 12) - sv;
            a += e * e;
            b += f * f;
            c += g * g;
            d += h * h;
          }
      else
        for (; i + 16 <= m; i += 16)
          {
            a += p2p_f4_load (p + i) - sv;
            b += p2p_f4_load (p + i + 4) - sv;
            c += p2p_f4_load (p + i + 8) - sv;
            d += p2p_f4_load (p + i + 12) - sv;
          }
      for (; i < m; i++)
        {
          const float e = p[i] - shift;
          rest += squares ? e * e : e;
        }
      total += (double) norm_hsum (a, b, c, d) + rest;
    }
  return total;
}

void
p2p_norm_statistics (const P2pTensor *t, double *mean, double *var)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      const float *x = t->data + (gsize) c * hw;
      /* Shifted by the first value, so that float block sums of a channel
       * far from zero do not lose its variation. */
      const float x0 = x[0];
      const double m = x0 + norm_sum (x, hw, x0, FALSE) / (double) hw;
      const double d = m - (float) m;   /* what the float shift below misses */
      const double sq = norm_sum (x, hw, (float) m, TRUE) / (double) hw;

      mean[c] = m;
      /* E[(x - m')^2] = var + (m - m')^2 with m' = (float) m. */
      var[c] = MAX (sq - d * d, 0.0);
    }
}

/* The normalisation and the activation that follows it in one pass over
 * the data (the separate activation pass cost as much again). */
void
p2p_norm_apply_act (P2pTensor *t, const double *mean, const double *var,
                    const float *gamma, const float *beta, float eps, float slope)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      float *x = t->data + (gsize) c * hw;
      const double inv = 1.0 / sqrt (var[c] + eps);
      const double g = gamma ? gamma[c] : 1.0;
      const float scale = (float) (inv * g);
      const float shift = (float) ((beta ? beta[c] : 0.0) - mean[c] * inv * g);
      if (slope == 1.0f)
        for (gsize i = 0; i < hw; i++)
          x[i] = x[i] * scale + shift;
      else if (slope == 0.0f)
#pragma omp simd
        for (gsize i = 0; i < hw; i++)
          {
            const float y = x[i] * scale + shift;
            x[i] = y > 0.0f ? y : 0.0f;
          }
      else if (slope > 0.0f && slope < 1.0f)
#pragma omp simd
        for (gsize i = 0; i < hw; i++)
          {
            /* max(y, slope y) equals the branchy form below for such
             * slopes but vectorises (a branch on random signs did not). */
            const float y = x[i] * scale + shift;
            const float z = y * slope;
            x[i] = y > z ? y : z;
          }
      else
        for (gsize i = 0; i < hw; i++)
          {
            const float y = x[i] * scale + shift;
            x[i] = y > 0.0f ? y : y * slope;
          }
    }
}

void
p2p_norm_running_act (P2pTensor *t, const float *mean, const float *var,
                      const float *gamma, const float *beta, float eps, float slope)
{
  g_autofree double *m = g_new (double, 2 * (gsize) t->c);
  double *v = m + t->c;

  for (int c = 0; c < t->c; c++)
    {
      m[c] = mean[c];
      v[c] = var[c];
    }
  p2p_norm_apply_act (t, m, v, gamma, beta, eps, slope);
}
