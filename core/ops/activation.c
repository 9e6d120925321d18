/* activation.c - element-wise ReLU, LeakyReLU, Tanh and Dropout, in place. */
#include <math.h>
#include <string.h>

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

  if (slope > 0.0f && slope < 1.0f)
    {
      /* max(x, slope x): the same for such slopes, and it vectorises; the
       * branchy form ran at scalar speed with a misprediction per random
       * sign (6 ms for a million values). */
#pragma omp parallel for simd schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
      for (gsize i = 0; i < n; i++)
        {
          const float y = x[i] * slope;
          x[i] = x[i] > y ? x[i] : y;
        }
      return;
    }
#pragma omp parallel for schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < n; i++)
    x[i] = x[i] > 0.0f ? x[i] : x[i] * slope;
}

/* tanh for four floats at once, through exp:
 *   tanh |x| = 1 - 2 / (e^(2|x|) + 1),  sign restored from x.
 * e^(2|x|) = 2^t with t = 2|x| log2(e) = n + f, n = round(t), |f| <= 1/2:
 * 2^f by its Taylor polynomial (degree 6, relative error < 2e-7), 2^n put
 * straight into the exponent bits.  |x| is capped at 10, where tanh is 1 in
 * float.  Absolute error < 2e-7 (against double tanh on [-20, 20], tests);
 * NaN stays NaN.  Written with vector types because libm's tanhf is a
 * scalar call (10 ns a value), and GCC will not vectorise the scalar form
 * of this without -fno-trapping-math. */
static inline P2pF4
tanh_v4 (P2pF4 x)
{
  const P2pI4 bits = (P2pI4) x;
  const P2pI4 sign = bits & (gint32) 0x80000000u;
  const P2pF4 ax = (P2pF4) (bits & 0x7fffffff);
  const P2pI4 capped = ax > 10.0f;   /* false for NaN, which passes through */
  const P2pF4 cap = { 10.0f, 10.0f, 10.0f, 10.0f };
  const P2pF4 a = (P2pF4) ((capped & (P2pI4) cap) | (~capped & (P2pI4) ax));
  const P2pF4 t = a * (2.0f * 1.44269504089f);
  const P2pI4 n = __builtin_convertvector (t + 0.5f, P2pI4);
  const P2pF4 f = t - __builtin_convertvector (n, P2pF4);
  P2pF4 p = f * 1.5403530e-4f + 1.3333558e-3f;
  p = p * f + 9.6181291e-3f;
  p = p * f + 5.5504109e-2f;
  p = p * f + 2.4022651e-1f;
  p = p * f + 6.9314718e-1f;
  p = p * f + 1.0f;
  const P2pF4 e = p * (P2pF4) ((n + 127) << 23);
  const P2pF4 r = 1.0f - 2.0f / (e + 1.0f);
  return (P2pF4) ((P2pI4) r | sign);
}

void
p2p_tanh (P2pTensor *t)
{
  const gsize n = p2p_tensor_numel (t);
  const gsize nv = n / 4;
  float *x = t->data;

#pragma omp parallel for schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < nv; i++)
    {
      p2p_f4_store (x + 4 * i, tanh_v4 (p2p_f4_load (x + 4 * i)));
    }
  if (nv * 4 < n)
    {
      P2pF4 v = { 0 };
      memcpy (&v, x + nv * 4, (n - nv * 4) * sizeof (float));
      v = tanh_v4 (v);
      memcpy (x + nv * 4, &v, (n - nv * 4) * sizeof (float));
    }
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
