/* p2p-blas.h - the BLAS backend: thread count and kernel choice.
 *
 * Debian 12's OpenBLAS 0.3.21 does not know recent Intel CPUs and falls
 * back to SSE3 ("Prescott") kernels, 4-5x slower.  The variable
 * OPENBLAS_CORETYPE must be set before the library initialises, which is
 * at program load, so executables call p2p_blas_init_early() first thing in
 * main(): it re-executes the program once with the variable set when the
 * library picked a core below what the CPU supports, or when
 * OMP_WAIT_POLICY / OPENBLAS_THREAD_TIMEOUT are unset (passive OpenMP
 * workers; OpenBLAS workers that stop polling soon after each GEMM - see
 * p2p-blas.c).  Variables the user set are kept.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Call at the very start of main().  May not return (re-exec). */
void        p2p_blas_init_early (int argc, char **argv);

void        p2p_blas_set_threads (int threads);  /* 0: all cores */
int         p2p_blas_get_threads (void);
const char *p2p_blas_get_corename (void);
/* Whether the CPU runs AVX2 and FMA (x86-64; FALSE elsewhere): the ops'
 * own vector kernels (skinny GEMM, direct convolution) need both. */
gboolean    p2p_cpu_has_avx2_fma (void);         /* OpenBLAS kernel set in use */

G_END_DECLS
