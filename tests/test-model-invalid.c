/* test-model-invalid.c - malformed model files must fail cleanly.
 *
 * Table driven: each case starts from a small valid model (resnet_1blocks,
 * ngf 1, instance norm, built here in memory), breaks one thing, and
 * checks that p2p_model_new_from_bytes() fails with the expected
 * P2P_ERROR code and a non-empty message, without crashing or leaking (run
 * under valgrind: meson test --wrap='valgrind --leak-check=full
 * --error-exitcode=1' model-invalid).
 *
 * Codes (core/p2p-error.h), where a choice was needed:
 *  - fewer than 8 bytes, a header length of 0 or absurd (2^63), a header
 *    that does not start with '{' (e.g. a JSON array): NOT_A_MODEL, as
 *    safetensors itself rejects those before reading any JSON;
 *  - header length or a tensor's end beyond the file: TRUNCATED (the file
 *    ends before the data it declares);
 *  - JSON errors and metadata that is absent, malformed or inconsistent:
 *    BAD_HEADER; well-formed metadata naming something we do not run
 *    (arch, norm, task, format_version 2): UNSUPPORTED;
 *  - anything wrong in one tensor entry, gaps/overlaps between tensors,
 *    duplicate names, extra tensors and wrong shapes: BAD_TENSOR; a
 *    tensor the architecture needs but the file lacks: MISSING_TENSOR.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "p2p.h"
#include "tiny-model.h"

/* ---- an editable model description -------------------------------------- */

typedef struct {
  char *name;
  char *dtype;
  char *shape;      /* JSON text, e.g. "[4,2,3,3]" */
  gsize nbytes;     /* bytes of data this entry contributes */
  char *offsets;    /* JSON text; NULL = computed from the running position */
  char *raw;        /* whole JSON value instead of the usual object; NULL = normal */
} Ent;

typedef struct {
  GPtrArray *ents;        /* Ent* in file order */
  GPtrArray *meta_keys;   /* char*, NULL value = key removed */
  GPtrArray *meta_vals;
  char      *meta_raw;    /* whole __metadata__ JSON value instead; "" = omit it */
  char      *header_raw;  /* whole header instead of the generated one */
  gsize      extra_data;  /* bytes appended after the tensors */
} Spec;

static void
ent_free (gpointer p)
{
  Ent *e = p;
  g_free (e->name);
  g_free (e->dtype);
  g_free (e->shape);
  g_free (e->offsets);
  g_free (e->raw);
  g_free (e);
}

static void
spec_free (Spec *s)
{
  g_ptr_array_unref (s->ents);
  g_ptr_array_unref (s->meta_keys);
  g_ptr_array_unref (s->meta_vals);
  g_free (s->meta_raw);
  g_free (s->header_raw);
  g_free (s);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Spec, spec_free)

static void
add_f32 (Spec *s, const char *name, int d0, int d1, int d2, int d3)
{
  const int dims[4] = { d0, d1, d2, d3 };
  GString *shape = g_string_new ("[");
  gsize n = 1;
  Ent *e = g_new0 (Ent, 1);

  for (int i = 0; i < 4 && dims[i] > 0; i++)
    {
      g_string_append_printf (shape, "%s%d", i ? "," : "", dims[i]);
      n *= (gsize) dims[i];
    }
  g_string_append_c (shape, ']');
  e->name = g_strdup (name);
  e->dtype = g_strdup ("F32");
  e->shape = g_string_free (shape, FALSE);
  e->nbytes = n * 4;
  g_ptr_array_add (s->ents, e);
}

static Ent *
find (Spec *s, const char *name)
{
  for (guint i = 0; i < s->ents->len; i++)
    {
      Ent *e = s->ents->pdata[i];
      if (strcmp (e->name, name) == 0)
        return e;
    }
  g_error ("no tensor %s in the base model", name);
  return NULL;
}

static void
set_meta (Spec *s, const char *key, const char *value)
{
  for (guint i = 0; i < s->meta_keys->len; i++)
    if (strcmp (s->meta_keys->pdata[i], key) == 0)
      {
        g_free (s->meta_vals->pdata[i]);
        s->meta_vals->pdata[i] = g_strdup (value);
        return;
      }
  g_ptr_array_add (s->meta_keys, g_strdup (key));
  g_ptr_array_add (s->meta_vals, g_strdup (value));
}

/* resnet_1blocks, ngf 1, instance norm (every conv has a bias), 1 -> 1. */
static Spec *
base_spec (void)
{
  static const char *const meta[][2] = {
    { "format", "gimp-pix2pix" }, { "format_version", "1" }, { "arch", "resnet_1blocks" },
    { "ngf", "1" }, { "input_nc", "1" }, { "output_nc", "1" }, { "norm", "instance" },
    { "dropout", "false" }, { "task", "generic" }, { "input_space", "rgb" },
    { "output_space", "rgb" }, { "native_size", "256" }, { "name", "Test" },
    { "license", "CC0-1.0" },
  };
  Spec *s = g_new0 (Spec, 1);

  s->ents = g_ptr_array_new_with_free_func (ent_free);
  s->meta_keys = g_ptr_array_new_with_free_func (g_free);
  s->meta_vals = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < G_N_ELEMENTS (meta); i++)
    set_meta (s, meta[i][0], meta[i][1]);

  add_f32 (s, "model.1.weight", 1, 1, 7, 7);
  add_f32 (s, "model.1.bias", 1, 0, 0, 0);
  add_f32 (s, "model.4.weight", 2, 1, 3, 3);
  add_f32 (s, "model.4.bias", 2, 0, 0, 0);
  add_f32 (s, "model.7.weight", 4, 2, 3, 3);
  add_f32 (s, "model.7.bias", 4, 0, 0, 0);
  add_f32 (s, "model.10.conv_block.1.weight", 4, 4, 3, 3);
  add_f32 (s, "model.10.conv_block.1.bias", 4, 0, 0, 0);
  add_f32 (s, "model.10.conv_block.5.weight", 4, 4, 3, 3);
  add_f32 (s, "model.10.conv_block.5.bias", 4, 0, 0, 0);
  add_f32 (s, "model.11.weight", 4, 2, 3, 3);     /* ConvT [in, out, k, k] */
  add_f32 (s, "model.11.bias", 2, 0, 0, 0);
  add_f32 (s, "model.14.weight", 2, 1, 3, 3);     /* ConvT */
  add_f32 (s, "model.14.bias", 1, 0, 0, 0);
  add_f32 (s, "model.18.weight", 1, 1, 7, 7);
  add_f32 (s, "model.18.bias", 1, 0, 0, 0);
  return s;
}

static GByteArray *
spec_build (const Spec *s)
{
  GString *h = g_string_new ("{");
  GByteArray *file = g_byte_array_new ();
  gsize pos = 0;
  guint8 len[8];
  guint64 hl;

  if (s->header_raw)
    g_string_assign (h, s->header_raw);
  else
    {
      gboolean first = TRUE;
      if (!s->meta_raw || *s->meta_raw)
        {
          g_string_append (h, "\"__metadata__\":");
          if (s->meta_raw)
            g_string_append (h, s->meta_raw);
          else
            {
              g_string_append_c (h, '{');
              for (guint i = 0, n = 0; i < s->meta_keys->len; i++)
                if (s->meta_vals->pdata[i])
                  g_string_append_printf (h, "%s\"%s\":\"%s\"", n++ ? "," : "",
                                          (char *) s->meta_keys->pdata[i],
                                          (char *) s->meta_vals->pdata[i]);
              g_string_append_c (h, '}');
            }
          first = FALSE;
        }
      for (guint i = 0; i < s->ents->len; i++)
        {
          const Ent *e = s->ents->pdata[i];
          g_string_append_printf (h, "%s\"%s\":", first ? "" : ",", e->name);
          first = FALSE;
          if (e->raw)
            g_string_append (h, e->raw);
          else if (e->offsets)
            g_string_append_printf (h, "{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":%s}",
                                    e->dtype, e->shape, e->offsets);
          else
            g_string_append_printf (h, "{\"dtype\":\"%s\",\"shape\":%s,\"data_offsets\":"
                                    "[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]}",
                                    e->dtype, e->shape, pos, pos + e->nbytes);
          pos += e->nbytes;
        }
      g_string_append_c (h, '}');
      while (h->len % 8)
        g_string_append_c (h, ' ');
    }
  hl = h->len;
  for (int i = 0; i < 8; i++)
    len[i] = (guint8) (hl >> (8 * i));
  g_byte_array_append (file, len, 8);
  g_byte_array_append (file, (const guint8 *) h->str, h->len);
  /* Small finite values: what they are does not matter to the loader. */
  for (gsize i = 0; i < pos + s->extra_data; i++)
    {
      const guint8 b = (i % 4 == 3) ? 0x3c : (guint8) (i * 7);
      g_byte_array_append (file, &b, 1);
    }
  g_string_free (h, TRUE);
  return file;
}

/* ---- the cases -------------------------------------------------------- */

typedef void (*EditSpec) (Spec *s);
typedef void (*EditFile) (GByteArray *file);

typedef struct {
  const char *name;
  EditSpec    edit;       /* may be NULL */
  EditFile    post;       /* may be NULL */
  int         code;       /* P2pErrorCode, or -1: must load */
} Case;

static void
set_len (GByteArray *f, guint64 v)
{
  for (int i = 0; i < 8; i++)
    f->data[i] = (guint8) (v >> (8 * i));
}

/* File level. */
static void f_empty (GByteArray *f) { g_byte_array_set_size (f, 0); }
static void f_five (GByteArray *f) { g_byte_array_set_size (f, 5); }
static void f_eight (GByteArray *f) { g_byte_array_set_size (f, 8); }
static void f_len_beyond (GByteArray *f) { set_len (f, f->len - 8 + 1); }
static void f_len_huge (GByteArray *f) { set_len (f, G_GUINT64_CONSTANT (1) << 63); }
static void f_len_max (GByteArray *f) { set_len (f, G_MAXUINT64); }
static void f_len_zero (GByteArray *f) { set_len (f, 0); }
static void f_cut_data (GByteArray *f) { g_byte_array_set_size (f, f->len - 10); }
static void f_cut_one (GByteArray *f) { g_byte_array_set_size (f, f->len - 1); }
static void
f_nul_in_header (GByteArray *f)
{
  /* A raw NUL inside the metadata value "Test". */
  for (guint i = 8; i + 6 <= f->len; i++)
    if (memcmp (f->data + i, "\"Test\"", 6) == 0)
      {
        f->data[i + 2] = 0;
        return;
      }
  g_assert_not_reached ();
}
static void f_zip (GByteArray *f) { memcpy (f->data, "PK\x03\x04\x14\x00\x00\x00", 8); }

/* Header text. */
static void h_not_json (Spec *s) { s->header_raw = g_strdup ("{this is not JSON}      "); }
static void h_unterminated (Spec *s) { s->header_raw = g_strdup ("{\"__metadata__\":{\"a\":\"b\"}"); }
static void h_array (Spec *s) { s->header_raw = g_strdup ("[1,2,3]"); }
static void h_bad_utf8 (Spec *s) { s->header_raw = g_strdup ("{\"\xff\xfe\":{}}"); }
static void h_empty_object (Spec *s) { s->header_raw = g_strdup ("{}"); }

/* Tensor entries. */
static void t_offsets_past_end (Spec *s) { find (s, "model.18.bias")->offsets = g_strdup ("[0,1000000000]"); }
static void t_offsets_negative (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[-4,0]"); }
static void t_offsets_reversed (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[200,196]"); }
static void t_offsets_one (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196]"); }
static void t_offsets_string (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[\"196\",\"200\"]"); }
static void t_offsets_float (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196.0,200.0]"); }
static void t_offsets_huge (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196,18446744073709551615]"); }
/* Out of gint64's range, which json-glib wraps (1.6) or clamps to
 * 2^63-1 (1.10): each must be refused as a bad offset, never read as a
 * truncated file. */
static void t_offsets_2_63 (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196,9223372036854775808]"); }
static void t_offsets_2_63_1 (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196,9223372036854775807]"); }
static void t_offsets_10_23 (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[196,100000000000000000000000]"); }
static void t_offsets_neg_2_63_1 (Spec *s) { find (s, "model.1.bias")->offsets = g_strdup ("[-9223372036854775809,200]"); }
static void
t_overlap (Spec *s)
{
  /* model.4.bias (8 bytes) placed on top of model.4.weight's first bytes. */
  find (s, "model.1.bias")->offsets = g_strdup ("[0,4]");
}
static void
t_size_mismatch (Spec *s)
{
  /* Declares 2 floats but its offsets span 1. */
  g_free (find (s, "model.1.bias")->shape);
  find (s, "model.1.bias")->shape = g_strdup ("[2]");
}
static void
t_shape_overflow (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[2147483647,2147483647,2147483647,8]");
}
static void
t_shape_overflow_zero (Spec *s)
{
  /* Overflowing partial product, then a 0: must still be refused or at
   * least not be 0 bytes silently; either way not a valid model. */
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[4294967296,4294967296,0]");
}
static void
t_shape_negative (Spec *s)
{
  Ent *e = find (s, "model.1.weight");
  g_free (e->shape);
  e->shape = g_strdup ("[-1,1,7,7]");
}
static void
t_shape_fraction (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[1.5]");
}
static void
t_shape_string (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[\"1\"]");
}
static void
t_shape_not_array (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("1");
}
static void
t_shape_too_many_dims (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]");
}
static void t_dtype_f64 (Spec *s) { g_free (find (s, "model.1.bias")->dtype); find (s, "model.1.bias")->dtype = g_strdup ("F64"); }
static void t_dtype_i64 (Spec *s) { g_free (find (s, "model.1.bias")->dtype); find (s, "model.1.bias")->dtype = g_strdup ("I64"); }
static void t_dtype_lower (Spec *s) { g_free (find (s, "model.1.bias")->dtype); find (s, "model.1.bias")->dtype = g_strdup ("f32"); }
static void t_entry_number (Spec *s) { find (s, "model.1.bias")->raw = g_strdup ("5"); }
static void t_entry_no_dtype (Spec *s) { find (s, "model.1.bias")->raw = g_strdup ("{\"shape\":[1],\"data_offsets\":[196,200]}"); }
static void t_entry_no_offsets (Spec *s) { find (s, "model.1.bias")->raw = g_strdup ("{\"dtype\":\"F32\",\"shape\":[1]}"); }
static void t_entry_no_shape (Spec *s) { find (s, "model.1.bias")->raw = g_strdup ("{\"dtype\":\"F32\",\"data_offsets\":[196,200]}"); }
static void
t_duplicate_name (Spec *s)
{
  /* Two entries called model.4.bias: JSON parsers keep one of them. */
  Ent *e = find (s, "model.1.bias");
  g_free (e->name);
  e->name = g_strdup ("model.4.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[2]");
  e->nbytes = 8;
}
static void t_gap (Spec *s) { s->extra_data = 16; }

/* Metadata. */
static void m_missing (Spec *s) { s->meta_raw = g_strdup (""); }
static void m_not_object (Spec *s) { s->meta_raw = g_strdup ("[\"format\",\"gimp-pix2pix\"]"); }
static void m_number_value (Spec *s) { s->meta_raw = g_strdup ("{\"format\":\"gimp-pix2pix\",\"format_version\":1}"); }
static void m_no_format (Spec *s) { set_meta (s, "format", NULL); }
static void m_other_format (Spec *s) { set_meta (s, "format", "pt"); }
static void m_version_2 (Spec *s) { set_meta (s, "format_version", "2"); }
static void m_no_arch (Spec *s) { set_meta (s, "arch", NULL); }
static void m_no_ngf (Spec *s) { set_meta (s, "ngf", NULL); }
static void m_no_norm (Spec *s) { set_meta (s, "norm", NULL); }
static void m_no_task (Spec *s) { set_meta (s, "task", NULL); }
static void m_no_name (Spec *s) { set_meta (s, "name", NULL); }
static void m_no_license (Spec *s) { set_meta (s, "license", NULL); }
static void m_no_native (Spec *s) { set_meta (s, "native_size", NULL); }
static void m_no_input_space (Spec *s) { set_meta (s, "input_space", NULL); }
static void m_empty_name (Spec *s) { set_meta (s, "name", ""); }
static void m_ngf_0 (Spec *s) { set_meta (s, "ngf", "0"); }
static void m_ngf_neg (Spec *s) { set_meta (s, "ngf", "-1"); }
static void m_ngf_text (Spec *s) { set_meta (s, "ngf", "one"); }
static void m_ngf_big (Spec *s) { set_meta (s, "ngf", "99999999999999999999999"); }
static void m_input_nc_5 (Spec *s) { set_meta (s, "input_nc", "5"); }
static void m_arch_vgg (Spec *s) { set_meta (s, "arch", "vgg16"); }
static void m_arch_unet_100 (Spec *s) { set_meta (s, "arch", "unet_100"); }
static void m_arch_resnet_0 (Spec *s) { set_meta (s, "arch", "resnet_0blocks"); }
static void m_arch_resnet_99 (Spec *s) { set_meta (s, "arch", "resnet_99blocks"); }
static void m_norm_group (Spec *s) { set_meta (s, "norm", "group"); }
static void m_task_unknown (Spec *s) { set_meta (s, "task", "super-resolution"); }
static void m_dropout_maybe (Spec *s) { set_meta (s, "dropout", "maybe"); }
static void m_colorize_rgb (Spec *s) { set_meta (s, "task", "colorize"); }
static void m_lab_ab_in (Spec *s) { set_meta (s, "input_space", "lab_ab"); }

/* Architecture vs tensors. */
static void
a_missing_tensor (Spec *s)
{
  g_ptr_array_remove (s->ents, find (s, "model.10.conv_block.5.weight"));
}
static void
a_missing_bias (Spec *s)
{
  g_ptr_array_remove (s->ents, find (s, "model.18.bias"));
}
static void
a_wrong_shape_same_size (Spec *s)
{
  /* [2,1,3,3] -> [1,2,3,3]: same bytes, wrong layout. */
  Ent *e = find (s, "model.4.weight");
  g_free (e->shape);
  e->shape = g_strdup ("[1,2,3,3]");
}
static void
a_wrong_shape (Spec *s)
{
  Ent *e = find (s, "model.4.weight");
  g_free (e->shape);
  e->shape = g_strdup ("[3,1,3,3]");
  e->nbytes = 27 * 4;
}
static void
a_wrong_rank (Spec *s)
{
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[1,1]");
}
static void a_extra (Spec *s) { add_f32 (s, "model.99.weight", 3, 0, 0, 0); }
static void a_norm_batch (Spec *s) { set_meta (s, "norm", "batch"); }
static void a_dropout_true (Spec *s) { set_meta (s, "dropout", "true"); }
static void a_ngf_2 (Spec *s) { set_meta (s, "ngf", "2"); }
static void a_more_blocks (Spec *s) { set_meta (s, "arch", "resnet_2blocks"); }
static void a_unet (Spec *s) { set_meta (s, "arch", "unet_256"); }
static void a_output_nc_3 (Spec *s) { set_meta (s, "output_nc", "3"); }

/* Resource limits: absurd sizes and compute refused from the header. */
static void m_native_65537 (Spec *s) { set_meta (s, "native_size", "65537"); }
static void m_native_2_64 (Spec *s) { set_meta (s, "native_size", "18446744073709551616"); }
static void m_ngf_1025 (Spec *s) { set_meta (s, "ngf", "1025"); }
/* resize_max_size: optional, at least native_size (256 here), at most 4096 */
static void m_resize_max_below_native (Spec *s) { set_meta (s, "resize_max_size", "255"); }
static void m_resize_max_4097 (Spec *s) { set_meta (s, "resize_max_size", "4097"); }
static void m_resize_max_word (Spec *s) { set_meta (s, "resize_max_size", "large"); }
/* unhinted_chroma_percent: optional, 100 to 400 */
static void m_unhinted_chroma_99 (Spec *s) { set_meta (s, "unhinted_chroma_percent", "99"); }
static void m_unhinted_chroma_401 (Spec *s) { set_meta (s, "unhinted_chroma_percent", "401"); }
static void m_unhinted_chroma_fraction (Spec *s) { set_meta (s, "unhinted_chroma_percent", "1.2"); }
/* unhinted_chroma_target: optional, 1 to 100 */
static void m_unhinted_target_0 (Spec *s) { set_meta (s, "unhinted_chroma_target", "0"); }
static void m_unhinted_target_101 (Spec *s) { set_meta (s, "unhinted_chroma_target", "101"); }
static void m_unhinted_target_word (Spec *s) { set_meta (s, "unhinted_chroma_target", "pale"); }
static void m_arch_unet_2048 (Spec *s) { set_meta (s, "arch", "unet_2048"); }
static void m_arch_resnet_33 (Spec *s) { set_meta (s, "arch", "resnet_33blocks"); }
static void m_arch_resnet_2_64 (Spec *s) { set_meta (s, "arch", "resnet_18446744073709551617blocks"); }
static void
m_compute (Spec *s)
{
  /* resnet_1blocks, ngf 64 at 65536 x 65536: 4 * 10^14 multiply-adds a
   * pass.  Refused from the metadata, before the tensors (which are ngf 1
   * here) are looked at. */
  set_meta (s, "ngf", "64");
  set_meta (s, "native_size", "65536");
}
static void
t_shape_2_32_bytes (Spec *s)
{
  /* 2^32 floats: a byte count of 2^34 (fine in 64 bits, not in 32). */
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[65536,65536]");
}
static void
t_shape_2_64_bytes (Spec *s)
{
  /* 2^64 floats exactly: the element count itself overflows 64 bits. */
  Ent *e = find (s, "model.1.bias");
  g_free (e->shape);
  e->shape = g_strdup ("[65536,65536,65536,65536]");
}

/* Valid variants (controls: the base must load, or every case above would
 * pass for the wrong reason). */
static void
ok_legacy_in_buffers (Spec *s)
{
  add_f32 (s, "model.2.running_mean", 1, 0, 0, 0);
  add_f32 (s, "model.2.running_var", 1, 0, 0, 0);
}
static void
ok_f16 (Spec *s)
{
  Ent *e = find (s, "model.4.weight");
  g_free (e->dtype);
  e->dtype = g_strdup ("F16");
  e->nbytes = 18 * 2;
}
static void
ok_bf16_unaligned (Spec *s)
{
  /* One 2-byte tensor first leaves every F32 tensor after it unaligned. */
  Ent *e = find (s, "model.1.bias");
  g_free (e->dtype);
  e->dtype = g_strdup ("BF16");
  e->nbytes = 2;
}
static void ok_extra_meta (Spec *s) { set_meta (s, "author", "someone"); set_meta (s, "x-unknown", "1"); }
static void
ok_reordered (Spec *s)
{
  /* Entry order in the header need not follow data order. */
  gpointer first = g_ptr_array_steal_index (s->ents, 0);
  g_ptr_array_add (s->ents, first);
}

static const Case cases[] = {
  { "valid/base", NULL, NULL, -1 },
  { "valid/legacy-instance-norm-buffers", ok_legacy_in_buffers, NULL, -1 },
  { "valid/f16-tensor", ok_f16, NULL, -1 },
  { "valid/bf16-unaligned", ok_bf16_unaligned, NULL, -1 },
  { "valid/extra-metadata", ok_extra_meta, NULL, -1 },
  { "valid/entries-reordered", ok_reordered, NULL, -1 },

  { "file/empty", NULL, f_empty, P2P_ERROR_NOT_A_MODEL },
  { "file/5-bytes", NULL, f_five, P2P_ERROR_NOT_A_MODEL },
  { "file/length-only", NULL, f_eight, P2P_ERROR_TRUNCATED },
  { "file/zip-checkpoint", NULL, f_zip, P2P_ERROR_NOT_A_MODEL },
  { "file/header-length-zero", NULL, f_len_zero, P2P_ERROR_NOT_A_MODEL },
  { "file/header-length-2^63", NULL, f_len_huge, P2P_ERROR_NOT_A_MODEL },
  { "file/header-length-2^64-1", NULL, f_len_max, P2P_ERROR_NOT_A_MODEL },
  { "file/header-length-beyond-file", NULL, f_len_beyond, P2P_ERROR_TRUNCATED },
  { "file/data-cut-10-bytes", NULL, f_cut_data, P2P_ERROR_TRUNCATED },
  { "file/data-cut-1-byte", NULL, f_cut_one, P2P_ERROR_TRUNCATED },

  { "header/not-json", h_not_json, NULL, P2P_ERROR_BAD_HEADER },
  { "header/unterminated", h_unterminated, NULL, P2P_ERROR_BAD_HEADER },
  { "header/json-array", h_array, NULL, P2P_ERROR_NOT_A_MODEL },
  { "header/invalid-utf8", h_bad_utf8, NULL, P2P_ERROR_BAD_HEADER },
  { "header/raw-nul", NULL, f_nul_in_header, P2P_ERROR_BAD_HEADER },
  { "header/empty-object", h_empty_object, NULL, P2P_ERROR_BAD_HEADER },

  { "tensor/offsets-past-end", t_offsets_past_end, NULL, P2P_ERROR_TRUNCATED },
  { "tensor/offsets-2^64-1", t_offsets_huge, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-2^63", t_offsets_2_63, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-2^63-1", t_offsets_2_63_1, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-10^23", t_offsets_10_23, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets--2^63-1", t_offsets_neg_2_63_1, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-negative", t_offsets_negative, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-reversed", t_offsets_reversed, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-one-value", t_offsets_one, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-strings", t_offsets_string, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/offsets-floats", t_offsets_float, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/overlap", t_overlap, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/size-mismatch", t_size_mismatch, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-overflow", t_shape_overflow, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-overflow-then-zero", t_shape_overflow_zero, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-negative", t_shape_negative, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-fraction", t_shape_fraction, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-string", t_shape_string, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-not-array", t_shape_not_array, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/shape-18-dims", t_shape_too_many_dims, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/dtype-F64", t_dtype_f64, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/dtype-I64", t_dtype_i64, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/dtype-lowercase", t_dtype_lower, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/entry-not-object", t_entry_number, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/entry-no-dtype", t_entry_no_dtype, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/entry-no-shape", t_entry_no_shape, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/entry-no-offsets", t_entry_no_offsets, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/duplicate-name", t_duplicate_name, NULL, P2P_ERROR_BAD_TENSOR },
  { "tensor/unused-data", t_gap, NULL, P2P_ERROR_BAD_TENSOR },

  { "metadata/missing", m_missing, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/not-object", m_not_object, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/number-value", m_number_value, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-format", m_no_format, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/other-format", m_other_format, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/format-version-2", m_version_2, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/no-arch", m_no_arch, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-ngf", m_no_ngf, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-norm", m_no_norm, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-task", m_no_task, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-name", m_no_name, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-license", m_no_license, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-native-size", m_no_native, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/no-input-space", m_no_input_space, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/empty-name", m_empty_name, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/ngf-0", m_ngf_0, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/ngf-negative", m_ngf_neg, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/ngf-text", m_ngf_text, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/ngf-huge", m_ngf_big, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/input-nc-5", m_input_nc_5, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/arch-vgg16", m_arch_vgg, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/arch-unet-100", m_arch_unet_100, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/arch-resnet-0", m_arch_resnet_0, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/arch-resnet-99", m_arch_resnet_99, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/norm-group", m_norm_group, NULL, P2P_ERROR_UNSUPPORTED },
  { "metadata/task-unknown", m_task_unknown, NULL, P2P_ERROR_UNSUPPORTED },
  /* A malformed boolean is an invalid field, not an option we do not run. */
  { "metadata/dropout-maybe", m_dropout_maybe, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/colorize-with-rgb-spaces", m_colorize_rgb, NULL, P2P_ERROR_BAD_HEADER },
  { "metadata/lab-ab-as-input", m_lab_ab_in, NULL, P2P_ERROR_BAD_HEADER },

  { "limits/native-size-65537", m_native_65537, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/native-size-2^64", m_native_2_64, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/ngf-1025", m_ngf_1025, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/resize-max-size-below-native", m_resize_max_below_native, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/resize-max-size-4097", m_resize_max_4097, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/resize-max-size-word", m_resize_max_word, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-chroma-99", m_unhinted_chroma_99, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-chroma-401", m_unhinted_chroma_401, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-chroma-fraction", m_unhinted_chroma_fraction, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-target-0", m_unhinted_target_0, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-target-101", m_unhinted_target_101, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/unhinted-target-word", m_unhinted_target_word, NULL, P2P_ERROR_BAD_HEADER },
  { "limits/arch-unet-2048", m_arch_unet_2048, NULL, P2P_ERROR_UNSUPPORTED },
  { "limits/arch-resnet-33blocks", m_arch_resnet_33, NULL, P2P_ERROR_UNSUPPORTED },
  { "limits/arch-resnet-2^64+1blocks", m_arch_resnet_2_64, NULL, P2P_ERROR_UNSUPPORTED },
  { "limits/compute-ngf-64-at-65536", m_compute, NULL, P2P_ERROR_UNSUPPORTED },
  { "limits/shape-2^34-bytes", t_shape_2_32_bytes, NULL, P2P_ERROR_BAD_TENSOR },
  { "limits/shape-2^64-elements", t_shape_2_64_bytes, NULL, P2P_ERROR_BAD_TENSOR },

  { "arch/missing-tensor", a_missing_tensor, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/missing-final-bias", a_missing_bias, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/wrong-shape-same-size", a_wrong_shape_same_size, NULL, P2P_ERROR_BAD_TENSOR },
  { "arch/wrong-shape", a_wrong_shape, NULL, P2P_ERROR_BAD_TENSOR },
  { "arch/wrong-rank", a_wrong_rank, NULL, P2P_ERROR_BAD_TENSOR },
  { "arch/unexpected-tensor", a_extra, NULL, P2P_ERROR_BAD_TENSOR },
  { "arch/metadata-says-batch-norm", a_norm_batch, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/metadata-says-dropout", a_dropout_true, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/metadata-says-ngf-2", a_ngf_2, NULL, P2P_ERROR_BAD_TENSOR },
  { "arch/metadata-says-2-blocks", a_more_blocks, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/metadata-says-unet", a_unet, NULL, P2P_ERROR_MISSING_TENSOR },
  { "arch/metadata-says-3-outputs", a_output_nc_3, NULL, P2P_ERROR_BAD_TENSOR },
};

static void
test_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr(Spec) spec = base_spec ();
  g_autoptr(GByteArray) file = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;

  if (c->edit)
    c->edit (spec);
  file = spec_build (spec);
  if (c->post)
    c->post (file);
  /* An exact-size copy, so that valgrind sees any read past the end. */
  bytes = g_bytes_new (file->data, file->len);

  model = p2p_model_new_from_bytes (bytes, &error);
  if (c->code < 0)
    {
      g_assert_no_error (error);
      g_assert_nonnull (model);
      if (model)
        g_assert_cmpstr (p2p_model_get_info (model)->arch_name, ==, "resnet_1blocks");
      return;
    }
  g_assert_null (model);
  if (error)
    g_test_message ("%s: %s", c->name, error->message);
  g_assert_error (error, P2P_ERROR, c->code);
  g_assert_nonnull (error->message);
  g_assert_cmpuint (strlen (error->message), >, 0);
}

/* How often @needle occurs in @haystack. */
static guint
count_occurrences (const char *haystack, const char *needle)
{
  guint n = 0;

  for (const char *p = strstr (haystack, needle); p; p = strstr (p + 1, needle))
    n++;
  return n;
}

/* The file path entry point maps its own failures too, and every message
 * names the file exactly once (front-ends add no name of their own). */
static void
test_paths (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autofree char *dir = g_dir_make_tmp ("p2p-model-invalid-XXXXXX", NULL);
  g_autofree char *missing = g_build_filename (dir, "missing.safetensors", NULL);
  g_autofree char *empty = g_build_filename (dir, "empty.safetensors", NULL);

  g_assert_nonnull (dir);
  model = p2p_model_load (missing, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_assert_cmpuint (strlen (error->message), >, 0);
  g_assert_cmpuint (count_occurrences (error->message, missing), ==, 1);
  g_clear_error (&error);

  model = p2p_model_load (dir, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_assert_true (error->domain == P2P_ERROR);
  g_assert_cmpuint (strlen (error->message), >, 0);
  g_assert_cmpuint (count_occurrences (error->message, dir), ==, 1);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  model = p2p_model_load (empty, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_A_MODEL);
  g_assert_cmpuint (count_occurrences (error->message, empty), ==, 1);
  g_clear_error (&error);

  /* A header cut short (the loader's own message) and a .pth whose zip is
   * broken (the converter's): the path once each. */
  g_assert_true (g_file_set_contents (empty, "\x40\x00\x00\x00\x00\x00\x00\x00{", 9, NULL));
  model = p2p_model_load (empty, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_assert_cmpuint (count_occurrences (error->message, empty), ==, 1);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (empty, "PK\x03\x04 not really a zip", -1, NULL));
  model = p2p_model_load (empty, &error);
  g_assert_null (model);
  g_assert_nonnull (error);
  g_test_message ("%s", error ? error->message : "");
  g_assert_cmpuint (count_occurrences (error->message, empty), ==, 1);
  g_clear_error (&error);

  g_remove (empty);
  g_rmdir (dir);
}

/* A complete, consistent model whose compute is absurd: resnet_1blocks
 * with ngf 32 at a native size of 65536 (1.7 * 10^14 multiply-adds a pass)
 * is refused; the same weights at 256 load (the control). */
static void
test_compute_limit (void)
{
  TinyModelSpec spec = { "resnet_1blocks", 32, 1, 1, "generic", 65536, 3, NULL };
  g_autoptr(GBytes) big = tiny_model_build (&spec);
  g_autoptr(GBytes) ok = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;

  model = p2p_model_new_from_bytes (big, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "too costly"));
  g_clear_error (&error);

  spec.native_size = 256;
  ok = tiny_model_build (&spec);
  model = p2p_model_new_from_bytes (ok, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
}

/* A model file larger than the physical memory is refused by its size,
 * before it is mapped or parsed (a sparse file: no disk space used). */
static void
test_file_larger_than_memory (void)
{
  g_autoptr(Spec) spec = base_spec ();
  g_autoptr(GByteArray) file = spec_build (spec);
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autofree char *dir = g_dir_make_tmp ("p2p-model-invalid-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "huge.safetensors", NULL);
  const guint64 size = p2p_physical_memory () + ((guint64) 1 << 30);
  FILE *f;
  gboolean made;

  g_assert_nonnull (dir);
  if (p2p_physical_memory () >= ((guint64) 1 << 50))
    {
      g_test_skip ("physical memory unknown");
      g_rmdir (dir);
      return;
    }
  f = fopen (path, "wb");
  g_assert_nonnull (f);
  made = fwrite (file->data, 1, file->len, f) == file->len && fflush (f) == 0 &&
         ftruncate (fileno (f), (off_t) size) == 0;
  fclose (f);
  if (!made)
    {
      g_test_skip ("cannot make a sparse file of that size here");
      g_remove (path);
      g_rmdir (dir);
      return;
    }
  model = p2p_model_load (path, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
  g_test_message ("%s", error ? error->message : "");
  g_assert_nonnull (strstr (error->message, "larger than this computer's memory"));
  g_remove (path);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Report every case that fails, not only the first. */
  g_test_set_nonfatal_assertions ();
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strconcat ("/model-invalid/", cases[i].name, NULL);
      g_test_add_data_func (path, &cases[i], test_case);
    }
  g_test_add_func ("/model-invalid/paths", test_paths);
  g_test_add_func ("/model-invalid/limits/compute-complete-model", test_compute_limit);
  g_test_add_func ("/model-invalid/limits/file-larger-than-memory", test_file_larger_than_memory);
  return g_test_run ();
}
