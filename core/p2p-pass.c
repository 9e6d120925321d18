/* p2p-pass.c - one forward pass: the layers the architectures' forward
 * passes are built from (convolution by the method ops/conv-method.c
 * chooses, norm, activations), with profiling, progress and the per-image
 * norm statistics.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-model-private.h"
#include "p2p-net.h"
#include "p2p-ops.h"

#define NORM_EPS 1e-5f

typedef struct {
  int     c;
  double *mean, *var;   /* one allocation: mean[c] then var[c] */
} NormLayerStats;

struct _P2pNormStats {
  GArray *layers;       /* NormLayerStats */
};

struct _P2pPass {
  const P2pNetOptions *opt;
  P2pNorm   norm;
  P2pScratch scratch;
  P2pArena *arena;
  guint64   rng;
  int       step, n_steps;
  guint     norm_index;  /* per-image norm layers seen so far */
  int       layer_index; /* profiling: ops reported so far */
  double    phase_s[P2P_N_PHASES];
};

G_STATIC_ASSERT (G_N_ELEMENTS (((P2pLayerTiming *) NULL)->phase_s) == P2P_N_PHASES);

/* ---- profiling (P2pNetOptions.layer_func) ------------------------------ */

static inline double
prof_begin (const P2pPass *run)
{
  return run->opt->layer_func ? p2p_now_s () : 0.0;
}

/* Reports one op that began at t0 (from prof_begin); in may equal out. */
static void
prof_end (P2pPass *run, double t0, const char *op, const P2pTensor *in, const P2pTensor *out,
          int kernel, int stride, guint64 macs)
{
  P2pLayerTiming t = { 0 };

  if (!run->opt->layer_func || !out)
    return;
  t.seconds = p2p_now_s () - t0;
  t.index = run->layer_index++;
  t.op = op;
  t.kernel = kernel;
  t.stride = stride;
  t.in_c = in->c;
  t.in_h = in->h;
  t.in_w = in->w;
  t.out_c = out->c;
  t.out_h = out->h;
  t.out_w = out->w;
  t.macs = macs;
  memcpy (t.phase_s, run->phase_s, sizeof t.phase_s);
  memset (run->phase_s, 0, sizeof run->phase_s);
  run->opt->layer_func (&t, run->opt->layer_data);
}

void
p2p_pass_relu (P2pPass *run, P2pTensor *t)
{
  const double t0 = prof_begin (run);
  p2p_relu (t);
  prof_end (run, t0, "relu", t, t, 0, 0, 0);
}

void
p2p_pass_leaky_relu (P2pPass *run, P2pTensor *t, float slope)
{
  const double t0 = prof_begin (run);
  p2p_leaky_relu (t, slope);
  prof_end (run, t0, "leaky-relu", t, t, 0, 0, 0);
}

void
p2p_pass_tanh (P2pPass *run, P2pTensor *t)
{
  const double t0 = prof_begin (run);
  p2p_tanh (t);
  prof_end (run, t0, "tanh", t, t, 0, 0, 0);
}

void
p2p_pass_dropout (P2pPass *run, P2pTensor *t)
{
  const double t0 = prof_begin (run);
  p2p_dropout (t, &run->rng);
  prof_end (run, t0, "dropout", t, t, 0, 0, 0);
}

static void
norm_layer_stats_clear (gpointer p)
{
  g_free (((NormLayerStats *) p)->mean);
}

P2pNormStats *
p2p_norm_stats_new (void)
{
  P2pNormStats *stats = g_new0 (P2pNormStats, 1);
  stats->layers = g_array_new (FALSE, TRUE, sizeof (NormLayerStats));
  g_array_set_clear_func (stats->layers, norm_layer_stats_clear);
  return stats;
}

void
p2p_norm_stats_free (P2pNormStats *stats)
{
  if (!stats)
    return;
  g_array_unref (stats->layers);
  g_free (stats);
}

/* Reports progress after each convolution; FALSE when cancelled. */
static gboolean
tick (P2pPass *run, GError **error)
{
  run->step++;
  if (run->opt->progress &&
      !run->opt->progress ((double) run->step / run->n_steps, run->opt->progress_data))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }
  return TRUE;
}

/* Per-image normalisation (instance norm, BatchNorm at batch 1), with the
 * statistics recorded or replaced as the options ask. */
static void
norm_per_image (P2pPass *run, P2pTensor *t, const float *gamma, const float *beta, float slope)
{
  const P2pNormStats *use = run->opt->use_stats;
  P2pNormStats *record = run->opt->record_stats;
  const guint index = run->norm_index++;
  NormLayerStats own = { t->c, NULL, NULL };
  const NormLayerStats *s = &own;

  if (use && index < use->layers->len &&
      g_array_index (use->layers, NormLayerStats, index).c == t->c)
    s = &g_array_index (use->layers, NormLayerStats, index);
  else
    {
      if (use)
        g_critical ("norm statistics from another network (layer %u)", index);
      own.mean = g_new (double, 2 * (gsize) t->c);
      own.var = own.mean + t->c;
      p2p_norm_statistics (t, own.mean, own.var);
    }
  p2p_norm_apply_act (t, s->mean, s->var, gamma, beta, NORM_EPS, slope);

  if (record)
    {
      NormLayerStats copy = { s->c, g_memdup2 (s->mean, 2 * sizeof (double) * s->c), NULL };
      copy.var = copy.mean + s->c;
      g_array_append_val (record->layers, copy);
    }
  g_free (own.mean);
}

/* The norm layer, then y > 0 ? y : slope * y (1: no activation, 0: ReLU,
 * 0.2: LeakyReLU) in the same pass. */
void
p2p_pass_norm_act (P2pPass *run, P2pTensor *t, const P2pNormW *n, float slope)
{
  const double t0 = prof_begin (run);

  switch (run->norm)
    {
    case P2P_NORM_NONE:
      if (slope == 0.0f)
        p2p_pass_relu (run, t);
      else if (slope != 1.0f)
        p2p_pass_leaky_relu (run, t, slope);
      return;
    case P2P_NORM_INSTANCE:
      norm_per_image (run, t, NULL, NULL, slope);
      break;
    case P2P_NORM_BATCH:
      if (run->opt->norm_mode == P2P_NORM_MODE_RUNNING)
        p2p_norm_running_act (t, n->mean, n->var, n->gamma, n->beta, NORM_EPS, slope);
      else
        norm_per_image (run, t, n->gamma, n->beta, slope);
      break;
    }
  prof_end (run, t0, slope == 1.0f ? "norm" : slope == 0.0f ? "norm+relu" : "norm+leaky-relu",
            t, t, 0, 0, 0);
}

/* The convolutions, by the method ops/conv-method.c chooses. */
static gboolean
conv2d_op (P2pPass *run, const P2pTensor *in, const P2pConvW *w, const P2pConvParams *p,
           P2pTensor *out, GError **error)
{
  return p2p_conv2d_best (in, w->weight, w->bias, p, out, &run->scratch, error);
}

static gboolean
conv_transpose2d_op (P2pPass *run, const P2pTensor *in, const P2pConvW *w, const P2pConvParams *p,
                     P2pTensor *out, GError **error)
{
  return p2p_conv_transpose2d_best (in, w->weight, w->bias, p, out, &run->scratch, error);
}

/* Whether a per-channel constant added before the run's norm layers
 * leaves their output unchanged: per-image statistics subtract the mean,
 * which moves with the constant, and the variance does not (statistics
 * recorded on another image and applied to tiles included the same
 * constant, or lack it the same way).  Running statistics and no norm
 * keep it. */
static gboolean
norm_cancels_bias (const P2pPass *run)
{
  return run->norm == P2P_NORM_INSTANCE ||
         (run->norm == P2P_NORM_BATCH && run->opt->norm_mode != P2P_NORM_MODE_RUNNING);
}

/* The layer's weights, without the bias when @normed (a norm layer
 * follows) and the norm cancels it: one pass over the output less. */
static P2pConvW
conv_weights (const P2pPass *run, const P2pConvW *w, gboolean normed)
{
  P2pConvW copy = *w;

  if (normed && norm_cancels_bias (run))
    copy.bias = NULL;
  return copy;
}

/* Convolution into @out (allocated by the caller, e.g. a view into a
 * concatenation buffer); @normed: a norm layer follows. */
gboolean
p2p_pass_conv_into (P2pPass *run, const P2pTensor *in, const P2pConvW *wf, gboolean normed, int stride, int pad,
           P2pTensor *out, GError **error)
{
  const P2pConvW wc = conv_weights (run, wf, normed), *w = &wc;
  const P2pConvParams p = { w->k, stride, pad, 0 };
  const double t0 = prof_begin (run);

  g_assert (out->c == w->cout && out->h == p2p_conv2d_out_size (in->h, &p) &&
            out->w == p2p_conv2d_out_size (in->w, &p));
  if (!conv2d_op (run, in, w, &p, out, error))
    return FALSE;
  prof_end (run, t0, "conv", in, out, w->k, stride,
            (guint64) out->c * in->c * w->k * w->k * out->h * out->w);
  return tick (run, error);
}

gboolean
p2p_pass_conv_t_into (P2pPass *run, const P2pTensor *in, const P2pConvW *wf, gboolean normed, int stride,
             int pad, int out_pad, P2pTensor *out, GError **error)
{
  const P2pConvW wc = conv_weights (run, wf, normed), *w = &wc;
  const P2pConvParams p = { w->k, stride, pad, out_pad };
  const double t0 = prof_begin (run);

  g_assert (out->c == w->cout && out->h == p2p_conv_transpose2d_out_size (in->h, &p) &&
            out->w == p2p_conv_transpose2d_out_size (in->w, &p));
  if (!conv_transpose2d_op (run, in, w, &p, out, error))
    return FALSE;
  prof_end (run, t0, "conv-transpose", in, out, w->k, stride,
            (guint64) out->c * in->c * w->k * w->k * in->h * in->w);
  return tick (run, error);
}

/* Convolution into a new tensor (from the pass's arena). */
P2pTensor *
p2p_pass_conv (P2pPass *run, const P2pTensor *in, const P2pConvW *w, gboolean normed, int stride, int pad,
      GError **error)
{
  const P2pConvParams p = { w->k, stride, pad, 0 };
  g_autoptr(P2pTensor) out = p2p_tensor_new_in (run->arena, w->cout, p2p_conv2d_out_size (in->h, &p),
                                                p2p_conv2d_out_size (in->w, &p), error);
  if (!out || !p2p_pass_conv_into (run, in, w, normed, stride, pad, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

P2pTensor *
p2p_pass_conv_t (P2pPass *run, const P2pTensor *in, const P2pConvW *w, gboolean normed, int stride, int pad,
        int out_pad, GError **error)
{
  const P2pConvParams p = { w->k, stride, pad, out_pad };
  g_autoptr(P2pTensor) out = p2p_tensor_new_in (run->arena, w->cout,
                                                p2p_conv_transpose2d_out_size (in->h, &p),
                                                p2p_conv_transpose2d_out_size (in->w, &p), error);
  if (!out || !p2p_pass_conv_t_into (run, in, w, normed, stride, pad, out_pad, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

P2pTensor *
p2p_pass_pad_reflect (P2pPass *run, const P2pTensor *in, int pad, GError **error)
{
  const double t0 = prof_begin (run);
  P2pTensor *out = p2p_tensor_new_in (run->arena, in->c, in->h + 2 * pad, in->w + 2 * pad, error);
  if (out)
    p2p_pad_reflect (in, pad, out);
  prof_end (run, t0, "pad", in, out, 0, 0, 0);
  return out;
}

P2pTensor *
p2p_pass_upsample2x (P2pPass *run, const P2pTensor *in, GError **error)
{
  const double t0 = prof_begin (run);
  P2pTensor *out = p2p_tensor_new_in (run->arena, in->c, 2 * in->h, 2 * in->w, error);
  if (out)
    p2p_upsample_nearest2x (in, out);
  prof_end (run, t0, "upsample", in, out, 0, 0, 0);
  return out;
}

void
p2p_pass_set_steps (P2pPass *run, int n_steps)
{
  run->n_steps = n_steps;
}

gboolean
p2p_pass_stochastic (const P2pPass *run)
{
  return run->opt->norm_mode == P2P_NORM_MODE_STOCHASTIC;
}

P2pTensor *
p2p_pass_tensor_new (P2pPass *run, int c, int h, int w, GError **error)
{
  return p2p_tensor_new_in (run->arena, c, h, w, error);
}

void
p2p_pass_add (P2pPass *run, P2pTensor *a, const P2pTensor *b)
{
  const double t0 = prof_begin (run);
  p2p_add_inplace (a, b);
  prof_end (run, t0, "add", b, a, 0, 0, 0);
}

P2pPass *
p2p_pass_new (const P2pNetOptions *options, P2pNorm norm)
{
  P2pPass *run = g_new0 (P2pPass, 1);

  run->opt = options;
  run->norm = norm;
  run->rng = options->seed;
  if (options->layer_func)
    run->scratch.phase_s = run->phase_s;

  /* Without the caller's arena, one for this pass: later layers reuse
   * the blocks of earlier ones. */
  run->arena = options->arena ? options->arena : p2p_arena_new_full (1);
  run->scratch.arena = run->arena;
  return run;
}

P2pTensor *
p2p_pass_finish (P2pPass *run, P2pTensor *out)
{
  p2p_scratch_clear (&run->scratch);
  if (out)
    p2p_tensor_detach (out);
  if (!run->opt->arena)
    p2p_arena_free (run->arena);
  g_free (run);
  return out;
}
