/* peak.c - measures this CPU's core clock and fp32 FMA throughput for bench/run.sh.
 *
 * Why measure: the clock under load differs from the nominal one (turbo, and on a
 * virtual machine /proc/cpuinfo shows only the host's base clock), and the fraction of
 * peak the benchmark reports is only as honest as the peak it divides by.
 *
 *   clock: a chain of dependent integer adds, one per cycle on every x86 core since the
 *          Pentium Pro, so adds / second = cycles / second.
 *   FMA:   many independent vfmadd chains on the widest vectors the CPU has (ymm with
 *          AVX2+FMA, zmm with AVX-512F), enough accumulators to cover latency x units.
 *          One thread per core, each pinned by the OS scheduler.
 *
 * Output (one "key value" a line): clock_ghz, vector_lanes, fma_gflops_1, fma_gflops_N,
 * threads_N, flop_per_cycle (measured single-core FMA GFLOP/s / clock).
 *
 * Build: cc -O2 -march=native -pthread peak.c -o peak   (run.sh does it)
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* 16 dependent adds per iteration; the loop counter runs in parallel. */
static double
clock_ghz (void)
{
  const uint64_t iters = 50u * 1000u * 1000u;
  double best = 0.0;

  for (int rep = 0; rep < 5; rep++)
    {
      uint64_t x = 0, n = iters;
      double t0 = now (), dt;

      __asm__ volatile ("1:\n\t"
                        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                        "add $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\tadd $1, %0\n\t"
                        "dec %1\n\tjnz 1b\n\t"
                        : "+r" (x), "+r" (n));
      dt = now () - t0;
      if (16.0 * iters / dt / 1e9 > best)
        best = 16.0 * iters / dt / 1e9;
    }
  return best;
}

#if defined(__AVX512F__)
typedef __m512 vec;
#define LANES 16
#define VSET1(x) _mm512_set1_ps (x)
#define VFMA(a, b, c) _mm512_fmadd_ps (a, b, c)
#define VSUM(v) _mm512_reduce_add_ps (v)
#elif defined(__AVX2__) && defined(__FMA__)
typedef __m256 vec;
#define LANES 8
#define VSET1(x) _mm256_set1_ps (x)
#define VFMA(a, b, c) _mm256_fmadd_ps (a, b, c)
static float
VSUM (__m256 v)
{
  float f[8];
  _mm256_storeu_ps (f, v);
  return f[0] + f[1] + f[2] + f[3] + f[4] + f[5] + f[6] + f[7];
}
#else
#error "peak.c needs AVX2+FMA or AVX-512F (build with -march=native on such a CPU)"
#endif

#define ACC 12  /* >= FMA latency (4-5) x FMA units (2) on current x86 cores; see the loop */
#define ITERS (40u * 1000u * 1000u)

typedef struct { double gflops; float sink; } FmaResult;

static void *
fma_thread (void *data)
{
  FmaResult *res = data;
  vec acc[ACC], a = VSET1 (0.999999f), b = VSET1 (1e-7f);
  double t0, dt;
  float s = 0.0f;

  for (int i = 0; i < ACC; i++)
    acc[i] = VSET1 ((float) i);
  t0 = now ();
  /* Written out so that the accumulators stay in registers at any -O level. */
  {
    vec c0 = acc[0], c1 = acc[1], c2 = acc[2], c3 = acc[3], c4 = acc[4], c5 = acc[5];
    vec c6 = acc[6], c7 = acc[7], c8 = acc[8], c9 = acc[9], c10 = acc[10], c11 = acc[11];

    for (uint32_t it = 0; it < ITERS; it++)
      {
        c0 = VFMA (c0, a, b); c1 = VFMA (c1, a, b); c2 = VFMA (c2, a, b);
        c3 = VFMA (c3, a, b); c4 = VFMA (c4, a, b); c5 = VFMA (c5, a, b);
        c6 = VFMA (c6, a, b); c7 = VFMA (c7, a, b); c8 = VFMA (c8, a, b);
        c9 = VFMA (c9, a, b); c10 = VFMA (c10, a, b); c11 = VFMA (c11, a, b);
      }
    acc[0] = c0; acc[1] = c1; acc[2] = c2; acc[3] = c3; acc[4] = c4; acc[5] = c5;
    acc[6] = c6; acc[7] = c7; acc[8] = c8; acc[9] = c9; acc[10] = c10; acc[11] = c11;
  }
  dt = now () - t0;
  for (int i = 0; i < ACC; i++)
    s += VSUM (acc[i]);
  res->sink = s;
  res->gflops = 2.0 * LANES * ACC * (double) ITERS / dt / 1e9;
  return NULL;
}

/* Best of a few runs of @n threads at once; returns the sum over threads. */
static double
fma_gflops (int n)
{
  double best = 0.0;

  for (int rep = 0; rep < 3; rep++)
    {
      pthread_t th[64];
      FmaResult res[64];
      double sum = 0.0;

      for (int i = 0; i < n; i++)
        pthread_create (&th[i], NULL, fma_thread, &res[i]);
      for (int i = 0; i < n; i++)
        {
          pthread_join (th[i], NULL);
          sum += res[i].gflops;
        }
      if (sum > best)
        best = sum;
    }
  return best;
}

int
main (int argc, char **argv)
{
  int n = argc > 1 ? atoi (argv[1]) : 2;
  double ghz, g1, gn;

  if (n < 1 || n > 64)
    n = 2;
  ghz = clock_ghz ();
  g1 = fma_gflops (1);
  gn = n > 1 ? fma_gflops (n) : g1;
  printf ("clock_ghz %.3f\n", ghz);
  printf ("vector_lanes %d\n", LANES);
  printf ("fma_gflops_1 %.1f\n", g1);
  printf ("threads_N %d\n", n);
  printf ("fma_gflops_N %.1f\n", gn);
  printf ("flop_per_cycle %.1f\n", g1 / ghz);
  return 0;
}
