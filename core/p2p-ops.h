/* p2p-ops.h - the network's building blocks, one op (family) per file in ops/.
 *
 * All ops work on P2pTensor (float32, CHW, batch 1).  Shape contracts are
 * programming errors (g_return_val_if_fail / g_assert); the only runtime
 * failure is memory, reported as P2P_ERROR_NO_MEMORY.  Ops use OpenMP over
 * channels where it pays, and OpenBLAS for the GEMMs (ops/gemm.c is the only
 * caller of cblas_sgemm).
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-ops.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include <string.h>
#include <time.h>
#include <glib.h>
#include "p2p-net.h"
#include "p2p-tensor.h"

G_BEGIN_DECLS

/* Below this many elements an op runs on one thread: waking the other
 * threads costs more than the work (and a lot more on a busy machine). */
#define P2P_OPS_PARALLEL_MIN ((gsize) 1 << 16)

/* Four floats (and four ints) as one SSE-sized value, for the element-wise
 * kernels that the compiler would not vectorise in their scalar form; GCC
 * and clang both take these vector types.  Loads and stores go through
 * memcpy (no alignment assumed). */
typedef float  P2pF4 __attribute__ ((vector_size (16)));
typedef gint32 P2pI4 __attribute__ ((vector_size (16)));

static inline P2pF4
p2p_f4_load (const float *p)
{
  P2pF4 v;
  memcpy (&v, p, sizeof v);
  return v;
}

static inline void
p2p_f4_store (float *p, P2pF4 v)
{
  memcpy (p, &v, sizeof v);
}

/* C[M x N] = A[M x K] * B[K x N] (+ C if accumulate), row-major, with
 * leading dimensions.  trans_a: A is stored as K x M. */
void p2p_gemm (gboolean trans_a, int M, int N, int K,
               const float *A, int lda, const float *B, int ldb,
               gboolean accumulate, float *C, int ldc);

/* The same product for a small side (at most 4 columns with A not
 * transposed, at most 4 rows with A transposed) on AVX2+FMA CPUs, streaming
 * the large operand once (ops/gemm-skinny.c).  Returns FALSE, doing nothing,
 * for other shapes or CPUs or with P2P_NO_SKINNY_GEMM=1; p2p_gemm() tries it
 * first. */
gboolean p2p_gemm_skinny (gboolean trans_a, int M, int N, int K,
                          const float *A, int lda, const float *B, int ldb,
                          gboolean accumulate, float *C, int ldc);

/* P2pPhase (the parts of a convolution timed when profiling) is public:
 * p2p-net.h. */

/* Scratch memory reused by convolutions; bounded: ops process big images
 * in bands so that the columns buffer never exceeds P2P_SCRATCH_MAX_BYTES.
 * phase_s: NULL, or P2P_N_PHASES seconds to which the ops add the time of
 * their parts (profiling; one pointer test per part when off). */
typedef struct {
  float    *data;
  gsize     n;        /* floats allocated */
  double   *phase_s;
  P2pArena *arena;    /* NULL, or where the block comes from and goes back to */
  gsize     max_bytes; /* 0: P2P_SCRATCH_MAX_BYTES; tests set less to get many
                          bands from small shapes (Winograd convolutions) */
} P2pScratch;

static inline double
p2p_now_s (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + 1e-9 * (double) ts.tv_nsec;
}

/* t0 = p2p_phase_begin (s); ...; p2p_phase_end (s, PHASE, t0); */
static inline double
p2p_phase_begin (const P2pScratch *s)
{
  return s && s->phase_s ? p2p_now_s () : 0.0;
}

static inline void
p2p_phase_end (P2pScratch *s, P2pPhase phase, double t0)
{
  if (s && s->phase_s)
    s->phase_s[phase] += p2p_now_s () - t0;
}

#define P2P_SCRATCH_MAX_BYTES ((gsize) 64 << 20)

void     p2p_scratch_clear  (P2pScratch *s);
gboolean p2p_scratch_ensure (P2pScratch *s, gsize n, GError **error);

typedef struct {
  int kernel;          /* square kernel size */
  int stride;
  int pad;             /* zero padding on every side (conv) / implicit crop (conv-transpose) */
  int output_padding;  /* conv-transpose only: extra rows/cols at the bottom/right */
} P2pConvParams;

/* Output size of a convolution / transposed convolution along one axis. */
int p2p_conv2d_out_size           (int in, const P2pConvParams *p);
int p2p_conv_transpose2d_out_size (int in, const P2pConvParams *p);

/* Zero-padded convolution:
 * out[co,y,x] = bias[co] + sum_{ci,ky,kx} w[co,ci,ky,kx] * in[ci, y*s-p+ky, x*s-p+kx]
 * weight: [cout, cin, k, k]; bias may be NULL.  out must be allocated with
 * the right shape. */
gboolean p2p_conv2d (const P2pTensor *in, const float *weight, const float *bias,
                     const P2pConvParams *p, P2pTensor *out,
                     P2pScratch *scratch, GError **error);

/* Transposed convolution (PyTorch ConvTranspose2d):
 * out[co, i*s-p+ky, j*s-p+kx] += in[ci,i,j] * w[ci,co,ky,kx], plus bias.
 * weight: [cin, cout, k, k]; bias may be NULL. */
gboolean p2p_conv_transpose2d (const P2pTensor *in, const float *weight, const float *bias,
                               const P2pConvParams *p, P2pTensor *out,
                               P2pScratch *scratch, GError **error);

/* Stride-1 convolution with at most P2P_CONV2D_DIRECT_MAX_COUT output
 * channels as direct loops (ops/conv2d-direct.c): no im2col, no GEMM; for
 * the ResNet's last layer (64 -> 3).  Same semantics as p2p_conv2d; its
 * time is reported as GEMM time. */
#define P2P_CONV2D_DIRECT_MAX_COUT 4
gboolean p2p_conv2d_direct_supported (const P2pConvParams *p, int cout);
gboolean p2p_conv2d_direct (const P2pTensor *in, const float *weight, const float *bias,
                            const P2pConvParams *p, P2pTensor *out,
                            P2pScratch *scratch, GError **error);

/* Winograd convolutions (ops/winograd.c): F(2x2, 3x3) for 3x3 stride 1,
 * F(2x2, 2x2) for stride-2 convolutions with k <= 4 (as a 2x2 stride-1
 * conv over the space-to-depth of the padded input) and for transposed
 * convolutions k <= 4, stride 2, pad 1 (each output phase a 2x2 stride-1
 * conv).  Same semantics and arguments as p2p_conv2d /
 * p2p_conv_transpose2d, for the parameters that _supported accepts. */
gboolean p2p_winograd_conv2d_supported           (const P2pConvParams *p);
gboolean p2p_winograd_conv_transpose2d_supported (const P2pConvParams *p);
gboolean p2p_conv2d_winograd (const P2pTensor *in, const float *weight, const float *bias,
                              const P2pConvParams *p, P2pTensor *out,
                              P2pScratch *scratch, GError **error);
gboolean p2p_conv_transpose2d_winograd (const P2pTensor *in, const float *weight, const float *bias,
                                        const P2pConvParams *p, P2pTensor *out,
                                        P2pScratch *scratch, GError **error);

/* Floats from one plane of a Winograd buffer to the next for planes of @n
 * floats: rounded up, plus a little, so that the planes one tile's values
 * are spread over do not meet in the same cache sets. */
gsize p2p_winograd_plane_stride (gsize n);

/* How many of @tile_rows tile rows one band of a Winograd convolution
 * takes: as many as fit in the scratch limit beside @fixed floats (the
 * transformed weights, padding), at @per_row floats a tile row; at least 1. */
gsize p2p_winograd_band_rows (const P2pScratch *scratch, gsize fixed, gsize per_row,
                              int tile_rows);

/* F(4x4, 3x3) for 3x3 stride-1 convolutions with zero padding
 * (ops/winograd4.c): 2.25 multiplications per output and channel instead
 * of F(2x2, 3x3)'s 4.  Same semantics and arguments as p2p_conv2d.
 * _fits: whether its least scratch (the transformed weights and one tile
 * row) stays within P2P_SCRATCH_MAX_BYTES. */
gboolean p2p_winograd4_supported (const P2pConvParams *p);
gboolean p2p_winograd4_fits      (int cin, int cout, int out_w, int in_w);
gboolean p2p_conv2d_winograd4    (const P2pTensor *in, const float *weight, const float *bias,
                                  const P2pConvParams *p, P2pTensor *out,
                                  P2pScratch *scratch, GError **error);

/* im2col for p2p_conv2d: rows [ci*k*k + ky*k + kx], columns the output
 * pixels of rows [oy0, oy1). */
void p2p_im2col (const P2pTensor *in, const P2pConvParams *p, int out_w,
                 int oy0, int oy1, float *cols);
/* col2im for p2p_conv_transpose2d: adds the columns of input rows
 * [iy0, iy1) into out; row r = co*k*k + ky*k + kx, column j = pixel
 * (iy - iy0)*in_w + ix, stored at cols[r*row_step + j*col_step] (row_step
 * = columns, col_step = 1 as the GEMM usually writes them; row_step 1,
 * col_step = rows when it wrote them transposed). */
void p2p_col2im_add (const float *cols, gsize row_step, gsize col_step, int iy0, int iy1,
                     int in_w, const P2pConvParams *p, P2pTensor *out);

/* Per-channel normalisation.  Per-image statistics (instance norm, and
 * BatchNorm at batch 1 in train mode): p2p_norm_statistics gives the mean
 * and biased variance of @t (t->c values each), then p2p_norm_apply_act
 * computes y = (x - mean) / sqrt(var + eps) [* gamma + beta] (gamma/beta
 * may be NULL) followed by y > 0 ? y : slope * y in the same pass (slope 1:
 * no activation, 0: ReLU, 0.2: LeakyReLU(0.2)).  p2p_norm_running_act: the
 * same with BatchNorm's running statistics (eval mode). */
void p2p_norm_statistics  (const P2pTensor *t, double *mean, double *var);
void p2p_norm_apply_act   (P2pTensor *t, const double *mean, const double *var,
                           const float *gamma, const float *beta, float eps, float slope);
void p2p_norm_running_act (P2pTensor *t, const float *mean, const float *var,
                           const float *gamma, const float *beta, float eps, float slope);

/* Element-wise activations, in place. */
void p2p_relu       (P2pTensor *t);
void p2p_leaky_relu (P2pTensor *t, float slope);
void p2p_tanh       (P2pTensor *t);
/* Dropout in train mode: each element zeroed with p = 0.5, survivors x2.
 * @rng_state is advanced; same seed, same mask. */
void p2p_dropout    (P2pTensor *t, guint64 *rng_state);

/* Reflection padding (edge not repeated, PyTorch "reflect"); pad < h, w. */
void p2p_pad_reflect (const P2pTensor *in, int pad, P2pTensor *out);

/* Nearest-neighbour upsampling by 2: out[c, y, x] = in[c, y / 2, x / 2];
 * out is 2h x 2w. */
void p2p_upsample_nearest2x (const P2pTensor *in, P2pTensor *out);

/* a += b element-wise (residual connection). */
void p2p_add_inplace (P2pTensor *a, const P2pTensor *b);

/* t[c, y, x] += bias[c] (the convolutions' bias). */
void p2p_add_channel_bias (P2pTensor *t, const float *bias);

/* ---- the choice of method (ops/conv-method.c) ---------------------------- */

/* p2p_conv2d or p2p_conv_transpose2d by the fastest way that applies (the
 * network runner's convolutions). */
gboolean p2p_conv2d_best (const P2pTensor *in, const float *weight, const float *bias,
                          const P2pConvParams *p, P2pTensor *out,
                          P2pScratch *scratch, GError **error);
gboolean p2p_conv_transpose2d_best (const P2pTensor *in, const float *weight, const float *bias,
                                    const P2pConvParams *p, P2pTensor *out,
                                    P2pScratch *scratch, GError **error);

/* The paths the environment variable P2P_NO_WINOGRAD switches off (read
 * once): unset, empty or "0": none; a comma-separated list of "3x3",
 * "4x4", "down", "up"; anything else ("1"): all.  "4x4" leaves 3x3 layers
 * to F(2x2, 3x3); "3x3" switches both off. */
typedef enum {
  P2P_WINOGRAD_3X3  = 1 << 0,   /* 3x3 stride-1 convolutions */
  P2P_WINOGRAD_DOWN = 1 << 1,   /* 4x4 stride-2 convolutions */
  P2P_WINOGRAD_UP   = 1 << 2,   /* 4x4 stride-2 transposed convolutions */
  P2P_WINOGRAD_4X4  = 1 << 3,   /* F(4x4, 3x3) for the 3x3 ones */
  P2P_WINOGRAD_ALL  = 15
} P2pWinogradPath;
guint    p2p_winograd_disabled (void);
/* Whether the network runner takes the Winograd way for this layer: the
 * path is on, supported, and measured faster at this size. */
gboolean p2p_winograd_pays (const P2pConvParams *p, gboolean transposed,
                            int cin, int cout, int out_h, int out_w);
/* The same for F(4x4, 3x3) (asked first for 3x3 stride-1 layers). */
gboolean p2p_winograd4_pays (const P2pConvParams *p, int cin, int cout,
                             int out_h, int out_w, int in_w);

G_END_DECLS
