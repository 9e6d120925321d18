/* upsample.c - nearest-neighbour upsampling by 2 (PyTorch
 * F.interpolate(scale_factor=2, mode="nearest"): out[c, y, x] =
 * in[c, y / 2, x / 2]), the first half of the resize-convolution U-Net's
 * decoder step (arch/unet.c, unet_rc_N). */
#include "p2p-ops.h"

void
p2p_upsample_nearest2x (const P2pTensor *in, P2pTensor *out)
{
  g_return_if_fail (out->c == in->c && out->h == 2 * in->h && out->w == 2 * in->w);

#pragma omp parallel for schedule(static) if (p2p_tensor_numel (out) > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < in->c; c++)
    {
      const float *src = in->data + (gsize) c * in->h * in->w;
      float *dst = out->data + (gsize) c * out->h * out->w;
      for (int y = 0; y < in->h; y++)
        {
          const float *row = src + (gsize) y * in->w;
          float *o = dst + (gsize) 2 * y * out->w;
          for (int x = 0; x < in->w; x++)
            o[2 * x] = o[2 * x + 1] = row[x];
          /* The odd output row is the even one again. */
          memcpy (o + out->w, o, sizeof (float) * out->w);
        }
    }
}
