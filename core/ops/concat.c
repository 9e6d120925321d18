/* concat.c - residual addition and per-channel bias.  (The U-Net's channel
 * concatenation needs no op: the runner lays x_k and u_k out side by side.) */

#include "p2p-ops.h"

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
