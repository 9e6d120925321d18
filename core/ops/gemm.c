/* gemm.c - the single door to BLAS (after the skinny shapes of gemm-skinny.c). */
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
  if (p2p_gemm_skinny (trans_a, M, N, K, A, lda, B, ldb, accumulate, C, ldc))
    return;
  cblas_sgemm (CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans, CblasNoTrans,
               M, N, K, 1.0f, A, lda, B, ldb, accumulate ? 1.0f : 0.0f, C, ldc);
}

void
p2p_scratch_clear (P2pScratch *s)
{
  p2p_arena_release (s->arena, s->data, s->n);
  s->data = NULL;
  s->n = 0;
}

gboolean
p2p_scratch_ensure (P2pScratch *s, gsize n, GError **error)
{
  float *p;
  gsize cap;

  if (n <= s->n)
    return TRUE;
  /* The old block goes first: it cannot serve, and the arena may give it
   * back to the system before taking a larger one. */
  p2p_scratch_clear (s);
  p = p2p_arena_alloc_floats (s->arena, n, &cap);
  if (!p)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   "Not enough memory for a %" G_GSIZE_FORMAT " MB work buffer",
                   (n * sizeof (float)) >> 20);
      return FALSE;
    }
  s->data = p;
  s->n = cap;
  return TRUE;
}
