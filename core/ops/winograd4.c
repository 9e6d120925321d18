/* winograd4.c - 3x3 stride-1 convolutions with Winograd F(4x4, 3x3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks",
 * 2016): 4x4 outputs from a 6x6 input tile with 36 multiplications per
 * input and output channel, 2.25 per output instead of 9 directly and 4
 * with F(2x2, 3x3) (winograd.c).  This is the ResNet generator's main
 * cost: eighteen 3x3 convolutions, 256 -> 256 channels, at a quarter of the
 * image's resolution.
 *
 * 1-D F(4,3): y = A^T [(G g) . (B^T d)] with the points 0, 1, -1, 2, -2
 * and infinity (the matrices of the paper):
 *   B^T = [ 4  0 -5  0  1  0 ]   G = [  1/4     0     0  ]   A^T = [ 1  1  1  1  1  0 ]
 *         [ 0 -4 -4  1  1  0 ]       [ -1/6  -1/6  -1/6  ]         [ 0  1 -1  2 -2  0 ]
 *         [ 0  4 -4 -1  1  0 ]       [ -1/6   1/6  -1/6  ]         [ 0  1  1  4  4  0 ]
 *         [ 0 -2 -1  2  1  0 ]       [  1/24  1/12  1/6  ]         [ 0  1 -1  8 -8  1 ]
 *         [ 0  2 -1 -2  1  0 ]       [  1/24 -1/12  1/6  ]
 *         [ 0  4  0 -5  0  1 ]       [  0     0     1    ]
 * 2-D: U = G g G^T, V = B^T d B (6x6), Y = A^T (U . V) A (4x4); over the
 * channels, one GEMM per tile element xi (36 of them):
 *   M_xi[cout x tiles] = U_xi[cout x cin] * V_xi[cin x tiles].
 * The larger transform coefficients (up to 8 and 5) cost some accuracy
 * against F(2x2, 3x3): relative errors of a few 1e-6 in fp32 (tests).
 *
 * Tiles are processed in bands of tile rows so that U, V and M stay within
 * the scratch limit; the input is zero-extended at the edges (pad), and
 * outputs past the end are dropped.
 */
#include <string.h>

#include "p2p-ops.h"

#define W4_N 6                    /* tile side */
#define W4_T (W4_N * W4_N)        /* tile elements, one GEMM each */

/* ---- weights: U[xi][co][ci] = (G g G^T)[xi] ---------------------------- */

/* G x for three values into y0..y5 (any lvalues): multiplications by the
 * constants (a division per value cost as much as the rest). */
#define W4_G(a, b, c, y0, y1, y2, y3, y4, y5) \
  do { \
    const float a_ = (a), b_ = (b), c_ = (c); \
    const float a24_ = a_ * (1.0f / 24.0f), b12_ = b_ * (1.0f / 12.0f), c6_ = c_ * (1.0f / 6.0f); \
    y0 = 0.25f * a_; \
    y1 = -(a_ + b_ + c_) * (1.0f / 6.0f); \
    y2 = -(a_ - b_ + c_) * (1.0f / 6.0f); \
    y3 = a24_ + b12_ + c6_; \
    y4 = a24_ - b12_ + c6_; \
    y5 = c_; \
  } while (0)

/* Across the input channels, which are contiguous in U.  The 36 planes of
 * U it writes (4x the weights) are what it costs: a four-channel vector
 * version measured no faster (memory-bound, 2.8-5 ms for a 256 x 256 layer
 * either way on this machine). */
static void
w4_weight_transform (const float *w, int cin, int cout, float *U, gsize plane)
{
#pragma omp parallel for schedule(static) if (plane * W4_T > P2P_OPS_PARALLEL_MIN)
  for (int co = 0; co < cout; co++)
    for (int ci = 0; ci < cin; ci++)
      {
        const float *g = w + ((gsize) co * cin + ci) * 9;
        float *o = U + (gsize) co * cin + ci;
        float t[6][3];

        for (int j = 0; j < 3; j++)   /* t = G g, by columns */
          W4_G (g[j], g[3 + j], g[6 + j], t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]);
        for (int i = 0; i < 6; i++)   /* rows: t G^T, row i to elements 6i .. 6i + 5 */
          W4_G (t[i][0], t[i][1], t[i][2], o[(gsize) (6 * i) * plane], o[(gsize) (6 * i + 1) * plane],
                o[(gsize) (6 * i + 2) * plane], o[(gsize) (6 * i + 3) * plane],
                o[(gsize) (6 * i + 4) * plane], o[(gsize) (6 * i + 5) * plane]);
      }
}

/* ---- input: V[xi][c][t] = (B^T d B)[xi] --------------------------------- */

/* B^T x for six values x0..x5 into y0..y5 (any lvalues). */
#define W4_BT(x0, x1, x2, x3, x4, x5, y0, y1, y2, y3, y4, y5) \
  do { \
    const float d0_ = (x0), d1_ = (x1), d2_ = (x2), d3_ = (x3), d4_ = (x4), d5_ = (x5); \
    y0 = 4.0f * d0_ - 5.0f * d2_ + d4_; \
    y1 = -4.0f * (d1_ + d2_) + d3_ + d4_; \
    y2 = 4.0f * (d1_ - d2_) - d3_ + d4_; \
    y3 = 2.0f * (d3_ - d1_) - d2_ + d4_; \
    y4 = 2.0f * (d1_ - d3_) - d2_ + d4_; \
    y5 = 4.0f * d1_ - 5.0f * d3_ + d5_; \
  } while (0)

/* Tile rows [ty0, ty1) of the input with zero padding @pad: tile (ty, tx)
 * reads rows 4ty - pad .. + 5 and columns 4tx - pad .. + 5.  @zero: a row
 * of in->w zeros for rows outside the input.  In two passes per tile row,
 * each with few live values (one pass doing both kept 36 per tile and
 * spilled them): B^T down the columns of the six rows into a buffer laid
 * out with the padding (contiguous, vectorised along the row), then B
 * along each of those six rows for every tile. */
static void
w4_input_transform (const P2pTensor *in, int pad, int ty0, int ty1, int tw,
                    float *V, gsize plane, const float *zero)
{
  const int h = in->h, w = in->w;
  const gsize N = (gsize) (ty1 - ty0) * tw;
  /* buffer columns: bx = x + pad for the tiles' reach 0 .. 4 tw + 1 */
  const int bw = 4 * tw + 2;
  /* input columns x in [x0, x1) land at bx = x + pad inside the buffer */
  const int x0 = MAX (0, -pad), x1 = MIN (w, bw - pad);

#pragma omp parallel if (plane * W4_T > P2P_OPS_PARALLEL_MIN)
  {
    float *tb = g_new0 (float, (gsize) 6 * bw);

#pragma omp for schedule(static)
    for (int c = 0; c < in->c; c++)
      {
        const float *src = in->data + (gsize) c * h * w;

        for (int ty = ty0; ty < ty1; ty++)
          {
            float *dst = V + (gsize) c * N + (gsize) (ty - ty0) * tw;
            const float *r[6];
            float *t0 = tb, *t1 = tb + bw, *t2 = tb + 2 * bw;
            float *t3 = tb + 3 * (gsize) bw, *t4 = tb + 4 * (gsize) bw, *t5 = tb + 5 * (gsize) bw;

            for (int i = 0; i < 6; i++)
              {
                const int iy = 4 * ty - pad + i;
                r[i] = iy >= 0 && iy < h ? src + (gsize) iy * w : zero;
              }
            /* Columns outside the input stay 0 (the buffer starts zeroed
             * and only [x0 + pad, x1 + pad) is ever written). */
#pragma omp simd
            for (int x = x0; x < x1; x++)
              {
                const int b = x + pad;
                W4_BT (r[0][x], r[1][x], r[2][x], r[3][x], r[4][x], r[5][x],
                       t0[b], t1[b], t2[b], t3[b], t4[b], t5[b]);
              }
            for (int i = 0; i < 6; i++)
              {
                const float *t = tb + (gsize) i * bw;
                float *o = dst + (gsize) (6 * i) * plane;
#pragma omp simd
                for (int tx = 0; tx < tw; tx++)
                  {
                    const float *e = t + 4 * tx;
                    W4_BT (e[0], e[1], e[2], e[3], e[4], e[5], o[tx], o[plane + tx],
                           o[2 * plane + tx], o[3 * plane + tx], o[4 * plane + tx],
                           o[5 * plane + tx]);
                  }
              }
          }
      }
    g_free (tb);
  }
}

/* ---- output: Y = A^T M A (+ bias) ---------------------------------------- */

/* A^T x for six values, into y[0..3]. */
#define W4_AT(x0, x1, x2, x3, x4, x5, y) \
  do { \
    const float s12_ = (x1) + (x2), d12_ = (x1) - (x2); \
    const float s34_ = (x3) + (x4), d34_ = (x3) - (x4); \
    (y)[0] = (x0) + s12_ + s34_; \
    (y)[1] = d12_ + 2.0f * d34_; \
    (y)[2] = s12_ + 4.0f * s34_; \
    (y)[3] = d12_ + 8.0f * d34_ + (x5); \
  } while (0)

static void
w4_output_transform (const float *Mb, gsize plane, const float *bias, int ty0, int ty1, int tw,
                     P2pTensor *out)
{
  const int oh = out->h, ow = out->w;
  const gsize N = (gsize) (ty1 - ty0) * tw;
  const int full_x = MIN (tw, ow / 4);   /* tiles whose 4 columns are all inside */

#pragma omp parallel for schedule(static) if (plane * W4_T > P2P_OPS_PARALLEL_MIN)
  for (int co = 0; co < out->c; co++)
    {
      const float bv = bias ? bias[co] : 0.0f;
      float *dst = out->data + (gsize) co * oh * ow;

      for (int ty = ty0; ty < ty1; ty++)
        {
          const float *src = Mb + (gsize) co * N + (gsize) (ty - ty0) * tw;
          const int rows_in = MIN (4, oh - 4 * ty);
          float *o = dst + (gsize) 4 * ty * ow;

          if (rows_in == 4)
            {
#pragma omp simd
              for (int tx = 0; tx < full_x; tx++)
                {
                  const float *m = src + tx;
                  float t[4][6];

#pragma GCC unroll 6
                  for (int j = 0; j < 6; j++)   /* t = A^T m, column j */
                    {
                      float y[4];
                      W4_AT (m[(gsize) j * plane], m[(gsize) (6 + j) * plane],
                             m[(gsize) (12 + j) * plane], m[(gsize) (18 + j) * plane],
                             m[(gsize) (24 + j) * plane], m[(gsize) (30 + j) * plane], y);
#pragma GCC unroll 4
                      for (int i = 0; i < 4; i++)
                        t[i][j] = y[i];
                    }
#pragma GCC unroll 4
                  for (int i = 0; i < 4; i++)
                    {
                      float y[4];
                      W4_AT (t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], y);
#pragma GCC unroll 4
                      for (int j = 0; j < 4; j++)
                        o[(gsize) i * ow + 4 * tx + j] = y[j] + bv;
                    }
                }
            }
          for (int tx = rows_in == 4 ? full_x : 0; tx < tw; tx++)
            {
              const float *m = src + tx;
              float t[4][6];

              for (int j = 0; j < 6; j++)
                {
                  float y[4];
                  W4_AT (m[(gsize) j * plane], m[(gsize) (6 + j) * plane],
                         m[(gsize) (12 + j) * plane], m[(gsize) (18 + j) * plane],
                         m[(gsize) (24 + j) * plane], m[(gsize) (30 + j) * plane], y);
                  for (int i = 0; i < 4; i++)
                    t[i][j] = y[i];
                }
              for (int i = 0; i < rows_in; i++)
                {
                  float y[4];
                  W4_AT (t[i][0], t[i][1], t[i][2], t[i][3], t[i][4], t[i][5], y);
                  for (int j = 0; j < 4 && 4 * tx + j < ow; j++)
                    o[(gsize) i * ow + 4 * tx + j] = y[j] + bv;
                }
            }
        }
    }
}

/* ---- the convolution ----------------------------------------------------- */

gboolean
p2p_winograd4_supported (const P2pConvParams *p)
{
  return p->kernel == 3 && p->stride == 1 && p->pad >= 0;
}

/* Floats of scratch for U and one tile row of V and M, with the planes'
 * padding: the least a call needs. */
static gint64
w4_min_scratch (gint64 cin, gint64 cout, gint64 tw, gint64 w)
{
  return W4_T * (cin * cout + (cin + cout) * tw + 3 * 32) + w;
}

gboolean
p2p_winograd4_fits (int cin, int cout, int out_w, int in_w)
{
  return w4_min_scratch (cin, cout, (out_w + 3) / 4, in_w) <=
         (gint64) (P2P_SCRATCH_MAX_BYTES / sizeof (float));
}

gboolean
p2p_conv2d_winograd4 (const P2pTensor *in, const float *weight, const float *bias,
                      const P2pConvParams *p, P2pTensor *out,
                      P2pScratch *scratch, GError **error)
{
  const int cin = in->c, cout = out->c;
  const int th = (out->h + 3) / 4, tw = (out->w + 3) / 4;
  const gsize uplane = p2p_winograd_plane_stride ((gsize) cout * cin), usize = W4_T * uplane;
  const gsize per_row = (gsize) W4_T * (cin + cout) * tw;
  const gsize pad = (gsize) W4_T * 2 * 32 + in->w;
  gsize band, vplane, mplane;
  float *U, *V, *Mb, *zero;
  double t0;

  g_return_val_if_fail (p2p_winograd4_supported (p), FALSE);
  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);
  if (th <= 0 || tw <= 0 || cout <= 0)
    return TRUE;

  band = p2p_winograd_band_rows (scratch, usize + pad, per_row, th);
  vplane = p2p_winograd_plane_stride ((gsize) cin * band * tw);
  mplane = p2p_winograd_plane_stride ((gsize) cout * band * tw);
  if (!p2p_scratch_ensure (scratch, usize + W4_T * (vplane + mplane) + in->w, error))
    return FALSE;
  U = scratch->data;
  V = U + usize;
  Mb = V + (gsize) W4_T * vplane;
  zero = Mb + (gsize) W4_T * mplane;
  memset (zero, 0, sizeof (float) * in->w);

  t0 = p2p_phase_begin (scratch);
  w4_weight_transform (weight, cin, cout, U, uplane);
  p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

  for (int ty0 = 0; ty0 < th; ty0 += (int) band)
    {
      const int ty1 = MIN (th, ty0 + (int) band);
      const int N = (ty1 - ty0) * tw;

      t0 = p2p_phase_begin (scratch);
      w4_input_transform (in, p->pad, ty0, ty1, tw, V, vplane, zero);
      p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

      t0 = p2p_phase_begin (scratch);
      for (int xi = 0; xi < W4_T; xi++)
        p2p_gemm (FALSE, cout, N, cin, U + (gsize) xi * uplane, cin,
                  V + (gsize) xi * vplane, N, FALSE, Mb + (gsize) xi * mplane, N);
      p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);

      t0 = p2p_phase_begin (scratch);
      w4_output_transform (Mb, mplane, bias, ty0, ty1, tw, out);
      p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
    }
  return TRUE;
}
