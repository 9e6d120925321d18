/* gemm-skinny.c - GEMMs with one small side, where BLAS is weak.
 *
 * The innermost U-Net layers multiply a large weight matrix by a handful
 * of pixels: a 4x4 convolution down to 2x2 or 1x1 pixels is
 * W[512 x 8192] * cols[8192 x n] with n = 4 or 1, and a transposed
 * convolution from 1x1 or 2x2 pixels is in^T[m x 1024] * W[1024 x 8192]
 * with m = 1 or 4.  Such products read 16-34 MB of weights for little
 * arithmetic: the time is the time it takes to stream the weights once.
 * OpenBLAS copies ("packs") the weights first and splits the work for
 * shapes it was not tuned for: 3-6 GB/s against this machine's 17 GB/s
 * (measured alone, 2 threads: n = 1, 4: 2.7, 3.8 ms -> 1.0, 1.2 ms;
 * m = 1, 4: 3.2, 8.7 ms -> 1.3-1.8, 2.3-2.7 ms).  The kernels here read
 * every weight once from memory, in order, and keep the small side in
 * cache.
 *
 *  - Small N, A not transposed (convolutions): dot-product form.  A chunk
 *    of KC rows of B is transposed into a small buffer (N x KC floats),
 *    then each block of 4 rows of A is multiplied with 1-3 of its columns
 *    at a time, 8 lanes of k per instruction, summed across lanes at the
 *    end of the chunk.  Threads take contiguous row ranges.
 *  - Small M, A transposed (in^T * W): broadcast form.  Each thread takes a
 *    range of columns, 1024 at a time; 4 rows of B at a time (contiguous
 *    runs) are multiplied into that block of C, which stays in cache.
 * At 16 on the small side OpenBLAS was as fast (it computes, rather than
 * streams, there), so the limit is 4.
 *
 * AVX2 + FMA only (chosen at run time); elsewhere, or when
 * P2P_NO_SKINNY_GEMM=1 is set, p2p_gemm_skinny() declines and OpenBLAS runs.
 * Summation order differs from BLAS: results agree to float rounding.
 */
#include <string.h>
#include <omp.h>

#include "p2p-blas.h"
#include "p2p-ops.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SKINNY_X86 1
#include <immintrin.h>
#endif

/* The small side: at most this many rows (transposed A) or columns.  At 16
 * (the layers from and to 4x4 pixels) OpenBLAS was as fast or faster on one
 * and two threads; at 1 and 4 these kernels take 0.3-0.8 of its time. */
#define SKINNY_MAX 4
/* k per chunk in the dot-product form (a small buffer for B^T, well
 * inside L1 with the four rows of A it meets). */
#define SKINNY_KC 256
/* Broadcast form: columns per block (4 KB runs of B) and rows of B per step. */
#define SKINNY_NB 1024
#define SKINNY_KB 4

#ifdef SKINNY_X86

#define SKINNY_TARGET __attribute__ ((target ("avx2,fma")))

SKINNY_TARGET static inline float
skinny_hsum (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));
  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_shuffle_ps (s, s, 1));
  return _mm_cvtss_f32 (s);
}

/* out[r * J + j] = sum over k < kl of a[r * lda + k] * bt[j * SKINNY_KC + k],
 * for r < R, j < J (R <= 4, J <= 3: at most 12 sums in registers). */
SKINNY_TARGET static inline __attribute__ ((always_inline)) void
skinny_dots (int R, int J, const float *a, gsize lda, const float *bt, int kl, float *out)
{
  __m256 acc[4][3];
  const int k8 = kl & ~7;

#pragma GCC unroll 12

  for (int r = 0; r < 4; r++)
#pragma GCC unroll 12
    for (int j = 0; j < 3; j++)
      acc[r][j] = _mm256_setzero_ps ();
  for (int k = 0; k < k8; k += 8)
    {
      __m256 b[3];
#pragma GCC unroll 12
      for (int j = 0; j < J; j++)
        b[j] = _mm256_loadu_ps (bt + j * SKINNY_KC + k);
#pragma GCC unroll 12
      for (int r = 0; r < R; r++)
        {
          const __m256 av = _mm256_loadu_ps (a + r * lda + k);
#pragma GCC unroll 12
          for (int j = 0; j < J; j++)
            acc[r][j] = _mm256_fmadd_ps (av, b[j], acc[r][j]);
        }
    }
#pragma GCC unroll 12
  for (int r = 0; r < R; r++)
#pragma GCC unroll 12
    for (int j = 0; j < J; j++)
      {
        float s = skinny_hsum (acc[r][j]);
        for (int k = k8; k < kl; k++)
          s += a[r * lda + k] * bt[j * SKINNY_KC + k];
        out[r * J + j] = s;
      }
}

/* skinny_dots with a constant J in each branch (1 to 3); inlined where R
 * is a constant too, so that each (R, J) gets its own unrolled kernel. */
SKINNY_TARGET static inline __attribute__ ((always_inline)) void
skinny_dots_j (int R, int J, const float *a, gsize lda, const float *bt, int kl, float *out)
{
  if (J == 3)
    skinny_dots (R, 3, a, lda, bt, kl, out);
  else if (J == 2)
    skinny_dots (R, 2, a, lda, bt, kl, out);
  else
    skinny_dots (R, 1, a, lda, bt, kl, out);
}

/* One block of R rows of C over one chunk: all columns, J at a time. */
SKINNY_TARGET static void
skinny_nt_rows (int R, int N, const float *a, gsize lda, const float *bt, int kl,
                gboolean add, float *c, gsize ldc)
{
  for (int j0 = 0; j0 < N; j0 += 3)
    {
      const int J = MIN (3, N - j0);
      float out[12];

      /* Constant R and J in each call, so that the kernel's loops unroll
       * and its sums stay in registers. */
      if (R == 4)
        skinny_dots_j (4, J, a, lda, bt + j0 * SKINNY_KC, kl, out);
      else
        skinny_dots_j (1, J, a, lda, bt + j0 * SKINNY_KC, kl, out);
      for (int r = 0; r < R; r++)
        for (int j = 0; j < J; j++)
          {
            float *dst = c + r * ldc + j0 + j;
            *dst = add ? *dst + out[r * J + j] : out[r * J + j];
          }
    }
}

/* C[M x N] (+)= A[M x K] * B[K x N], N <= SKINNY_MAX. */
SKINNY_TARGET static void
skinny_nt (int M, int N, int K, const float *A, int lda, const float *B, int ldb,
           gboolean accumulate, float *C, int ldc)
{
  const int threads = (gsize) M * K > ((gsize) 1 << 16) ? MIN (omp_get_max_threads (), M / 4) : 1;

#pragma omp parallel num_threads (MAX (threads, 1))
  {
    const int nt = omp_get_num_threads (), t = omp_get_thread_num ();
    /* Contiguous row ranges in whole blocks of 4. */
    const int blocks = (M + 3) / 4;
    const int m0 = MIN (M, (int) ((gint64) blocks * t / nt) * 4);
    const int m1 = MIN (M, (int) ((gint64) blocks * (t + 1) / nt) * 4);
    float bt[SKINNY_MAX * SKINNY_KC];   /* 4 KB */

    for (int k0 = 0; k0 < K; k0 += SKINNY_KC)
      {
        const int kl = MIN (SKINNY_KC, K - k0);
        const gboolean add = accumulate || k0 > 0;

        for (int k = 0; k < kl; k++)
          for (int j = 0; j < N; j++)
            bt[j * SKINNY_KC + k] = B[(gsize) (k0 + k) * ldb + j];
        for (int m = m0; m < m1; m += 4)
          {
            const int R = MIN (4, m1 - m);
            const float *a = A + (gsize) m * lda + k0;
            float *c = C + (gsize) m * ldc;

            if (R == 4)
              skinny_nt_rows (4, N, a, lda, bt, kl, add, c, ldc);
            else
              for (int r = 0; r < R; r++)
                skinny_nt_rows (1, N, a + (gsize) r * lda, lda, bt, kl, add, c + (gsize) r * ldc, ldc);
          }
      }
  }
}

/* The columns of one thread's range that do not fill 8 lanes. */
static void
skinny_tn_tail (int M, int n0, int n1, int K, const float *A, int lda, const float *B, int ldb,
                gboolean accumulate, float *C, int ldc)
{
  for (int r = 0; r < M; r++)
    for (int n = n0; n < n1; n++)
      {
        float s = 0.0f;
        for (int k = 0; k < K; k++)
          s += A[(gsize) k * lda + r] * B[(gsize) k * ldb + n];
        C[(gsize) r * ldc + n] = accumulate ? C[(gsize) r * ldc + n] + s : s;
      }
}

/* C[r][n0..n1) += sum over k < KB of a[k * lda + r] * b[k * ldb + n], for
 * all r < M (KB rows of B at a time: each load and store of C serves KB
 * FMAs). */
SKINNY_TARGET static inline __attribute__ ((always_inline)) void
skinny_tn_rows (int KB, int M, int n0, int n1, const float *a, gsize lda,
                const float *b, gsize ldb, float *C, gsize ldc)
{
  for (int r = 0; r < M; r++)
    {
      __m256 av[8];
      float *c = C + (gsize) r * ldc;

#pragma GCC unroll 8
      for (int k = 0; k < KB; k++)
        av[k] = _mm256_broadcast_ss (a + (gsize) k * lda + r);
      for (int n = n0; n < n1; n += 8)
        {
          __m256 acc = _mm256_loadu_ps (c + n);
#pragma GCC unroll 8
          for (int k = 0; k < KB; k++)
            acc = _mm256_fmadd_ps (av[k], _mm256_loadu_ps (b + (gsize) k * ldb + n), acc);
          _mm256_storeu_ps (c + n, acc);
        }
    }
}

/* C[M x N] (+)= A^T * B with A stored K x M, M <= SKINNY_MAX.  Each thread
 * takes its own range of columns, SKINNY_NB at a time: that block of C
 * (at most 4 x 4 KB) stays in cache while all K rows of B pass, each read
 * as one contiguous run of SKINNY_NB floats, exactly once. */
SKINNY_TARGET static void
skinny_tn (int M, int N, int K, const float *A, int lda, const float *B, int ldb,
           gboolean accumulate, float *C, int ldc)
{
  const int vecs = N / 8;
  const int threads = (gsize) N * K > ((gsize) 1 << 16) ? MIN (omp_get_max_threads (), vecs) : 1;

#pragma omp parallel num_threads (MAX (threads, 1))
  {
    const int nt = omp_get_num_threads (), t = omp_get_thread_num ();
    const int n0 = (int) ((gint64) vecs * t / nt) * 8, n1 = (int) ((gint64) vecs * (t + 1) / nt) * 8;

    for (int s0 = n0; s0 < n1; s0 += SKINNY_NB)
      {
        const int s1 = MIN (n1, s0 + SKINNY_NB);
        int k = 0;

        if (!accumulate)
          for (int r = 0; r < M; r++)
            memset (C + (gsize) r * ldc + s0, 0, sizeof (float) * (s1 - s0));
        for (; k + SKINNY_KB <= K; k += SKINNY_KB)
          skinny_tn_rows (SKINNY_KB, M, s0, s1, A + (gsize) k * lda, lda,
                          B + (gsize) k * ldb, ldb, C, ldc);
        for (; k < K; k++)
          skinny_tn_rows (1, M, s0, s1, A + (gsize) k * lda, lda, B + (gsize) k * ldb, ldb, C, ldc);
      }
  }
  skinny_tn_tail (M, vecs * 8, N, K, A, lda, B, ldb, accumulate, C, ldc);
}

static gboolean
skinny_available (void)
{
  static int off = -1;   /* P2P_NO_SKINNY_GEMM=1, read once */

  if (g_atomic_int_get (&off) < 0)
    g_atomic_int_set (&off, g_strcmp0 (g_getenv ("P2P_NO_SKINNY_GEMM"), "1") == 0);
  return !g_atomic_int_get (&off) && p2p_cpu_has_avx2_fma ();
}

#endif /* SKINNY_X86 */

gboolean
p2p_gemm_skinny (gboolean trans_a, int M, int N, int K,
                 const float *A, int lda, const float *B, int ldb,
                 gboolean accumulate, float *C, int ldc)
{
#ifdef SKINNY_X86
  if (M <= 0 || N <= 0 || K <= 0 || !skinny_available ())
    return FALSE;
  if (!trans_a && N <= SKINNY_MAX && M >= 4)
    {
      skinny_nt (M, N, K, A, lda, B, ldb, accumulate, C, ldc);
      return TRUE;
    }
  if (trans_a && M <= SKINNY_MAX && N >= 8)
    {
      skinny_tn (M, N, K, A, lda, B, ldb, accumulate, C, ldc);
      return TRUE;
    }
#else
  (void) trans_a; (void) M; (void) N; (void) K; (void) A; (void) lda; (void) B; (void) ldb;
  (void) accumulate; (void) C; (void) ldc;
#endif
  return FALSE;
}
