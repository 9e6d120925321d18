/* resnet.c - the ResNet generator (resnet_6blocks, resnet_9blocks, ...:
 * resnet_Nblocks, 1 to 32 blocks).
 *
 * ReflPad3, Conv7, Norm, ReLU; 2 x (Conv3 s2 p1, Norm, ReLU);
 * n x [x + Norm(Conv3(ReflPad1(Dropout?(ReLU(Norm(Conv3(ReflPad1(x))))))))];
 * 2 x (ConvT3 s2 p1 op1, Norm, ReLU); ReflPad3, Conv7, Tanh.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-arch.h"

#define RESNET_MAX_BLOCKS 32

typedef struct {
  P2pConvW conv1, conv2;
  P2pNormW norm1, norm2;
} ResBlock;

typedef struct {
  P2pConvW stem;           /* 7x7 after reflect pad 3 */
  P2pNormW stem_norm;
  P2pConvW down[2];        /* 3x3 s2 p1 */
  P2pNormW down_norm[2];
  ResBlock blocks[RESNET_MAX_BLOCKS];
  P2pConvW up[2];          /* 3x3 s2 p1 op1 conv-transpose */
  P2pNormW up_norm[2];
  P2pConvW head;           /* 7x7 after reflect pad 3, then tanh */
} ResnetWeights;

static int
resnet_size_multiple (int depth)
{
  return 4;
}

/* The reflection padding at 1/4 resolution needs 2 pixels. */
static int
resnet_min_size (int depth)
{
  return 8;
}

static int
resnet_default_native_size (int depth)
{
  return 256;
}

static guint64
resnet_macs (const P2pModelInfo *info, int h, int w)
{
  const guint64 c = (guint64) info->ngf;
  const guint64 h2 = (h + 1) / 2, w2 = (w + 1) / 2, h4 = (h2 + 1) / 2, w4 = (w2 + 1) / 2;
  guint64 total = 0;

  total += p2p_conv_macs (info->input_nc, c, 7, h, w);            /* stem */
  total += p2p_conv_macs (c, 2 * c, 3, h2, w2);                   /* down */
  total += p2p_conv_macs (2 * c, 4 * c, 3, h4, w4);
  for (int i = 0; i < info->depth; i++)
    total += 2 * p2p_conv_macs (4 * c, 4 * c, 3, h4, w4);         /* blocks */
  total += p2p_conv_macs (4 * c, 2 * c, 3, h4, w4);               /* up: at the input size */
  total += p2p_conv_macs (2 * c, c, 3, 2 * h4, 2 * w4);
  total += p2p_conv_macs (c, info->output_nc, 7, 4 * h4, 4 * w4); /* head */
  return total;
}

/* The moments of resnet_forward with the most tensors live: the stem
 * (reflect-padded input and x), the blocks (x, the padded copy, y, and
 * the block's output t), the second transposed convolution (x at 1/2 and
 * t at full size) and the head (x, its padded copy and the output). */
static guint64
resnet_peak_floats (const P2pModelInfo *info, int h, int w)
{
  const guint64 c = (guint64) info->ngf;
  const guint64 h2 = (h + 1) / 2, w2 = (w + 1) / 2, h4 = (h2 + 1) / 2, w4 = (w2 + 1) / 2;
  const guint64 full = (guint64) h * w, pad3 = (guint64) (h + 6) * (w + 6);
  const guint64 stem = info->input_nc * pad3 + c * full;
  const guint64 down = c * full + 2 * c * h2 * w2;
  const guint64 blocks = 4 * c * (3 * h4 * w4 + (h4 + 2) * (w4 + 2));
  const guint64 up = 2 * c * (2 * h4) * (2 * w4) + c * (4 * h4) * (4 * w4);
  const guint64 head = c * (4 * h4) * (4 * w4) + c * (4 * h4 + 6) * (4 * w4 + 6) +
                       (guint64) info->output_nc * full;

  return MAX (MAX (stem, down), MAX (blocks, MAX (up, head)));
}

static guint64
resnet_scratch_floats (const P2pModelInfo *info, int h, int w)
{
  const guint64 c = (guint64) info->ngf, full = (guint64) h * w;

  /* the head (7 x 7 over c channels) and the stem at full size, the
   * transposed convolution's columns at 1/2 */
  return MAX (c * 49 * full, MAX ((guint64) info->input_nc * 49 * full, c * 9 * full / 4));
}

static gpointer
resnet_bind (P2pBinder *b, const P2pModelInfo *info)
{
  ResnetWeights *r = g_new0 (ResnetWeights, 1);
  const int n = info->depth, c = info->ngf;
  const gboolean bias = info->norm == P2P_NORM_INSTANCE;
  char p[64];

  p2p_binder_conv (b, &r->stem, "model.1.", info->input_nc, c, 7, FALSE, bias);
  p2p_binder_norm (b, &r->stem_norm, "model.2.", c);
  p2p_binder_conv (b, &r->down[0], "model.4.", c, 2 * c, 3, FALSE, bias);
  p2p_binder_norm (b, &r->down_norm[0], "model.5.", 2 * c);
  p2p_binder_conv (b, &r->down[1], "model.7.", 2 * c, 4 * c, 3, FALSE, bias);
  p2p_binder_norm (b, &r->down_norm[1], "model.8.", 4 * c);
  for (int i = 0; i < n; i++)
    {
      const int second = info->use_dropout ? 6 : 5;
      g_snprintf (p, sizeof p, "model.%d.conv_block.1.", 10 + i);
      p2p_binder_conv (b, &r->blocks[i].conv1, p, 4 * c, 4 * c, 3, FALSE, bias);
      g_snprintf (p, sizeof p, "model.%d.conv_block.2.", 10 + i);
      p2p_binder_norm (b, &r->blocks[i].norm1, p, 4 * c);
      g_snprintf (p, sizeof p, "model.%d.conv_block.%d.", 10 + i, second);
      p2p_binder_conv (b, &r->blocks[i].conv2, p, 4 * c, 4 * c, 3, FALSE, bias);
      g_snprintf (p, sizeof p, "model.%d.conv_block.%d.", 10 + i, second + 1);
      p2p_binder_norm (b, &r->blocks[i].norm2, p, 4 * c);
    }
  g_snprintf (p, sizeof p, "model.%d.", 10 + n);
  p2p_binder_conv (b, &r->up[0], p, 4 * c, 2 * c, 3, TRUE, bias);
  g_snprintf (p, sizeof p, "model.%d.", 11 + n);
  p2p_binder_norm (b, &r->up_norm[0], p, 2 * c);
  g_snprintf (p, sizeof p, "model.%d.", 13 + n);
  p2p_binder_conv (b, &r->up[1], p, 2 * c, c, 3, TRUE, bias);
  g_snprintf (p, sizeof p, "model.%d.", 14 + n);
  p2p_binder_norm (b, &r->up_norm[1], p, c);
  g_snprintf (p, sizeof p, "model.%d.", 17 + n);
  p2p_binder_conv (b, &r->head, p, c, info->output_nc, 7, FALSE, TRUE);
  return r;
}

/* conv (after optional reflection padding) + norm + optional ReLU */
static P2pTensor *
conv_block (P2pPass *pass, const P2pTensor *in, const P2pConvW *w, const P2pNormW *n,
            int reflect, int stride, int zero_pad, gboolean with_relu, GError **error)
{
  g_autoptr(P2pTensor) padded = NULL;
  P2pTensor *out;

  if (reflect)
    {
      padded = p2p_pass_pad_reflect (pass, in, reflect, error);
      if (!padded)
        return NULL;
      in = padded;
    }
  out = p2p_pass_conv (pass, in, w, TRUE, stride, zero_pad, error);
  if (out)
    p2p_pass_norm_act (pass, out, n, with_relu ? 0.0f : 1.0f);
  return out;
}

static P2pTensor *
resnet_forward (P2pPass *pass, const P2pModelInfo *info, gconstpointer weights,
                const P2pTensor *input, GError **error)
{
  const ResnetWeights *r = weights;
  g_autoptr(P2pTensor) x = NULL;
  g_autoptr(P2pTensor) padded = NULL;
  P2pTensor *t;

  p2p_pass_set_steps (pass, 6 + 2 * info->depth);

  x = conv_block (pass, input, &r->stem, &r->stem_norm, 3, 1, 0, TRUE, error);
  for (int i = 0; x && i < 2; i++)
    {
      t = conv_block (pass, x, &r->down[i], &r->down_norm[i], 0, 2, 1, TRUE, error);
      p2p_tensor_free (x);
      x = t;
    }
  for (int i = 0; x && i < info->depth; i++)
    {
      const ResBlock *b = &r->blocks[i];
      g_autoptr(P2pTensor) y = conv_block (pass, x, &b->conv1, &b->norm1, 1, 1, 0, TRUE, error);
      if (!y)
        return NULL;
      if (info->use_dropout && p2p_pass_stochastic (pass))
        p2p_pass_dropout (pass, y);
      t = conv_block (pass, y, &b->conv2, &b->norm2, 1, 1, 0, FALSE, error);
      if (!t)
        return NULL;
      p2p_pass_add (pass, x, t);
      p2p_tensor_free (t);
    }
  for (int i = 0; x && i < 2; i++)
    {
      t = p2p_pass_conv_t (pass, x, &r->up[i], TRUE, 2, 1, 1, error);
      if (t)
        p2p_pass_norm_act (pass, t, &r->up_norm[i], 0.0f);
      p2p_tensor_free (x);
      x = t;
    }
  if (!x)
    return NULL;
  padded = p2p_pass_pad_reflect (pass, x, 3, error);
  if (!padded)
    return NULL;
  t = p2p_pass_conv (pass, padded, &r->head, FALSE, 1, 0, error);
  if (t)
    p2p_pass_tanh (pass, t);
  return t;
}

#define FAIL(code, ...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, (code), __VA_ARGS__); \
    return P2P_ARCH_DETECT_FAILED; } G_STMT_END

static P2pArchDetect
resnet_pth_detect (GHashTable *keys, P2pArchDetected *det, GError **error)
{
  const P2pKeyShape *w1 = p2p_keys_find (keys, "model.1.weight");
  GHashTableIter it;
  gpointer key;
  guint64 seen = 0;   /* bit i: block model.(10+i) */
  int n = 0;
  const P2pKeyShape *wf, *s6;

  if (!(w1 && p2p_key_is4d (w1) && w1->shape[2] == 7 && w1->shape[3] == 7))
    return P2P_ARCH_DETECT_NO;

  g_hash_table_iter_init (&it, keys);
  while (g_hash_table_iter_next (&it, &key, NULL))
    {
      const char *k = key;
      guint64 idx;
      const char *dot;
      if (!g_str_has_prefix (k, "model.") || !(dot = strchr (k + 6, '.')) ||
          !g_str_has_prefix (dot, ".conv_block."))
        continue;
      {
        g_autofree char *num = g_strndup (k + 6, (gsize) (dot - k - 6));
        if (!g_ascii_string_to_unsigned (num, 10, 0, 1000, &idx, NULL))
          continue;
      }
      if (idx < 10 || idx >= 10 + 64)
        FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's ResNet blocks are not numbered "
                                       "model.10, model.11, ... (found “%s”)"), k);
      seen |= (guint64) 1 << (idx - 10);
    }
  while (n < 64 && (seen >> n) & 1)
    n++;
  if (n == 0)
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint is a ResNet generator without residual blocks"));
  if (n < 64 && (seen >> n) != 0)
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's ResNet blocks are not numbered "
                                   "model.10 to model.%d without gaps"), 9 + n);
  if (n > 32)
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint is a ResNet with %d blocks (at most 32 "
                                   "are supported)"), n);
  wf = p2p_keys_findf (keys, "model.%d.weight", 17 + n);
  if (!p2p_key_is4d (wf))
    FAIL (P2P_ERROR_UNSUPPORTED, _("The checkpoint's ResNet final convolution model.%d.weight "
                                   "is missing"), 17 + n);
  s6 = p2p_keys_find (keys, "model.10.conv_block.6.weight");
  det->dropout = p2p_key_is4d (s6);
  return p2p_arch_detected (det, n, (int) wf->shape[0], w1, p2p_keys_find (keys, "model.1.bias"),
                            p2p_keys_find (keys, "model.2.weight"));
}

const P2pArchSpec p2p_arch_resnet = {
  .id = P2P_ARCH_RESNET,
  .name_prefix = "resnet_",
  .name_suffix = "blocks",
  .name_min = 1,
  .name_max = RESNET_MAX_BLOCKS,
  .name_pow2 = FALSE,
  .size_multiple = resnet_size_multiple,
  .min_size = resnet_min_size,
  .default_native_size = resnet_default_native_size,
  .macs = resnet_macs,
  .peak_floats = resnet_peak_floats,
  .scratch_floats = resnet_scratch_floats,
  .bind = resnet_bind,
  .forward = resnet_forward,
  .pth_detect = resnet_pth_detect,
  .dropout_from_keys = TRUE,    /* the blocks' second conv moves from .5 to .6 */
};
