/* winograd.c - convolutions with Winograd minimal filtering F(2x2, 3x3) and
 * F(2x2, 2x2) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016), in row bands, GEMMs through p2p_gemm.
 *
 * 1-D, F(m=2, r): two outputs of the correlation y_i = sum_j g_j d_{i+j}
 * from n = r + 1 inputs with n multiplications, y = A^T [(G g) . (B^T d)].
 * The matrices come from the Toom-Cook construction: the correlation is
 * the transpose of the linear convolution of the kernel polynomial
 * g(x) = g_0 + g_1 x + ... with a degree-1 polynomial, computed by
 * evaluating both at n points (infinity = the leading coefficient) and
 * interpolating; G evaluates g, B^T and A^T are the transposed
 * interpolation and evaluation of the data side.
 *
 * F(2,3), points 0, 1, -1, infinity (the 1/2 of the interpolation at +-1
 * put into G):
 *   G   = [ 1    0    0  ]   B^T = [ 1  0 -1  0 ]   A^T = [ 1  1  1  0 ]
 *         [ 1/2  1/2  1/2]         [ 0  1  1  0 ]         [ 0  1 -1 -1 ]
 *         [ 1/2 -1/2  1/2]         [ 0 -1  1  0 ]
 *         [ 0    0    1  ]         [ 0  1  0 -1 ]
 *   i.e. m0 = (d0 - d2) g0, m1 = (d1 + d2)(g0 + g1 + g2)/2,
 *        m2 = (d2 - d1)(g0 - g1 + g2)/2, m3 = (d1 - d3) g2,
 *        y0 = m0 + m1 + m2, y1 = m1 - m2 - m3.
 *
 * F(2,2), points 0, 1, infinity (all entries 0 and +-1: exact):
 *   G   = [ 1  0 ]   B^T = [ 1 -1  0 ]   A^T = [ 1  1  0 ]
 *         [ 1  1 ]         [ 0  1  0 ]         [ 0  1  1 ]
 *         [ 0  1 ]         [ 0 -1  1 ]
 *   i.e. m0 = (d0 - d1) g0, m1 = d1 (g0 + g1), m2 = (d2 - d1) g1,
 *        y0 = m0 + m1 = g0 d0 + g1 d1, y1 = m1 + m2 = g0 d1 + g1 d2.
 *
 * 2-D, F(2x2, r x r) nests them: U = G g G^T, V = B^T d B (n x n),
 * Y = A^T (U . V) A (2x2).  Over channels the element-wise products become
 * one GEMM per element xi of the n x n tile:
 *   M_xi[cout x tiles] = U_xi[cout x cin] * V_xi[cin x tiles]
 * (16 GEMMs for 3x3, 9 for 2x2) instead of one with K = cin*r*r: 4 (3x3)
 * or 2.25 (2x2) multiplications per output and input channel instead of
 * 9 or 4.  In fp32 the error stays at a few float roundings of the sums
 * (the transforms only add, and halve for G).
 *
 * The three uses, all one engine over a "virtual input" V(c, y, x) and a
 * grid of outputs written to out[co, st*Y + oy, st*X + ox]:
 *
 * - conv k 2 or 3, stride 1, zero pad p: V(c, y, x) = in[c, y - p, x - p].
 * - conv k <= 4, stride 2, pad p, as a 2x2 stride-1 conv over the
 *   space-to-depth of the padded input: V(4ci + 2dy + dx, Y, X) =
 *   in[ci, 2Y + dy - p, 2X + dx - p], kernel g[4ci + 2dy + dx][a][b] =
 *   w[co, ci, 2a + dy, 2b + dx] (0 where 2a + dy >= k).  Folded into the
 *   input transform (strided loads), not materialised.
 * - transposed conv k <= 4, stride 2, pad 1 (out[o] += w[ky] in[i] with
 *   o = 2i - 1 + ky): with V(y) = in[y - 1], output row 2Y - py (phase
 *   py) is sum_a g_py[a] V(Y + a) with g_py[a] = w[3 - py - 2a] (0 where
 *   >= k).  The four phases (py, px) share the input transform (the same
 *   tiles of V): one GEMM per xi with 4*cout rows, the phases' results
 *   written interleaved into the output.  Rows -1 and past the end are
 *   dropped.
 *
 * Weights are transformed on every call into the scratch (T * rows * cin
 * floats); the tiles are processed in bands of tile rows so that U, the
 * transformed input and the GEMM results stay within the scratch limit.
 * Edges: the input is zero-extended, outputs past the end are dropped.
 */
#include <string.h>

#include "p2p-ops.h"

/* Where the virtual input's channel c reads: in[c / cpc, st*y + yo[q],
 * st*x + xo[q]] with q = c % cpc. */
typedef struct {
  const P2pTensor *in;
  int cpc, st;
  int yo[4], xo[4];
  int cin;             /* virtual channels: in->c * cpc */
} Src;

/* GEMM row R = ph * cout + co goes to out[co, st*Y + oy[ph], st*X + ox[ph]]
 * for grid points (Y, X), Y < gh, X < gw; dropped outside out. */
typedef struct {
  P2pTensor *out;
  int nph, st;
  int oy[4], ox[4];
  int gh, gw;
} Dst;

typedef enum { W_CONV, W_CONV_S2D, W_CONVT } WeightKind;

/* ---- 1-D transforms (x: input, y: output, strides in floats) ----------- */

static inline void
g3 (const float *g, int gs, float *u, int us)   /* u = G g, F(2,3) */
{
  const float a = g[0], b = g[gs], c = g[2 * gs];
  u[0] = a;
  u[us] = 0.5f * (a + b + c);
  u[2 * us] = 0.5f * (a - b + c);
  u[3 * us] = c;
}

static inline void
g2 (const float *g, int gs, float *u, int us)   /* u = G g, F(2,2) */
{
  const float a = g[0], b = g[gs];
  u[0] = a;
  u[us] = a + b;
  u[2 * us] = b;
}

/* ---- weight transform ---------------------------------------------------- */

/* u (n x n) = G g G^T for the r x r kernel g. */
static inline void
kernel_tile (int r, const float *g, float *u)
{
  float t[12];
  if (r == 3)
    {
      for (int j = 0; j < 3; j++)       /* columns: t (4x3) = G g */
        g3 (g + j, 3, t + j, 3);
      for (int i = 0; i < 4; i++)       /* rows: u (4x4) = t G^T */
        g3 (t + 3 * i, 1, u + 4 * i, 1);
    }
  else
    {
      for (int j = 0; j < 2; j++)
        g2 (g + j, 2, t + j, 2);
      for (int i = 0; i < 3; i++)
        g2 (t + 2 * i, 1, u + 3 * i, 1);
    }
}

/* u (3x3, at o[xi * plane]) = G g G^T for F(2,2), g = (g00, g01, g10, g11):
 * t = G g by columns, then each row (a, b) -> (a, a + b, b). */
#define KERNEL2_STORE(o, plane, g00, g01, g10, g11) \
  do { \
    const float t00_ = (g00), t01_ = (g01), t20_ = (g10), t21_ = (g11); \
    const float t10_ = t00_ + t20_, t11_ = t01_ + t21_; \
    (o)[0 * (plane)] = t00_; (o)[1 * (plane)] = t00_ + t01_; (o)[2 * (plane)] = t01_; \
    (o)[3 * (plane)] = t10_; (o)[4 * (plane)] = t10_ + t11_; (o)[5 * (plane)] = t11_; \
    (o)[6 * (plane)] = t20_; (o)[7 * (plane)] = t20_ + t21_; (o)[8 * (plane)] = t21_; \
  } while (0)

/* The 4x4 kernels of the networks, vectorised across the channels the
 * stored weights are contiguous in. */
static void
weight_transform_k4 (WeightKind kind, const float *w, int cin, int cout, int rows,
                     float *U, gsize plane)
{
  if (kind == W_CONV_S2D)
    {
      const int ci_n = cin / 4;
#pragma omp parallel for schedule(static) if (plane * 9 > P2P_OPS_PARALLEL_MIN)
      for (int R = 0; R < rows; R++)
        {
          const float *wr = w + (gsize) R * ci_n * 16;
          float *ur = U + (gsize) R * cin;
#pragma omp simd
          for (int ci = 0; ci < ci_n; ci++)
            {
              const float *g = wr + (gsize) ci * 16;   /* g[ky * 4 + kx] */
              float *o = ur + 4 * ci;
              /* q = 2dy + dx: taps (2a + dy, 2b + dx) */
              KERNEL2_STORE (o + 0, plane, g[0], g[2], g[8], g[10]);
              KERNEL2_STORE (o + 1, plane, g[1], g[3], g[9], g[11]);
              KERNEL2_STORE (o + 2, plane, g[4], g[6], g[12], g[14]);
              KERNEL2_STORE (o + 3, plane, g[5], g[7], g[13], g[15]);
            }
        }
      return;
    }
  /* W_CONVT */
#pragma omp parallel for schedule(static) if (plane * 9 > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < cin; c++)
    {
      const float *wc = w + (gsize) c * cout * 16;
      float *uc = U + (gsize) c * rows;
#pragma omp simd
      for (int co = 0; co < cout; co++)
        {
          const float *g = wc + (gsize) co * 16;
          float *o = uc + co;
          /* phase 2py + px: taps (3 - py - 2a, 3 - px - 2b) */
          KERNEL2_STORE (o + 0 * (gsize) cout, plane, g[15], g[13], g[7], g[5]);
          KERNEL2_STORE (o + 1 * (gsize) cout, plane, g[14], g[12], g[6], g[4]);
          KERNEL2_STORE (o + 2 * (gsize) cout, plane, g[11], g[9], g[3], g[1]);
          KERNEL2_STORE (o + 3 * (gsize) cout, plane, g[10], g[8], g[2], g[0]);
        }
    }
}

/* The transformed weights, in the layout the GEMMs read: for the
 * convolutions U[xi][R][c] (rows x cin, used as it is), for the transposed
 * convolution U[xi][c][R] (cin x rows, used transposed), each following
 * the order of the stored weights so that they are read once, in order.
 *   W_CONV:     w[cout, cin, r, r]
 *   W_CONV_S2D: w[cout, cin/4, k, k], c = 4ci + 2dy + dx: g[a][b] = w[.., 2a + dy, 2b + dx]
 *   W_CONVT:    w[cin, cout, k, k], R = (2py + px) cout + co: g[a][b] = w[.., 3 - py - 2a, 3 - px - 2b]
 * (taps outside the k x k kernel are 0). */
static void
weight_transform (WeightKind kind, const float *w, int k, int cin, int cout, int rows,
                  int r, float *U, gsize plane)
{
  const int n = r + 1, T = n * n;

  if (k == 4 && kind != W_CONV)
    {
      weight_transform_k4 (kind, w, cin, cout, rows, U, plane);
      return;
    }
  switch (kind)
    {
    case W_CONV:
      if (r == 3)
        {
#pragma omp parallel for schedule(static) if (plane * T > P2P_OPS_PARALLEL_MIN)
          for (int R = 0; R < rows; R++)
            {
              const float *wr = w + (gsize) R * cin * 9;
              float *ur = U + (gsize) R * cin;
#pragma omp simd
              for (int c = 0; c < cin; c++)
                {
                  const float *g = wr + (gsize) c * 9;
                  float t[4][3];
#pragma GCC unroll 3
                  for (int j = 0; j < 3; j++)   /* G g, column j */
                    {
                      const float a = g[j], b = g[3 + j], d = g[6 + j];
                      t[0][j] = a;
                      t[1][j] = 0.5f * (a + b + d);
                      t[2][j] = 0.5f * (a - b + d);
                      t[3][j] = d;
                    }
#pragma GCC unroll 4
                  for (int i = 0; i < 4; i++)   /* rows: t G^T */
                    {
                      const float a = t[i][0], b = t[i][1], d = t[i][2];
                      ur[(4 * i + 0) * plane + c] = a;
                      ur[(4 * i + 1) * plane + c] = 0.5f * (a + b + d);
                      ur[(4 * i + 2) * plane + c] = 0.5f * (a - b + d);
                      ur[(4 * i + 3) * plane + c] = d;
                    }
                }
            }
          break;
        }
#pragma omp parallel for schedule(static) if (plane * T > P2P_OPS_PARALLEL_MIN)
      for (int R = 0; R < rows; R++)
        for (int c = 0; c < cin; c++)
          {
            float u[16];
            kernel_tile (r, w + ((gsize) R * cin + c) * r * r, u);
            for (int xi = 0; xi < T; xi++)
              U[xi * plane + (gsize) R * cin + c] = u[xi];
          }
      break;
    case W_CONV_S2D:
#pragma omp parallel for schedule(static) if (plane * T > P2P_OPS_PARALLEL_MIN)
      for (int R = 0; R < rows; R++)
        for (int ci = 0; ci < cin / 4; ci++)
          {
            const float *src = w + ((gsize) R * (cin / 4) + ci) * k * k;
            for (int q = 0; q < 4; q++)
              {
                const int dy = q / 2, dx = q % 2;
                float g[4], u[16];
                for (int a = 0; a < 2; a++)
                  for (int b = 0; b < 2; b++)
                    {
                      const int ky = 2 * a + dy, kx = 2 * b + dx;
                      g[a * 2 + b] = ky < k && kx < k ? src[ky * k + kx] : 0.0f;
                    }
                kernel_tile (2, g, u);
                for (int xi = 0; xi < T; xi++)
                  U[xi * plane + (gsize) R * cin + 4 * ci + q] = u[xi];
              }
          }
      break;
    case W_CONVT:
#pragma omp parallel for schedule(static) if (plane * T > P2P_OPS_PARALLEL_MIN)
      for (int c = 0; c < cin; c++)
        for (int co = 0; co < cout; co++)
          {
            const float *src = w + ((gsize) c * cout + co) * k * k;
            for (int ph = 0; ph < 4; ph++)
              {
                const int py = ph / 2, px = ph % 2;
                float g[4], u[16];
                for (int a = 0; a < 2; a++)
                  for (int b = 0; b < 2; b++)
                    {
                      const int ky = 3 - py - 2 * a, kx = 3 - px - 2 * b;
                      g[a * 2 + b] = ky < k && kx < k ? src[ky * k + kx] : 0.0f;
                    }
                kernel_tile (2, g, u);
                for (int xi = 0; xi < T; xi++)
                  U[xi * plane + (gsize) c * rows + ph * cout + co] = u[xi];
              }
          }
      break;
    }
}

/* ---- input transform ----------------------------------------------------- */

/* One tile: d (n x n, row-major) -> B^T d B, stored at dst[xi * plane]. */
static inline __attribute__((always_inline)) void
input_tile (int r, const float *d, float *dst, gsize plane)
{
  float t[16];
  if (r == 3)
    {
      /* t = B^T d (columns), then t B (rows) */
      for (int j = 0; j < 4; j++)
        {
          const float d0 = d[j], d1 = d[4 + j], d2 = d[8 + j], d3 = d[12 + j];
          t[j] = d0 - d2;
          t[4 + j] = d1 + d2;
          t[8 + j] = d2 - d1;
          t[12 + j] = d1 - d3;
        }
      for (int i = 0; i < 4; i++)
        {
          const float t0 = t[4 * i], t1 = t[4 * i + 1], t2 = t[4 * i + 2], t3 = t[4 * i + 3];
          dst[(4 * i + 0) * plane] = t0 - t2;
          dst[(4 * i + 1) * plane] = t1 + t2;
          dst[(4 * i + 2) * plane] = t2 - t1;
          dst[(4 * i + 3) * plane] = t1 - t3;
        }
    }
  else
    {
      for (int j = 0; j < 3; j++)
        {
          const float d0 = d[j], d1 = d[3 + j], d2 = d[6 + j];
          t[j] = d0 - d1;
          t[3 + j] = d1;
          t[6 + j] = d2 - d1;
        }
      for (int i = 0; i < 3; i++)
        {
          const float t0 = t[3 * i], t1 = t[3 * i + 1], t2 = t[3 * i + 2];
          dst[(3 * i + 0) * plane] = t0 - t1;
          dst[(3 * i + 1) * plane] = t1;
          dst[(3 * i + 2) * plane] = t2 - t1;
        }
    }
}

/* The tiles [lo, hi) of one tile row whose patches lie inside the input's
 * columns (stride 1): r0.. are the n input rows (a zero row outside the
 * input), tile tx reads columns 2tx + xo ... + n - 1.  Written out without
 * inner loops so that the compiler vectorises across tiles. */
static void
input_row_3 (const float *r0, const float *r1, const float *r2, const float *r3,
             int xo, int lo, int hi, float *dst, gsize plane)
{
#pragma omp simd
  for (int tx = lo; tx < hi; tx++)
    {
      const int x = 2 * tx + xo;
      float t0[4], t1[4], t2[4], t3[4];
      float *o = dst + tx;
#pragma GCC unroll 4
      for (int j = 0; j < 4; j++)   /* B^T d, column j */
        {
          const float d0 = r0[x + j], d1 = r1[x + j], d2 = r2[x + j], d3 = r3[x + j];
          t0[j] = d0 - d2;
          t1[j] = d1 + d2;
          t2[j] = d2 - d1;
          t3[j] = d1 - d3;
        }
#define ROW3(t, i) \
      o[(4 * i + 0) * plane] = t[0] - t[2]; \
      o[(4 * i + 1) * plane] = t[1] + t[2]; \
      o[(4 * i + 2) * plane] = t[2] - t[1]; \
      o[(4 * i + 3) * plane] = t[1] - t[3];
      ROW3 (t0, 0) ROW3 (t1, 1) ROW3 (t2, 2) ROW3 (t3, 3)
#undef ROW3
    }
}

static void
input_row_2 (const float *r0, const float *r1, const float *r2,
             int xo, int lo, int hi, float *dst, gsize plane)
{
#pragma omp simd
  for (int tx = lo; tx < hi; tx++)
    {
      const int x = 2 * tx + xo;
      float t0[3], t1[3], t2[3];
      float *o = dst + tx;
#pragma GCC unroll 3
      for (int j = 0; j < 3; j++)
        {
          const float d0 = r0[x + j], d1 = r1[x + j], d2 = r2[x + j];
          t0[j] = d0 - d1;
          t1[j] = d1;
          t2[j] = d2 - d1;
        }
#define ROW2(t, i) \
      o[(3 * i + 0) * plane] = t[0] - t[1]; \
      o[(3 * i + 1) * plane] = t[1]; \
      o[(3 * i + 2) * plane] = t[2] - t[1];
      ROW2 (t0, 0) ROW2 (t1, 1) ROW2 (t2, 2)
#undef ROW2
    }
}

/* input_transform for the space-to-depth input (cpc 4, st 2): per input
 * channel and tile row, the 6 input rows that its tiles read are split
 * into their even and odd columns (zero outside the input), which makes
 * each of the 4 virtual channels' rows a contiguous row for
 * input_row_inside. */
static void
input_transform_s2d (const Src *s, int ty0, int ty1, int tw, float *V, gsize plane)
{
  const int h = s->in->h, w = s->in->w;
  const int wv = 2 * tw + 1;             /* virtual columns the tiles read */
  const gsize N = (gsize) (ty1 - ty0) * tw;
  const int yo = s->yo[0], xo = s->xo[0];   /* dy = dx = 0 */

#pragma omp parallel if (plane * 9 > P2P_OPS_PARALLEL_MIN)
  {
    float *buf = g_new (float, (gsize) 12 * wv);

#pragma omp for schedule(static)
    for (int ci = 0; ci < s->in->c; ci++)
      {
        const float *src = s->in->data + (gsize) ci * h * w;
        for (int ty = ty0; ty < ty1; ty++)
          {
            /* buf[(m * 2 + dx) * wv + X] = in[ci, 4ty + m + yo, 2X + dx + xo] */
            for (int m = 0; m < 6; m++)
              {
                const int iy = 4 * ty + m + yo;
                const float *row = iy >= 0 && iy < h ? src + (gsize) iy * w : NULL;
                for (int dx = 0; dx < 2; dx++)
                  {
                    float *e = buf + (gsize) (m * 2 + dx) * wv;
                    if (!row)
                      {
                        memset (e, 0, sizeof (float) * wv);
                        continue;
                      }
                    /* X in [lo, hi): 0 <= 2X + dx + xo < w */
                    int lo = 0, hi = wv;
                    while (lo < wv && 2 * lo + dx + xo < 0)
                      e[lo++] = 0.0f;
                    while (hi > lo && 2 * (hi - 1) + dx + xo >= w)
                      e[--hi] = 0.0f;
                    for (int X = lo; X < hi; X++)
                      e[X] = row[2 * X + dx + xo];
                  }
              }
            for (int q = 0; q < 4; q++)
              {
                const int dy = q / 2, dx = q % 2;
                input_row_2 (buf + (gsize) ((0 + dy) * 2 + dx) * wv,
                             buf + (gsize) ((2 + dy) * 2 + dx) * wv,
                             buf + (gsize) ((4 + dy) * 2 + dx) * wv, 0, 0, tw,
                             V + (gsize) (4 * ci + q) * N + (gsize) (ty - ty0) * tw, plane);
              }
          }
      }
    g_free (buf);
  }
}

/* V[xi][c][t] = (B^T d B)[xi] for the tiles t of tile rows [ty0, ty1)
 * (t = (ty - ty0) * tw + tx), d the n x n patch of the virtual input at
 * (2ty, 2tx).  zero: in->w zeros. */
static void
input_transform (const Src *s, int r, int ty0, int ty1, int tw, float *V, gsize plane,
                 const float *zero)
{
  const int n = r + 1, st = s->st;
  const int h = s->in->h, w = s->in->w;
  const gsize N = (gsize) (ty1 - ty0) * tw;

#pragma omp parallel for schedule(static) if (plane * n * n > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < s->cin; c++)
    {
      const int q = c % s->cpc, xo = s->xo[q];
      const float *src = s->in->data + (gsize) (c / s->cpc) * h * w;
      float *dst = V + (gsize) c * N;
      /* tiles whose columns x0 .. x0 + st*(n-1) lie in [0, w) */
      int lo = 0, hi = tw;
      while (lo < tw && st * 2 * lo + xo < 0)
        lo++;
      while (hi > lo && st * 2 * (hi - 1) + xo + st * (n - 1) >= w)
        hi--;

      for (int ty = ty0; ty < ty1; ty++, dst += tw)
        {
          const float *rows[4];
          for (int i = 0; i < n; i++)
            {
              const int iy = st * (2 * ty + i) + s->yo[q];
              rows[i] = iy >= 0 && iy < h ? src + (gsize) iy * w : zero;
            }
          if (r == 3)
            input_row_3 (rows[0], rows[1], rows[2], rows[3], xo, lo, hi, dst, plane);
          else if (st == 1)
            input_row_2 (rows[0], rows[1], rows[2], xo, lo, hi, dst, plane);
          else
            lo = hi = 0;   /* (the space-to-depth input goes through input_transform_s2d) */

          /* the edge tiles, with bounds checks */
          for (int tx = 0; tx < tw; tx++)
            {
              const int x0 = st * 2 * tx + xo;
              float d[16];
              if (tx == lo && hi > lo)
                {
                  tx = hi - 1;
                  continue;
                }
              for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                  {
                    const int ix = x0 + st * j;
                    d[i * n + j] = ix >= 0 && ix < w ? rows[i][ix] : 0.0f;
                  }
              input_tile (r, d, dst + tx, plane);
            }
        }
    }
}

/* ---- output transform ---------------------------------------------------- */

/* One tile: m[xi] at src[xi * plane] -> y (2x2) = A^T m A. */
static inline __attribute__((always_inline)) void
output_tile (int r, const float *src, gsize plane, float *y)
{
  float m[16], t[8];
  const int n = r + 1;
  for (int xi = 0; xi < n * n; xi++)
    m[xi] = src[xi * plane];
  if (r == 3)
    {
      /* t (2x4) = A^T m, y = t A */
      for (int j = 0; j < 4; j++)
        {
          t[j] = m[j] + m[4 + j] + m[8 + j];
          t[4 + j] = m[4 + j] - m[8 + j] - m[12 + j];
        }
      for (int i = 0; i < 2; i++)
        {
          y[2 * i] = t[4 * i] + t[4 * i + 1] + t[4 * i + 2];
          y[2 * i + 1] = t[4 * i + 1] - t[4 * i + 2] - t[4 * i + 3];
        }
    }
  else
    {
      for (int j = 0; j < 3; j++)
        {
          t[j] = m[j] + m[3 + j];
          t[3 + j] = m[3 + j] + m[6 + j];
        }
      for (int i = 0; i < 2; i++)
        {
          y[2 * i] = t[3 * i] + t[3 * i + 1];
          y[2 * i + 1] = t[3 * i + 1] + t[3 * i + 2];
        }
    }
}

/* A convolution's tile row: rows o0, o1 (o1 NULL past the end) of the
 * output, tiles [0, tw), columns 2tx, 2tx + 1 below ow.  The tiles with
 * both rows and columns inside go through a loop without inner loops
 * (vectorised across tiles). */
static void
output_row_conv (int r, const float *src, gsize plane, int tw, int ow, float bv,
                 float *o0, float *o1)
{
  const int full = o1 ? MIN (tw, ow / 2) : 0;

  if (r == 3)
    {
#pragma omp simd
      for (int tx = 0; tx < full; tx++)
        {
          const float *m = src + tx;
          float t0[4], t1[4];
#pragma GCC unroll 4
          for (int j = 0; j < 4; j++)   /* A^T m, column j */
            {
              const float m0 = m[j * plane], m1 = m[(4 + j) * plane];
              const float m2 = m[(8 + j) * plane], m3 = m[(12 + j) * plane];
              t0[j] = m0 + m1 + m2;
              t1[j] = m1 - m2 - m3;
            }
          o0[2 * tx] = t0[0] + t0[1] + t0[2] + bv;
          o0[2 * tx + 1] = t0[1] - t0[2] - t0[3] + bv;
          o1[2 * tx] = t1[0] + t1[1] + t1[2] + bv;
          o1[2 * tx + 1] = t1[1] - t1[2] - t1[3] + bv;
        }
    }
  else
    {
#pragma omp simd
      for (int tx = 0; tx < full; tx++)
        {
          const float *m = src + tx;
          float t0[3], t1[3];
#pragma GCC unroll 3
          for (int j = 0; j < 3; j++)
            {
              const float m0 = m[j * plane], m1 = m[(3 + j) * plane], m2 = m[(6 + j) * plane];
              t0[j] = m0 + m1;
              t1[j] = m1 + m2;
            }
          o0[2 * tx] = t0[0] + t0[1] + bv;
          o0[2 * tx + 1] = t0[1] + t0[2] + bv;
          o1[2 * tx] = t1[0] + t1[1] + bv;
          o1[2 * tx + 1] = t1[1] + t1[2] + bv;
        }
    }
  for (int tx = full; tx < tw; tx++)
    {
      float y[4];
      output_tile (r, src + tx, plane, y);
      for (int j = 0; j < 2 && 2 * tx + j < ow; j++)
        {
          o0[2 * tx + j] = y[j] + bv;
          if (o1)
            o1[2 * tx + j] = y[2 + j] + bv;
        }
    }
}

/* The transposed convolution's interior: tiles [1, hi) of a tile row whose
 * 4x4 blocks (see output_transform_convt) lie inside; o is the block's
 * first row (4ty - 1), src[ph] the phases' GEMM results. */
static void
output_blocks_convt (const float *s0, const float *s1, const float *s2, const float *s3,
                     gsize plane, int hi, int ow, float bv, float *o)
{
  float *o0 = o, *o1 = o + ow, *o2 = o + 2 * (gsize) ow, *o3 = o + 3 * (gsize) ow;
#pragma omp simd
  for (int t = 1; t < hi; t++)
    {
      float y[4][4];
      const float *src[4] = { s0 + t, s1 + t, s2 + t, s3 + t };
#pragma GCC unroll 4
      for (int ph = 0; ph < 4; ph++)
        {
          const float *m = src[ph];
          float t0[3], t1[3];
#pragma GCC unroll 3
          for (int j = 0; j < 3; j++)
            {
              const float m0 = m[j * plane], m1 = m[(3 + j) * plane], m2 = m[(6 + j) * plane];
              t0[j] = m0 + m1;
              t1[j] = m1 + m2;
            }
          y[ph][0] = t0[0] + t0[1] + bv;
          y[ph][1] = t0[1] + t0[2] + bv;
          y[ph][2] = t1[0] + t1[1] + bv;
          y[ph][3] = t1[1] + t1[2] + bv;
        }
      /* phase ph = 2py + px, y[ph][2i + j] -> block row 2i + 1 - py,
       * column 4t + 2j - px */
#define BROW(orow, py, i) \
      orow[4 * t - 1] = y[2 * py + 1][2 * i]; \
      orow[4 * t] = y[2 * py][2 * i]; \
      orow[4 * t + 1] = y[2 * py + 1][2 * i + 1]; \
      orow[4 * t + 2] = y[2 * py][2 * i + 1];
      BROW (o0, 1, 0) BROW (o1, 0, 0) BROW (o2, 1, 1) BROW (o3, 0, 1)
#undef BROW
    }
}

/* One tile y of phase ph of grid tile (ty, tx), + bv, into channel dst
 * of out, dropping what falls outside. */
static void
output_tile_checked (const Dst *dd, int ph, int ty, int tx, const float *y, float bv, float *dst)
{
  const P2pTensor *out = dd->out;
  for (int i = 0; i < 2; i++)
    {
      const int Y = 2 * ty + i, oy = dd->st * Y + dd->oy[ph];
      if (Y >= dd->gh || oy < 0 || oy >= out->h)
        continue;
      for (int j = 0; j < 2; j++)
        {
          const int X = 2 * tx + j, ox = dd->st * X + dd->ox[ph];
          if (X < dd->gw && ox >= 0 && ox < out->w)
            dst[(gsize) oy * out->w + ox] = y[2 * i + j] + bv;
        }
    }
}

/* The transposed convolution's four phases: grid tile (ty, tx) of phase
 * (py, px) is out[co, 4ty + 2i - py, 4tx + 2j - px], so together the
 * phases fill the 4x4 block at (4ty - 1, 4tx - 1); written block row by
 * block row where the block lies inside, else tile by tile with checks. */
static void
output_transform_convt (const Dst *dd, int cout, const float *bias,
                        int ty0, int ty1, int tw, const float *Mb, gsize plane)
{
  const P2pTensor *out = dd->out;
  const gsize N = (gsize) (ty1 - ty0) * tw;
  const gsize out_hw = (gsize) out->h * out->w;
  /* tiles whose block columns 4tx - 1 .. 4tx + 2 are inside */
  int hi = tw;
  while (hi > 1 && (4 * (hi - 1) + 2 >= out->w || 2 * (hi - 1) + 1 >= dd->gw))
    hi--;

#pragma omp parallel for schedule(static) if (plane * 9 * 4 > P2P_OPS_PARALLEL_MIN)
  for (int co = 0; co < cout; co++)
    {
      const float bv = bias ? bias[co] : 0.0f;
      float *dst = out->data + co * out_hw;
      for (int ty = ty0; ty < ty1; ty++)
        {
          const float *src[4];
          const gboolean rows_inside = 4 * ty - 1 >= 0 && 4 * ty + 2 < out->h && 2 * ty + 1 < dd->gh;
          for (int ph = 0; ph < 4; ph++)
            src[ph] = Mb + (gsize) (ph * cout + co) * N + (gsize) (ty - ty0) * tw;
          for (int tx = 0; tx < tw; tx++)
            {
              if (rows_inside && tx == 1 && hi > 1)
                {
                  output_blocks_convt (src[0], src[1], src[2], src[3], plane, hi, out->w, bv,
                                       dst + (gsize) (4 * ty - 1) * out->w);
                  tx = hi - 1;
                  continue;
                }
              for (int ph = 0; ph < 4; ph++)
                {
                  float y[4];
                  output_tile (2, src[ph] + tx, plane, y);
                  output_tile_checked (dd, ph, ty, tx, y, bv, dst);
                }
            }
        }
    }
}

/* Y = A^T m A (2x2) of every tile of the band, + bias, into out. */
static void
output_transform (const Dst *dd, int r, int rows, int cout, const float *bias,
                  int ty0, int ty1, int tw, const float *Mb, gsize plane)
{
  const int n = r + 1;
  const gsize N = (gsize) (ty1 - ty0) * tw;
  P2pTensor *out = dd->out;
  const gsize out_hw = (gsize) out->h * out->w;

  if (dd->nph == 1 && dd->st == 1 && dd->oy[0] == 0 && dd->ox[0] == 0 &&
      dd->gh == out->h && dd->gw == out->w)
    {
      /* a convolution: tile (ty, tx) is out[co, 2ty + i, 2tx + j] */
#pragma omp parallel for schedule(static) if (plane * n * n > P2P_OPS_PARALLEL_MIN)
      for (int co = 0; co < cout; co++)
        {
          const float bv = bias ? bias[co] : 0.0f;
          float *dst = out->data + co * out_hw;
          for (int ty = ty0; ty < ty1; ty++)
            {
              const float *src = Mb + (gsize) co * N + (gsize) (ty - ty0) * tw;
              float *o0 = dst + (gsize) 2 * ty * out->w;
              float *o1 = 2 * ty + 1 < out->h ? o0 + out->w : NULL;
              if (r == 3)
                output_row_conv (3, src, plane, tw, out->w, bv, o0, o1);
              else
                output_row_conv (2, src, plane, tw, out->w, bv, o0, o1);
            }
        }
      return;
    }

  if (dd->nph == 4 && dd->st == 2)
    {
      output_transform_convt (dd, cout, bias, ty0, ty1, tw, Mb, plane);
      return;
    }

#pragma omp parallel for schedule(static) if (plane * n * n > P2P_OPS_PARALLEL_MIN)
  for (int R = 0; R < rows; R++)
    {
      const int ph = R / cout, co = R % cout;
      const float bv = bias ? bias[co] : 0.0f;
      const float *src = Mb + (gsize) R * N;
      float *dst = out->data + co * out_hw;

      for (int ty = ty0; ty < ty1; ty++)
        {
          int oy[2];
          for (int i = 0; i < 2; i++)
            {
              const int Y = 2 * ty + i;
              oy[i] = Y < dd->gh ? dd->st * Y + dd->oy[ph] : -1;
              if (oy[i] >= out->h)
                oy[i] = -1;
            }
          for (int tx = 0; tx < tw; tx++, src++)
            {
              float y[4];
              output_tile (r, src, plane, y);
              for (int i = 0; i < 2; i++)
                {
                  if (oy[i] < 0)
                    continue;
                  for (int j = 0; j < 2; j++)
                    {
                      const int X = 2 * tx + j;
                      const int ox = dd->st * X + dd->ox[ph];
                      if (X < dd->gw && ox >= 0 && ox < out->w)
                        dst[(gsize) oy[i] * out->w + ox] = y[2 * i + j] + bv;
                    }
                }
            }
        }
    }
}

/* ---- the engine ---------------------------------------------------------- */

/* The distance between the T matrices of U, V or M: the n floats rounded
 * up to a cache line, plus one line, so that the T streams that the
 * transforms read and write at once do not all map to the same cache sets
 * (n is often a multiple of 4 KiB). */
gsize
p2p_winograd_plane_stride (gsize n)
{
  return ((n + 15) & ~(gsize) 15) + 16;
}

gsize
p2p_winograd_band_rows (const P2pScratch *scratch, gsize fixed, gsize per_row, int tile_rows)
{
  gsize avail = (scratch->max_bytes ? scratch->max_bytes : P2P_SCRATCH_MAX_BYTES) / sizeof (float);

  avail = avail > fixed ? avail - fixed : 0;
  return CLAMP (avail / per_row, 1, (gsize) tile_rows);
}

static gboolean
winograd_run (const Src *s, const Dst *dd, int r, WeightKind kind, const float *weight, int k,
              const float *bias, P2pScratch *scratch, GError **error)
{
  const int n = r + 1, T = n * n;
  const int cout = dd->out->c, rows = dd->nph * cout, cin = s->cin;
  const int th = (dd->gh + 1) / 2, tw = (dd->gw + 1) / 2;
  const gsize uplane = p2p_winograd_plane_stride ((gsize) rows * cin), usize = T * uplane;
  /* per tile row of a band, and the padding of the V and M planes */
  const gsize per_row = (gsize) T * (cin + rows) * tw;
  const gsize pad = (gsize) T * 2 * 32 + s->in->w;   /* planes' padding, zero row */
  gsize band, vplane, mplane;
  float *U, *V, *Mb, *zero;
  double t0;

  if (th <= 0 || tw <= 0 || cout <= 0)
    return TRUE;
  band = p2p_winograd_band_rows (scratch, usize + pad, per_row, th);
  vplane = p2p_winograd_plane_stride ((gsize) cin * band * tw);
  mplane = p2p_winograd_plane_stride ((gsize) rows * band * tw);
  if (!p2p_scratch_ensure (scratch, usize + T * (vplane + mplane) + s->in->w, error))
    return FALSE;
  U = scratch->data;
  V = U + usize;
  Mb = V + (gsize) T * vplane;
  zero = Mb + (gsize) T * mplane;
  memset (zero, 0, sizeof (float) * s->in->w);

  t0 = p2p_phase_begin (scratch);
  weight_transform (kind, weight, k, cin, cout, rows, r, U, uplane);
  p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

  for (int ty0 = 0; ty0 < th; ty0 += (int) band)
    {
      const int ty1 = MIN (th, ty0 + (int) band);
      const int N = (ty1 - ty0) * tw;

      t0 = p2p_phase_begin (scratch);
      if (s->cpc == 4)
        input_transform_s2d (s, ty0, ty1, tw, V, vplane);
      else
        input_transform (s, r, ty0, ty1, tw, V, vplane, zero);
      p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

      t0 = p2p_phase_begin (scratch);
      for (int xi = 0; xi < T; xi++)
        p2p_gemm (kind == W_CONVT, rows, N, cin, U + (gsize) xi * uplane,
                  kind == W_CONVT ? rows : cin,
                  V + (gsize) xi * vplane, N, FALSE, Mb + (gsize) xi * mplane, N);
      p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);

      t0 = p2p_phase_begin (scratch);
      output_transform (dd, r, rows, cout, bias, ty0, ty1, tw, Mb, mplane);
      p2p_phase_end (scratch, P2P_PHASE_COL2IM, t0);
    }
  return TRUE;
}

gboolean
p2p_winograd_conv2d_supported (const P2pConvParams *p)
{
  return p->pad >= 0 &&
         ((p->stride == 1 && (p->kernel == 2 || p->kernel == 3)) ||
          (p->stride == 2 && p->kernel >= 1 && p->kernel <= 4));
}

gboolean
p2p_winograd_conv_transpose2d_supported (const P2pConvParams *p)
{
  return p->stride == 2 && p->pad == 1 && p->kernel >= 1 && p->kernel <= 4 &&
         p->output_padding >= 0 && p->output_padding < 2;
}

gboolean
p2p_conv2d_winograd (const P2pTensor *in, const float *weight, const float *bias,
                     const P2pConvParams *p, P2pTensor *out,
                     P2pScratch *scratch, GError **error)
{
  Src s = { in, 1, 1, { 0 }, { 0 }, in->c };
  Dst d = { out, 1, 1, { 0 }, { 0 }, out->h, out->w };

  g_return_val_if_fail (p2p_winograd_conv2d_supported (p), FALSE);
  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);

  if (p->stride == 1)
    {
      s.yo[0] = s.xo[0] = -p->pad;
      return winograd_run (&s, &d, p->kernel, W_CONV, weight, p->kernel, bias, scratch, error);
    }
  s.cpc = 4;
  s.st = 2;
  s.cin = 4 * in->c;
  for (int q = 0; q < 4; q++)
    {
      s.yo[q] = q / 2 - p->pad;
      s.xo[q] = q % 2 - p->pad;
    }
  return winograd_run (&s, &d, 2, W_CONV_S2D, weight, p->kernel, bias, scratch, error);
}

gboolean
p2p_conv_transpose2d_winograd (const P2pTensor *in, const float *weight, const float *bias,
                               const P2pConvParams *p, P2pTensor *out,
                               P2pScratch *scratch, GError **error)
{
  /* V(y) = in[y - 1]; phase (py, px) writes out[2Y - py, 2X - px] */
  Src s = { in, 1, 1, { -1 }, { -1 }, in->c };
  Dst d = { out, 4, 2, { 0, 0, -1, -1 }, { 0, -1, 0, -1 }, in->h + 1, in->w + 1 };

  g_return_val_if_fail (p2p_winograd_conv_transpose2d_supported (p), FALSE);
  g_return_val_if_fail (out->h == p2p_conv_transpose2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv_transpose2d_out_size (in->w, p), FALSE);

  return winograd_run (&s, &d, 2, W_CONVT, weight, p->kernel, bias, scratch, error);
}
