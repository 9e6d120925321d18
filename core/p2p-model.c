/* p2p-model.c - loading and validating safetensors generator files.
 *
 * The file is untrusted.  Order of checks, each before anything is
 * allocated from the file's numbers:
 *   1. 8-byte header length, within the file and below a sane cap;
 *   2. the header is a JSON object (json-glib);
 *   3. every tensor entry: known dtype, shape of non-negative integers whose
 *      byte size does not overflow, offsets inside the data section and
 *      equal to that size; together the tensors tile the data section
 *      without overlap or hole (safetensors' own rule);
 *   4. metadata: required keys present and valid (models/FORMAT.md);
 *   5. the architecture's tensors: each present with the exact shape, and
 *      no unexpected tensor left over.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "p2p-error.h"
#include "p2p-model-private.h"
#include "p2p-pth.h"
#include "p2p-tensor.h"

/* A header larger than this is not a generator description. */
#define MAX_HEADER_BYTES ((guint64) 16 << 20)
#define MAX_DIMS 8

typedef enum { DT_F32, DT_F16, DT_BF16 } Dtype;

typedef struct {
  char   *name;
  Dtype   dtype;
  int     ndim;
  gint64  shape[MAX_DIMS];
  guint64 begin, end;       /* within the data section */
  const float *f32;         /* view into the file or into an owned buffer */
  gboolean used;
} Entry;

struct _P2pModel {
  GBytes       *bytes;       /* the whole file (keeps a mapping alive) */
  GHashTable   *entries;     /* name -> Entry* */
  GPtrArray    *owned;       /* widened or realigned float buffers */
  P2pModelInfo  info;
  char         *arch_name, *name, *license, *description;
  P2pUnetLevel  unet[P2P_UNET_MAX_DEPTH];
  P2pResnet     resnet;
};

static void
entry_free (gpointer p)
{
  Entry *e = p;
  g_free (e->name);
  g_free (e);
}

void
p2p_model_free (P2pModel *model)
{
  if (!model)
    return;
  g_clear_pointer (&model->entries, g_hash_table_unref);
  g_clear_pointer (&model->owned, g_ptr_array_unref);
  g_clear_pointer (&model->bytes, g_bytes_unref);
  g_free (model->arch_name);
  g_free (model->name);
  g_free (model->license);
  g_free (model->description);
  g_free (model);
}

/* ---- step 3: tensor entries ------------------------------------------- */

static gboolean
parse_dtype (const char *s, Dtype *dt, gsize *elem)
{
  if (g_strcmp0 (s, "F32") == 0)
    *dt = DT_F32, *elem = 4;
  else if (g_strcmp0 (s, "F16") == 0)
    *dt = DT_F16, *elem = 2;
  else if (g_strcmp0 (s, "BF16") == 0)
    *dt = DT_BF16, *elem = 2;
  else
    return FALSE;
  return TRUE;
}

/* Reads a JSON integer node that must be a non-negative whole number
 * below 2^63 - 1.  json-glib gives no error for integers outside gint64:
 * 1.6 wraps them (2^63 .. 2^64-1 come back negative, larger ones as -1),
 * 1.10 clamps them to G_MAXINT64 / G_MININT64.  Refusing both the negative
 * values and G_MAXINT64 itself refuses every out-of-range number whatever
 * the json-glib version; no real offset or size comes near 2^63. */
static gboolean
json_uint (JsonNode *node, guint64 *out)
{
  gint64 v;

  if (!node || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_INT64)
    return FALSE;
  v = json_node_get_int (node);
  if (v < 0 || v == G_MAXINT64)
    return FALSE;
  *out = (guint64) v;
  return TRUE;
}

static Entry *
parse_entry (const char *name, JsonNode *node, guint64 data_size, GError **error)
{
  JsonObject *obj;
  JsonArray *shape, *offsets;
  const char *dtype_s;
  Entry *e;
  gsize elem, bytes;

#define BAD(...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR, __VA_ARGS__); \
    entry_free (e); return NULL; } G_STMT_END

  e = g_new0 (Entry, 1);
  e->name = g_strdup (name);

  if (!JSON_NODE_HOLDS_OBJECT (node))
    /* TRANSLATORS: a tensor is one named array of weights in the model
     * file; dtype, shape and data_offsets are field names of the
     * safetensors format (keep them as they are). */
    BAD (_("Tensor “%s”: entry is not an object"), name);
  obj = json_node_get_object (node);

  dtype_s = json_object_has_member (obj, "dtype") &&
            JSON_NODE_HOLDS_VALUE (json_object_get_member (obj, "dtype")) &&
            json_node_get_value_type (json_object_get_member (obj, "dtype")) == G_TYPE_STRING
            ? json_object_get_string_member (obj, "dtype") : NULL;
  if (!dtype_s)
    BAD (_("Tensor “%s”: missing dtype"), name);
  if (!parse_dtype (dtype_s, &e->dtype, &elem))
    BAD (_("Tensor “%s”: unsupported dtype “%s” (F32, F16 and BF16 are supported)"), name, dtype_s);

  if (!json_object_has_member (obj, "shape") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "shape")))
    BAD (_("Tensor “%s”: missing shape"), name);
  shape = json_object_get_array_member (obj, "shape");
  e->ndim = (int) json_array_get_length (shape);
  if (e->ndim > MAX_DIMS)
    BAD (_("Tensor “%s”: %d dimensions is too many"), name, e->ndim);

  bytes = elem;
  for (int i = 0; i < e->ndim; i++)
    {
      guint64 d;
      if (!json_uint (json_array_get_element (shape, i), &d) || d > G_MAXINT32)
        BAD (_("Tensor “%s”: shape entry %d is not a valid size"), name, i);
      e->shape[i] = (gint64) d;
      if (!g_size_checked_mul (&bytes, bytes, (gsize) d))
        BAD (_("Tensor “%s”: size overflows"), name);
    }

  if (!json_object_has_member (obj, "data_offsets") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (obj, "data_offsets")))
    BAD (_("Tensor “%s”: missing data_offsets"), name);
  offsets = json_object_get_array_member (obj, "data_offsets");
  if (json_array_get_length (offsets) != 2 ||
      !json_uint (json_array_get_element (offsets, 0), &e->begin) ||
      !json_uint (json_array_get_element (offsets, 1), &e->end))
    BAD (_("Tensor “%s”: data_offsets must be two non-negative integers"), name);
  if (e->end < e->begin)
    BAD (_("Tensor “%s”: data_offsets are reversed"), name);
  if (e->end > data_size)
    {
      /* Pointing past the end most likely means a cut-off download. */
      g_set_error (error, P2P_ERROR, P2P_ERROR_TRUNCATED,
                   _("The model file is truncated: tensor “%s” needs bytes %llu to %llu "
                     "of a data section of %llu bytes"),
                   name, (unsigned long long) e->begin, (unsigned long long) e->end,
                   (unsigned long long) data_size);
      entry_free (e);
      return NULL;
    }
  if (e->end - e->begin != bytes)
    BAD (_("Tensor “%s”: holds %llu bytes but its shape needs %llu"),
         name, (unsigned long long) (e->end - e->begin), (unsigned long long) bytes);
#undef BAD
  return e;
}

static int
compare_entry_begin (gconstpointer a, gconstpointer b)
{
  const Entry *ea = *(Entry *const *) a, *eb = *(Entry *const *) b;
  if (ea->begin != eb->begin)
    return ea->begin < eb->begin ? -1 : 1;
  return ea->end < eb->end ? -1 : ea->end > eb->end;
}

/* safetensors requires the tensors to tile the data section exactly.  This
 * also catches duplicate names, which JSON parsers silently collapse: the
 * dropped entry leaves a hole. */
static gboolean
check_tiling (GHashTable *entries, guint64 data_size, GError **error)
{
  g_autoptr(GPtrArray) sorted = g_ptr_array_new ();
  GHashTableIter it;
  gpointer value;
  guint64 pos = 0;

  g_hash_table_iter_init (&it, entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    g_ptr_array_add (sorted, value);

  g_ptr_array_sort (sorted, compare_entry_begin);
  for (guint i = 0; i < sorted->len; i++)
    {
      const Entry *e = sorted->pdata[i];
      if (e->begin < pos)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                       _("Tensor “%s” overlaps another tensor"), e->name);
          return FALSE;
        }
      if (e->begin > pos)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                       _("Bytes %llu to %llu of the data belong to no tensor "
                         "(duplicate tensor name?)"),
                       (unsigned long long) pos, (unsigned long long) e->begin);
          return FALSE;
        }
      pos = e->end;
    }
  if (pos != data_size)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                   _("The last %llu bytes of the file belong to no tensor"),
                   (unsigned long long) (data_size - pos));
      return FALSE;
    }
  return TRUE;
}

/* ---- widening -------------------------------------------------------- */

static float
half_to_float (guint16 h)
{
  const guint32 sign = (guint32) (h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
  float f;

  if (exp == 0x1f)                        /* inf / nan */
    bits = sign | 0x7f800000u | (mant << 13);
  else if (exp != 0)                      /* normal */
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  else if (mant == 0)                     /* zero */
    bits = sign;
  else                                    /* subnormal: renormalise */
    {
      exp = 113;
      while (!(mant & 0x400))
        {
          mant <<= 1;
          exp--;
        }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  memcpy (&f, &bits, sizeof f);
  return f;
}

static gboolean
materialise (P2pModel *model, Entry *e, const guint8 *data, GError **error)
{
  const guint8 *src = data + e->begin;
  const gsize n = (gsize) (e->end - e->begin) / (e->dtype == DT_F32 ? 4 : 2);
  float *dst;

  if (e->dtype == DT_F32 && G_BYTE_ORDER == G_LITTLE_ENDIAN &&
      ((guintptr) src % G_ALIGNOF (float)) == 0)
    {
      e->f32 = (const float *) (gconstpointer) src;   /* used in place */
      return TRUE;
    }

  dst = p2p_alloc_floats (n);
  if (!dst)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory to load tensor “%s”"), e->name);
      return FALSE;
    }
  g_ptr_array_add (model->owned, dst);
  for (gsize i = 0; i < n; i++)
    {
      if (e->dtype == DT_F32)
        {
          guint32 bits = (guint32) src[4 * i] | (guint32) src[4 * i + 1] << 8 |
                         (guint32) src[4 * i + 2] << 16 | (guint32) src[4 * i + 3] << 24;
          memcpy (&dst[i], &bits, 4);
        }
      else
        {
          guint16 h = (guint16) (src[2 * i] | src[2 * i + 1] << 8);
          if (e->dtype == DT_F16)
            dst[i] = half_to_float (h);
          else
            {
              guint32 bits = (guint32) h << 16;
              memcpy (&dst[i], &bits, 4);
            }
        }
    }
  e->f32 = dst;
  return TRUE;
}

/* ---- step 4: metadata ------------------------------------------------ */

static const char *
meta_get (JsonObject *meta, const char *key)
{
  JsonNode *n;
  if (!meta || !json_object_has_member (meta, key))
    return NULL;
  n = json_object_get_member (meta, key);
  if (!JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
meta_int (JsonObject *meta, const char *key, int lo, int hi, int *out, GError **error)
{
  const char *s = meta_get (meta, key);
  guint64 v;

  if (!s)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The model's metadata lacks “%s”"), key);
      return FALSE;
    }
  if (!g_ascii_string_to_unsigned (s, 10, lo, hi, &v, NULL))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The model's metadata “%s” = “%s” is not a number from %d to %d"),
                   key, s, lo, hi);
      return FALSE;
    }
  *out = (int) v;
  return TRUE;
}

static const char *const task_names[] = { "generic", "sketch-to-photo", "colorize", NULL };
static const char *const norm_names[] = { "batch", "instance", "none", NULL };
static const char *const space_names[] = { "rgb", "lab_l", "lab_ab", "lab_l_hints", NULL };
static const char *const bool_names[] = { "false", "true", NULL };

static gboolean
meta_enum (JsonObject *meta, const char *key, const char *const *names, int *out, GError **error)
{
  const char *s = meta_get (meta, key);

  if (!s)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The model's metadata lacks “%s”"), key);
      return FALSE;
    }
  for (int i = 0; names[i]; i++)
    if (strcmp (s, names[i]) == 0)
      {
        *out = i;
        return TRUE;
      }
  /* An unknown name may be a newer feature; a bad boolean is just broken. */
  if (names == bool_names)
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                 _("The model's metadata “%s” = “%s” is not “true” or “false”"), key, s);
  else
    g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                 /* TRANSLATORS: a metadata key of the model file (e.g. arch,
                  * norm, task) and a value of it this version does not know. */
                 _("Unsupported model: %s “%s”"), key, s);
  return FALSE;
}


const char *p2p_task_to_string (P2pTask t) { return (guint) t < 3 ? task_names[t] : "?"; }
const char *p2p_norm_to_string (P2pNorm n) { return (guint) n < 3 ? norm_names[n] : "?"; }
const char *p2p_space_to_string (P2pSpace s) { return (guint) s < 4 ? space_names[s] : "?"; }

static gboolean
parse_arch (const char *s, P2pModelInfo *info, GError **error)
{
  guint64 v;

  if (s && g_str_has_prefix (s, "unet_") &&
      g_ascii_string_to_unsigned (s + 5, 10, 32, 1024, &v, NULL) && (v & (v - 1)) == 0)
    {
      info->arch = P2P_ARCH_UNET;
      info->depth = g_bit_nth_lsf (v, -1);
      return TRUE;
    }
  if (s && g_str_has_prefix (s, "resnet_") && g_str_has_suffix (s, "blocks"))
    {
      g_autofree char *num = g_strndup (s + 7, strlen (s) - 7 - 6);
      if (g_ascii_string_to_unsigned (num, 10, 1, P2P_RESNET_MAX_BLOCKS, &v, NULL))
        {
          info->arch = P2P_ARCH_RESNET;
          info->depth = (int) v;
          return TRUE;
        }
    }
  if (!s)
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER, _("The model's metadata lacks “%s”"), "arch");
  else
    g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                 _("Unsupported model architecture “%s” (unet_128, unet_256, resnet_6blocks "
                   "and resnet_9blocks are supported)"), s);
  return FALSE;
}

static gboolean
parse_metadata (P2pModel *model, JsonObject *meta, GError **error)
{
  P2pModelInfo *info = &model->info;
  const char *s;
  int v;

  if (!meta)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The file has no gimp-pix2pix metadata: convert PyTorch checkpoints with "
                     "pix2pix-cli import or models/tools/convert-checkpoint.py"));
      return FALSE;
    }
  s = meta_get (meta, "format");
  if (g_strcmp0 (s, "gimp-pix2pix") != 0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The file is a safetensors file but not a gimp-pix2pix model "
                     "(metadata “format” is “%s”)"), s ? s : "");
      return FALSE;
    }
  if (!meta_int (meta, "format_version", 1, 1000, &v, error))
    return FALSE;
  if (v != 1)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("Model format version %d is newer than this plug-in supports (1)"), v);
      return FALSE;
    }

  if (!parse_arch (meta_get (meta, "arch"), info, error))
    return FALSE;
  model->arch_name = g_strdup (meta_get (meta, "arch"));
  info->arch_name = model->arch_name;

  if (!meta_int (meta, "ngf", 1, 1024, &info->ngf, error) ||
      !meta_int (meta, "input_nc", 1, 4, &info->input_nc, error) ||
      !meta_int (meta, "output_nc", 1, 4, &info->output_nc, error) ||
      !meta_int (meta, "native_size", 1, 65536, &info->native_size, error))
    return FALSE;
  if (!meta_enum (meta, "norm", norm_names, &v, error))
    return FALSE;
  info->norm = v;
  if (!meta_enum (meta, "dropout", bool_names, &v, error))
    return FALSE;
  info->use_dropout = v;
  if (!meta_enum (meta, "task", task_names, &v, error))
    return FALSE;
  info->task = v;
  if (!meta_enum (meta, "input_space", space_names, &v, error))
    return FALSE;
  info->input_space = v;
  if (!meta_enum (meta, "output_space", space_names, &v, error))
    return FALSE;
  info->output_space = v;

  s = meta_get (meta, "name");
  if (!s || !*s || !g_utf8_validate (s, -1, NULL))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER, _("The model's metadata lacks “%s”"), "name");
      return FALSE;
    }
  model->name = g_strdup (s);
  s = meta_get (meta, "license");
  if (!s || !*s || !g_utf8_validate (s, -1, NULL))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER, _("The model's metadata lacks “%s”"), "license");
      return FALSE;
    }
  model->license = g_strdup (s);
  s = meta_get (meta, "description");
  model->description = g_strdup (s && g_utf8_validate (s, -1, NULL) ? s : "");
  info->name = model->name;
  info->license = model->license;
  info->description = model->description;

  /* Consistency between task, spaces and channel counts. */
  if (info->input_space == P2P_SPACE_LAB_AB || info->output_space == P2P_SPACE_LAB_L ||
      info->output_space == P2P_SPACE_LAB_L_HINTS ||
      (info->input_space == P2P_SPACE_LAB_L && info->input_nc != 1) ||
      (info->input_space == P2P_SPACE_LAB_L_HINTS && info->input_nc != 4) ||
      (info->output_space == P2P_SPACE_LAB_AB && info->output_nc != 2) ||
      (info->input_space == P2P_SPACE_RGB && info->input_nc != 1 && info->input_nc != 3) ||
      (info->output_space == P2P_SPACE_RGB && info->output_nc != 1 && info->output_nc != 3) ||
      (info->task == P2P_TASK_COLORIZE &&
       ((info->input_space != P2P_SPACE_LAB_L && info->input_space != P2P_SPACE_LAB_L_HINTS) ||
        info->output_space != P2P_SPACE_LAB_AB)))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The model's task, colour spaces and channel counts do not fit together "
                     "(task %s, %s with %d channels in, %s with %d channels out)"),
                   task_names[info->task], space_names[info->input_space], info->input_nc,
                   space_names[info->output_space], info->output_nc);
      return FALSE;
    }
  if (info->arch == P2P_ARCH_UNET && (info->depth < 5 || info->depth > P2P_UNET_MAX_DEPTH))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("Unsupported U-Net depth %d (5 to %d)"), info->depth, P2P_UNET_MAX_DEPTH);
      return FALSE;
    }
  return TRUE;
}

/* ---- step 5: the architecture's tensors ------------------------------ */

typedef struct {
  P2pModel *model;
  GError  **error;
  gboolean  ok;
} Binder;

static const float *
bind (Binder *b, const char *name, int ndim, const gint64 *shape)
{
  Entry *e;

  if (!b->ok)
    return NULL;
  e = g_hash_table_lookup (b->model->entries, name);
  if (!e)
    {
      g_set_error (b->error, P2P_ERROR, P2P_ERROR_MISSING_TENSOR,
                   _("The model file lacks tensor “%s” needed by a %s network "
                     "(ngf %d, norm %s)"), name, b->model->info.arch_name,
                   b->model->info.ngf, norm_names[b->model->info.norm]);
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

static void
bind_conv (Binder *b, P2pConvW *c, const char *prefix, int cin, int cout, int k,
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

static void
bind_norm (Binder *b, P2pNormW *n, const char *prefix, int c)
{
  gint64 shape[1] = { c };
  g_autofree char *g = NULL, *be = NULL, *m = NULL, *v = NULL;

  memset (n, 0, sizeof *n);
  if (b->model->info.norm != P2P_NORM_BATCH)
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

static void
bind_unet (Binder *b)
{
  P2pModel *model = b->model;
  const P2pModelInfo *info = &model->info;
  const int D = info->depth;
  const gboolean bias = info->norm == P2P_NORM_INSTANCE;
  GString *prefix = g_string_new ("model.model.");

  for (int k = 1; k <= D; k++)
    {
      P2pUnetLevel *L = &model->unet[k - 1];
      const int inner = info->ngf * MIN (1 << MIN (k - 1, 3), 8);
      const int outer = k == 1 ? info->output_nc : info->ngf * MIN (1 << MIN (k - 2, 3), 8);
      const int in_ch = k == 1 ? info->input_nc : outer;
      const gboolean outermost = k == 1, innermost = k == D;
      g_autofree char *p_down = NULL, *p_dnorm = NULL, *p_up = NULL, *p_unorm = NULL;

      if (k >= 2)
        {
          /* level k >= 2: "model.model.1." + "model.3." * (k-2) + "model." */
          g_string_assign (prefix, "model.model.1.");
          for (int j = 0; j < k - 2; j++)
            g_string_append (prefix, "model.3.");
          g_string_append (prefix, "model.");
        }

      p_down = g_strconcat (prefix->str, outermost ? "0." : "1.", NULL);
      bind_conv (b, &L->down, p_down, in_ch, inner, 4, FALSE, bias);
      if (!outermost && !innermost)
        {
          p_dnorm = g_strconcat (prefix->str, "2.", NULL);
          bind_norm (b, &L->down_norm, p_dnorm, inner);
        }
      if (outermost)
        {
          p_up = g_strconcat (prefix->str, "3.", NULL);
          bind_conv (b, &L->up, p_up, 2 * inner, outer, 4, TRUE, TRUE);
        }
      else if (innermost)
        {
          p_up = g_strconcat (prefix->str, "3.", NULL);
          p_unorm = g_strconcat (prefix->str, "4.", NULL);
          bind_conv (b, &L->up, p_up, inner, outer, 4, TRUE, bias);
          bind_norm (b, &L->up_norm, p_unorm, outer);
        }
      else
        {
          p_up = g_strconcat (prefix->str, "5.", NULL);
          p_unorm = g_strconcat (prefix->str, "6.", NULL);
          bind_conv (b, &L->up, p_up, 2 * inner, outer, 4, TRUE, bias);
          bind_norm (b, &L->up_norm, p_unorm, outer);
        }
      L->dropout = info->use_dropout && k >= 5 && k < D;
    }
  g_string_free (prefix, TRUE);
}

static void
bind_resnet (Binder *b)
{
  P2pModel *model = b->model;
  const P2pModelInfo *info = &model->info;
  P2pResnet *r = &model->resnet;
  const int n = info->depth, c = info->ngf;
  const gboolean bias = info->norm == P2P_NORM_INSTANCE;
  char p[64];

  bind_conv (b, &r->stem, "model.1.", info->input_nc, c, 7, FALSE, bias);
  bind_norm (b, &r->stem_norm, "model.2.", c);
  bind_conv (b, &r->down[0], "model.4.", c, 2 * c, 3, FALSE, bias);
  bind_norm (b, &r->down_norm[0], "model.5.", 2 * c);
  bind_conv (b, &r->down[1], "model.7.", 2 * c, 4 * c, 3, FALSE, bias);
  bind_norm (b, &r->down_norm[1], "model.8.", 4 * c);
  for (int i = 0; i < n; i++)
    {
      const int second = info->use_dropout ? 6 : 5;
      g_snprintf (p, sizeof p, "model.%d.conv_block.1.", 10 + i);
      bind_conv (b, &r->blocks[i].conv1, p, 4 * c, 4 * c, 3, FALSE, bias);
      g_snprintf (p, sizeof p, "model.%d.conv_block.2.", 10 + i);
      bind_norm (b, &r->blocks[i].norm1, p, 4 * c);
      g_snprintf (p, sizeof p, "model.%d.conv_block.%d.", 10 + i, second);
      bind_conv (b, &r->blocks[i].conv2, p, 4 * c, 4 * c, 3, FALSE, bias);
      g_snprintf (p, sizeof p, "model.%d.conv_block.%d.", 10 + i, second + 1);
      bind_norm (b, &r->blocks[i].norm2, p, 4 * c);
    }
  g_snprintf (p, sizeof p, "model.%d.", 10 + n);
  bind_conv (b, &r->up[0], p, 4 * c, 2 * c, 3, TRUE, bias);
  g_snprintf (p, sizeof p, "model.%d.", 11 + n);
  bind_norm (b, &r->up_norm[0], p, 2 * c);
  g_snprintf (p, sizeof p, "model.%d.", 13 + n);
  bind_conv (b, &r->up[1], p, 2 * c, c, 3, TRUE, bias);
  g_snprintf (p, sizeof p, "model.%d.", 14 + n);
  bind_norm (b, &r->up_norm[1], p, c);
  g_snprintf (p, sizeof p, "model.%d.", 17 + n);
  bind_conv (b, &r->head, p, c, info->output_nc, 7, FALSE, TRUE);
}

/* Buffers that older PyTorch versions saved and the reference loader drops:
 * ignored rather than refused. */
static gboolean
is_ignorable (const P2pModel *model, const Entry *e)
{
  if (g_str_has_suffix (e->name, ".num_batches_tracked"))
    return TRUE;
  if (model->info.norm == P2P_NORM_INSTANCE &&
      (g_str_has_suffix (e->name, ".running_mean") || g_str_has_suffix (e->name, ".running_var")))
    return TRUE;
  return FALSE;
}

static gboolean
bind_all (P2pModel *model, GError **error)
{
  Binder b = { model, error, TRUE };
  GHashTableIter it;
  gpointer value;

  if (model->info.arch == P2P_ARCH_UNET)
    bind_unet (&b);
  else
    bind_resnet (&b);
  if (!b.ok)
    return FALSE;

  g_hash_table_iter_init (&it, model->entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Entry *e = value;
      if (e->used)
        {
          if (!g_str_has_suffix (e->name, "running_mean") && !g_str_has_suffix (e->name, "running_var"))
            {
              guint64 numel = 1;
              for (int i = 0; i < e->ndim; i++)
                numel *= (guint64) e->shape[i];
              model->info.n_params += numel;
            }
        }
      else if (!is_ignorable (model, e))
        {
          if (model->info.use_dropout)
            g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                         /* TRANSLATORS: the first %s is a tensor name, the
                          * second an architecture (e.g. unet_256), the third
                          * a normalisation (batch, instance or none). */
                         _("Unexpected tensor “%s” for a %s network with norm %s and dropout: "
                           "the metadata does not match the weights"),
                         e->name, model->info.arch_name, norm_names[model->info.norm]);
          else
            g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                         _("Unexpected tensor “%s” for a %s network with norm %s: "
                           "the metadata does not match the weights"),
                         e->name, model->info.arch_name, norm_names[model->info.norm]);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- resource limits ------------------------------------------------- */

/* One pass at the native size must stay below this many multiply-adds
 * (a quarter of an hour or more on a fast desktop CPU; the official
 * 256 x 256 models need 2-60 * 10^9).  Checked from the metadata alone, before any tensor is
 * widened or bound: the cost of every layer follows from arch, ngf and the
 * channel counts, which the tensors must then match. */
#define P2P_MODEL_MAX_MACS G_GUINT64_CONSTANT (100000000000000)

static gboolean
check_compute (P2pModel *model, GError **error)
{
  const P2pModelInfo *info = &model->info;
  const int mult = p2p_model_size_multiple (model), min = p2p_model_min_size (model);
  const int side = MAX ((info->native_size + mult - 1) / mult * mult, min);
  const gboolean unet = info->arch == P2P_ARCH_UNET;
  const guint64 ngf = (guint64) info->ngf, area = (guint64) side * (guint64) side;
  guint64 macs = 0;

  /* p2p_model_macs() from the channel counts the binder will require (the
   * ResNet's 1/4-scale area rounded up).  No overflow: ngf <= 2^10, so
   * channels <= 2^14, pixels <= 2^32, depth <= 32; every term and the
   * sums stay below 2^62. */
  if (unet)
    {
      guint64 px = area;
      for (int k = 1; k <= info->depth; k++)
        {
          const guint64 inner = ngf * MIN (1u << MIN (k - 1, 3), 8u);
          const guint64 outer = k == 1 ? (guint64) info->output_nc : ngf * MIN (1u << MIN (k - 2, 3), 8u);
          const guint64 in_ch = k == 1 ? (guint64) info->input_nc : outer;
          const guint64 up_in = k == info->depth ? inner : 2 * inner;
          px /= 4;
          macs += in_ch * inner * 16 * px + up_in * outer * 16 * px;
        }
    }
  else
    {
      const guint64 a4 = area / 16 + 1;
      macs = area * 49 * ngf * ((guint64) info->input_nc + (guint64) info->output_nc) +
             a4 * 4 * 9 * (2 * ngf * ngf) + a4 * 9 * (8 * ngf * ngf) +
             (guint64) info->depth * 2 * a4 * 9 * 16 * ngf * ngf +
             a4 * 9 * (8 * ngf * ngf) + a4 * 4 * 9 * (2 * ngf * ngf);
    }
  if (macs > P2P_MODEL_MAX_MACS)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("The model is too costly to run: %s with ngf %d at its native size "
                     "%d x %d needs %.1f * 10^12 multiply-adds a pass (at most %.0f * 10^12)"),
                   info->arch_name, info->ngf, side, side, macs / 1e12,
                   P2P_MODEL_MAX_MACS / 1e12);
      return FALSE;
    }
  return TRUE;
}

/* ---- entry points ---------------------------------------------------- */

static gboolean
load (P2pModel *model, GError **error)
{
  gsize size;
  const guint8 *data = g_bytes_get_data (model->bytes, &size);
  guint64 header_len = 0;
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) json_error = NULL;
  JsonNode *root;
  JsonObject *top, *meta = NULL;
  g_autoptr(GList) members = NULL;
  guint64 data_size;
  const guint8 *tensor_data;

  if (size < 8)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL,
                   _("The file is too short to be a model (%llu bytes)"),
                   (unsigned long long) size);
      return FALSE;
    }
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | data[i];
  if (header_len < 2 || header_len > MAX_HEADER_BYTES)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL,
                   _("The file is not a safetensors model (invalid header)"));
      return FALSE;
    }
  if (header_len > size - 8)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_TRUNCATED,
                   _("The model file is truncated: its header needs %llu bytes "
                     "but the file has %llu"),
                   (unsigned long long) (header_len + 8), (unsigned long long) size);
      return FALSE;
    }
  if (data[8] != '{')
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL,
                   _("The file is not a safetensors model (invalid header)"));
      return FALSE;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, (const char *) data + 8, (gssize) header_len, &json_error))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                   _("The model's header is not valid JSON: %s"), json_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER, _("The model's header is not a JSON object"));
      return FALSE;
    }
  top = json_node_get_object (root);

  data_size = size - 8 - header_len;
  tensor_data = data + 8 + header_len;
  members = json_object_get_members (top);
  for (GList *l = members; l; l = l->next)
    {
      const char *name = l->data;
      Entry *e;

      if (strcmp (name, "__metadata__") == 0)
        {
          JsonNode *m = json_object_get_member (top, name);
          if (!JSON_NODE_HOLDS_OBJECT (m))
            {
              g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_HEADER,
                           _("The model's __metadata__ is not an object"));
              return FALSE;
            }
          meta = json_node_get_object (m);
          continue;
        }
      e = parse_entry (name, json_object_get_member (top, name), data_size, error);
      if (!e)
        return FALSE;
      g_hash_table_insert (model->entries, e->name, e);
    }
  if (!check_tiling (model->entries, data_size, error))
    return FALSE;
  if (!parse_metadata (model, meta, error))
    return FALSE;
  if (!check_compute (model, error))
    return FALSE;

  {
    GHashTableIter it;
    gpointer value;
    g_hash_table_iter_init (&it, model->entries);
    while (g_hash_table_iter_next (&it, NULL, &value))
      if (!materialise (model, value, tensor_data, error))
        return FALSE;
  }
  return bind_all (model, error);
}

P2pModel *
p2p_model_new_from_bytes (GBytes *bytes, GError **error)
{
  g_autoptr(P2pModel) model = NULL;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  model = g_new0 (P2pModel, 1);
  model->bytes = g_bytes_ref (bytes);
  model->entries = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  model->owned = g_ptr_array_new_with_free_func (p2p_free_aligned);
  if (!load (model, error))
    return NULL;
  return g_steal_pointer (&model);
}

P2pModel *
p2p_model_load (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *display = NULL;
  P2pModel *model;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  display = g_filename_display_name (path);
  /* A file larger than the physical memory is refused before it is read or
   * mapped: its weights could never all be resident while the net runs. */
  {
    GStatBuf st;
    if (g_stat (path, &st) == 0 && S_ISREG (st.st_mode) &&
        (guint64) st.st_size > p2p_physical_memory ())
      {
        g_autofree char *size_s = g_format_size ((guint64) st.st_size);
        g_autofree char *have_s = g_format_size (p2p_physical_memory ());
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Model file “%s” (%s) is larger than this computer's memory (%s)"),
                     display, size_s, have_s);
        return NULL;
      }
  }

  /* PyTorch checkpoints (.pth, zip or legacy pickle) go through p2p-pth.c. */
  if (p2p_pth_file_is_pth (path))
    return p2p_model_import_pth (path, NULL, error);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL,
                   _("“%s” is a folder, not a model file"), display);
      return NULL;
    }
  mapped = g_mapped_file_new (path, FALSE, &local);
  if (!mapped)
    {
      if (g_error_matches (local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND,
                     _("Model file “%s” does not exist"), display);
      else
        g_set_error (error, P2P_ERROR, P2P_ERROR_IO,
                     _("Cannot read model file “%s”: %s"), display, local->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  if (!bytes)   /* empty file: GLib maps nothing */
    bytes = g_bytes_new_static ("", 0);
  model = p2p_model_new_from_bytes (bytes, &local);
  if (!model)
    {
      g_set_error (error, P2P_ERROR, local->code, _("%s: %s"), display, local->message);
      return NULL;
    }
  return model;
}

const P2pModelInfo *
p2p_model_get_info (const P2pModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return &model->info;
}

const P2pUnetLevel *
p2p_model_get_unet (const P2pModel *model)
{
  return model->info.arch == P2P_ARCH_UNET ? model->unet : NULL;
}

const P2pResnet *
p2p_model_get_resnet (const P2pModel *model)
{
  return model->info.arch == P2P_ARCH_RESNET ? &model->resnet : NULL;
}

int
p2p_model_size_multiple (const P2pModel *model)
{
  return model->info.arch == P2P_ARCH_UNET ? 1 << model->info.depth : 4;
}

int
p2p_model_min_size (const P2pModel *model)
{
  return model->info.arch == P2P_ARCH_UNET ? 1 << model->info.depth : 8;
}

static guint64
conv_macs (const P2pConvW *c, guint64 in_h, guint64 in_w, guint64 out_h, guint64 out_w, gboolean transposed)
{
  const guint64 taps = (guint64) c->cin * c->cout * c->k * c->k;
  return transposed ? taps * in_h * in_w : taps * out_h * out_w;
}

guint64
p2p_model_macs (const P2pModel *model, int h, int w)
{
  const P2pModelInfo *info = &model->info;
  guint64 total = 0;

  if (info->arch == P2P_ARCH_UNET)
    {
      guint64 hh = h, ww = w;
      for (int k = 0; k < info->depth; k++)
        {
          const P2pUnetLevel *L = &model->unet[k];
          total += conv_macs (&L->down, hh, ww, hh / 2, ww / 2, FALSE);
          total += conv_macs (&L->up, hh / 2, ww / 2, hh, ww, TRUE);
          hh /= 2;
          ww /= 2;
        }
    }
  else
    {
      const P2pResnet *r = &model->resnet;
      const guint64 h2 = (h + 1) / 2, w2 = (w + 1) / 2, h4 = (h2 + 1) / 2, w4 = (w2 + 1) / 2;
      total += conv_macs (&r->stem, 0, 0, h, w, FALSE);
      total += conv_macs (&r->down[0], 0, 0, h2, w2, FALSE);
      total += conv_macs (&r->down[1], 0, 0, h4, w4, FALSE);
      for (int i = 0; i < info->depth; i++)
        total += 2 * conv_macs (&r->blocks[i].conv1, 0, 0, h4, w4, FALSE);
      total += conv_macs (&r->up[0], h4, w4, 0, 0, TRUE);
      total += conv_macs (&r->up[1], 2 * h4, 2 * w4, 0, 0, TRUE);
      total += conv_macs (&r->head, 0, 0, 4 * h4, 4 * w4, FALSE);
    }
  return total;
}
