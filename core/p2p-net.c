/* p2p-net.c - forward passes of the U-Net and ResNet generators.
 *
 * Layer order and semantics follow the reference generators exactly (see
 * the overview in models/FORMAT.md and the reference notes):
 *
 * U-Net, level k of D (1 = outermost), x_k its input:
 *   down:  d_k = Norm(Conv4x4s2(LReLU0.2(x_k)))   (L1: no LReLU/norm; L_D: no norm)
 *   up:    u_k = [Dropout](Norm(ConvT4x4s2(ReLU(s_{k+1}))))   s_{k+1} = cat[x_{k+1}, u_{k+1}]
 *   out  = Tanh(ConvT(ReLU(s_2)) + bias)
 * PyTorch's LeakyReLU runs in place, so the skip it concatenates is
 * LReLU(x_k); we do the same, which also saves a copy.
 *
 * ResNet: ReflPad3, Conv7, Norm, ReLU; 2 x (Conv3 s2 p1, Norm, ReLU);
 * n x [x + Norm(Conv3(ReflPad1(Dropout?(ReLU(Norm(Conv3(ReflPad1(x))))))))];
 * 2 x (ConvT3 s2 p1 op1, Norm, ReLU); ReflPad3, Conv7, Tanh.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-blas.h"
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

typedef struct {
  const P2pNetOptions *opt;
  P2pNorm   norm;
  P2pScratch scratch;
  P2pArena *arena;
  guint64   rng;
  int       step, n_steps;
  guint     norm_index;  /* per-image norm layers seen so far */
  int       layer_index; /* profiling: ops reported so far */
  double    phase_s[P2P_N_PHASES];
} Run;

G_STATIC_ASSERT (G_N_ELEMENTS (((P2pLayerTiming *) NULL)->phase_s) == P2P_N_PHASES);

/* ---- profiling (P2pNetOptions.layer_func) ------------------------------ */

static inline double
prof_begin (const Run *run)
{
  return run->opt->layer_func ? p2p_now_s () : 0.0;
}

/* Reports one op that began at t0 (from prof_begin); in may equal out. */
static void
prof_end (Run *run, double t0, const char *op, const P2pTensor *in, const P2pTensor *out,
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

static void
relu (Run *run, P2pTensor *t)
{
  const double t0 = prof_begin (run);
  p2p_relu (t);
  prof_end (run, t0, "relu", t, t, 0, 0, 0);
}

static void
leaky_relu (Run *run, P2pTensor *t, float slope)
{
  const double t0 = prof_begin (run);
  p2p_leaky_relu (t, slope);
  prof_end (run, t0, "leaky-relu", t, t, 0, 0, 0);
}

static void
tanh_ (Run *run, P2pTensor *t)
{
  const double t0 = prof_begin (run);
  p2p_tanh (t);
  prof_end (run, t0, "tanh", t, t, 0, 0, 0);
}

static void
dropout (Run *run, P2pTensor *t)
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

static const char *const norm_mode_names[] = { "official", "running", "stochastic", NULL };

const char *
p2p_norm_mode_to_string (P2pNormMode mode)
{
  return (guint) mode < 3 ? norm_mode_names[mode] : "?";
}

gboolean
p2p_norm_mode_from_string (const char *s, P2pNormMode *mode)
{
  for (int i = 0; s && norm_mode_names[i]; i++)
    if (g_strcmp0 (s, norm_mode_names[i]) == 0)
      {
        *mode = i;
        return TRUE;
      }
  return FALSE;
}

void
p2p_net_options_init (P2pNetOptions *options)
{
  memset (options, 0, sizeof *options);
  options->norm_mode = P2P_NORM_MODE_OFFICIAL;
}

/* Reports progress after each convolution; FALSE when cancelled. */
static gboolean
tick (Run *run, GError **error)
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
norm_per_image (Run *run, P2pTensor *t, const float *gamma, const float *beta, float slope)
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
static void
apply_norm_act (Run *run, P2pTensor *t, const P2pNormW *n, float slope)
{
  const double t0 = prof_begin (run);

  switch (run->norm)
    {
    case P2P_NORM_NONE:
      if (slope == 0.0f)
        relu (run, t);
      else if (slope != 1.0f)
        leaky_relu (run, t, slope);
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

/* The channels [c0, c0 + c) of t, as a tensor that shares t's data (not
 * to be freed). */
static P2pTensor
channel_view (const P2pTensor *t, int c0, int c)
{
  P2pTensor v = { c, t->h, t->w, t->data + (gsize) c0 * t->h * t->w, NULL, 0 };
  return v;
}

/* The convolutions: Winograd (ops/winograd4.c, ops/winograd.c) where it is on and measured
 * faster for the layer, direct loops for stride-1 convs with up to 4
 * output channels (the ResNet's last layer: ~4x faster than im2col + a
 * 3-row GEMM), else im2col / col2im + GEMM. */
static gboolean
conv2d_op (Run *run, const P2pTensor *in, const P2pConvW *w, const P2pConvParams *p,
           P2pTensor *out, GError **error)
{
  if (p2p_winograd4_pays (p, in->c, out->c, out->h, out->w, in->w))
    return p2p_conv2d_winograd4 (in, w->weight, w->bias, p, out, &run->scratch, error);
  if (p2p_winograd_pays (p, FALSE, in->c, out->c, out->h, out->w))
    return p2p_conv2d_winograd (in, w->weight, w->bias, p, out, &run->scratch, error);
  if (p2p_conv2d_direct_supported (p, out->c))
    return p2p_conv2d_direct (in, w->weight, w->bias, p, out, &run->scratch, error);
  return p2p_conv2d (in, w->weight, w->bias, p, out, &run->scratch, error);
}

static gboolean
conv_transpose2d_op (Run *run, const P2pTensor *in, const P2pConvW *w, const P2pConvParams *p,
                     P2pTensor *out, GError **error)
{
  if (p2p_winograd_pays (p, TRUE, in->c, out->c, out->h, out->w))
    return p2p_conv_transpose2d_winograd (in, w->weight, w->bias, p, out, &run->scratch, error);
  return p2p_conv_transpose2d (in, w->weight, w->bias, p, out, &run->scratch, error);
}

/* Whether a per-channel constant added before the run's norm layers
 * leaves their output unchanged: per-image statistics subtract the mean,
 * which moves with the constant, and the variance does not (statistics
 * recorded on another image and applied to tiles included the same
 * constant, or lack it the same way).  Running statistics and no norm
 * keep it. */
static gboolean
norm_cancels_bias (const Run *run)
{
  return run->norm == P2P_NORM_INSTANCE ||
         (run->norm == P2P_NORM_BATCH && run->opt->norm_mode != P2P_NORM_MODE_RUNNING);
}

/* The layer's weights, without the bias when @normed (a norm layer
 * follows) and the norm cancels it: one pass over the output less. */
static P2pConvW
conv_weights (const Run *run, const P2pConvW *w, gboolean normed)
{
  P2pConvW copy = *w;

  if (normed && norm_cancels_bias (run))
    copy.bias = NULL;
  return copy;
}

/* Convolution into @out (allocated by the caller, e.g. a view into a
 * concatenation buffer); @normed: a norm layer follows. */
static gboolean
conv_into (Run *run, const P2pTensor *in, const P2pConvW *wf, gboolean normed, int stride, int pad,
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

static gboolean
conv_t_into (Run *run, const P2pTensor *in, const P2pConvW *wf, gboolean normed, int stride,
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
static P2pTensor *
conv (Run *run, const P2pTensor *in, const P2pConvW *w, gboolean normed, int stride, int pad,
      GError **error)
{
  const P2pConvParams p = { w->k, stride, pad, 0 };
  g_autoptr(P2pTensor) out = p2p_tensor_new_in (run->arena, w->cout, p2p_conv2d_out_size (in->h, &p),
                                                p2p_conv2d_out_size (in->w, &p), error);
  if (!out || !conv_into (run, in, w, normed, stride, pad, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

static P2pTensor *
conv_t (Run *run, const P2pTensor *in, const P2pConvW *w, gboolean normed, int stride, int pad,
        int out_pad, GError **error)
{
  const P2pConvParams p = { w->k, stride, pad, out_pad };
  g_autoptr(P2pTensor) out = p2p_tensor_new_in (run->arena, w->cout,
                                                p2p_conv_transpose2d_out_size (in->h, &p),
                                                p2p_conv_transpose2d_out_size (in->w, &p), error);
  if (!out || !conv_t_into (run, in, w, normed, stride, pad, out_pad, out, error))
    return NULL;
  return g_steal_pointer (&out);
}

static P2pTensor *
pad_reflect (Run *run, const P2pTensor *in, int pad, GError **error)
{
  const double t0 = prof_begin (run);
  P2pTensor *out = p2p_tensor_new_in (run->arena, in->c, in->h + 2 * pad, in->w + 2 * pad, error);
  if (out)
    p2p_pad_reflect (in, pad, out);
  prof_end (run, t0, "pad", in, out, 0, 0, 0);
  return out;
}

/* ---- U-Net ----------------------------------------------------------- */

/* The skip connections need no copies: the encoder writes x_k into the
 * first channels of a buffer cat[k] that has room for u_k after them, and
 * the decoder's transposed convolution writes u_k there, so cat[k] is
 * s_k = cat[x_k, u_k] when level k-1 reads it. */
static P2pTensor *
run_unet (Run *run, const P2pModel *model, const P2pTensor *input, GError **error)
{
  const P2pUnetLevel *L = p2p_model_get_unet (model);
  const int D = p2p_model_get_info (model)->depth;
  P2pTensor *cat[P2P_UNET_MAX_DEPTH + 2] = { NULL };  /* cat[k] = [x_k, u_k], 2 <= k <= D */
  P2pTensor x[P2P_UNET_MAX_DEPTH + 2];                /* views of the x_k halves */
  P2pTensor *u = NULL, *result = NULL;
  const P2pTensor *prev = input;

  run->n_steps = 2 * D;

  /* Down path: x_{k+1} = Norm(Conv(LReLU(x_k))) (level 1: Conv(input), no
   * LReLU, no norm); the bottleneck d_D is not concatenated. */
  for (int k = 1; k <= D; k++)
    {
      const P2pConvW *w = &L[k - 1].down;
      const P2pConvParams p = { w->k, 2, 1, 0 };
      const int oh = p2p_conv2d_out_size (prev->h, &p), ow = p2p_conv2d_out_size (prev->w, &p);
      P2pTensor *out;

      if (k == 2)
        leaky_relu (run, &x[k], 0.2f);   /* deeper x_k got it with their norm */
      if (k < D)
        {
          cat[k + 1] = p2p_tensor_new_in (run->arena, w->cout + L[k].up.cout, oh, ow, error);
          if (!cat[k + 1])
            goto out;
          x[k + 1] = channel_view (cat[k + 1], 0, w->cout);
          out = &x[k + 1];
        }
      else
        {
          u = p2p_tensor_new_in (run->arena, w->cout, oh, ow, error);   /* bottleneck */
          if (!u)
            goto out;
          out = u;
        }
      if (!conv_into (run, prev, w, k > 1 && k < D, 2, 1, out, error))
        goto out;
      if (k > 1 && k < D)
        apply_norm_act (run, out, &L[k - 1].down_norm, 0.2f);   /* + the next level's LReLU */
      prev = out;
    }

  /* Up path: u_k = [Dropout](Norm(ConvT(ReLU(s_{k+1})))), s_{D+1} = d_D;
   * u_1 = Tanh(ConvT(ReLU(s_2)) + bias). */
  for (int k = D; k >= 1; k--)
    {
      const P2pConvW *w = &L[k - 1].up;
      P2pTensor *in = k == D ? u : cat[k + 1];
      P2pTensor uk, *out;

      /* ReLU(s_{k+1}): the u half got it with its norm (Dropout, which
       * scales by 0 or 2, commutes with it). */
      relu (run, k == D ? in : &x[k + 1]);
      if (k > 1)
        {
          uk = channel_view (cat[k], x[k].c, w->cout);
          out = &uk;
        }
      else
        {
          const P2pConvParams p = { w->k, 2, 1, 0 };
          result = p2p_tensor_new_in (run->arena, w->cout,
                                      p2p_conv_transpose2d_out_size (in->h, &p),
                                      p2p_conv_transpose2d_out_size (in->w, &p), error);
          if (!result)
            goto out;
          out = result;
        }
      if (!conv_t_into (run, in, w, k > 1, 2, 1, 0, out, error))
        {
          g_clear_pointer (&result, p2p_tensor_free);
          goto out;
        }
      if (k == D)
        g_clear_pointer (&u, p2p_tensor_free);
      else
        g_clear_pointer (&cat[k + 1], p2p_tensor_free);
      if (k > 1)
        {
          apply_norm_act (run, out, &L[k - 1].up_norm, 0.0f);
          /* (the innermost level has no dropout layer) */
          if (k < D && L[k - 1].dropout && run->opt->norm_mode == P2P_NORM_MODE_STOCHASTIC)
            dropout (run, out);
        }
    }
  tanh_ (run, result);

out:
  for (int k = 0; k < (int) G_N_ELEMENTS (cat); k++)
    p2p_tensor_free (cat[k]);
  p2p_tensor_free (u);
  return result;
}

/* ---- ResNet ---------------------------------------------------------- */

/* conv (after optional reflection padding) + norm + optional ReLU */
static P2pTensor *
conv_block (Run *run, const P2pTensor *in, const P2pConvW *w, const P2pNormW *n,
            int reflect, int stride, int zero_pad, gboolean with_relu, GError **error)
{
  g_autoptr(P2pTensor) padded = NULL;
  P2pTensor *out;

  if (reflect)
    {
      padded = pad_reflect (run, in, reflect, error);
      if (!padded)
        return NULL;
      in = padded;
    }
  out = conv (run, in, w, TRUE, stride, zero_pad, error);
  if (out)
    apply_norm_act (run, out, n, with_relu ? 0.0f : 1.0f);
  return out;
}

static P2pTensor *
run_resnet (Run *run, const P2pModel *model, const P2pTensor *input, GError **error)
{
  const P2pResnet *r = p2p_model_get_resnet (model);
  const P2pModelInfo *info = p2p_model_get_info (model);
  g_autoptr(P2pTensor) x = NULL;
  g_autoptr(P2pTensor) padded = NULL;
  P2pTensor *t;

  run->n_steps = 6 + 2 * info->depth;

  x = conv_block (run, input, &r->stem, &r->stem_norm, 3, 1, 0, TRUE, error);
  for (int i = 0; x && i < 2; i++)
    {
      t = conv_block (run, x, &r->down[i], &r->down_norm[i], 0, 2, 1, TRUE, error);
      p2p_tensor_free (x);
      x = t;
    }
  for (int i = 0; x && i < info->depth; i++)
    {
      const P2pResBlock *b = &r->blocks[i];
      g_autoptr(P2pTensor) y = conv_block (run, x, &b->conv1, &b->norm1, 1, 1, 0, TRUE, error);
      if (!y)
        return NULL;
      if (info->use_dropout && run->opt->norm_mode == P2P_NORM_MODE_STOCHASTIC)
        dropout (run, y);
      t = conv_block (run, y, &b->conv2, &b->norm2, 1, 1, 0, FALSE, error);
      if (!t)
        return NULL;
      {
        const double t0 = prof_begin (run);
        p2p_add_inplace (x, t);
        prof_end (run, t0, "add", t, x, 0, 0, 0);
      }
      p2p_tensor_free (t);
    }
  for (int i = 0; x && i < 2; i++)
    {
      t = conv_t (run, x, &r->up[i], TRUE, 2, 1, 1, error);
      if (t)
        {
          apply_norm_act (run, t, &r->up_norm[i], 0.0f);
        }
      p2p_tensor_free (x);
      x = t;
    }
  if (!x)
    return NULL;
  padded = pad_reflect (run, x, 3, error);
  if (!padded)
    return NULL;
  t = conv (run, padded, &r->head, FALSE, 1, 0, error);
  if (t)
    tanh_ (run, t);
  return t;
}

/* ---- entry point ----------------------------------------------------- */

P2pTensor *
p2p_net_run (const P2pModel      *model,
             const P2pNetOptions *options,
             const P2pTensor     *input,
             GError             **error)
{
  const P2pModelInfo *info;
  P2pNetOptions defaults;
  Run run = { 0 };
  P2pTensor *out;
  int mult;

  g_return_val_if_fail (model != NULL && input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = p2p_model_get_info (model);
  if (!options)
    {
      p2p_net_options_init (&defaults);
      options = &defaults;
    }
  mult = p2p_model_size_multiple (model);
  if (input->c != info->input_nc)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The network takes %d input channels, not %d"), info->input_nc, input->c);
      return NULL;
    }
  if (input->h % mult || input->w % mult ||
      input->h < p2p_model_min_size (model) || input->w < p2p_model_min_size (model))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The network needs a width and height that are multiples of %d "
                     "and at least %d; got %d x %d"),
                   mult, p2p_model_min_size (model), input->w, input->h);
      return NULL;
    }

  /* 0 leaves the libraries' defaults (all cores). */
  if (options->threads > 0)
    p2p_blas_set_threads (options->threads);
  run.opt = options;
  run.norm = info->norm;
  run.rng = options->seed;
  if (options->layer_func)
    run.scratch.phase_s = run.phase_s;

  /* Without the caller's arena, one for this pass: later layers reuse
   * the blocks of earlier ones. */
  run.arena = options->arena ? options->arena : p2p_arena_new_full (1);
  run.scratch.arena = run.arena;

  if (info->arch == P2P_ARCH_UNET)
    out = run_unet (&run, model, input, error);
  else
    out = run_resnet (&run, model, input, error);
  p2p_scratch_clear (&run.scratch);
  if (out)
    p2p_tensor_detach (out);
  if (!options->arena)
    p2p_arena_free (run.arena);
  return out;
}
