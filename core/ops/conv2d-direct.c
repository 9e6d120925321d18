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

#include "p2p-blas.h"
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

/* Output columns [c0, c1) of row oy, channels g0 .. g0 + ng - 1, with the
 * row buffers as accumulators (any CPU; edges and what the vector kernel
 * leaves). */
static void
direct_row_generic (const P2pTensor *in, const float *weight, const float *bias,
                    const P2pConvParams *p, P2pTensor *out, int oy, int g0, int ng,
                    int c0, int c1)
{
  const int k = p->kernel, pad = p->pad, cin = in->c;
  const gsize out_hw = (gsize) out->h * out->w;
  float *acc[GROUP];

  for (int g = 0; g < ng; g++)
    {
      const float b = bias ? bias[g0 + g] : 0.0f;
      acc[g] = out->data + (g0 + g) * out_hw + (gsize) oy * out->w;
      for (int x = c0; x < c1; x++)
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
            const int lo = MAX (c0, pad - kx);
            const int hi = MIN (c1, in->w + pad - kx);
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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DIRECT_X86 1
#include <immintrin.h>

/* The interior of a row on AVX2+FMA: strips of V vectors (8 columns
 * each) for G channels, all in registers across every tap (G * V <= 12
 * sums), instead of the generic loop's load and store of each
 * accumulator per tap (which ran the ResNet's 7x7 64 -> 3 layer at about
 * 6.5 GMAC/s).  Writes whole strips in [x0, x1) (whose inputs all lie in
 * the row) and returns where it stopped. */
__attribute__ ((target ("avx2,fma"))) static inline __attribute__ ((always_inline)) int
direct_strips (int G, int V, const P2pTensor *in, const float *weight, const float *bias,
               const P2pConvParams *p, P2pTensor *out, int oy, int g0, int x0, int x1)
{
  const int k = p->kernel, pad = p->pad, cin = in->c;
  const gsize out_hw = (gsize) out->h * out->w;
  int x = x0;

  for (; x + 8 * V <= x1; x += 8 * V)
    {
      __m256 acc[4][4];

#pragma GCC unroll 4
      for (int g = 0; g < G; g++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
          acc[g][v] = _mm256_set1_ps (bias ? bias[g0 + g] : 0.0f);
      for (int ci = 0; ci < cin; ci++)
        for (int ky = 0; ky < k; ky++)
          {
            const int iy = oy - pad + ky;
            const float *row;
            const float *wk[4];

            if (iy < 0 || iy >= in->h)
              continue;
            row = in->data + ((gsize) ci * in->h + iy) * in->w + x - pad;
#pragma GCC unroll 4
            for (int g = 0; g < G; g++)
              wk[g] = weight + (((gsize) (g0 + g) * cin + ci) * k + ky) * k;
            for (int kx = 0; kx < k; kx++)
              {
                __m256 iv[4];
#pragma GCC unroll 4
                for (int v = 0; v < V; v++)
                  iv[v] = _mm256_loadu_ps (row + kx + 8 * v);
#pragma GCC unroll 4
                for (int g = 0; g < G; g++)
                  {
                    const __m256 wv = _mm256_broadcast_ss (wk[g] + kx);
#pragma GCC unroll 4
                    for (int v = 0; v < V; v++)
                      acc[g][v] = _mm256_fmadd_ps (wv, iv[v], acc[g][v]);
                  }
              }
          }
#pragma GCC unroll 4
      for (int g = 0; g < G; g++)
#pragma GCC unroll 4
        for (int v = 0; v < V; v++)
          _mm256_storeu_ps (out->data + (g0 + g) * out_hw + (gsize) oy * out->w + x + 8 * v,
                            acc[g][v]);
    }
  return x;
}

__attribute__ ((target ("avx2,fma"))) static int
direct_row_avx2 (const P2pTensor *in, const float *weight, const float *bias,
                 const P2pConvParams *p, P2pTensor *out, int oy, int g0, int ng, int x0, int x1)
{
  /* Strips of 3 or 4 vectors (12 sums in registers), then single vectors. */
  int x;
  switch (ng)
    {
    case 4: x = direct_strips (4, 3, in, weight, bias, p, out, oy, g0, x0, x1);
            return direct_strips (4, 1, in, weight, bias, p, out, oy, g0, x, x1);
    case 3: x = direct_strips (3, 4, in, weight, bias, p, out, oy, g0, x0, x1);
            return direct_strips (3, 1, in, weight, bias, p, out, oy, g0, x, x1);
    case 2: x = direct_strips (2, 4, in, weight, bias, p, out, oy, g0, x0, x1);
            return direct_strips (2, 1, in, weight, bias, p, out, oy, g0, x, x1);
    default: x = direct_strips (1, 4, in, weight, bias, p, out, oy, g0, x0, x1);
             return direct_strips (1, 1, in, weight, bias, p, out, oy, g0, x, x1);
    }
}

#endif

gboolean
p2p_conv2d_direct (const P2pTensor *in, const float *weight, const float *bias,
                   const P2pConvParams *p, P2pTensor *out,
                   P2pScratch *scratch, GError **error)
{
  const int k = p->kernel, pad = p->pad, cin = in->c, cout = out->c;
  const gsize out_hw = (gsize) out->h * out->w;
  const double t0 = p2p_phase_begin (scratch);
  /* Columns whose k inputs all lie inside the row: x - pad >= 0 and
   * x - pad + k - 1 < in->w. */
  const int inner0 = MIN (pad, out->w), inner1 = MAX (inner0, MIN (out->w, in->w + pad - k + 1));
#ifdef DIRECT_X86
  const gboolean vector = p2p_cpu_has_avx2_fma ();
#endif

  g_return_val_if_fail (p2p_conv2d_direct_supported (p, cout), FALSE);
  g_return_val_if_fail (out->h == p2p_conv2d_out_size (in->h, p), FALSE);
  g_return_val_if_fail (out->w == p2p_conv2d_out_size (in->w, p), FALSE);

  /* Each output row is written once, whole, by one thread. */
#pragma omp parallel for schedule(static) \
    if (out_hw * cin * k * k * cout > P2P_OPS_PARALLEL_MIN)
  for (int oy = 0; oy < out->h; oy++)
    for (int g0 = 0; g0 < cout; g0 += GROUP)
      {
        const int ng = MIN (GROUP, cout - g0);
        int done = inner0;

#ifdef DIRECT_X86
        if (vector)
          done = direct_row_avx2 (in, weight, bias, p, out, oy, g0, ng, inner0, inner1);
#endif
        /* the edges, and the interior where no vector kernel ran */
        direct_row_generic (in, weight, bias, p, out, oy, g0, ng, 0, inner0);
        direct_row_generic (in, weight, bias, p, out, oy, g0, ng, done, out->w);
      }
  p2p_phase_end (scratch, P2P_PHASE_GEMM, t0);
  (void) error;
  return TRUE;
}
