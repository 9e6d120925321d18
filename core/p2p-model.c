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

struct _P2pModel {
  GBytes       *bytes;       /* the whole file (keeps a mapping alive) */
  GHashTable   *entries;     /* name -> P2pEntry* */
  GPtrArray    *owned;       /* widened or realigned float buffers */
  P2pModelInfo  info;
  char         *arch_name, *name, *license, *description;
  const P2pArchSpec *arch;
  gpointer      weights;     /* the architecture's bound weights */
};

static void
entry_free (gpointer p)
{
  P2pEntry *e = p;
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
  g_free (model->weights);
  g_free (model->arch_name);
  g_free (model->name);
  g_free (model->license);
  g_free (model->description);
  g_free (model);
}

/* ---- step 3: tensor entries ------------------------------------------- */

static gboolean
parse_dtype (const char *s, P2pDtype *dt, gsize *elem)
{
  if (g_strcmp0 (s, "F32") == 0)
    *dt = P2P_DT_F32, *elem = 4;
  else if (g_strcmp0 (s, "F16") == 0)
    *dt = P2P_DT_F16, *elem = 2;
  else if (g_strcmp0 (s, "BF16") == 0)
    *dt = P2P_DT_BF16, *elem = 2;
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

static P2pEntry *
parse_entry (const char *name, JsonNode *node, guint64 data_size, GError **error)
{
  JsonObject *obj;
  JsonArray *shape, *offsets;
  const char *dtype_s;
  P2pEntry *e;
  gsize elem, bytes;

#define BAD(...) G_STMT_START { \
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR, __VA_ARGS__); \
    entry_free (e); return NULL; } G_STMT_END

  e = g_new0 (P2pEntry, 1);
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
  if (e->ndim > P2P_MODEL_MAX_DIMS)
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
  const P2pEntry *ea = *(P2pEntry *const *) a, *eb = *(P2pEntry *const *) b;
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
      const P2pEntry *e = sorted->pdata[i];
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
materialise (P2pModel *model, P2pEntry *e, const guint8 *data, GError **error)
{
  const guint8 *src = data + e->begin;
  const gsize n = (gsize) (e->end - e->begin) / (e->dtype == P2P_DT_F32 ? 4 : 2);
  float *dst;

  if (e->dtype == P2P_DT_F32 && G_BYTE_ORDER == G_LITTLE_ENDIAN &&
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
      if (e->dtype == P2P_DT_F32)
        {
          guint32 bits = (guint32) src[4 * i] | (guint32) src[4 * i + 1] << 8 |
                         (guint32) src[4 * i + 2] << 16 | (guint32) src[4 * i + 3] << 24;
          memcpy (&dst[i], &bits, 4);
        }
      else
        {
          guint16 h = (guint16) (src[2 * i] | src[2 * i + 1] << 8);
          if (e->dtype == P2P_DT_F16)
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



static gboolean
parse_arch (P2pModel *model, const char *s, GError **error)
{
  for (int i = 0; p2p_arch_specs[i]; i++)
    if (p2p_arch_parse_name (p2p_arch_specs[i], s, &model->info.depth))
      {
        model->arch = p2p_arch_specs[i];
        model->info.arch = model->arch->id;
        return TRUE;
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

  if (!parse_arch (model, meta_get (meta, "arch"), error))
    return FALSE;
  model->arch_name = g_strdup (meta_get (meta, "arch"));
  info->arch_name = model->arch_name;

  if (!meta_int (meta, "ngf", 1, 1024, &info->ngf, error) ||
      !meta_int (meta, "input_nc", 1, 4, &info->input_nc, error) ||
      !meta_int (meta, "output_nc", 1, 4, &info->output_nc, error) ||
      !meta_int (meta, "native_size", 1, 65536, &info->native_size, error))
    return FALSE;
  /* Optional: how far resize mode may grow the net for large images. */
  if (meta_get (meta, "resize_max_size") &&
      !meta_int (meta, "resize_max_size", info->native_size, P2P_RESIZE_MAX_SIZE_LIMIT,
                 &info->resize_max_size, error))
    return FALSE;
  /* Optional: a regression net's colours are cautious where it must guess;
   * without hints the model may ask for them stronger. */
  info->unhinted_chroma_percent = 100;
  if (meta_get (meta, "unhinted_chroma_percent") &&
      !meta_int (meta, "unhinted_chroma_percent", P2P_UNHINTED_CHROMA_PERCENT_MIN,
                 P2P_UNHINTED_CHROMA_PERCENT_MAX, &info->unhinted_chroma_percent, error))
    return FALSE;
  /* Optional: make that gain per image, only as much as a pale guess needs. */
  info->unhinted_chroma_target = 0;
  if (meta_get (meta, "unhinted_chroma_target") &&
      !meta_int (meta, "unhinted_chroma_target", P2P_UNHINTED_CHROMA_TARGET_MIN,
                 P2P_UNHINTED_CHROMA_TARGET_MAX, &info->unhinted_chroma_target, error))
    return FALSE;
  if (!meta_enum (meta, "norm", p2p_norm_names, &v, error))
    return FALSE;
  info->norm = v;
  if (!meta_enum (meta, "dropout", bool_names, &v, error))
    return FALSE;
  info->use_dropout = v;
  if (!meta_enum (meta, "task", p2p_task_names, &v, error))
    return FALSE;
  info->task = v;
  if (!meta_enum (meta, "input_space", p2p_space_names, &v, error))
    return FALSE;
  info->input_space = v;
  if (!meta_enum (meta, "output_space", p2p_space_names, &v, error))
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
                   p2p_task_names[info->task], p2p_space_names[info->input_space], info->input_nc,
                   p2p_space_names[info->output_space], info->output_nc);
      return FALSE;
    }
  return TRUE;
}

/* ---- step 5: the architecture's tensors ------------------------------ */

/* Buffers that older PyTorch versions saved and the reference loader drops:
 * ignored rather than refused. */
static gboolean
is_ignorable (const P2pModel *model, const P2pEntry *e)
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
  P2pBinder b = { model->entries, &model->info, error, TRUE };
  GHashTableIter it;
  gpointer value;

  model->weights = model->arch->bind (&b, &model->info);
  if (!b.ok)
    return FALSE;

  g_hash_table_iter_init (&it, model->entries);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      P2pEntry *e = value;
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
                         e->name, model->info.arch_name, p2p_norm_names[model->info.norm]);
          else
            g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_TENSOR,
                         _("Unexpected tensor “%s” for a %s network with norm %s: "
                           "the metadata does not match the weights"),
                         e->name, model->info.arch_name, p2p_norm_names[model->info.norm]);
          return FALSE;
        }
    }
  return TRUE;
}

int
p2p_model_fit_side (const P2pModel *model, int side)
{
  const int multiple = MAX (p2p_model_size_multiple (model), 1);
  /* A ResNet needs more than its multiple (its reflection pads need 2
   * pixels at 1/4 scale), so small sides are padded further. */
  const int min_size = (MAX (p2p_model_min_size (model), 1) + multiple - 1) / multiple * multiple;

  return MAX ((side + multiple - 1) / multiple * multiple, min_size);
}

int
p2p_model_resize_side (const P2pModel *model, int width, int height)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  const int multiple = MAX (p2p_model_size_multiple (model), 1);
  const int native = info->native_size > 0 ? info->native_size : 256;
  int side = native;

  if (info->resize_max_size > native)
    {
      /* The longer side, down to a size the net takes: the square net then
       * shrinks the image along neither axis by more than a multiple's
       * worth, and never sees more pixels across than the image has. */
      const int longer = MAX (width, height) / multiple * multiple;

      side = CLAMP (longer, native, info->resize_max_size);
    }
  /* A side the net cannot take would fail in p2p_net_run; the nearest size
   * it can take is the friendlier answer. */
  return p2p_model_fit_side (model, side);
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
  /* No overflow: ngf <= 2^10, so channels <= 2^13, pixels <= 2^32, depth
   * <= 32; every term and the sum stay below 2^62. */
  const guint64 macs = model->arch->macs (info, side, side);

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
      P2pEntry *e;

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

/* The whole file at @path, mapped; errors name it (@display). */
static GBytes *
map_file (const char *path, const char *display, GError **error)
{
  g_autoptr(GError) local = NULL;
  g_autoptr(GMappedFile) mapped = NULL;
  GBytes *bytes;

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
  bytes = g_mapped_file_get_bytes (mapped);   /* keeps the mapping */
  if (!bytes)   /* empty file: GLib maps nothing */
    bytes = g_bytes_new_static ("", 0);
  return bytes;
}

/* A checkpoint's bytes converted by p2p-pth.c; errors name the file. */
static GBytes *
convert_pth (GBytes *pth, const char *display, const P2pImportOptions *opts, GError **error)
{
  g_autoptr(GError) local = NULL;
  gsize size;
  const guint8 *data = g_bytes_get_data (pth, &size);
  GBytes *out = p2p_pth_to_safetensors (data, size, display, opts, &local);

  if (!out)
    g_set_error (error, P2P_ERROR, local->code, _("%s: %s"), display, local->message);
  return out;
}

/* convert_pth()'s result loaded as a model; errors name the file. */
static P2pModel *
load_converted (GBytes *bytes, const char *display, GError **error)
{
  g_autoptr(GError) local = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &local);

  if (!model)
    g_set_error (error, P2P_ERROR, local->code,
                 _("%s: the checkpoint does not match the detected generator: %s"),
                 display, local->message);
  return model;
}

P2pModel *
p2p_model_load (const char *path, GError **error)
{
  g_autoptr(GError) local = NULL;
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

  bytes = map_file (path, display, error);
  if (!bytes)
    return NULL;
  /* PyTorch checkpoints (.pth, zip or legacy pickle) go through p2p-pth.c. */
  if (p2p_pth_sniff (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes)))
    {
      g_autoptr(GBytes) converted = convert_pth (bytes, display, NULL, error);
      return converted ? load_converted (converted, display, error) : NULL;
    }

  model = p2p_model_new_from_bytes (bytes, &local);
  if (!model)
    {
      g_set_error (error, P2P_ERROR, local->code, _("%s: %s"), display, local->message);
      return NULL;
    }
  return model;
}

GBytes *
p2p_model_convert_pth (const char *path, const P2pImportOptions *opts, GError **error)
{
  g_autofree char *display = NULL;
  g_autoptr(GBytes) pth = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  display = g_filename_display_name (path);
  pth = map_file (path, display, error);
  return pth ? convert_pth (pth, display, opts, error) : NULL;
}

P2pModel *
p2p_model_import_pth (const char *path, const P2pImportOptions *opts, GError **error)
{
  g_autoptr(GBytes) bytes = NULL;
  g_autofree char *display = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  bytes = p2p_model_convert_pth (path, opts, error);
  if (!bytes)
    return NULL;
  display = g_filename_display_name (path);
  return load_converted (bytes, display, error);
}

const P2pModelInfo *
p2p_model_get_info (const P2pModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  return &model->info;
}

const P2pArchSpec *
p2p_model_get_arch (const P2pModel *model)
{
  return model->arch;
}

gconstpointer
p2p_model_get_weights (const P2pModel *model)
{
  return model->weights;
}

int
p2p_model_size_multiple (const P2pModel *model)
{
  return model->arch->size_multiple (model->info.depth);
}

int
p2p_model_min_size (const P2pModel *model)
{
  return model->arch->min_size (model->info.depth);
}

guint64
p2p_model_macs (const P2pModel *model, int h, int w)
{
  return model->arch->macs (&model->info, h, w);
}
