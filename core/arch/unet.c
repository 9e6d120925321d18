/* unet.c - the U-Net generator (unet_128, unet_256, ...: unet_N with
 * N = 2^depth, depth 5 to 10) and its resize-convolution variant
 * (unet_rc_N, same depths).
 *
 * Level k of D (1 = outermost), x_k its input:
 *   down:  d_k = Norm(Conv4x4s2(LReLU0.2(x_k)))   (L1: no LReLU/norm; L_D: no norm)
 *   up:    u_k = [Dropout](Norm(Up(ReLU(s_{k+1}))))   s_{k+1} = cat[x_{k+1}, u_{k+1}]
 *   out  = Tanh(Up(ReLU(s_2)) + bias)
 * where Up is ConvT4x4s2p1 for unet_N and, for unet_rc_N, nearest-neighbour
 * upsampling by 2 followed by Conv3x3s1p1 (zero padding) with the same bias
 * rule and the same weight names (weights [out, in, 3, 3] instead of
 * [in, out, 4, 4]).  Resize-then-convolve gives every output pixel the same
 * number of weights, so it has no checkerboard; it is the only difference,
 * so both share this file.
 * PyTorch's LeakyReLU runs in place, so the skip it concatenates is
 * LReLU(x_k); we do the same, which also saves a copy.
 */
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-arch.h"
#include "p2p-ops.h"

#define UNET_MAX_DEPTH 10

/* Level k (index k-1), outermost first. */
typedef struct {
  P2pConvW down;       /* 4x4 s2 p1 conv */
  P2pNormW down_norm;  /* levels 2 .. depth-1 only */
  P2pConvW up;         /* 4x4 s2 p1 conv-transpose; unet_rc: 3x3 s1 p1 conv after the upsampling */
  P2pNormW up_norm;    /* all levels but the outermost */
  gboolean dropout;    /* middle levels when the model has dropout */
} UnetLevel;

typedef struct {
  UnetLevel level[UNET_MAX_DEPTH];
  gboolean  resize_conv;   /* unet_rc_N */
} UnetWeights;

char *
p2p_unet_key_prefix (int level)
{
  GString *s;

  if (level == 1)
    return g_strdup ("model.model.");
  s = g_string_new ("model.model.1.");
  for (int i = 0; i < level - 2; i++)
    g_string_append (s, "model.3.");
  g_string_append (s, "model.");
  return g_string_free (s, FALSE);
}

/* Whether @info's U-Net is unet_rc_N: the descriptors of both variants
 * share this file's functions, which differ only where the up step does. */
static gboolean
is_resize_conv (const P2pModelInfo *info)
{
  return info->arch == P2P_ARCH_UNET_RC;
}

/* The channel counts of level k of a U-Net (the reference generator's
 * ngf * min(2^(k-1), 8) rule). */
static void
level_channels (const P2pModelInfo *info, int k, int *in_ch, int *inner, int *outer)
{
  *inner = info->ngf * MIN (1 << MIN (k - 1, 3), 8);
  *outer = k == 1 ? info->output_nc : info->ngf * MIN (1 << MIN (k - 2, 3), 8);
  *in_ch = k == 1 ? info->input_nc : *outer;
}

static int
unet_size_multiple (int depth)
{
  return 1 << depth;
}

static int
unet_default_native_size (int depth)
{
  return 1 << depth;
}

/* Every level halves the size with its down conv and doubles it back with
 * its up step: 4x4 at the half size (conv-transpose), or for unet_rc 3x3 at
 * the full size (2.25 times as many multiply-adds). */
static guint64
unet_macs (const P2pModelInfo *info, int h, int w)
{
  const gboolean resize_conv = is_resize_conv (info);
  guint64 hh = h, ww = w, total = 0;

  for (int k = 1; k <= info->depth; k++)
    {
      int in_ch, inner, outer, up_in;

      level_channels (info, k, &in_ch, &inner, &outer);
      up_in = k == info->depth ? inner : 2 * inner;
      total += p2p_conv_macs (in_ch, inner, 4, hh / 2, ww / 2);
      if (resize_conv)
        total += p2p_conv_macs (up_in, outer, 3, hh / 2 * 2, ww / 2 * 2);
      else
        total += p2p_conv_macs (up_in, outer, 4, hh / 2, ww / 2);
      hh /= 2;
      ww /= 2;
    }
  return total;
}

/* unet_forward allocates cat[k + 1] = [x_{k+1}, u_{k+1}] (2 x level k's
 * inner channels at 1/2^k size) for every level on the way down and the
 * bottleneck u; all are live when the up path starts.  Going up, each is
 * freed after its transposed convolution, so the only other moment that
 * can be larger is the last: cat[2] and the full-size result. */
static guint64
levels_peak_floats (const P2pModelInfo *info, int h, int w)
{
  guint64 all = 0, cat2 = 0;

  for (int k = 1; k <= info->depth; k++)
    {
      const guint64 px = (guint64) (h >> k) * (guint64) (w >> k);
      int in_ch, inner, outer;

      level_channels (info, k, &in_ch, &inner, &outer);
      if (k < info->depth)
        {
          all += 2 * (guint64) inner * px;
          if (k == 1)
            cat2 = 2 * (guint64) inner * px;
        }
      else
        all += (guint64) inner * px;
    }
  return MAX (all, cat2 + (guint64) info->output_nc * h * w);
}

static guint64
levels_scratch_floats (const P2pModelInfo *info, int h, int w)
{
  guint64 most = 0;

  for (int k = 1; k <= info->depth; k++)
    {
      const guint64 px = (guint64) (h >> k) * (guint64) (w >> k);
      int in_ch, inner, outer;

      level_channels (info, k, &in_ch, &inner, &outer);
      most = MAX (most, (guint64) in_ch * 16 * px);     /* down: im2col of the output */
      most = MAX (most, (guint64) outer * 16 * px);     /* up: columns of the input */
    }
  return most;
}

/* unet_rc: as unet_N, plus the largest upsampled copy an up step holds
 * beside the live tensors (up_in channels at twice level k's size), and
 * the columns of its 3x3 convolution at that size. */
static guint64
unet_rc_largest_up (const P2pModelInfo *info, int h, int w, guint64 per_pixel)
{
  guint64 most = 0;

  for (int k = 1; k <= info->depth; k++)
    {
      const guint64 px_up = 4 * (guint64) (h >> k) * (guint64) (w >> k);
      int in_ch, inner, outer;
      guint64 up_in;

      level_channels (info, k, &in_ch, &inner, &outer);
      up_in = k == info->depth ? (guint64) inner : 2 * (guint64) inner;
      most = MAX (most, up_in * per_pixel * px_up);
    }
  return most;
}

static guint64
unet_peak_floats (const P2pModelInfo *info, int h, int w)
{
  return levels_peak_floats (info, h, w) +
         (is_resize_conv (info) ? unet_rc_largest_up (info, h, w, 1) : 0);
}

static guint64
unet_scratch_floats (const P2pModelInfo *info, int h, int w)
{
  const guint64 most = levels_scratch_floats (info, h, w);

  return is_resize_conv (info) ? MAX (most, unet_rc_largest_up (info, h, w, 9)) : most;
}

static gpointer
unet_bind (P2pBinder *b, const P2pModelInfo *info)
{
  const gboolean resize_conv = is_resize_conv (info);
  UnetWeights *wt = g_new0 (UnetWeights, 1);
  const int D = info->depth;
  const gboolean bias = info->norm == P2P_NORM_INSTANCE;
  /* The up layer's kernel and whether its weight is [in, out, k, k]. */
  const int up_k = resize_conv ? 3 : 4;
  const gboolean up_t = !resize_conv;

  wt->resize_conv = resize_conv;

  for (int k = 1; k <= D; k++)
    {
      UnetLevel *L = &wt->level[k - 1];
      const gboolean outermost = k == 1, innermost = k == D;
      g_autofree char *prefix = p2p_unet_key_prefix (k);
      g_autofree char *p_down = NULL, *p_dnorm = NULL, *p_up = NULL, *p_unorm = NULL;
      int in_ch, inner, outer;

      level_channels (info, k, &in_ch, &inner, &outer);
      p_down = g_strconcat (prefix, outermost ? "0." : "1.", NULL);
      p2p_binder_conv (b, &L->down, p_down, in_ch, inner, 4, FALSE, bias);
      if (!outermost && !innermost)
        {
          p_dnorm = g_strconcat (prefix, "2.", NULL);
          p2p_binder_norm (b, &L->down_norm, p_dnorm, inner);
        }
      if (outermost)
        {
          p_up = g_strconcat (prefix, "3.", NULL);
          p2p_binder_conv (b, &L->up, p_up, 2 * inner, outer, up_k, up_t, TRUE);
        }
      else if (innermost)
        {
          p_up = g_strconcat (prefix, "3.", NULL);
          p_unorm = g_strconcat (prefix, "4.", NULL);
          p2p_binder_conv (b, &L->up, p_up, inner, outer, up_k, up_t, bias);
          p2p_binder_norm (b, &L->up_norm, p_unorm, outer);
        }
      else
        {
          p_up = g_strconcat (prefix, "5.", NULL);
          p_unorm = g_strconcat (prefix, "6.", NULL);
          p2p_binder_conv (b, &L->up, p_up, 2 * inner, outer, up_k, up_t, bias);
          p2p_binder_norm (b, &L->up_norm, p_unorm, outer);
        }
      L->dropout = info->use_dropout && k >= 5 && k < D;
    }
  return wt;
}

/* The decoder's up step into @out: ConvT4x4s2p1, or nearest x2 then
 * Conv3x3s1p1 (the upsampled copy lives only for this layer). */
static gboolean
up_step (P2pPass *pass, const UnetWeights *wt, const P2pTensor *in, const P2pConvW *w,
         gboolean normed, P2pTensor *out, GError **error)
{
  g_autoptr(P2pTensor) up = NULL;

  if (!wt->resize_conv)
    return p2p_pass_conv_t_into (pass, in, w, normed, 2, 1, 0, out, error);
  up = p2p_pass_upsample2x (pass, in, error);
  return up && p2p_pass_conv_into (pass, up, w, normed, 1, 1, out, error);
}

/* The channels [c0, c0 + c) of t, as a tensor that shares t's data (not
 * to be freed). */
static P2pTensor
channel_view (const P2pTensor *t, int c0, int c)
{
  P2pTensor v = { c, t->h, t->w, t->data + (gsize) c0 * t->h * t->w, NULL, 0 };
  return v;
}

/* The skip connections need no copies: the encoder writes x_k into the
 * first channels of a buffer cat[k] that has room for u_k after them, and
 * the decoder's transposed convolution writes u_k there, so cat[k] is
 * s_k = cat[x_k, u_k] when level k-1 reads it. */
static P2pTensor *
unet_forward (P2pPass *pass, const P2pModelInfo *info, gconstpointer weights,
              const P2pTensor *input, GError **error)
{
  const UnetWeights *wt = weights;
  const UnetLevel *L = wt->level;
  const int D = info->depth;
  P2pTensor *cat[UNET_MAX_DEPTH + 2] = { NULL };  /* cat[k] = [x_k, u_k], 2 <= k <= D */
  P2pTensor x[UNET_MAX_DEPTH + 2];                /* views of the x_k halves */
  P2pTensor *u = NULL, *result = NULL;
  const P2pTensor *prev = input;

  p2p_pass_set_steps (pass, 2 * D);

  /* Down path: x_{k+1} = Norm(Conv(LReLU(x_k))) (level 1: Conv(input), no
   * LReLU, no norm); the bottleneck d_D is not concatenated. */
  for (int k = 1; k <= D; k++)
    {
      const P2pConvW *w = &L[k - 1].down;
      const P2pConvParams p = { w->k, 2, 1, 0 };
      const int oh = p2p_conv2d_out_size (prev->h, &p), ow = p2p_conv2d_out_size (prev->w, &p);
      P2pTensor *out;

      if (k == 2)
        p2p_pass_leaky_relu (pass, &x[k], 0.2f);   /* deeper x_k got it with their norm */
      if (k < D)
        {
          cat[k + 1] = p2p_pass_tensor_new (pass, w->cout + L[k].up.cout, oh, ow, error);
          if (!cat[k + 1])
            goto out;
          x[k + 1] = channel_view (cat[k + 1], 0, w->cout);
          out = &x[k + 1];
        }
      else
        {
          u = p2p_pass_tensor_new (pass, w->cout, oh, ow, error);   /* bottleneck */
          if (!u)
            goto out;
          out = u;
        }
      if (!p2p_pass_conv_into (pass, prev, w, k > 1 && k < D, 2, 1, out, error))
        goto out;
      if (k > 1 && k < D)
        p2p_pass_norm_act (pass, out, &L[k - 1].down_norm, 0.2f);   /* + the next level's LReLU */
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
      p2p_pass_relu (pass, k == D ? in : &x[k + 1]);
      if (k > 1)
        {
          uk = channel_view (cat[k], x[k].c, w->cout);
          out = &uk;
        }
      else
        {
          /* Both up steps give exactly twice the size. */
          result = p2p_pass_tensor_new (pass, w->cout, 2 * in->h, 2 * in->w, error);
          if (!result)
            goto out;
          out = result;
        }
      if (!up_step (pass, wt, in, w, k > 1, out, error))
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
          p2p_pass_norm_act (pass, out, &L[k - 1].up_norm, 0.0f);
          /* (the innermost level has no dropout layer) */
          if (k < D && L[k - 1].dropout && p2p_pass_stochastic (pass))
            p2p_pass_dropout (pass, out);
        }
    }
  p2p_pass_tanh (pass, result);

out:
  for (int k = 0; k < (int) G_N_ELEMENTS (cat); k++)
    p2p_tensor_free (cat[k]);
  p2p_tensor_free (u);
  return result;
}

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, (code), __VA_ARGS__); \
    return P2P_ARCH_DETECT_FAILED; } G_STMT_END

/* Both U-Nets have the same keys; the outermost up layer's kernel tells
 * them apart (4x4 conv-transpose [in, out, 4, 4], or the resize-conv's
 * 3x3 conv [out, in, 3, 3]). */
static P2pArchDetect
detect (GHashTable *keys, P2pArchDetected *det, GError **error, gboolean resize_conv)
{
  const P2pKeyShape *w0 = p2p_keys_find (keys, "model.model.0.weight");
  const P2pKeyShape *wl = p2p_keys_find (keys, "model.model.3.weight");
  g_autofree char *p2 = NULL, *pd = NULL;
  int depth = 1;

  if (!w0)
    return P2P_ARCH_DETECT_NO;
  if (!p2p_key_is4d (w0) || w0->shape[2] != 4 || w0->shape[3] != 4 || !p2p_key_is4d (wl))
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's keys look like a U-Net but "
                                   "model.model.0/3 have unexpected shapes"));
  if ((wl->shape[2] == 3 && wl->shape[3] == 3) != resize_conv)
    return P2P_ARCH_DETECT_NO;
  while (depth <= 10)
    {
      g_autofree char *p = p2p_unet_key_prefix (depth + 1);
      if (!p2p_keys_findf (keys, "%s1.weight", p))
        break;
      depth++;
    }
  if (depth < 5 || depth > 10)
    {
      if (depth > 10)
        FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint is a U-Net with more than %d levels; "
                                       "5 to 10 are supported"), 10);
      FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint is a U-Net with %d levels; "
                                     "5 to 10 are supported"), depth);
    }
  pd = p2p_unet_key_prefix (depth);
  if (!p2p_keys_findf (keys, "%s3.weight", pd))
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's U-Net innermost level %d has no up-convolution"),
          depth);
  p2 = p2p_unet_key_prefix (2);
  return p2p_arch_detected (det, depth, (int) wl->shape[resize_conv ? 0 : 1], w0,
                            p2p_keys_find (keys, "model.model.0.bias"),
                            p2p_keys_findf (keys, "%s2.weight", p2));
}

static P2pArchDetect
unet_pth_detect (GHashTable *keys, P2pArchDetected *det, GError **error)
{
  return detect (keys, det, error, FALSE);
}

static P2pArchDetect
unet_rc_pth_detect (GHashTable *keys, P2pArchDetected *det, GError **error)
{
  return detect (keys, det, error, TRUE);
}

/* What the two U-Nets' descriptors share: the name ends in the side, a
 * power of two from 32 to 1024 (unet_256: depth 8), which the image sides
 * must be multiples of and a checkpoint is assumed to be trained at; the
 * functions above, which tell the variants apart by info->arch; and
 * nn.Dropout has no weights for pth_detect to see. */
#define UNET_SPEC_COMMON \
  .name_suffix = "", .name_min = 32, .name_max = 1024, .name_pow2 = TRUE, \
  .size_multiple = unet_size_multiple, .min_size = unet_size_multiple, \
  .default_native_size = unet_default_native_size, \
  .macs = unet_macs, .peak_floats = unet_peak_floats, .scratch_floats = unet_scratch_floats, \
  .bind = unet_bind, .forward = unet_forward, .dropout_from_keys = FALSE

const P2pArchSpec p2p_arch_unet = {
  .id = P2P_ARCH_UNET,
  .name_prefix = "unet_",
  .pth_detect = unet_pth_detect,
  UNET_SPEC_COMMON,
};

const P2pArchSpec p2p_arch_unet_rc = {
  .id = P2P_ARCH_UNET_RC,
  .name_prefix = "unet_rc_",
  .pth_detect = unet_rc_pth_detect,
  UNET_SPEC_COMMON,
};
