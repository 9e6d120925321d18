/* pad.c - reflection padding (PyTorch ReflectionPad2d: the edge pixel is
 * not repeated; index -1 maps to 1, h maps to h-2). */
#include <string.h>

#include "p2p-ops.h"

static inline int
reflect (int i, int n)
{
  if (i < 0)
    return -i;
  if (i >= n)
    return 2 * (n - 1) - i;
  return i;
}

void
p2p_pad_reflect (const P2pTensor *in, int pad, P2pTensor *out)
{
  g_return_if_fail (pad < in->h && pad < in->w);
  g_return_if_fail (out->c == in->c && out->h == in->h + 2 * pad && out->w == in->w + 2 * pad);

#pragma omp parallel for schedule(static) if (p2p_tensor_numel (out) > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < in->c; c++)
    {
      const float *src = in->data + (gsize) c * in->h * in->w;
      float *dst = out->data + (gsize) c * out->h * out->w;
      for (int y = 0; y < out->h; y++)
        {
          const float *row = src + (gsize) reflect (y - pad, in->h) * in->w;
          float *o = dst + (gsize) y * out->w;
          for (int x = 0; x < pad; x++)
            o[x] = row[reflect (x - pad, in->w)];
          memcpy (o + pad, row, sizeof (float) * in->w);
          for (int x = pad + in->w; x < out->w; x++)
            o[x] = row[reflect (x - pad, in->w)];
        }
    }
}
