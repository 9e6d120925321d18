/* conv-transpose2d.c - PyTorch ConvTranspose2d, in bands.
 *
 * out[co, i*s-p+ky, j*s-p+kx] += in[ci,i,j] * w[ci,co,ky,kx];  out += bias
 * H_out = (H-1)*s - 2p + k + output_padding.
 *
 * col2im: the weight [cin, cout*k*k] is used transposed:
 * cols[cout*k*k x n] = W^T * in[cin x n], then col2im scatters the columns
 * into the zeroed output.  Uses the weights as they are stored.
 *
 * The other way, for k <= 4, stride 2, pad 1 (the networks' layers), is
 * ops/winograd.c: the output pixels with oy = m*s + py, ox = n*s + px
 * (one "phase" (py, px)) only see the taps ky = k0y + s*ty,
 * kx = k0x + s*tx, so each phase is a small stride-1 convolution (2x2 for
 * k4 s2) over the zero-padded input, computed there with F(2x2, 2x2).
 * (An earlier version here ran each phase's taps as one GEMM per tap on
 * shifted pointers into a padded input slab; with OpenBLAS it measured
 * slower than col2im on every layer (each tap's GEMM packed the input
 * again) and was replaced by the Winograd way, which the network runner
 * uses where it measured faster: p2p_winograd_pays.)
 */
#include <string.h>

#include "p2p-ops.h"

int
p2p_conv_transpose2d_out_size (int in, const P2pConvParams *p)
{
  return (in - 1) * p->stride - 2 * p->pad + p->kernel + p->output_padding;
}

/* Up to this many input pixels the GEMM runs the other way round,
 * cols^T[n x M] = in^T[n x cin] * W[cin x M]: with n that small, OpenBLAS
 * took 2-3x longer for W^T * in (the weights, M x cin and up to 32 MB,
 * packed transposed for a few columns) than for W as it is stored (one
 * thread, cin 1024, M 8192: n 1: 4.6 vs 2.4 ms, n 4: 11.6 vs 4.2, n 16:
 * 14.3 vs 6.5, n 64: 23.4 vs 16.0).  At n 256 (M 4096) the GEMMs are
 * close and the transposed col2im costs 1.5 ms more, yet the whole layer
 * measured 19.2-19.7 vs 20.4-22.2 ms with two threads (alternating
 * rounds), so 256 goes this way too. */
#define SMALL_N 256

/* The GEMM + col2im way (the Winograd way is p2p_conv_transpose2d_winograd,
 * chosen by the caller). */
gboolean
p2p_conv_transpose2d (const P2pTensor *in, const float *weight, const float *bias,
                      const P2pConvParams *p, P2pTensor *out,
                      P2pScratch *scratch, GError **error)
{
  const int k = p->kernel;
  const int M = out->c * k * k;
  const gsize in_hw = (gsize) in->h * in->w;
  const gsize out_hw = (gsize) out->h * out->w;
  gsize band_rows;

  g_return_val_if_fail (out->h == p2p_conv_transpose2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv_transpose2d_out_size (in->w, p), FALSE);

  band_rows = (P2P_SCRATCH_MAX_BYTES / sizeof (float)) / ((gsize) M * in->w);
  band_rows = CLAMP (band_rows, 1, (gsize) in->h);
  if (!p2p_scratch_ensure (scratch, (gsize) M * band_rows * in->w, error))
    return FALSE;

  {
    const double t0 = p2p_phase_begin (scratch);
    memset (out->data, 0, sizeof (float) * out_hw * out->c);
    p2p_phase_end (scratch, P2P_PHASE_ZERO, t0);
  }

  if (in_hw <= SMALL_N && band_rows == (gsize) in->h)
    {
      /* one band: cols^T[n x M] = in^T[n x cin] * W[cin x M] */
      double t0 = p2p_phase_begin (scratch);
      p2p_gemm (TRUE, (int) in_hw, M, in->c, in->data, (int) in_hw, weight, M,
                FALSE, scratch->data, M);
      p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);
      t0 = p2p_phase_begin (scratch);
      p2p_col2im_add (scratch->data, 1, M, 0, in->h, in->w, p, out);   /* columns transposed */
      p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
    }
  else
    {
      for (int iy0 = 0; iy0 < in->h; iy0 += (int) band_rows)
        {
          const int iy1 = MIN (in->h, iy0 + (int) band_rows);
          const int n = (iy1 - iy0) * in->w;
          double t0 = p2p_phase_begin (scratch);

          /* cols[M x n] = W^T[M x cin] * in[cin x n] (columns iy0*W.. of each channel) */
          p2p_gemm (TRUE, M, n, in->c, weight, M, in->data + (gsize) iy0 * in->w, (int) in_hw,
                    FALSE, scratch->data, n);
          p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);
          t0 = p2p_phase_begin (scratch);
          p2p_col2im_add (scratch->data, n, 1, iy0, iy1, in->w, p, out);
          p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
        }
    }

  if (bias)
    {
      const double t0 = p2p_phase_begin (scratch);
      p2p_add_channel_bias (out, bias);
      p2p_phase_end (scratch, P2P_PHASE_BIAS, t0);
    }
  return TRUE;
}
