/* conv-transpose2d.c - PyTorch ConvTranspose2d, in bands.
 *
 * out[co, i*s-p+ky, j*s-p+kx] += in[ci,i,j] * w[ci,co,ky,kx];  out += bias
 * H_out = (H-1)*s - 2p + k + output_padding.
 *
 * Two ways (p2p_conv_transpose2d uses col2im; see below why):
 *
 * col2im: the weight [cin, cout*k*k] is used transposed:
 * cols[cout*k*k x n] = W^T * in[cin x n], then col2im scatters the columns
 * into the zeroed output.  Uses the weights as they are stored.
 *
 * phases: the output pixels with oy = m*s + py, ox = n*s + px
 * (one "phase" (py, px)) only see the taps ky = k0y + s*ty, kx = k0x + s*tx:
 *   out[co, m*s+py, n*s+px] = sum_{ty,tx,ci} w[ci,co,ky,kx] * in[ci, m+offy-ty, n+offx-tx]
 * a small stride-1 convolution (2x2 for k4 s2).  Each tap is one GEMM
 * C[cout x rows*Wp] += Wt[ky,kx]^T * in_shifted, where in_shifted is a
 * pointer into a zero-padded copy of the input rows of the band (row pitch
 * Wp = W + pads: a shifted pointer is a shifted image, the Wp - n extra
 * columns per row are computed and dropped); the taps accumulate in C,
 * which is then written to its phase of the output with the bias.  No
 * columns buffer, no scatter-add, no zeroing; the weights are repacked
 * once per call.
 */
#include <string.h>

#include "p2p-ops.h"

int
p2p_conv_transpose2d_out_size (int in, const P2pConvParams *p)
{
  return (in - 1) * p->stride - 2 * p->pad + p->kernel + p->output_padding;
}

/* One axis of one phase: outputs oy = m*s + ph, m in [0, n); taps
 * k = k0 + s*t, t in [0, t); input index m + off - t. */
typedef struct {
  int ph, n, k0, t, off;
} Phase1D;

static void
phase_1d (int ph, int out, const P2pConvParams *p, Phase1D *r)
{
  const int s = p->stride, k = p->kernel;
  r->ph = ph;
  r->n = out > ph ? (out - ph + s - 1) / s : 0;
  r->k0 = (ph + p->pad) % s;
  r->t = r->k0 < k ? (k - r->k0 + s - 1) / s : 0;
  r->off = (ph + p->pad - r->k0) / s;
}

#define PHASES_MAX_STRIDE 8

/* Zero padding the phases need before/after the input along one axis; FALSE
 * when a phase has more outputs than the padded row holds. */
static gboolean
phase_pads (const Phase1D *ph, int s, int in, int *before, int *after)
{
  *before = *after = 0;
  for (int i = 0; i < s; i++)
    {
      if (ph[i].n == 0 || ph[i].t == 0)
        continue;
      *before = MAX (*before, ph[i].t - 1 - ph[i].off);
      *after = MAX (*after, ph[i].n - 1 + ph[i].off - (in - 1));
    }
  for (int i = 0; i < s; i++)
    if (ph[i].n > in + *before + *after)
      return FALSE;
  return TRUE;
}

gboolean
p2p_conv_transpose2d_phases (const P2pTensor *in, const float *weight, const float *bias,
                             const P2pConvParams *p, P2pTensor *out,
                             P2pScratch *scratch, GError **error)
{
  const int s = p->stride, k = p->kernel, cin = in->c, cout = out->c;
  const gsize out_hw = (gsize) out->h * out->w;
  const gsize wsize = (gsize) cin * cout * k * k;
  Phase1D py[PHASES_MAX_STRIDE], px[PHASES_MAX_STRIDE];
  int pad_t, pad_b, pad_l, pad_r, wp, mh = 0;
  gsize band_rows, slab_rows_max, avail;
  float *packed, *slab, *cbuf;
  double t0;

  g_return_val_if_fail (out->h == p2p_conv_transpose2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv_transpose2d_out_size (in->w, p), FALSE);
  g_return_val_if_fail (s >= 1 && s <= PHASES_MAX_STRIDE && p->pad >= 0, FALSE);

  for (int i = 0; i < s; i++)
    {
      phase_1d (i, out->h, p, &py[i]);
      phase_1d (i, out->w, p, &px[i]);
      mh = MAX (mh, py[i].n);
    }
  if (!phase_pads (py, s, in->h, &pad_t, &pad_b) || !phase_pads (px, s, in->w, &pad_l, &pad_r))
    return p2p_conv_transpose2d_col2im (in, weight, bias, p, out, scratch, error);
  wp = in->w + pad_l + pad_r;
  /* A band's last phase row m1 - 1 reads input row m1 - 1 + off: the slab
   * reaches that far below the band even where the input goes on. */
  for (int i = 0; i < s; i++)
    if (py[i].t > 0)
      pad_b = MAX (pad_b, py[i].off);

  /* Scratch: packed weights, then the band's padded input rows (plus one
   * spare row that the dropped columns of the last row read), then C. */
  avail = (scratch->max_bytes ? scratch->max_bytes : P2P_SCRATCH_MAX_BYTES) / sizeof (float);
  avail = avail > wsize ? avail - wsize : 0;
  avail = avail > (gsize) cin * (pad_t + pad_b + 1) * wp ?
          avail - (gsize) cin * (pad_t + pad_b + 1) * wp : 0;
  band_rows = avail / ((gsize) (cin + cout) * wp);
  band_rows = CLAMP (band_rows, 1, (gsize) MAX (mh, 1));
  slab_rows_max = band_rows + pad_t + pad_b + 1;
  if (!p2p_scratch_ensure (scratch, wsize + (gsize) cin * slab_rows_max * wp +
                                    (gsize) cout * band_rows * wp, error))
    return FALSE;
  packed = scratch->data;
  slab = packed + wsize;
  cbuf = slab + (gsize) cin * slab_rows_max * wp;

  /* packed[ky][kx] = the cin x cout matrix w[:, :, ky, kx] */
  t0 = p2p_phase_begin (scratch);
#pragma omp parallel for schedule(static) if (wsize > P2P_OPS_PARALLEL_MIN)
  for (int ci = 0; ci < cin; ci++)
    for (int co = 0; co < cout; co++)
      {
        const float *src = weight + ((gsize) ci * cout + co) * k * k;
        for (int t = 0; t < k * k; t++)
          packed[((gsize) t * cin + ci) * cout + co] = src[t];
      }
  p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

  for (int m0 = 0; m0 < mh; m0 += (int) band_rows)
    {
      const int m1 = MIN (mh, m0 + (int) band_rows);
      const int slab_rows = m1 - m0 + pad_t + pad_b + 1;
      const gsize plane = (gsize) slab_rows * wp;

      /* slab row r holds input row m0 - pad_t + r, zero outside the input */
      t0 = p2p_phase_begin (scratch);
#pragma omp parallel for schedule(static) if ((gsize) cin * plane > P2P_OPS_PARALLEL_MIN)
      for (int ci = 0; ci < cin; ci++)
        for (int r = 0; r < slab_rows; r++)
          {
            const int iy = m0 - pad_t + r;
            float *dst = slab + ci * plane + (gsize) r * wp;
            if (iy < 0 || iy >= in->h)
              {
                memset (dst, 0, sizeof (float) * wp);
                continue;
              }
            memset (dst, 0, sizeof (float) * pad_l);
            memcpy (dst + pad_l, in->data + ((gsize) ci * in->h + iy) * in->w,
                    sizeof (float) * in->w);
            memset (dst + pad_l + in->w, 0, sizeof (float) * pad_r);
          }
      p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

      for (int a = 0; a < s; a++)
        for (int b = 0; b < s; b++)
          {
            const Phase1D *Y = &py[a], *X = &px[b];
            const int rows = MIN (m1, Y->n) - m0;
            const int n = rows * wp;
            const gboolean taps = Y->t > 0 && X->t > 0;

            if (rows <= 0 || X->n == 0)
              continue;
            t0 = p2p_phase_begin (scratch);
            for (int ty = 0; ty < Y->t; ty++)
              for (int tx = 0; tx < X->t; tx++)
                {
                  const int ky = Y->k0 + s * ty, kx = X->k0 + s * tx;
                  const float *B = slab + (gsize) (Y->off - ty + pad_t) * wp + (X->off - tx + pad_l);
                  p2p_gemm (TRUE, cout, n, cin, packed + (gsize) (ky * k + kx) * cin * cout, cout,
                            B, (int) plane, ty > 0 || tx > 0, cbuf, n);
                }
            p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);

            /* C (phase rows m0.., pitch wp) -> out[co, m*s + py, n*s + px] + bias */
            t0 = p2p_phase_begin (scratch);
#pragma omp parallel for schedule(static) if ((gsize) cout * n > P2P_OPS_PARALLEL_MIN)
            for (int co = 0; co < cout; co++)
              {
                const float bv = bias ? bias[co] : 0.0f;
                for (int m = 0; m < rows; m++)
                  {
                    const float *src = cbuf + (gsize) co * n + (gsize) m * wp;
                    float *dst = out->data + co * out_hw +
                                 (gsize) ((m0 + m) * s + Y->ph) * out->w + X->ph;
                    if (taps)
                      for (int j = 0; j < X->n; j++)
                        dst[(gsize) j * s] = src[j] + bv;
                    else
                      for (int j = 0; j < X->n; j++)
                        dst[(gsize) j * s] = bv;
                  }
              }
            p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
          }
    }
  return TRUE;
}

/* The phases are not used by default: measured with bench --per-layer
 * (unet_256 at 512, one thread, same binary otherwise, 3 alternating
 * runs on the loaded 2-vCPU machine) they were slower than col2im on every
 * layer they could take (64x64 -> 128x128 x 128 channels: best 198 ms
 * against 170; 128x128 -> 256x256 x 64: 246 against 205; with 3 output
 * channels 5x slower).  Each tap is a GEMM of its own, so OpenBLAS packs
 * the (shifted) input once per tap, 16 times for k4 s2, and reads and
 * writes C as often; col2im's one GEMM packs the input once and the
 * scatter it saves is cheaper than that.  They stay, tested, for a GEMM
 * that can take the taps in one call. */
gboolean
p2p_conv_transpose2d (const P2pTensor *in, const float *weight, const float *bias,
                      const P2pConvParams *p, P2pTensor *out,
                      P2pScratch *scratch, GError **error)
{
  return p2p_conv_transpose2d_col2im (in, weight, bias, p, out, scratch, error);
}

gboolean
p2p_conv_transpose2d_col2im (const P2pTensor *in, const float *weight, const float *bias,
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
      p2p_col2im_add (scratch->data, iy0, iy1, in->w, p, out);
      p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
    }

  if (bias)
    {
      const double t0 = p2p_phase_begin (scratch);
      p2p_add_channel_bias (out, bias);
      p2p_phase_end (scratch, P2P_PHASE_BIAS, t0);
    }
  return TRUE;
}
