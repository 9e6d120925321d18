/* norm.c - instance / batch normalisation.
 *
 * Per-image statistics (InstanceNorm, and BatchNorm in train mode at batch
 * size 1, which is what the official pix2pix test does):
 *   y = (x - mean_hw) / sqrt(var_hw + eps) * gamma + beta,  var biased.
 * Running statistics (BatchNorm eval mode):
 *   y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
 * Both are "statistics, then apply"; the two halves are separate so that the
 * tiled pipeline can apply statistics measured on another image.
 * Sums are accumulated in double: a 1024x1024 channel has a million terms.
 */
#include <math.h>

#include "p2p-ops.h"

void
p2p_norm_statistics (const P2pTensor *t, double *mean, double *var)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      const float *x = t->data + (gsize) c * hw;
      double sum = 0.0, sq = 0.0;
      for (gsize i = 0; i < hw; i++)
        sum += x[i];
      const double m = sum / (double) hw;
      for (gsize i = 0; i < hw; i++)
        {
          const double d = x[i] - m;
          sq += d * d;
        }
      mean[c] = m;
      var[c] = sq / (double) hw;
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
      else
#pragma omp simd
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
