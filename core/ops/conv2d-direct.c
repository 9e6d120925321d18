/* conv2d-direct.c - stride-1 convolution with few output channels as plain
 * loops, without im2col or GEMM.
 *
 * out[co, y, x] = bias[co] + sum_{ci,ky,kx} w[co,ci,ky,kx] * in[ci, y-p+ky, x-p+kx]
 *
 * For the ResNet's last layer (7x7, 64 -> 3 channels) im2col writes
 * 64*49 = 3136 rows per output pixel (822 MB for a 256x256 output, in
 * bands) for a GEMM with 3 rows, which OpenBLAS ran at ~9 GFLOP/s: the
 * im2col and the GEMM together took ~250 ms per 256x256 pass, a fifth of
 * the ResNet.  Here each output row is accumulated in a small buffer, one
 * input row segment at a time for up to 4 output channels at once (each
 * load of the input feeds 4 multiply-adds), vectorised along the row.
 */
#include <string.h>

#include "p2p-ops.h"

#define GROUP 4   /* output channels per pass over the input */

gboolean
p2p_conv2d_direct_supported (const P2pConvParams *p, int cout)
{
  return p->stride == 1 && p->pad >= 0 && cout >= 1 && cout <= P2P_CONV2D_DIRECT_MAX_COUT;
}

/* acc_g[x] += w_g * row[x] for x in [0, n), g < ng. */
static inline void
axpy_group (int ng, float *const *acc, const float *wv, const float *row, int n)
{
  switch (ng)
    {
    case 4:
      {
        float *a0 = acc[0], *a1 = acc[1], *a2 = acc[2], *a3 = acc[3];
        const float w0 = wv[0], w1 = wv[1], w2 = wv[2], w3 = wv[3];
#pragma omp simd
        for (int x = 0; x < n; x++)
          {
            const float v = row[x];
            a0[x] += w0 * v;
            a1[x] += w1 * v;
            a2[x] += w2 * v;
            a3[x] += w3 * v;
          }
      }
      break;
    case 3:
      {
        float *a0 = acc[0], *a1 = acc[1], *a2 = acc[2];
        const float w0 = wv[0], w1 = wv[1], w2 = wv[2];
#pragma omp simd
        for (int x = 0; x < n; x++)
          {
            const float v = row[x];
            a0[x] += w0 * v;
            a1[x] += w1 * v;
            a2[x] += w2 * v;
          }
      }
      break;
    case 2:
      {
        float *a0 = acc[0], *a1 = acc[1];
        const float w0 = wv[0], w1 = wv[1];
#pragma omp simd
        for (int x = 0; x < n; x++)
          {
            const float v = row[x];
            a0[x] += w0 * v;
            a1[x] += w1 * v;
          }
      }
      break;
    default:
      {
        float *a0 = acc[0];
        const float w0 = wv[0];
#pragma omp simd
        for (int x = 0; x < n; x++)
          a0[x] += w0 * row[x];
      }
      break;
    }
}

gboolean
p2p_conv2d_direct (const P2pTensor *in, const float *weight, const float *bias,
                   const P2pConvParams *p, P2pTensor *out,
                   P2pScratch *scratch, GError **error)
{
  const int k = p->kernel, pad = p->pad, cin = in->c, cout = out->c;
  const gsize out_hw = (gsize) out->h * out->w;
  const double t0 = p2p_phase_begin (scratch);

  g_return_val_if_fail (p2p_conv2d_direct_supported (p, cout), FALSE);
  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);

  /* Each output row is written once, whole, by one thread: its
   * accumulators are the output rows themselves. */
#pragma omp parallel for schedule(static) \
    if (out_hw * cin * k * k * cout > P2P_OPS_PARALLEL_MIN)
  for (int oy = 0; oy < out->h; oy++)
    for (int g0 = 0; g0 < cout; g0 += GROUP)
      {
        const int ng = MIN (GROUP, cout - g0);
        float *acc[GROUP];

        for (int g = 0; g < ng; g++)
          {
            const float b = bias ? bias[g0 + g] : 0.0f;
            acc[g] = out->data + (g0 + g) * out_hw + (gsize) oy * out->w;
            for (int x = 0; x < out->w; x++)
              acc[g][x] = b;
          }
        for (int ci = 0; ci < cin; ci++)
          for (int ky = 0; ky < k; ky++)
            {
              const int iy = oy - pad + ky;
              const float *row;
              if (iy < 0 || iy >= in->h)
                continue;
              row = in->data + ((gsize) ci * in->h + iy) * in->w;
              for (int kx = 0; kx < k; kx++)
                {
                  /* outputs x with input column x - pad + kx in [0, w) */
                  const int lo = MAX (0, pad - kx);
                  const int hi = MIN (out->w, in->w + pad - kx);
                  float wv[GROUP];
                  float *a[GROUP];
                  if (hi <= lo)
                    continue;
                  for (int g = 0; g < ng; g++)
                    {
                      wv[g] = weight[(((gsize) (g0 + g) * cin + ci) * k + ky) * k + kx];
                      a[g] = acc[g] + lo;
                    }
                  axpy_group (ng, a, wv, row + lo - pad + kx, hi - lo);
                }
            }
      }
  p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);
  (void) error;
  return TRUE;
}
