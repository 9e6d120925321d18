/* norm.c - instance / batch normalisation.
 *
 * Per-image statistics (InstanceNorm, and BatchNorm in train mode at batch
 * size 1, which is what the official pix2pix test does):
 *   y = (x - mean_hw) / sqrt(var_hw + eps) * gamma + beta,  var biased.
 * Running statistics (BatchNorm eval mode):
 *   y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta.
 * Sums are accumulated in double: a 1024x1024 channel has a million terms.
 */
#include <math.h>

#include "p2p-ops.h"

void
p2p_norm_instance (P2pTensor *t, const float *gamma, const float *beta, float eps)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      float *x = t->data + (gsize) c * hw;
      double sum = 0.0, sq = 0.0;
      for (gsize i = 0; i < hw; i++)
        sum += x[i];
      const double mean = sum / (double) hw;
      for (gsize i = 0; i < hw; i++)
        {
          const double d = x[i] - mean;
          sq += d * d;
        }
      const double var = sq / (double) hw;
      const double inv = 1.0 / sqrt (var + eps);
      const float scale = (float) (inv * (gamma ? gamma[c] : 1.0f));
      const float shift = (float) ((beta ? beta[c] : 0.0f) - mean * inv * (gamma ? gamma[c] : 1.0f));
      for (gsize i = 0; i < hw; i++)
        x[i] = x[i] * scale + shift;
    }
}

void
p2p_norm_running (P2pTensor *t, const float *mean, const float *var,
                  const float *gamma, const float *beta, float eps)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      float *x = t->data + (gsize) c * hw;
      const double inv = 1.0 / sqrt ((double) var[c] + eps);
      const double g = gamma ? gamma[c] : 1.0;
      const float scale = (float) (inv * g);
      const float shift = (float) ((beta ? beta[c] : 0.0) - mean[c] * inv * g);
      for (gsize i = 0; i < hw; i++)
        x[i] = x[i] * scale + shift;
    }
}
