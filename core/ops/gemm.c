/* gemm.c - the single door to BLAS. */
#include <cblas.h>

#include "p2p-error.h"
#include "p2p-ops.h"

void
p2p_gemm (gboolean trans_a, int M, int N, int K,
          const float *A, int lda, const float *B, int ldb,
          gboolean accumulate, float *C, int ldc)
{
  if (M <= 0 || N <= 0)
    return;
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans,
               M, N, K, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, ldc);
}

void
p2p_scratch_clear (P2pScratch *s)
{
  p2p_free_aligned (s->data);
  s->data = NULL;
  s->n = 0;
}

gboolean
p2p_scratch_ensure (P2pScratch *s, gsize n, GError **error)
{
  float *p;

  if (n <= s->n)
    return TRUE;
  p = p2p_alloc_floats (n);
  if (!p)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   "Not enough memory for a %" G_GSIZE_FORMAT " MB work buffer",
                   (n * sizeof (float)) >> 20);
      return FALSE;
    }
  p2p_free_aligned (s->data);
  s->data = p;
  s->n = n;
  return TRUE;
}
