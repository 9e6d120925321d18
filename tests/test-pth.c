/* test-pth.c - PyTorch checkpoint import (core/p2p-pth.c).
 *
 * Fixtures: tests/data/pth/ (tests/gen-pth-fixtures.py: PyTorch's own
 * torch.save in the zip and the legacy format, random-weight reference
 * generators of every architecture, expected outputs computed by PyTorch in
 * float64, official test mode).  Each checkpoint is loaded with
 * p2p_model_load(), its detected architecture is checked against cases.txt
 * and the network's output against PyTorch's (max abs error <= 1e-4).
 *
 * Then a table of malformed files, each with the error code and a part of
 * the message it must give.  Pickles and zips for it are written here by a
 * small writer of the test's own.
 */
#include <math.h>
#include <string.h>

#include <glib/gstdio.h>

#include "p2p.h"
#include "p2p-pth.h"

#define TOLERANCE 1e-4

static char *
pth_path (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "pth", file, NULL);
}

/* ---- the golden cases ---------------------------------------------------- */

typedef struct {
  char *name, *arch, *norm, *dropout;
  int ngf, in_nc, out_nc, h, w;
} Case;

static GPtrArray *cases;

static void
case_free (gpointer p)
{
  Case *c = p;
  g_free (c->name);
  g_free (c->arch);
  g_free (c->norm);
  g_free (c->dropout);
  g_free (c);
}

static void
read_cases (void)
{
  g_autofree char *path = pth_path ("cases.txt");
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;

  cases = g_ptr_array_new_with_free_func (case_free);
  if (!g_file_get_contents (path, &text, NULL, &error))
    g_error ("cannot read %s: %s", path, error->message);
  lines = g_strsplit (text, "\n", -1);
  for (int i = 0; lines[i]; i++)
    {
      g_auto(GStrv) f = NULL;
      Case *c;

      if (!*lines[i] || lines[i][0] == '#')
        continue;
      f = g_strsplit (lines[i], " ", -1);
      g_assert_cmpuint (g_strv_length (f), ==, 9);
      c = g_new0 (Case, 1);
      c->name = g_strdup (f[0]);
      c->arch = g_strdup (f[1]);
      c->ngf = atoi (f[2]);
      c->in_nc = atoi (f[3]);
      c->out_nc = atoi (f[4]);
      c->norm = g_strdup (f[5]);
      c->dropout = g_strdup (f[6]);
      c->h = atoi (f[7]);
      c->w = atoi (f[8]);
      g_ptr_array_add (cases, c);
    }
  g_assert_cmpuint (cases->len, >=, 10);
}

/* The input of gen-pth-fixtures.py's input_value(). */
static P2pTensor *
make_input (int c, int h, int w)
{
  g_autoptr(GError) error = NULL;
  P2pTensor *t = p2p_tensor_new (c, h, w, &error);

  g_assert_no_error (error);
  for (int k = 0; k < c; k++)
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        t->data[((gsize) k * h + y) * w + x] =
          (float) (((k * 7 + y * 13 + x * 5 + (x * y) % 11) % 64) / 32.0 - 1.0);
  return t;
}

static float *
read_expected (const Case *c)
{
  g_autofree char *file = g_strdup_printf ("%s.expected.f32", c->name);
  g_autofree char *path = pth_path (file);
  g_autofree guint8 *bytes = NULL;
  g_autoptr(GError) error = NULL;
  gsize size, n = (gsize) c->out_nc * c->h * c->w;
  float *out;

  if (!g_file_get_contents (path, (char **) &bytes, &size, &error))
    g_error ("cannot read %s: %s", path, error->message);
  g_assert_cmpuint (size, ==, n * 4);
  out = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    {
      guint32 b = (guint32) bytes[4 * i] | (guint32) bytes[4 * i + 1] << 8 |
                  (guint32) bytes[4 * i + 2] << 16 | (guint32) bytes[4 * i + 3] << 24;
      memcpy (&out[i], &b, 4);
    }
  return out;
}

static void
check_model (const Case *c, const P2pModel *model)
{
  const P2pModelInfo *info = p2p_model_get_info (model);

  g_assert_cmpstr (info->arch_name, ==, c->arch);
  g_assert_cmpint (info->ngf, ==, c->ngf);
  g_assert_cmpint (info->input_nc, ==, c->in_nc);
  g_assert_cmpint (info->output_nc, ==, c->out_nc);
  g_assert_cmpstr (p2p_norm_to_string (info->norm), ==, c->norm);
  if (strcmp (c->dropout, "-") != 0)
    g_assert_cmpint (info->use_dropout, ==, strcmp (c->dropout, "yes") == 0);
  else   /* U-Net default: dropout with batch norm, as pix2pix trains */
    g_assert_cmpint (info->use_dropout, ==, info->norm == P2P_NORM_BATCH);
  if (c->in_nc == 1 && c->out_nc == 2)
    g_assert_cmpint (info->task, ==, P2P_TASK_COLORIZE);
  else
    g_assert_cmpint (info->task, ==, P2P_TASK_GENERIC);
  g_assert_cmpint (info->native_size, ==,
                   info->arch != P2P_ARCH_RESNET ? 1 << info->depth : 256);
  g_assert_cmpstr (info->license, ==, "unknown (see the model's source)");
}

static double
run_and_compare (const Case *c, const P2pModel *model)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pTensor) input = make_input (c->in_nc, c->h, c->w);
  g_autoptr(P2pTensor) output = NULL;
  g_autofree float *want = read_expected (c);
  P2pNetOptions opts;
  double worst = 0.0;
  gsize n;

  p2p_net_options_init (&opts);
  opts.norm_mode = P2P_NORM_MODE_OFFICIAL;
  output = p2p_net_run (model, &opts, input, &error);
  g_assert_no_error (error);
  g_assert_cmpint (output->c, ==, c->out_nc);
  g_assert_cmpint (output->h, ==, c->h);
  g_assert_cmpint (output->w, ==, c->w);
  n = p2p_tensor_numel (output);
  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) output->data[i] - (double) want[i]);
      if (!(d <= worst))
        worst = isnan (d) ? INFINITY : d;
    }
  return worst;
}

static void
test_golden (gconstpointer data)
{
  const Case *c = data;
  const char *formats[] = { "zip", "legacy", "zip64" };

  for (guint f = 0; f < G_N_ELEMENTS (formats); f++)
    {
      g_autofree char *file = g_strdup_printf ("%s.%s.pth", c->name, formats[f]);
      g_autofree char *path = pth_path (file);
      g_autoptr(GError) error = NULL;
      g_autoptr(P2pModel) model = NULL;
      double d;

      if (f == 2 && !g_file_test (path, G_FILE_TEST_EXISTS))
        continue;
      model = p2p_model_load (path, &error);
      g_assert_no_error (error);
      g_assert_nonnull (model);
      check_model (c, model);
      d = run_and_compare (c, model);
      g_test_message ("%s: max abs error %.3g", file, d);
      g_assert_cmpfloat (d, <=, TOLERANCE);
    }
}

/* Import options and the bytes written: F16 output, task, name, licence;
 * the zip and legacy files convert to the same tensors. */
static void
test_options (void)
{
  g_autofree char *zip = pth_path ("resnet9_instance_legacybuf.zip.pth");
  g_autofree char *legacy = pth_path ("resnet9_instance_legacybuf.legacy.pth");
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) a = NULL, b = NULL, h = NULL;
  g_autoptr(P2pModel) model = NULL;
  P2pImportOptions opts;
  const P2pModelInfo *info;
  const guint8 *pa, *pb;
  gsize na, nb;
  guint64 ha = 0, hb = 0;

  p2p_import_options_init (&opts);
  a = p2p_model_convert_pth (zip, &opts, &error);
  g_assert_no_error (error);
  b = p2p_model_convert_pth (legacy, &opts, &error);
  g_assert_no_error (error);
  pa = g_bytes_get_data (a, &na);
  pb = g_bytes_get_data (b, &nb);
  for (int i = 7; i >= 0; i--)
    {
      ha = ha << 8 | pa[i];
      hb = hb << 8 | pb[i];
    }
  /* Same data section; legacy InstanceNorm buffers are gone. */
  g_assert_cmpuint (na - 8 - ha, ==, nb - 8 - hb);
  g_assert_true (memcmp (pa + 8 + ha, pb + 8 + hb, na - 8 - ha) == 0);
  g_assert_null (g_strstr_len ((const char *) pa + 8, (gssize) ha, "running_mean"));
  g_assert_null (g_strstr_len ((const char *) pa + 8, (gssize) ha, "num_batches_tracked"));
  g_assert_nonnull (g_strstr_len ((const char *) pa + 8, (gssize) ha, "\"model.1.bias\""));

  opts.task = P2P_TASK_SKETCH_TO_PHOTO;
  opts.name = "Edges → photo";
  opts.license = "CC0-1.0";
  opts.native_size = 128;
  opts.dtype = P2P_IMPORT_DTYPE_F16;
  model = p2p_model_import_pth (zip, &opts, &error);
  g_assert_no_error (error);
  info = p2p_model_get_info (model);
  g_assert_cmpint (info->task, ==, P2P_TASK_SKETCH_TO_PHOTO);
  g_assert_cmpstr (info->name, ==, "Edges → photo");
  g_assert_cmpstr (info->license, ==, "CC0-1.0");
  g_assert_cmpint (info->native_size, ==, 128);
  h = p2p_model_convert_pth (zip, &opts, &error);
  g_assert_no_error (error);
  pa = g_bytes_get_data (h, &na);
  ha = 0;
  for (int i = 7; i >= 0; i--)
    ha = ha << 8 | pa[i];
  g_assert_cmpuint (ha, <, na);
  g_assert_nonnull (g_strstr_len ((const char *) pa + 8, (gssize) ha, "\"F16\""));
  g_assert_null (g_strstr_len ((const char *) pa + 8, (gssize) ha, "\"F32\""));
  /* F16 weights still give PyTorch's output within a looser bound. */
  {
    Case *c = NULL;
    for (guint i = 0; i < cases->len; i++)
      if (strcmp (((Case *) cases->pdata[i])->name, "resnet9_instance_legacybuf") == 0)
        c = cases->pdata[i];
    g_assert_nonnull (c);
    g_assert_cmpfloat (run_and_compare (c, model), <=, 2e-2);
    g_assert_cmpfloat (run_and_compare (c, model), >, 0);   /* it did change */
  }

  /* Contradicting and invalid options. */
  g_clear_pointer (&model, p2p_model_free);
  p2p_import_options_init (&opts);
  opts.dropout = 1;
  model = p2p_model_import_pth (zip, &opts, &error);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (error->message, "no dropout layers"));
  g_clear_error (&error);
  p2p_import_options_init (&opts);
  opts.task = P2P_TASK_COLORIZE;
  model = p2p_model_import_pth (zip, &opts, &error);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  p2p_import_options_init (&opts);
  opts.native_size = 250;
  model = p2p_model_import_pth (zip, &opts, &error);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);

  /* U-Net dropout is the caller's to say. */
  {
    g_autofree char *u = pth_path ("unet128_batch_module.zip.pth");
    p2p_import_options_init (&opts);
    opts.dropout = 0;
    model = p2p_model_import_pth (u, &opts, &error);
    g_assert_no_error (error);
    g_assert_false (p2p_model_get_info (model)->use_dropout);
  }
}

/* ---- a pickle and container writer of the test's own --------------------- */

typedef GByteArray Pk;

static void
pk_bytes (Pk *p, const void *b, gsize n)
{
  g_byte_array_append (p, b, (guint) n);
}

static void
pk_op (Pk *p, guint8 op)
{
  pk_bytes (p, &op, 1);
}

static void
pk_u32 (Pk *p, guint32 v)
{
  guint8 b[4] = { (guint8) v, (guint8) (v >> 8), (guint8) (v >> 16), (guint8) (v >> 24) };
  pk_bytes (p, b, 4);
}

static void
pk_u64 (Pk *p, guint64 v)
{
  pk_u32 (p, (guint32) v);
  pk_u32 (p, (guint32) (v >> 32));
}

static void
pk_u16 (Pk *p, guint16 v)
{
  guint8 b[2] = { (guint8) v, (guint8) (v >> 8) };
  pk_bytes (p, b, 2);
}

static void
pk_str (Pk *p, const char *s)
{
  pk_op (p, 'X');
  pk_u32 (p, (guint32) strlen (s));
  pk_bytes (p, s, strlen (s));
}

static void
pk_int (Pk *p, gint64 v)
{
  if (v >= 0 && v < 256)
    {
      pk_op (p, 'K');
      pk_op (p, (guint8) v);
    }
  else if (v >= G_MININT32 && v <= G_MAXINT32)
    {
      pk_op (p, 'J');
      pk_u32 (p, (guint32) v);
    }
  else
    {
      pk_op (p, 0x8a);
      pk_op (p, 8);
      pk_u64 (p, (guint64) v);
    }
}

static void
pk_global (Pk *p, const char *module, const char *name)
{
  pk_op (p, 'c');
  pk_bytes (p, module, strlen (module));
  pk_op (p, '\n');
  pk_bytes (p, name, strlen (name));
  pk_op (p, '\n');
}

static void
pk_tuple (Pk *p, const gint64 *v, int n)
{
  pk_op (p, '(');
  for (int i = 0; i < n; i++)
    pk_int (p, v[i]);
  pk_op (p, 't');
}

/* A tensor rebuilt from storage @key; @legacy adds the sixth pid field. */
static void
pk_tensor (Pk *p, const char *stype, const char *key, gint64 storage_numel, gint64 offset,
           const gint64 *shape, const gint64 *stride, int ndim, gboolean legacy)
{
  pk_global (p, "torch._utils", "_rebuild_tensor_v2");
  pk_op (p, '(');
  pk_op (p, '(');
  pk_str (p, "storage");
  pk_global (p, "torch", stype);
  pk_str (p, key);
  pk_str (p, "cpu");
  pk_int (p, storage_numel);
  if (legacy)
    pk_op (p, 'N');
  pk_op (p, 't');
  pk_op (p, 'Q');
  pk_int (p, offset);
  pk_tuple (p, shape, ndim);
  pk_tuple (p, stride, ndim);
  pk_op (p, 0x89);
  pk_global (p, "collections", "OrderedDict");
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, 't');
  pk_op (p, 'R');
}

static void
pk_dict_begin (Pk *p)
{
  pk_bytes (p, "\x80\x02", 2);
  pk_global (p, "collections", "OrderedDict");
  pk_op (p, ')');
  pk_op (p, 'R');
  pk_op (p, '(');
}

static void
pk_dict_end (Pk *p)
{
  pk_op (p, 'u');
  pk_op (p, '.');
}

/* Magic number, protocol version and sys_info pickles. */
static void
legacy_header (Pk *f)
{
  static const guint8 magic[] = { 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20,
                                  0x6a, 0xa8, 0x50, 0x19, '.' };

  pk_bytes (f, magic, sizeof magic);
  pk_bytes (f, "\x80\x02M\xe9\x03.", 6);
  pk_bytes (f, "\x80\x02}", 3);
  pk_str (f, "little_endian");
  pk_bytes (f, "\x88s.", 3);
}

/* Legacy container around @body, with storage keys "0".."n-1" of @numel
 * float32 elements each (values 0.5). */
static GBytes *
legacy_file (const Pk *body, int n_storages, gint64 numel, gint64 declared_numel, gsize cut)
{
  Pk *f = g_byte_array_new ();
  GBytes *out;

  legacy_header (f);
  pk_bytes (f, body->data, body->len);
  pk_bytes (f, "\x80\x02](", 4);
  for (int i = 0; i < n_storages; i++)
    {
      char key[16];
      g_snprintf (key, sizeof key, "%d", i);
      pk_str (f, key);
    }
  pk_bytes (f, "e.", 2);
  for (int i = 0; i < n_storages; i++)
    {
      pk_u64 (f, (guint64) declared_numel);
      for (gint64 j = 0; j < numel; j++)
        pk_u32 (f, 0x3f000000u);
    }
  if (cut && cut < f->len)
    g_byte_array_set_size (f, (guint) (f->len - cut));
  out = g_bytes_new (f->data, f->len);
  g_byte_array_unref (f);
  return out;
}

/* Legacy file with one pickle body and no storages. */
static GBytes *
legacy_body (const void *pickle, gsize n)
{
  Pk *b = g_byte_array_new ();
  GBytes *out;

  pk_bytes (b, pickle, n);
  out = legacy_file (b, 0, 0, 0, 0);
  g_byte_array_unref (b);
  return out;
}

/* Legacy file that ends with the pickle body (for truncation cases). */
static GBytes *
legacy_body_end (const void *pickle, gsize n)
{
  Pk *f = g_byte_array_new ();
  GBytes *out;

  legacy_header (f);
  pk_bytes (f, pickle, n);
  out = g_bytes_new (f->data, f->len);
  g_byte_array_unref (f);
  return out;
}

/* One state_dict entry "w" = tensor of storage "0". */
static GBytes *
legacy_one_tensor (const char *stype, gint64 storage_numel, gint64 offset, const gint64 *shape,
                   const gint64 *stride, int ndim, gint64 data_numel, gint64 declared, gsize cut)
{
  Pk *b = g_byte_array_new ();
  GBytes *out;

  pk_dict_begin (b);
  pk_str (b, "w");
  pk_tensor (b, stype, "0", storage_numel, offset, shape, stride, ndim, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 1, data_numel, declared, cut);
  g_byte_array_unref (b);
  return out;
}

/* ---- zip writer (stored entries) ----------------------------------------- */

static guint32
crc32_ref (const guint8 *p, gsize n)
{
  guint32 c = 0xffffffffu;

  for (gsize i = 0; i < n; i++)
    {
      c ^= p[i];
      for (int k = 0; k < 8; k++)
        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
  return ~c;
}

typedef struct {
  const char *name;
  const guint8 *data;
  gsize size;
  guint16 method;
  guint32 size_delta;   /* added to the central directory's sizes */
} ZEntry;

static GBytes *
zip_file (const ZEntry *e, int n)
{
  Pk *f = g_byte_array_new ();
  Pk *cd = g_byte_array_new ();
  GBytes *out;

  for (int i = 0; i < n; i++)
    {
      const guint16 nlen = (guint16) strlen (e[i].name);
      const guint32 crc = crc32_ref (e[i].data, e[i].size);
      const guint32 off = f->len;

      pk_u32 (f, 0x04034b50u);
      pk_u16 (f, 20); pk_u16 (f, 0); pk_u16 (f, e[i].method); pk_u16 (f, 0); pk_u16 (f, 0x21);
      pk_u32 (f, crc); pk_u32 (f, (guint32) e[i].size); pk_u32 (f, (guint32) e[i].size);
      pk_u16 (f, nlen); pk_u16 (f, 0);
      pk_bytes (f, e[i].name, nlen);
      pk_bytes (f, e[i].data, e[i].size);

      pk_u32 (cd, 0x02014b50u);
      pk_u16 (cd, 20); pk_u16 (cd, 20); pk_u16 (cd, 0); pk_u16 (cd, e[i].method);
      pk_u16 (cd, 0); pk_u16 (cd, 0x21);
      pk_u32 (cd, crc);
      pk_u32 (cd, (guint32) e[i].size + e[i].size_delta);
      pk_u32 (cd, (guint32) e[i].size + e[i].size_delta);
      pk_u16 (cd, nlen); pk_u16 (cd, 0); pk_u16 (cd, 0); pk_u16 (cd, 0); pk_u16 (cd, 0);
      pk_u32 (cd, 0); pk_u32 (cd, off);
      pk_bytes (cd, e[i].name, nlen);
    }
  {
    const guint32 cd_off = f->len;
    pk_bytes (f, cd->data, cd->len);
    pk_u32 (f, 0x06054b50u);
    pk_u16 (f, 0); pk_u16 (f, 0); pk_u16 (f, (guint16) n); pk_u16 (f, (guint16) n);
    pk_u32 (f, cd->len); pk_u32 (f, cd_off); pk_u16 (f, 0);
  }
  out = g_bytes_new (f->data, f->len);
  g_byte_array_unref (f);
  g_byte_array_unref (cd);
  return out;
}

/* archive/data.pkl with one float tensor "w" of storage "0" ([4]) plus
 * archive/data/0 of @data_bytes bytes. */
static GBytes *
zip_one_tensor (guint16 method, guint32 size_delta, gsize data_bytes, gboolean with_data)
{
  g_autoptr(GByteArray) pkl = g_byte_array_new ();
  g_autofree guint8 *data = g_malloc0 (MAX (data_bytes, 1));
  const gint64 shape[1] = { 4 }, stride[1] = { 1 };
  ZEntry e[2] = {
    { "archive/data.pkl", NULL, 0, method, size_delta },
    { "archive/data/0", data, data_bytes, 0, 0 },
  };

  pk_dict_begin (pkl);
  pk_str (pkl, "w");
  pk_tensor (pkl, "FloatStorage", "0", 4, 0, shape, stride, 1, FALSE);
  pk_dict_end (pkl);
  e[0].data = pkl->data;
  e[0].size = pkl->len;
  return zip_file (e, with_data ? 2 : 1);
}

/* ---- mutations of real fixtures -------------------------------------------- */

static GBytes *
fixture_bytes (const char *file)
{
  g_autofree char *path = pth_path (file);
  g_autoptr(GError) error = NULL;
  char *data;
  gsize size;

  if (!g_file_get_contents (path, &data, &size, &error))
    g_error ("%s: %s", path, error->message);
  return g_bytes_new_take (data, size);
}

static gsize
find_sig (const guint8 *d, gsize n, guint32 sig, gboolean last)
{
  gsize found = G_MAXSIZE;

  for (gsize i = 0; i + 4 <= n; i++)
    if (((guint32) d[i] | (guint32) d[i + 1] << 8 | (guint32) d[i + 2] << 16 | (guint32) d[i + 3] << 24) == sig)
      {
        found = i;
        if (!last)
          break;
      }
  g_assert_cmpuint (found, !=, G_MAXSIZE);
  return found;
}

typedef enum {
  MUT_CENTRAL_METHOD, MUT_LOCAL_METHOD, MUT_CUT_HALF, MUT_CD_OFFSET, MUT_DATA_BYTE,
  MUT_ENTRY_COUNT, MUT_CENTRAL_SIZE, MUT_LEGACY_NAN, MUT_LEGACY_CUT, MUT_LEGACY_MAGIC,
  MUT_ZIP_PICKLE_BYTE, MUT_EMPTY,
} Mutation;

static GBytes *
mutate (const char *file, Mutation m)
{
  g_autoptr(GBytes) src = fixture_bytes (file);
  gsize n;
  const guint8 *s = g_bytes_get_data (src, &n);
  guint8 *d = g_malloc (MAX (n, 1));
  gsize eocd, cd, local;

  memcpy (d, s, n);

  switch (m)
    {
    case MUT_CENTRAL_METHOD:
      cd = find_sig (d, n, 0x02014b50u, FALSE);
      d[cd + 10] = 8;                       /* deflate */
      break;
    case MUT_LOCAL_METHOD:
      local = find_sig (d, n, 0x04034b50u, FALSE);
      d[local + 8] = 8;
      break;
    case MUT_CUT_HALF:
      n /= 2;
      break;
    case MUT_CD_OFFSET:
      eocd = find_sig (d, n, 0x06054b50u, TRUE);
      d[eocd + 19] = 0x7f;                  /* central directory far beyond the end */
      break;
    case MUT_DATA_BYTE:
      /* The first byte of storage "0" (its local header names it). */
      for (local = 0; local + 30 < n; local++)
        {
          gsize nlen, xlen;
          if (memcmp (d + local, "PK\x03\x04", 4) != 0)
            continue;
          nlen = d[local + 26] | d[local + 27] << 8;
          xlen = d[local + 28] | d[local + 29] << 8;
          if (nlen >= 7 && memcmp (d + local + 30 + nlen - 7, "/data/0", 7) == 0)
            {
              d[local + 30 + nlen + xlen] ^= 0x55;
              break;
            }
        }
      g_assert_cmpuint (local + 30, <, n);
      break;
    case MUT_ENTRY_COUNT:
      eocd = find_sig (d, n, 0x06054b50u, TRUE);
      d[eocd + 10] = 0xfe;
      d[eocd + 11] = 0xff;
      break;
    case MUT_CENTRAL_SIZE:
      cd = find_sig (d, n, 0x02014b50u, FALSE);
      d[cd + 20] ^= 1;                      /* compressed size != size */
      break;
    case MUT_LEGACY_NAN:
      d[n - 4] = 0x00, d[n - 3] = 0x00, d[n - 2] = 0xc0, d[n - 1] = 0x7f;
      break;
    case MUT_LEGACY_CUT:
      n -= 3;
      break;
    case MUT_LEGACY_MAGIC:
      d[5] ^= 1;
      break;
    case MUT_ZIP_PICKLE_BYTE:
      /* data.pkl is the first entry: break its first opcode after PROTO. */
      local = find_sig (d, n, 0x04034b50u, FALSE);
      d[local + 30 + (d[local + 26] | d[local + 27] << 8) + (d[local + 28] | d[local + 29] << 8) + 2] = 0xfe;
      break;
    case MUT_EMPTY:
      n = 0;
      break;
    }
  return g_bytes_new_take (d, n);
}

/* ---- the malformed table ---------------------------------------------------- */

typedef struct {
  const char *name;
  GBytes *(*make) (void);
  int code;
  const char *message;   /* part of the message */
} BadCase;

#define BODY(...) { static const char p[] = __VA_ARGS__; return legacy_body (p, sizeof p - 1); }
#define BODY_END(...) { static const char p[] = __VA_ARGS__; return legacy_body_end (p, sizeof p - 1); }

static GBytes *bad_opcode (void) BODY ("\x80\x02\xff.")
static GBytes *bad_os_system (void) BODY ("\x80\x02" "cos\nsystem\n" "X\x02\x00\x00\x00ls\x85R.")
static GBytes *bad_eval_stack_global (void) BODY ("\x80\x04\x8c\x08" "builtins\x8c\x04" "eval\x93.")
static GBytes *bad_load_from_bytes (void) BODY ("\x80\x02" "ctorch.storage\n_load_from_bytes\n.")
static GBytes *bad_torch_other (void) BODY ("\x80\x02" "ctorch\nload\n.")
static GBytes *bad_truncated_string (void) BODY_END ("\x80\x02}X\x05\x00\x00\x00" "ab")
static GBytes *bad_huge_string (void) BODY ("\x80\x02X\xff\xff\xff\x7f")
static GBytes *bad_memo_unset (void) BODY ("\x80\x02h\x05.")
static GBytes *bad_memo_huge (void) BODY ("\x80\x02Nr\xff\xff\xff\xff.")
static GBytes *bad_underflow (void) BODY ("\x80\x02s.")
static GBytes *bad_two_values (void) BODY ("\x80\x02NN.")
static GBytes *bad_open_mark (void) BODY ("\x80\x02(N.")
static GBytes *bad_protocol (void) BODY ("\x80\x09}.")
static GBytes *bad_not_dict (void) BODY ("\x80\x02].")
static GBytes *bad_empty_dict (void) BODY ("\x80\x02}.")
static GBytes *bad_dict_int_value (void) BODY ("\x80\x02}X\x01\x00\x00\x00wK\x01s.")
static GBytes *bad_setitem_on_list (void) BODY ("\x80\x02]NNs.")
static GBytes *bad_unicode (void) BODY ("\x80\x02X\x02\x00\x00\x00\xc3\x28.")
static GBytes *bad_nul_string (void) BODY ("\x80\x02X\x02\x00\x00\x00" "a\x00.")
static GBytes *bad_reduce_storage_type (void) BODY ("\x80\x02" "ctorch\nFloatStorage\n)R.")
static GBytes *bad_ordered_dict_args (void) BODY ("\x80\x02" "ccollections\nOrderedDict\n]\x85R.")
static GBytes *bad_persid_shape (void) BODY ("\x80\x02X\x01\x00\x00\x00xQ.")
static GBytes *bad_no_stop (void) BODY_END ("\x80\x02}")

static GBytes *
bad_mark_bomb (void)
{
  g_autofree char *p = g_malloc (100002);
  p[0] = '\x80', p[1] = 2;
  memset (p + 2, '(', 100000);
  return legacy_body (p, 100002);
}

static GBytes *
bad_list_bomb (void)
{
  g_autofree char *p = g_malloc (200002);
  p[0] = '\x80', p[1] = 2;
  memset (p + 2, ']', 200000);
  return legacy_body (p, 200002);
}

/* A list that contains itself, then memo copies of it: a cycle must neither
 * hang nor leak. */
static GBytes *
bad_cycle (void)
{
  BODY ("\x80\x02]q\x00" "h\x00" "a.")
}

static const gint64 S4[1] = { 4 }, T1[1] = { 1 };
static const gint64 S22[2] = { 2, 2 }, T12[2] = { 1, 2 };

static GBytes *bad_noncontiguous (void) { return legacy_one_tensor ("FloatStorage", 4, 0, S22, T12, 2, 4, 4, 0); }
static GBytes *bad_outside_storage (void) { return legacy_one_tensor ("FloatStorage", 4, 3, S4, T1, 1, 4, 4, 0); }
static GBytes *bad_count_mismatch (void) { return legacy_one_tensor ("FloatStorage", 4, 0, S4, T1, 1, 4, 5, 0); }
static GBytes *bad_storage_cut (void) { return legacy_one_tensor ("FloatStorage", 4, 0, S4, T1, 1, 4, 4, 5); }
static GBytes *bad_storage_huge (void)
{
  return legacy_one_tensor ("FloatStorage", G_GINT64_CONSTANT (1) << 62, 0, S4, T1, 1, 4, 4, 0);
}
static GBytes *bad_int_weight (void)
{
  return legacy_one_tensor ("LongStorage", 4, 0, S4, T1, 1, 8, 4, 0);
}
static GBytes *bad_unknown_storage (void)
{
  return legacy_one_tensor ("ComplexFloatStorage", 4, 0, S4, T1, 1, 4, 4, 0);
}
static GBytes *bad_not_generator (void) { return legacy_one_tensor ("FloatStorage", 4, 0, S4, T1, 1, 4, 4, 0); }
static GBytes *
bad_negative_size (void)
{
  const gint64 s[1] = { -4 };
  return legacy_one_tensor ("FloatStorage", 4, 0, s, T1, 1, 4, 4, 0);
}
static GBytes *
bad_too_many_dims (void)
{
  const gint64 s[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 4 }, t[9] = { 4, 4, 4, 4, 4, 4, 4, 4, 1 };
  return legacy_one_tensor ("FloatStorage", 4, 0, s, t, 9, 4, 4, 0);
}
static GBytes *
bad_size_overflow (void)
{
  const gint64 s[3] = { G_MAXINT32, G_MAXINT32, G_MAXINT32 }, t[3] = { 1, 1, 1 };
  return legacy_one_tensor ("FloatStorage", 4, 0, s, t, 3, 4, 4, 0);
}
static GBytes *
bad_duplicate_key (void)
{
  Pk *b = g_byte_array_new ();
  GBytes *out;

  pk_dict_begin (b);
  pk_str (b, "module.w");
  pk_tensor (b, "FloatStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_str (b, "w");
  pk_tensor (b, "FloatStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 1, 4, 4, 0);
  g_byte_array_unref (b);
  return out;
}
static GBytes *
bad_shared_storage (void)
{
  Pk *b = g_byte_array_new ();
  GBytes *out;
  const gint64 s2[1] = { 2 };

  pk_dict_begin (b);
  pk_str (b, "a");
  pk_tensor (b, "FloatStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_str (b, "b");
  pk_tensor (b, "FloatStorage", "0", 4, 2, s2, T1, 1, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 1, 4, 4, 0);
  g_byte_array_unref (b);
  return out;
}
static GBytes *
good_disjoint_views (void)
{
  /* Two halves of one storage: allowed, reaches detection. */
  Pk *b = g_byte_array_new ();
  GBytes *out;
  const gint64 s2[1] = { 2 };

  pk_dict_begin (b);
  pk_str (b, "b");
  pk_tensor (b, "FloatStorage", "0", 4, 2, s2, T1, 1, TRUE);
  pk_str (b, "a");
  pk_tensor (b, "FloatStorage", "0", 4, 0, s2, T1, 1, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 1, 4, 4, 0);
  g_byte_array_unref (b);
  return out;
}
static GBytes *
bad_storage_listed_missing (void)
{
  /* The tensor uses storage "0" but the key list names two storages. */
  Pk *b = g_byte_array_new ();
  GBytes *out;

  pk_dict_begin (b);
  pk_str (b, "w");
  pk_tensor (b, "FloatStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 2, 4, 4, 0);
  g_byte_array_unref (b);
  return out;
}
static GBytes *
bad_storage_redeclared (void)
{
  Pk *b = g_byte_array_new ();
  GBytes *out;

  pk_dict_begin (b);
  pk_str (b, "a");
  pk_tensor (b, "FloatStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_str (b, "b");
  pk_tensor (b, "HalfStorage", "0", 4, 0, S4, T1, 1, TRUE);
  pk_dict_end (b);
  out = legacy_file (b, 1, 4, 4, 0);
  g_byte_array_unref (b);
  return out;
}
static GBytes *
bad_view_metadata (void)
{
  static const char p[] =
    "\x80\x02}X\x01\x00\x00\x00w"
    "ctorch._utils\n_rebuild_tensor_v2\n"
    "((X\x07\x00\x00\x00storage" "ctorch\nFloatStorage\n" "X\x01\x00\x00\x00" "0" "X\x03\x00\x00\x00" "cpu"
    "K\x04(X\x01\x00\x00\x00" "1K\x00K\x02tt" "Q"
    "K\x00(K\x02t(K\x01t\x89" "ccollections\nOrderedDict\n)Rt" "R" "s.";
  return legacy_body (p, sizeof p - 1);
}

static GBytes *zip_deflated (void) { return zip_one_tensor (8, 0, 16, TRUE); }
static GBytes *zip_size_mismatch (void) { return zip_one_tensor (0, 0, 12, TRUE); }
static GBytes *zip_missing_storage (void) { return zip_one_tensor (0, 0, 16, FALSE); }
static GBytes *zip_sizes_past_end (void) { return zip_one_tensor (0, 100000, 16, TRUE); }
static GBytes *zip_not_generator (void) { return zip_one_tensor (0, 0, 16, TRUE); }
static GBytes *
zip_no_pickle (void)
{
  static const guint8 data[4] = { 1, 2, 3, 4 };
  ZEntry e[1] = { { "archive/data/0", data, 4, 0, 0 } };
  return zip_file (e, 1);
}
static GBytes *
zip_duplicate_entry (void)
{
  static const guint8 data[4] = { 1, 2, 3, 4 };
  ZEntry e[2] = { { "archive/data/0", data, 4, 0, 0 }, { "archive/data/0", data, 4, 0, 0 } };
  return zip_file (e, 2);
}

static GBytes *mut_central_method (void) { return mutate ("resnet6_none.zip.pth", MUT_CENTRAL_METHOD); }
static GBytes *mut_local_method (void) { return mutate ("resnet6_none.zip.pth", MUT_LOCAL_METHOD); }
static GBytes *mut_cut_half (void) { return mutate ("resnet6_none.zip.pth", MUT_CUT_HALF); }
static GBytes *mut_cd_offset (void) { return mutate ("resnet6_none.zip.pth", MUT_CD_OFFSET); }
static GBytes *mut_data_byte (void) { return mutate ("resnet6_none.zip.pth", MUT_DATA_BYTE); }
static GBytes *mut_entry_count (void) { return mutate ("resnet6_none.zip.pth", MUT_ENTRY_COUNT); }
static GBytes *mut_central_size (void) { return mutate ("resnet6_none.zip.pth", MUT_CENTRAL_SIZE); }
static GBytes *mut_zip_pickle (void) { return mutate ("resnet6_none.zip.pth", MUT_ZIP_PICKLE_BYTE); }
static GBytes *mut_legacy_nan (void) { return mutate ("resnet6_none.legacy.pth", MUT_LEGACY_NAN); }
static GBytes *mut_legacy_cut (void) { return mutate ("resnet6_none.legacy.pth", MUT_LEGACY_CUT); }
static GBytes *mut_legacy_magic (void) { return mutate ("resnet6_none.legacy.pth", MUT_LEGACY_MAGIC); }
static GBytes *mut_empty (void) { return mutate ("resnet6_none.legacy.pth", MUT_EMPTY); }
static GBytes *mut_zip64_cut (void) { return mutate ("resnet6_none.zip64.pth", MUT_LEGACY_CUT); }

static const BadCase bad_cases[] = {
  { "unknown-opcode", bad_opcode, P2P_ERROR_UNSUPPORTED, "opcode 0xff" },
  { "global-os-system", bad_os_system, P2P_ERROR_UNSUPPORTED, "“os.system”" },
  { "stack-global-eval", bad_eval_stack_global, P2P_ERROR_UNSUPPORTED, "“builtins.eval”" },
  { "load-from-bytes", bad_load_from_bytes, P2P_ERROR_UNSUPPORTED, "_load_from_bytes" },
  { "global-torch-load", bad_torch_other, P2P_ERROR_UNSUPPORTED, "“torch.load”" },
  { "truncated-string", bad_truncated_string, P2P_ERROR_TRUNCATED, "truncated" },
  { "huge-string", bad_huge_string, P2P_ERROR_BAD_HEADER, "string of 2147483647 bytes" },
  { "memo-unset", bad_memo_unset, P2P_ERROR_BAD_HEADER, "never set" },
  { "memo-huge", bad_memo_huge, P2P_ERROR_BAD_HEADER, "memo slot 4294967295" },
  { "stack-underflow", bad_underflow, P2P_ERROR_BAD_HEADER, "stack underflow" },
  { "two-values", bad_two_values, P2P_ERROR_BAD_HEADER, "2 values on its stack" },
  { "open-mark", bad_open_mark, P2P_ERROR_BAD_HEADER, "open MARK" },
  { "protocol-9", bad_protocol, P2P_ERROR_UNSUPPORTED, "pickle protocol 9" },
  { "no-stop", bad_no_stop, P2P_ERROR_TRUNCATED, "truncated" },
  { "not-a-dict", bad_not_dict, P2P_ERROR_UNSUPPORTED, "holds a list, not a state_dict" },
  { "empty-dict", bad_empty_dict, P2P_ERROR_UNSUPPORTED, "state_dict is empty" },
  { "dict-int-value", bad_dict_int_value, P2P_ERROR_UNSUPPORTED, "entry “w” is not a tensor" },
  { "setitem-on-list", bad_setitem_on_list, P2P_ERROR_BAD_HEADER, "sets an item of a list" },
  { "bad-utf8", bad_unicode, P2P_ERROR_BAD_HEADER, "not valid UTF-8" },
  { "nul-in-string", bad_nul_string, P2P_ERROR_BAD_HEADER, "NUL" },
  { "call-storage-type", bad_reduce_storage_type, P2P_ERROR_UNSUPPORTED, "calls a global" },
  { "ordered-dict-args", bad_ordered_dict_args, P2P_ERROR_UNSUPPORTED, "OrderedDict from arguments" },
  { "persid-not-tuple", bad_persid_shape, P2P_ERROR_BAD_HEADER, "storage reference that is a str" },
  { "mark-bomb", bad_mark_bomb, P2P_ERROR_BAD_HEADER, "nests more than 64 levels" },
  { "list-bomb", bad_list_bomb, P2P_ERROR_BAD_HEADER, "nests deeper than 65536" },
  { "self-cycle", bad_cycle, P2P_ERROR_UNSUPPORTED, "holds a list" },
  { "non-contiguous", bad_noncontiguous, P2P_ERROR_BAD_TENSOR, "not contiguous" },
  { "outside-storage", bad_outside_storage, P2P_ERROR_BAD_TENSOR, "outside its storage" },
  { "storage-count", bad_count_mismatch, P2P_ERROR_BAD_TENSOR, "holds 5 elements but declares 4" },
  { "storage-truncated", bad_storage_cut, P2P_ERROR_TRUNCATED, "storage “0” needs 16 bytes" },
  { "storage-huge", bad_storage_huge, P2P_ERROR_BAD_TENSOR, "too large" },
  { "int64-weight", bad_int_weight, P2P_ERROR_BAD_TENSOR, "int64 values" },
  { "unknown-storage-type", bad_unknown_storage, P2P_ERROR_UNSUPPORTED, "“torch.ComplexFloatStorage”" },
  { "not-a-generator", bad_not_generator, P2P_ERROR_UNSUPPORTED, "not a pix2pix/CycleGAN generator" },
  { "negative-size", bad_negative_size, P2P_ERROR_BAD_TENSOR, "invalid size" },
  { "nine-dims", bad_too_many_dims, P2P_ERROR_BAD_TENSOR, "9 dimensions" },
  { "size-overflow", bad_size_overflow, P2P_ERROR_BAD_TENSOR, "invalid size" },
  { "duplicate-after-module", bad_duplicate_key, P2P_ERROR_BAD_HEADER, "holds tensor “w” twice" },
  { "shared-storage", bad_shared_storage, P2P_ERROR_BAD_TENSOR, "“a” and “b” of the checkpoint share storage" },
  { "disjoint-views", good_disjoint_views, P2P_ERROR_UNSUPPORTED, "not a pix2pix/CycleGAN generator" },
  { "storage-list-mismatch", bad_storage_listed_missing, P2P_ERROR_BAD_HEADER, "lists 2 storages but its tensors use 1" },
  { "storage-redeclared", bad_storage_redeclared, P2P_ERROR_BAD_TENSOR, "declared twice" },
  { "storage-view", bad_view_metadata, P2P_ERROR_UNSUPPORTED, "view of another storage" },
  { "zip-deflated", zip_deflated, P2P_ERROR_UNSUPPORTED, "is compressed (method 8)" },
  { "zip-storage-size", zip_size_mismatch, P2P_ERROR_BAD_TENSOR, "holds 12 bytes but declares 4 float32" },
  { "zip-missing-storage", zip_missing_storage, P2P_ERROR_TRUNCATED, "lacks the data of storage “0”" },
  { "zip-sizes-past-end", zip_sizes_past_end, P2P_ERROR_TRUNCATED, "runs past the data" },
  { "zip-not-generator", zip_not_generator, P2P_ERROR_UNSUPPORTED, "not a pix2pix/CycleGAN generator" },
  { "zip-no-data-pkl", zip_no_pickle, P2P_ERROR_NOT_A_MODEL, "no data.pkl" },
  { "zip-duplicate-entry", zip_duplicate_entry, P2P_ERROR_BAD_HEADER, "twice" },
  { "zip-central-method", mut_central_method, P2P_ERROR_UNSUPPORTED, "is compressed (method 8)" },
  { "zip-local-method", mut_local_method, P2P_ERROR_UNSUPPORTED, "is compressed (method 8)" },
  { "zip-cut-half", mut_cut_half, P2P_ERROR_TRUNCATED, "directory is missing" },
  { "zip-cd-offset", mut_cd_offset, P2P_ERROR_TRUNCATED, "lies outside the file" },
  { "zip-data-corrupt", mut_data_byte, P2P_ERROR_BAD_TENSOR, "fails its checksum" },
  { "zip-entry-count", mut_entry_count, P2P_ERROR_BAD_HEADER, "65534 entries" },
  { "zip-central-size", mut_central_size, P2P_ERROR_BAD_HEADER, "inconsistent sizes" },
  { "zip-pickle-corrupt", mut_zip_pickle, P2P_ERROR_BAD_TENSOR, "fails its checksum" },
  { "zip64-cut", mut_zip64_cut, P2P_ERROR_TRUNCATED, "directory is missing" },
  { "legacy-nan", mut_legacy_nan, P2P_ERROR_BAD_TENSOR, "NaN or infinity" },
  { "legacy-cut", mut_legacy_cut, P2P_ERROR_TRUNCATED, "truncated" },
  { "legacy-magic", mut_legacy_magic, P2P_ERROR_NOT_A_MODEL, "no torch.save magic number" },
  { "empty", mut_empty, P2P_ERROR_NOT_A_MODEL, "neither a zip archive nor a pickle" },
};

static void
test_bad (gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr(GBytes) bytes = c->make ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  gsize size;
  const guint8 *d = g_bytes_get_data (bytes, &size);

  out = p2p_pth_to_safetensors (d, size, "bad.pth", NULL, &error);
  g_assert_null (out);
  g_assert_nonnull (error);
  g_test_message ("%s: %s", c->name, error->message);
  if (error->domain != P2P_ERROR || error->code != c->code || !strstr (error->message, c->message))
    g_error ("%s: got code %d “%s”, want code %d with “%s”", c->name, error->code, error->message,
             c->code, c->message);
}

/* Through the public path: the file name leads the message. */
static void
test_load_errors (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = bad_os_system ();
  g_autofree char *dir = g_dir_make_tmp ("p2p-pth-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "evil.pth", NULL);
  P2pModel *model;

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
  model = p2p_model_load (path, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED);
  g_assert_true (g_str_has_prefix (error->message, path));
  g_clear_error (&error);
  g_remove (path);
  g_rmdir (dir);

  model = p2p_model_import_pth ("/nonexistent/latest_net_G.pth", NULL, &error);
  g_assert_null (model);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
}

static void
test_sniff (void)
{
  static const guint8 zip[] = "PK\x03\x04....";
  static const guint8 pickle[] = "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9";
  /* A safetensors file with a 640-byte header starts 0x80 0x02 too. */
  static const guint8 st[] = "\x80\x02\x00\x00\x00\x00\x00\x00{\"a\":1}";

  g_assert_true (p2p_pth_sniff (zip, 8));
  g_assert_true (p2p_pth_sniff (pickle, 9));
  g_assert_false (p2p_pth_sniff (st, sizeof st - 1));
  g_assert_false (p2p_pth_sniff ((const guint8 *) "{}", 2));
  g_assert_false (p2p_pth_sniff (NULL, 0));
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  read_cases ();
  for (guint i = 0; i < cases->len; i++)
    {
      const Case *c = cases->pdata[i];
      g_autofree char *path = g_strdup_printf ("/pth/golden/%s", c->name);
      g_test_add_data_func (path, c, test_golden);
    }
  g_test_add_func ("/pth/options", test_options);
  g_test_add_func ("/pth/load-errors", test_load_errors);
  g_test_add_func ("/pth/sniff", test_sniff);
  for (guint i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/pth/bad/%s", bad_cases[i].name);
      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  rc = g_test_run ();
  g_ptr_array_unref (cases);
  return rc;
}
