/* activation.c - element-wise ReLU, LeakyReLU, Tanh and Dropout, in place. */
#include <math.h>

#include "p2p-ops.h"

void
p2p_relu (P2pTensor *t)
{
  const gsize n = p2p_tensor_numel (t);
  float *x = t->data;

#pragma omp parallel for simd schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void
p2p_leaky_relu (P2pTensor *t, float slope)
{
  const gsize n = p2p_tensor_numel (t);
  float *x = t->data;

#pragma omp parallel for simd schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
}

void
p2p_tanh (P2pTensor *t)
{
  const gsize n = p2p_tensor_numel (t);
  float *x = t->data;

#pragma omp parallel for schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < n; i++)
    x[i] = tanhf (x[i]);
}

/* splitmix64: small, fast, and the same sequence on every platform. */
static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Train-mode Dropout(p = 0.5): zero with probability 1/2, survivors x2.
 * Serial on purpose: the mask depends only on the seed, not on threads. */
void
p2p_dropout (P2pTensor *t, guint64 *rng_state)
{
  const gsize n = p2p_tensor_numel (t);
  float *x = t->data;
  guint64 bits = 0;

  for (gsize i = 0; i < n; i++)
    {
      if ((i & 63) == 0)
        bits = splitmix64 (rng_state);
      x[i] = (bits & 1) ? x[i] * 2.0f : 0.0f;
      bits >>= 1;
    }
}
