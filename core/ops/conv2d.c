/* conv2d.c - zero-padded 2-D convolution as im2col + GEMM, in row bands.
 *
 * out[co, y, x] = bias[co] + sum_{ci,ky,kx} w[co,ci,ky,kx] * in[ci, y*s-p+ky, x*s-p+kx]
 *
 * The columns buffer for the whole image would be cin*k*k*H_out*W_out
 * floats (1 GB for a 64-channel 4x4 conv at 512x512 output), so output rows
 * are processed in bands that keep it under P2P_SCRATCH_MAX_BYTES.
 */
#include "p2p-ops.h"

int
p2p_conv2d_out_size (int in, const P2pConvParams *p)
{
  return (in + 2 * p->pad - p->kernel) / p->stride + 1;
}

gboolean
p2p_conv2d (const P2pTensor *in, const float *weight, const float *bias,
            const P2pConvParams *p, P2pTensor *out,
            P2pScratch *scratch, GError **error)
{
  const int k = p->kernel;
  const int K = in->c * k * k;             /* GEMM inner dimension */
  const gsize out_hw = (gsize) out->h * out->w;
  gsize band_rows;

  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);

  /* rows per band: as many as fit in the scratch limit, at least one. */
  band_rows = (P2P_SCRATCH_MAX_BYTES / sizeof (float)) / ((gsize) K * out->w);
  band_rows = CLAMP (band_rows, 1, (gsize) out->h);
  if (!p2p_scratch_ensure (scratch, (gsize) K * band_rows * out->w, error))
    return FALSE;

  for (int oy0 = 0; oy0 < out->h; oy0 += (int) band_rows)
    {
      const int oy1 = MIN (out->h, oy0 + (int) band_rows);
      const int n = (oy1 - oy0) * out->w;

      double t0 = p2p_phase_begin (scratch);

      p2p_im2col (in, p, out->w, oy0, oy1, scratch->data);
      p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);
      t0 = p2p_phase_begin (scratch);
      /* out[cout x n] (at column oy0*W of each channel) = W[cout x K] * cols[K x n] */
      p2p_gemm (FALSE, out->c, n, K, weight, K, scratch->data, n,
                FALSE, out->data + (gsize) oy0 * out->w, (int) out_hw);
      p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);
    }

  if (bias)
    {
      const double t0 = p2p_phase_begin (scratch);
      p2p_add_channel_bias (out, bias);
      p2p_phase_end (scratch, P2P_PHASE_BIAS, t0);
    }
  return TRUE;
}
