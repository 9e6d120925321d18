/* concat.c - channel concatenation and residual addition. */
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
