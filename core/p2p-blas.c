/* p2p-blas.c - OpenBLAS kernel choice and thread count.
 *
 * Why the re-exec: OpenBLAS picks its kernels in a constructor when the
 * library is loaded, reading OPENBLAS_CORETYPE.  Debian 12's 0.3.21 does not
 * recognise newer Intel CPUs and falls back to "Prescott" (SSE3) kernels,
 * several times slower.  Setting the variable in main() is too late for the
 * running process, so we set it and exec ourselves once.  A variable the
 * user set is always respected.
 *
 * The same goes for OMP_WAIT_POLICY: by default idle OpenMP workers spin,
 * stealing the cores OpenBLAS's own threads need during every GEMM (the
 * U-Net ran 2-3x slower).  libgomp reads the variable at load time too, so
 * it is set to "passive" in the same single re-exec.
 *
 * And OPENBLAS_THREAD_TIMEOUT (read by OpenBLAS's constructor): after each
 * GEMM its idle workers keep polling for 2^28 cycles by default - longer
 * than the norm, activation and im2col passes between two GEMMs, which
 * then run on cores those workers occupy.  With 2 threads the non-GEMM
 * passes of a unet_256 pass at 256x256 did not speed up at all (56 ms at 1
 * thread and at 2); at 2^4 cycles they run twice as fast and the pass
 * takes 136-139 ms instead of 170-177 ms (GEMM time unchanged: the workers
 * are woken on each call).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "p2p-blas.h"

/* OpenBLAS extensions (declared here to avoid depending on its cblas.h
 * variant, which differs between distributions). */
extern void  openblas_set_num_threads (int num_threads);
extern int   openblas_get_num_threads (void);
extern char *openblas_get_corename (void);

#define REEXEC_GUARD "P2P_BLAS_REEXECUTED"

static int p2p_threads;

static const char *
better_coretype (void)
{
  const char *core = openblas_get_corename ();

  /* Only generic fallbacks are corrected; a named modern core is kept. */
  if (core == NULL || (strcmp (core, "Prescott") != 0 && strcmp (core, "Core2") != 0 &&
                       strcmp (core, "Nehalem") != 0 && strcmp (core, "Sandybridge") != 0))
    return NULL;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw") &&
      __builtin_cpu_supports ("avx512vl") && __builtin_cpu_supports ("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma"))
    return strcmp (core, "Sandybridge") == 0 ? NULL : "Haswell";
#endif
  return NULL;
}

void
p2p_blas_init_early (int argc, char **argv)
{
  const char *coretype = NULL;
  gboolean again = FALSE;

  (void) argc;
  if (g_getenv (REEXEC_GUARD))
    return;
  if (!g_getenv ("OPENBLAS_CORETYPE"))
    coretype = better_coretype ();
  if (coretype)
    {
      g_setenv ("OPENBLAS_CORETYPE", coretype, TRUE);
      again = TRUE;
    }
  if (!g_getenv ("OPENBLAS_THREAD_TIMEOUT"))
    {
      g_setenv ("OPENBLAS_THREAD_TIMEOUT", "4", TRUE);
      again = TRUE;
    }
#ifdef _OPENMP
  if (!g_getenv ("OMP_WAIT_POLICY"))
    {
      g_setenv ("OMP_WAIT_POLICY", "passive", TRUE);
      again = TRUE;
    }
#endif
  if (!again)
    return;
  g_setenv (REEXEC_GUARD, "1", TRUE);
  {
    /* The resolved path keeps the process name (GIMP and ps see "exe"
     * otherwise). */
    g_autofree char *self = g_file_read_link ("/proc/self/exe", NULL);
    execv (self ? self : "/proc/self/exe", argv);
  }
  /* exec failed (e.g. no /proc): carry on as we are. */
}

void
p2p_blas_set_threads (int threads)
{
  if (threads <= 0)
    threads = (int) g_get_num_processors ();
  p2p_threads = threads;
  openblas_set_num_threads (threads);
#ifdef _OPENMP
  omp_set_num_threads (threads);
#endif
}

int
p2p_blas_get_threads (void)
{
  if (p2p_threads <= 0)
    return openblas_get_num_threads ();
  return p2p_threads;
}

const char *
p2p_blas_get_corename (void)
{
  const char *core = openblas_get_corename ();
  return core ? core : "unknown";
}

gboolean
p2p_cpu_has_avx2_fma (void)
{
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  static int state;   /* 0 unknown, 1 yes, 2 no */

  if (g_atomic_int_get (&state) == 0)
    {
      __builtin_cpu_init ();
      g_atomic_int_set (&state, __builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") ? 1 : 2);
    }
  return g_atomic_int_get (&state) == 1;
#else
  return FALSE;
#endif
}
