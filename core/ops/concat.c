/* concat.c - channel concatenation, residual addition and per-channel bias. */
#include <string.h>

#include "p2p-ops.h"

void
p2p_concat (const P2pTensor *a, const P2pTensor *b, P2pTensor *out)
{
  g_return_if_fail (a->h == b->h && a->w == b->w);
  g_return_if_fail (out->c == a->c + b->c && out->h == a->h && out->w == a->w);

  memcpy (out->data, a->data, sizeof (float) * p2p_tensor_numel (a));
  memcpy (out->data + p2p_tensor_numel (a), b->data, sizeof (float) * p2p_tensor_numel (b));
}

void
p2p_add_inplace (P2pTensor *a, const P2pTensor *b)
{
  const gsize n = p2p_tensor_numel (a);

  g_return_if_fail (a->c == b->c && a->h == b->h && a->w == b->w);
#pragma omp parallel for simd schedule(static) if (n > P2P_OPS_PARALLEL_MIN)
  for (gsize i = 0; i < n; i++)
    a->data[i] += b->data[i];
}

void
p2p_add_channel_bias (P2pTensor *t, const float *bias)
{
  const gsize hw = (gsize) t->h * t->w;

#pragma omp parallel for schedule(static) if (hw * t->c > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < t->c; c++)
    {
      float *x = t->data + (gsize) c * hw;
      const float b = bias[c];
      for (gsize i = 0; i < hw; i++)
        x[i] += b;
    }
}
