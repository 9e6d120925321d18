/* p2p-binder.c - binding a model's tensors to an architecture's layers:
 * the service the architecture files (arch/) call from their bind().
 * Each tensor is looked up by name, its shape checked against what the
 * metadata's architecture needs, and marked used (p2p-model.c refuses the
 * file when a tensor is left over).
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-model-private.h"

static const float *
bind (P2pBinder *b, const char *name, int ndim, const gint64 *shape)
{
  P2pEntry *e;

  if (!b->ok)
    return NULL;
  e = g_hash_table_lookup (b->entries, name);
  if (!e)
    {
      g_set_error (b->error, P2P_ERROR, P2P_ERROR_MISSING_TENSOR,
                   _("The model file lacks tensor “%s” needed by a %s network "
                     "(ngf %d, norm %s)"), name, b->info->arch_name,
                   b->info->ngf, p2p_norm_names[b->info->norm]);
      b->ok = FALSE;
      return NULL;
    }
  if (e->ndim != ndim || memcmp (e->shape, shape, sizeof (gint64) * ndim) != 0)
    {
      GString *want = g_string_new (NULL), *have = g_string_new (NULL);
      for (int i = 0; i < ndim; i++)
        g_string_append_printf (want, i ? "x%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, shape[i]);
      for (int i = 0; i < e->ndim; i++)
        g_string_append_printf (have, i ? "x%" G_GINT64_FORMAT : "%" G_GINT64_FORMAT, e->shape[i]);
      g_set_error (b->error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                   _("Tensor “%s” has shape [%s] but the metadata's architecture needs [%s]"),
                   name, have->str, want->str);
      g_string_free (want, TRUE);
      g_string_free (have, TRUE);
      b->ok = FALSE;
      return NULL;
    }
  e->used = TRUE;
  return e->f32;
}

void
p2p_binder_conv (P2pBinder *b, P2pConvW *c, const char *prefix, int cin, int cout, int k,
                 gboolean transposed, gboolean has_bias)
{
  g_autofree char *wname = g_strconcat (prefix, "weight", NULL);
  g_autofree char *bname = g_strconcat (prefix, "bias", NULL);
  gint64 wshape[4] = { transposed ? cin : cout, transposed ? cout : cin, k, k };
  gint64 bshape[1] = { cout };

  c->cin = cin;
  c->cout = cout;
  c->k = k;
  c->weight = bind (b, wname, 4, wshape);
  c->bias = has_bias ? bind (b, bname, 1, bshape) : NULL;
}

void
p2p_binder_norm (P2pBinder *b, P2pNormW *n, const char *prefix, int c)
{
  gint64 shape[1] = { c };
  g_autofree char *g = NULL, *be = NULL, *m = NULL, *v = NULL;

  memset (n, 0, sizeof *n);
  if (b->info->norm != P2P_NORM_BATCH)
    return;  /* instance norm has no affine parameters, none has nothing */
  g = g_strconcat (prefix, "weight", NULL);
  be = g_strconcat (prefix, "bias", NULL);
  m = g_strconcat (prefix, "running_mean", NULL);
  v = g_strconcat (prefix, "running_var", NULL);
  n->gamma = bind (b, g, 1, shape);
  n->beta = bind (b, be, 1, shape);
  n->mean = bind (b, m, 1, shape);
  n->var = bind (b, v, 1, shape);
}
