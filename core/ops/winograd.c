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

/* g[a][b] (r x r) of GEMM row R, virtual input channel c. */
static inline void
gather_kernel (WeightKind kind, const float *w, int k, int cin, int cout, int r,
               int R, int c, float *g)
{
  switch (kind)
    {
    case W_CONV:         /* w[cout, cin, k, k], k == r */
      memcpy (g, w + ((gsize) R * cin + c) * k * k, sizeof (float) * k * k);
      break;
    case W_CONV_S2D:     /* c = 4ci + 2dy + dx; ky = 2a + dy */
      {
        const int ci = c / 4, dy = (c / 2) % 2, dx = c % 2;
        const float *src = w + ((gsize) R * (cin / 4) + ci) * k * k;
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++)
            {
              const int ky = 2 * a + dy, kx = 2 * b + dx;
              g[a * 2 + b] = ky < k && kx < k ? src[ky * k + kx] : 0.0f;
            }
      }
      break;
    case W_CONVT:        /* w[cin, cout, k, k]; R = (2py + px) * cout + co */
      {
        const int ph = R / cout, co = R % cout, py = ph / 2, px = ph % 2;
        const float *src = w + ((gsize) c * cout + co) * k * k;
        for (int a = 0; a < 2; a++)
          for (int b = 0; b < 2; b++)
            {
              const int ky = 3 - py - 2 * a, kx = 3 - px - 2 * b;
              g[a * 2 + b] = ky < k && kx < k ? src[ky * k + kx] : 0.0f;
            }
      }
      break;
    }
  (void) r;
}

/* U[xi][R][c] = (G g G^T)[xi] for every row R < rows and channel c < cin. */
static void
weight_transform (WeightKind kind, const float *w, int k, int cin, int cout, int rows,
                  int r, float *U, gsize plane)
{
  const int n = r + 1;

#pragma omp parallel for schedule(static) if (plane * n * n > P2P_OPS_PARALLEL_MIN)
  for (int R = 0; R < rows; R++)
    for (int c = 0; c < cin; c++)
      {
        float g[16], t[12], u[16];
        gather_kernel (kind, w, k, cin, cout, r, R, c, g);
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
        for (int xi = 0; xi < n * n; xi++)
          U[xi * plane + (gsize) R * cin + c] = u[xi];
      }
}

/* ---- input transform ----------------------------------------------------- */

/* V[xi][c][t] = (B^T d B)[xi] for the tiles t of tile rows [ty0, ty1)
 * (t = (ty - ty0) * tw + tx), d the n x n patch of the virtual input at
 * (2ty, 2tx). */
static void
input_transform (const Src *s, int r, int ty0, int ty1, int tw, float *V, gsize plane)
{
  const int n = r + 1, st = s->st;
  const int h = s->in->h, w = s->in->w;
  const gsize N = (gsize) (ty1 - ty0) * tw;

#pragma omp parallel for schedule(static) if (plane * n * n > P2P_OPS_PARALLEL_MIN)
  for (int c = 0; c < s->cin; c++)
    {
      const int q = c % s->cpc;
      const float *src = s->in->data + (gsize) (c / s->cpc) * h * w;
      float *dst = V + (gsize) c * N;

      for (int ty = ty0; ty < ty1; ty++)
        {
          const float *rows[4];
          for (int i = 0; i < n; i++)
            {
              const int iy = st * (2 * ty + i) + s->yo[q];
              rows[i] = iy >= 0 && iy < h ? src + (gsize) iy * w : NULL;
            }
          for (int tx = 0; tx < tw; tx++, dst++)
            {
              const int x0 = st * 2 * tx + s->xo[q];
              float d[16], t[16];

              if (x0 >= 0 && x0 + st * (n - 1) < w)
                for (int i = 0; i < n; i++)
                  for (int j = 0; j < n; j++)
                    d[i * n + j] = rows[i] ? rows[i][x0 + st * j] : 0.0f;
              else
                for (int i = 0; i < n; i++)
                  for (int j = 0; j < n; j++)
                    {
                      const int ix = x0 + st * j;
                      d[i * n + j] = rows[i] && ix >= 0 && ix < w ? rows[i][ix] : 0.0f;
                    }

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
        }
    }
}

/* ---- output transform ---------------------------------------------------- */

/* Y = A^T m A (2x2) of every tile of the band, + bias, into out. */
static void
output_transform (const Dst *dd, int r, int rows, int cout, const float *bias,
                  int ty0, int ty1, int tw, const float *Mb, gsize plane)
{
  const int n = r + 1;
  const gsize N = (gsize) (ty1 - ty0) * tw;
  P2pTensor *out = dd->out;
  const gsize out_hw = (gsize) out->h * out->w;

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
              float m[16], t[8], y[4];
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
static gsize
plane_stride (gsize n)
{
  return ((n + 15) & ~(gsize) 15) + 16;
}

static gboolean
winograd_run (const Src *s, const Dst *dd, int r, WeightKind kind, const float *weight, int k,
              const float *bias, P2pScratch *scratch, GError **error)
{
  const int n = r + 1, T = n * n;
  const int cout = dd->out->c, rows = dd->nph * cout, cin = s->cin;
  const int th = (dd->gh + 1) / 2, tw = (dd->gw + 1) / 2;
  const gsize uplane = plane_stride ((gsize) rows * cin), usize = T * uplane;
  /* per tile row of a band, and the padding of the V and M planes */
  const gsize per_row = (gsize) T * (cin + rows) * tw, pad = (gsize) T * 2 * 32;
  gsize avail, band, vplane, mplane;
  float *U, *V, *Mb;
  double t0;

  if (th <= 0 || tw <= 0 || cout <= 0)
    return TRUE;
  avail = (scratch->max_bytes ? scratch->max_bytes : P2P_SCRATCH_MAX_BYTES) / sizeof (float);
  avail = avail > usize + pad ? avail - usize - pad : 0;
  band = CLAMP (avail / per_row, 1, (gsize) th);
  vplane = plane_stride ((gsize) cin * band * tw);
  mplane = plane_stride ((gsize) rows * band * tw);
  if (!p2p_scratch_ensure (scratch, usize + T * (vplane + mplane), error))
    return FALSE;
  U = scratch->data;
  V = U + usize;
  Mb = V + (gsize) T * vplane;

  t0 = p2p_phase_begin (scratch);
  weight_transform (kind, weight, k, cin, cout, rows, r, U, uplane);
  p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

  for (int ty0 = 0; ty0 < th; ty0 += (int) band)
    {
      const int ty1 = MIN (th, ty0 + (int) band);
      const int N = (ty1 - ty0) * tw;

      t0 = p2p_phase_begin (scratch);
      input_transform (s, r, ty0, ty1, tw, V, vplane);
      p2p_phase_end (scratch, P2P_PHASE_IM2COL, t0);

      t0 = p2p_phase_begin (scratch);
      for (int xi = 0; xi < T; xi++)
        p2p_gemm (FALSE, rows, N, cin, U + (gsize) xi * uplane, cin,
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

/* ---- when to use it ------------------------------------------------------ */

#define WINOGRAD_ALWAYS (1u << 8)

guint
p2p_winograd_disabled (void)
{
  static gsize once = 0;
  static guint mask;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("P2P_NO_WINOGRAD");
      guint m = 0;

      if (env && *env && g_strcmp0 (env, "0") != 0)
        {
          g_auto(GStrv) parts = g_strsplit (env, ",", -1);
          for (int i = 0; parts[i]; i++)
            {
              const char *t = g_strstrip (parts[i]);
              if (g_str_equal (t, "3x3"))
                m |= P2P_WINOGRAD_3X3;
              else if (g_str_equal (t, "down"))
                m |= P2P_WINOGRAD_DOWN;
              else if (g_str_equal (t, "up"))
                m |= P2P_WINOGRAD_UP;
              else
                m |= P2P_WINOGRAD_ALL;   /* "1", "all", anything else */
            }
        }
      /* P2P_WINOGRAD_ALWAYS=1: every supported layer, whatever its size
       * (tests: the golden networks are too small for the thresholds). */
      if (g_strcmp0 (g_getenv ("P2P_WINOGRAD_ALWAYS"), "1") == 0)
        m |= WINOGRAD_ALWAYS;
      mask = m;
      g_once_init_leave (&once, 1);
    }
  return mask;
}

gboolean
p2p_winograd_pays (const P2pConvParams *p, gboolean transposed,
                   int cin, int cout, int out_h, int out_w)
{
  const guint off = p2p_winograd_disabled ();

  if (transposed)
    {
      if ((off & P2P_WINOGRAD_UP) || !p2p_winograd_conv_transpose2d_supported (p) ||
          p->kernel != 4)
        return FALSE;
    }
  else if (p->stride == 1)
    {
      if ((off & P2P_WINOGRAD_3X3) || p->kernel != 3 || !p2p_winograd_conv2d_supported (p))
        return FALSE;
    }
  else if ((off & P2P_WINOGRAD_DOWN) || p->kernel != 4 || !p2p_winograd_conv2d_supported (p))
    return FALSE;
  if (off & WINOGRAD_ALWAYS)
    return TRUE;
  /* TODO: threshold by measurement */
  return cin >= 16 && cout >= 16 && (gint64) out_h * out_w >= 256;
}
