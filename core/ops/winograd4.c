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

/* Plane strides a little off powers of two, so that the 36 planes that
 * one tile's values are spread over do not meet in the same cache sets. */
static gsize
w4_plane_stride (gsize n)
{
  return ((n + 15) & ~(gsize) 15) + 16;
}

/* ---- weights: U[xi][co][ci] = (G g G^T)[xi] ---------------------------- */

/* G x for three values into y0..y5 (any lvalues): multiplications by the
 * constants (a division per value cost as much as the rest). */
#define W4_G(a, b, c, y0, y1, y2, y3, y4, y5) \
  do { \
    const __typeof__ (a) a_ = (a), b_ = (b), c_ = (c); \
    const __typeof__ (a) a24_ = a_ * (1.0f / 24.0f), b12_ = b_ * (1.0f / 12.0f), c6_ = c_ * (1.0f / 6.0f); \
    y0 = 0.25f * a_; \
    y1 = -(a_ + b_ + c_) * (1.0f / 6.0f); \
    y2 = -(a_ - b_ + c_) * (1.0f / 6.0f); \
    y3 = a24_ + b12_ + c6_; \
    y4 = a24_ - b12_ + c6_; \
    y5 = c_; \
  } while (0)

typedef float W4V __attribute__ ((vector_size (16)));

/* Four input channels at a time in vector registers (the compiler did not
 * vectorise the scalar form: 3.7 ms for a 256 x 256 layer, more than the
 * input transform). */
static void
w4_weight_transform (const float *w, int cin, int cout, float *U, gsize plane)
{
#pragma omp parallel for schedule(static) if (plane * W4_T > P2P_OPS_PARALLEL_MIN)
  for (int co = 0; co < cout; co++)
    {
      const float *wr = w + (gsize) co * cin * 9;
      float *ur = U + (gsize) co * cin;
      int ci = 0;

      for (; ci + 4 <= cin; ci += 4)
        {
          const float *g = wr + (gsize) ci * 9;
          W4V gv[9], t0[3], t1[3], t2[3], t3[3], t4[3], t5[3];

          for (int k = 0; k < 9; k++)
            gv[k] = (W4V) { g[k], g[9 + k], g[18 + k], g[27 + k] };
          for (int j = 0; j < 3; j++)
            W4_G (gv[j], gv[3 + j], gv[6 + j], t0[j], t1[j], t2[j], t3[j], t4[j], t5[j]);
#define W4_G_ROW(t, i) \
          do { \
            W4V y_[6]; \
            W4_G (t[0], t[1], t[2], y_[0], y_[1], y_[2], y_[3], y_[4], y_[5]); \
            for (int j_ = 0; j_ < 6; j_++) \
              memcpy (ur + (gsize) (6 * (i) + j_) * plane + ci, &y_[j_], sizeof (W4V)); \
          } while (0)
          W4_G_ROW (t0, 0);
          W4_G_ROW (t1, 1);
          W4_G_ROW (t2, 2);
          W4_G_ROW (t3, 3);
          W4_G_ROW (t4, 4);
          W4_G_ROW (t5, 5);
#undef W4_G_ROW
        }
      for (; ci < cin; ci++)
        {
          const float *g = wr + (gsize) ci * 9;
          float t[6][3];
          float *o = ur + ci;

          for (int j = 0; j < 3; j++)
            W4_G (g[j], g[3 + j], g[6 + j], t[0][j], t[1][j], t[2][j], t[3][j], t[4][j], t[5][j]);
          for (int i = 0; i < 6; i++)
            W4_G (t[i][0], t[i][1], t[i][2], o[(gsize) (6 * i) * plane], o[(gsize) (6 * i + 1) * plane],
                  o[(gsize) (6 * i + 2) * plane], o[(gsize) (6 * i + 3) * plane],
                  o[(gsize) (6 * i + 4) * plane], o[(gsize) (6 * i + 5) * plane]);
        }
    }
}

/* ---- input: V[xi][c][t] = (B^T d B)[xi] --------------------------------- */

/* B^T x for six values x0..x5 (any stride), into y[0..5]. */
#define W4_BT(x0, x1, x2, x3, x4, x5, y) \
  do { \
    (y)[0] = 4.0f * (x0) - 5.0f * (x2) + (x4); \
    (y)[1] = -4.0f * ((x1) + (x2)) + (x3) + (x4); \
    (y)[2] = 4.0f * ((x1) - (x2)) - (x3) + (x4); \
    (y)[3] = 2.0f * ((x3) - (x1)) - (x2) + (x4); \
    (y)[4] = 2.0f * ((x1) - (x3)) - (x2) + (x4); \
    (y)[5] = 4.0f * (x1) - 5.0f * (x3) + (x5); \
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
                const float d0 = r[0][x], d1 = r[1][x], d2 = r[2][x];
                const float d3 = r[3][x], d4 = r[4][x], d5 = r[5][x];
                const int b = x + pad;
                t0[b] = 4.0f * d0 - 5.0f * d2 + d4;
                t1[b] = -4.0f * (d1 + d2) + d3 + d4;
                t2[b] = 4.0f * (d1 - d2) - d3 + d4;
                t3[b] = 2.0f * (d3 - d1) - d2 + d4;
                t4[b] = 2.0f * (d1 - d3) - d2 + d4;
                t5[b] = 4.0f * d1 - 5.0f * d3 + d5;
              }
            for (int i = 0; i < 6; i++)
              {
                const float *t = tb + (gsize) i * bw;
                float *o = dst + (gsize) (6 * i) * plane;
#pragma omp simd
                for (int tx = 0; tx < tw; tx++)
                  {
                    const float *e = t + 4 * tx;
                    const float e0 = e[0], e1 = e[1], e2 = e[2], e3 = e[3], e4 = e[4], e5 = e[5];
                    o[tx] = 4.0f * e0 - 5.0f * e2 + e4;
                    o[plane + tx] = -4.0f * (e1 + e2) + e3 + e4;
                    o[2 * plane + tx] = 4.0f * (e1 - e2) - e3 + e4;
                    o[3 * plane + tx] = 2.0f * (e3 - e1) - e2 + e4;
                    o[4 * plane + tx] = 2.0f * (e1 - e3) - e2 + e4;
                    o[5 * plane + tx] = 4.0f * e1 - 5.0f * e3 + e5;
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
  const gsize uplane = w4_plane_stride ((gsize) cout * cin), usize = W4_T * uplane;
  const gsize per_row = (gsize) W4_T * (cin + cout) * tw;
  const gsize pad = (gsize) W4_T * 2 * 32 + in->w;
  gsize avail, band, vplane, mplane;
  float *U, *V, *Mb, *zero;
  double t0;

  g_return_val_if_fail (p2p_winograd4_supported (p), FALSE);
  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);
  if (th <= 0 || tw <= 0 || cout <= 0)
    return TRUE;

  avail = (scratch->max_bytes ? scratch->max_bytes : P2P_SCRATCH_MAX_BYTES) / sizeof (float);
  avail = avail > usize + pad ? avail - usize - pad : 0;
  band = CLAMP (avail / per_row, 1, (gsize) th);
  vplane = w4_plane_stride ((gsize) cin * band * tw);
  mplane = w4_plane_stride ((gsize) cout * band * tw);
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
