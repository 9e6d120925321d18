/* p2p-arch.h - what a generator architecture is to the core (private).
 *
 * Each architecture is one file in core/arch/ that fills one P2pArchSpec:
 * its name in the model metadata, its size rules, its cost, how it binds
 * its weights, its forward pass and how its PyTorch checkpoint keys are
 * recognised.  p2p-arch.c lists them; nothing else in the core branches on
 * the architecture.  Adding one means a new file here, a P2pArch value and
 * a row in p2p-arch.c.
 *
 * The services an architecture file uses are declared here too: binding a
 * tensor by name (p2p-binder.c) and running a layer of a pass
 * (p2p-pass.c).  They call nothing back in the model or the table, so the
 * core has no call circle through the architectures.
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-arch.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include <glib.h>
#include "p2p-model.h"
#include "p2p-net.h"
#include "p2p-tensor.h"

G_BEGIN_DECLS

/* ---- weights --------------------------------------------------------- */

typedef struct {
  const float *weight;   /* conv: [cout, cin, k, k]; conv-transpose: [cin, cout, k, k] */
  const float *bias;     /* [cout] or NULL */
  int cin, cout, k;
} P2pConvW;

/* A norm layer's parameters.  For batch norm all four are set; for
 * instance norm (affine = False) and for norm = none all are NULL. */
typedef struct {
  const float *gamma, *beta, *mean, *var;
} P2pNormW;

/* Binding a model's tensors (p2p-binder.c): each call looks up
 * prefix + "weight" (and the rest), checks the shape the architecture
 * needs and marks the tensor used.  The first failure sets the loader's
 * error; later calls then do nothing. */
typedef struct _P2pBinder P2pBinder;

void p2p_binder_conv (P2pBinder *b, P2pConvW *c, const char *prefix, int cin, int cout, int k,
                      gboolean transposed, gboolean has_bias);
void p2p_binder_norm (P2pBinder *b, P2pNormW *n, const char *prefix, int c);

/* ---- one forward pass (p2p-pass.c) ----------------------------------- */

/* A pass in progress: options, arena, profiling, progress. */
typedef struct _P2pPass P2pPass;

/* For p2p-net.c: a pass with @options (which must outlive it) for a net
 * with @norm; and its end, which returns @out (may be NULL) detached from
 * the pass's arena. */
P2pPass   *p2p_pass_new         (const P2pNetOptions *options, P2pNorm norm);
P2pTensor *p2p_pass_finish      (P2pPass *pass, P2pTensor *out);

/* The number of convolutions of the pass (for progress). */
void       p2p_pass_set_steps   (P2pPass *pass, int n_steps);
/* Whether dropout layers are active (P2P_NORM_MODE_STOCHASTIC). */
gboolean   p2p_pass_stochastic  (const P2pPass *pass);
/* A tensor from the pass's arena (transfer full). */
P2pTensor *p2p_pass_tensor_new  (P2pPass *pass, int c, int h, int w, GError **error);

void       p2p_pass_relu        (P2pPass *pass, P2pTensor *t);
void       p2p_pass_leaky_relu  (P2pPass *pass, P2pTensor *t, float slope);
void       p2p_pass_tanh        (P2pPass *pass, P2pTensor *t);
void       p2p_pass_dropout     (P2pPass *pass, P2pTensor *t);
/* a += b */
void       p2p_pass_add         (P2pPass *pass, P2pTensor *a, const P2pTensor *b);
/* The norm layer, then y > 0 ? y : slope * y (1: no activation, 0: ReLU,
 * 0.2: LeakyReLU) in the same pass over the data. */
void       p2p_pass_norm_act    (P2pPass *pass, P2pTensor *t, const P2pNormW *n, float slope);
P2pTensor *p2p_pass_pad_reflect (P2pPass *pass, const P2pTensor *in, int pad, GError **error);
/* Nearest-neighbour upsampling by 2 into a new tensor from the arena. */
P2pTensor *p2p_pass_upsample2x  (P2pPass *pass, const P2pTensor *in, GError **error);

/* Convolution into @out (allocated by the caller, e.g. a view into a
 * concatenation buffer); @normed: a norm layer follows (whose per-image
 * statistics may cancel the bias). */
gboolean   p2p_pass_conv_into   (P2pPass *pass, const P2pTensor *in, const P2pConvW *w,
                                 gboolean normed, int stride, int pad, P2pTensor *out,
                                 GError **error);
gboolean   p2p_pass_conv_t_into (P2pPass *pass, const P2pTensor *in, const P2pConvW *w,
                                 gboolean normed, int stride, int pad, int out_pad,
                                 P2pTensor *out, GError **error);
/* The same into a new tensor from the pass's arena. */
P2pTensor *p2p_pass_conv        (P2pPass *pass, const P2pTensor *in, const P2pConvW *w,
                                 gboolean normed, int stride, int pad, GError **error);
P2pTensor *p2p_pass_conv_t      (P2pPass *pass, const P2pTensor *in, const P2pConvW *w,
                                 gboolean normed, int stride, int pad, int out_pad,
                                 GError **error);

/* Multiply-adds of one convolution (dense count). */
static inline guint64
p2p_conv_macs (guint64 cin, guint64 cout, guint64 k, guint64 out_h, guint64 out_w)
{
  return cin * cout * k * k * out_h * out_w;
}

/* ---- PyTorch checkpoint keys (p2p-pth.c) ----------------------------- */

/* The shape of one state_dict entry. */
typedef struct {
  int           ndim;
  const gint64 *shape;
} P2pKeyShape;

/* @keys: key name -> P2pKeyShape (the kept entries of a checkpoint).
 * Inline, so that an architecture file calls nothing in p2p-arch.c (whose
 * table refers to it). */
static inline const P2pKeyShape *
p2p_keys_find (GHashTable *keys, const char *name)
{
  return g_hash_table_lookup (keys, name);
}

static inline const P2pKeyShape *p2p_keys_findf (GHashTable *keys, const char *fmt, ...)
  G_GNUC_PRINTF (2, 3);
static inline const P2pKeyShape *
p2p_keys_findf (GHashTable *keys, const char *fmt, ...)
{
  va_list ap;
  char *name;
  const P2pKeyShape *k;

  va_start (ap, fmt);
  name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  k = p2p_keys_find (keys, name);
  g_free (name);
  return k;
}

static inline gboolean
p2p_key_is4d (const P2pKeyShape *k)
{
  return k && k->ndim == 4;
}

/* What a checkpoint's keys tell. */
typedef struct {
  int      depth, ngf, input_nc, output_nc;
  P2pNorm  norm;
  gboolean dropout;      /* only where the spec's dropout_from_keys */
} P2pArchDetected;

typedef enum {
  P2P_ARCH_DETECT_NO,      /* not this architecture's keys */
  P2P_ARCH_DETECT_YES,     /* *det filled */
  P2P_ARCH_DETECT_FAILED,  /* this architecture's keys, but unusable: error set */
} P2pArchDetect;

/* The end of every pth_detect: fills @det with @depth and @output_nc, ngf
 * and input_nc from the first convolution's weight @first_conv
 * [ngf, input_nc, k, k], and the norm: batch norm where @norm_weight (the
 * first norm layer's weight, or NULL) is 1-D; else instance norm (which
 * has no weights) where the first convolution has a bias @first_bias (the
 * reference generators give it one only then); else none.  Returns
 * P2P_ARCH_DETECT_YES. */
P2pArchDetect p2p_arch_detected (P2pArchDetected   *det,
                                 int                depth,
                                 int                output_nc,
                                 const P2pKeyShape *first_conv,
                                 const P2pKeyShape *first_bias,
                                 const P2pKeyShape *norm_weight);

/* ---- the descriptor -------------------------------------------------- */

typedef struct {
  P2pArch     id;
  /* The metadata name: name_prefix, a number in [name_min, name_max],
   * name_suffix ("unet_256", "resnet_9blocks").  The number is 2^depth
   * where name_pow2 (a U-Net's side, depth 8), else the depth itself (a
   * ResNet's blocks).  Read and written only by p2p_arch_parse_name() and
   * p2p_arch_format_name(). */
  const char *name_prefix;
  const char *name_suffix;
  guint       name_min, name_max;
  gboolean    name_pow2;
  /* Height and width must be multiples of size_multiple and at least
   * min_size. */
  int       (*size_multiple) (int depth);
  int       (*min_size)      (int depth);
  /* The training size a checkpoint is assumed to have when not told. */
  int       (*default_native_size) (int depth);
  /* Multiply-adds of one pass at h x w, from the metadata alone (the
   * channel counts the binder then requires).  The compute limit and
   * p2p_model_macs() both use it. */
  guint64   (*macs)          (const P2pModelInfo *info, int h, int w);
  /* Floats of the pass's tensors live at once at its worst moment (the
   * output included, the caller's input not), at h x w: what the pass
   * takes from its arena besides the convolutions' scratch.  Follows the
   * order in which forward allocates and frees; p2p_pipeline_estimate()
   * adds it up with the image buffers. */
  guint64   (*peak_floats)   (const P2pModelInfo *info, int h, int w);
  /* The largest scratch a convolution of the pass asks for before the
   * P2P_SCRATCH_MAX_BYTES cap (im2col columns: cin k^2 x output pixels;
   * transposed: cout k^2 x input pixels), in floats. */
  guint64   (*scratch_floats) (const P2pModelInfo *info, int h, int w);
  /* Binds every tensor the architecture needs; returns its weights
   * (transfer full, freed with g_free; views into the model's tensors). */
  gpointer  (*bind)          (P2pBinder *b, const P2pModelInfo *info);
  /* The forward pass over @input (valid size and channels). */
  P2pTensor *(*forward)      (P2pPass *pass, const P2pModelInfo *info, gconstpointer weights,
                              const P2pTensor *input, GError **error);
  /* Recognises a checkpoint's keys. */
  P2pArchDetect (*pth_detect) (GHashTable *keys, P2pArchDetected *det, GError **error);
  /* Whether pth_detect can see dropout layers (else an import option
   * says). */
  gboolean    dropout_from_keys;
} P2pArchSpec;

extern const P2pArchSpec p2p_arch_unet;
extern const P2pArchSpec p2p_arch_resnet;
extern const P2pArchSpec p2p_arch_unet_rc;

/* All architectures, indexed by P2pArch, in the order checkpoints are
 * tried; NULL-terminated. */
extern const P2pArchSpec *const p2p_arch_specs[];

/* The depth @name stands for when it is @spec's name (in its range);
 * FALSE, @depth untouched, when not. */
gboolean p2p_arch_parse_name  (const P2pArchSpec *spec, const char *name, int *depth);

/* The metadata name of @spec at @depth (inverse of p2p_arch_parse_name). */
void     p2p_arch_format_name (const P2pArchSpec *spec, int depth, char *buf, gsize size);

/* U-Net state_dict key prefix of level @level (1 = outermost):
 * "model.model." for level 1, else "model.model.1." + "model.3." x
 * (level - 2) + "model.".  (transfer full) */
char *p2p_unet_key_prefix (int level);

G_END_DECLS
