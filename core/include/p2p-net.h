/* p2p-net.h - running a generator network on one CHW tensor.
 *
 * Input: input_nc x H x W floats in the model's input space (usually
 * [-1, 1]); H and W multiples of p2p_model_size_multiple().  Output:
 * output_nc x H' x W' (H' = H for valid sizes) through the final Tanh.
 */
#pragma once

#include <glib.h>
#include "p2p-model.h"
#include "p2p-tensor.h"

G_BEGIN_DECLS

typedef enum {
  P2P_NORM_MODE_OFFICIAL,    /* BatchNorm with per-image statistics + learned affine,
                                dropout off: deterministic (the default) */
  P2P_NORM_MODE_RUNNING,     /* BatchNorm with running statistics (PyTorch eval()) */
  P2P_NORM_MODE_STOCHASTIC,  /* as OFFICIAL, but dropout active (p = 0.5), seeded */
} P2pNormMode;

/* The statistics of every per-image norm layer of one pass, in layer
 * order.  Recorded on one image and applied to another: the tiled pipeline
 * runs every tile with the statistics of the whole (downscaled) image, so
 * that all tiles are normalised alike and no seams appear. */
typedef struct _P2pNormStats P2pNormStats;

P2pNormStats *p2p_norm_stats_new  (void);
void          p2p_norm_stats_free (P2pNormStats *stats);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pNormStats, p2p_norm_stats_free)

/* Called between layers with the fraction done (0..1).  Return FALSE to
 * cancel: the run then fails with P2P_ERROR_CANCELLED. */
typedef gboolean (*P2pProgressFunc) (double fraction, gpointer user_data);

/* Parts of a convolution timed separately when profiling. */
typedef enum {
  P2P_PHASE_GEMM,
  P2P_PHASE_IM2COL,     /* im2col, or Winograd's weight and input transforms */
  P2P_PHASE_COL2IM,     /* col2im scatter, or Winograd's output transform (+ bias) */
  P2P_PHASE_ZERO,       /* clearing the output */
  P2P_PHASE_BIAS,
  P2P_N_PHASES
} P2pPhase;

/* Profiling: one record per op of a pass, in execution order. */
typedef struct {
  int         index;          /* 0, 1, ... within the pass */
  const char *op;             /* "conv", "conv-transpose", "norm", "relu", "leaky-relu",
                                 "tanh", "concat", "pad", "add", "dropout" */
  int         kernel, stride; /* convolutions; 0 otherwise */
  int         in_c, in_h, in_w, out_c, out_h, out_w;
  guint64     macs;           /* multiply-adds (convolutions), else 0 */
  double      seconds;        /* the whole op, allocation of its output included */
  double      phase_s[P2P_N_PHASES]; /* convolutions: seconds per P2pPhase */
} P2pLayerTiming;

typedef void (*P2pLayerFunc) (const P2pLayerTiming *timing, gpointer user_data);

typedef struct {
  P2pNormMode     norm_mode;
  guint64         seed;          /* for P2P_NORM_MODE_STOCHASTIC */
  int             threads;       /* 0: all cores */
  P2pProgressFunc progress;      /* may be NULL */
  gpointer        progress_data;
  P2pNormStats       *record_stats;  /* if set, receives this pass's statistics */
  const P2pNormStats *use_stats;     /* if set, used instead of the image's own
                                        (from a pass of the same model) */
  P2pLayerFunc    layer_func;    /* profiling: called after each op; NULL (the
                                    default) costs nothing */
  gpointer        layer_data;
  P2pArena       *arena;         /* optional: buffers kept between passes (a caller
                                    running many passes, e.g. over tiles); NULL:
                                    the pass uses an arena of its own */
} P2pNetOptions;

void p2p_net_options_init (P2pNetOptions *options);

/* Runs the generator.  Returns a new tensor (transfer full) or NULL with
 * @error set (bad size, no memory, cancelled). */
P2pTensor *p2p_net_run (const P2pModel      *model,
                        const P2pNetOptions *options,
                        const P2pTensor     *input,
                        GError             **error);

const char *p2p_norm_mode_to_string   (P2pNormMode mode);
gboolean    p2p_norm_mode_from_string (const char *s, P2pNormMode *mode);

G_END_DECLS
