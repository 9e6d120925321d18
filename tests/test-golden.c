/* test-golden.c - the engine against PyTorch on random-weight generators.
 *
 * Fixtures: tests/data/golden/ (see its README.md; made by
 * tests/gen-golden.py from the reference networks in PyTorch, float64).
 * For every NAME.io.safetensors: load NAME.safetensors with
 * p2p_model_load(), run p2p_net_run() in the official and running norm
 * modes and compare with the stored outputs (max abs error <= 1e-4).
 * colorize_e2e.safetensors checks the colorize network and pipeline.
 * The stochastic mode has no reference output; its properties are checked.
 *
 * The fixture files are read here by a small reader of their own, not by
 * the core, so that a loader bug cannot hide itself.
 */
#include <math.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "p2p.h"

#define TOLERANCE 1e-4

/* ---- fixture reader (safetensors, F32 and F16 only) ------------------- */

typedef struct {
  guint8     *contents;
  gsize       size;
  JsonParser *parser;
  JsonObject *header;
  JsonObject *meta;
  const guint8 *data;
  gsize       data_size;
} Fixture;

static void
fixture_free (Fixture *f)
{
  if (!f)
    return;
  g_clear_object (&f->parser);
  g_free (f->contents);
  g_free (f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fixture, fixture_free)

static Fixture *
fixture_load (const char *path)
{
  g_autoptr(GError) error = NULL;
  Fixture *f = g_new0 (Fixture, 1);
  guint64 n = 0;

  if (!g_file_get_contents (path, (char **) &f->contents, &f->size, &error))
    g_error ("cannot read fixture %s: %s", path, error->message);
  g_assert_cmpuint (f->size, >=, 8);
  for (int i = 7; i >= 0; i--)
    n = (n << 8) | f->contents[i];
  g_assert_cmpuint (n, <=, f->size - 8);
  f->parser = json_parser_new ();
  if (!json_parser_load_from_data (f->parser, (const char *) f->contents + 8, (gssize) n, &error))
    g_error ("fixture %s: bad header: %s", path, error->message);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (f->parser)));
  f->header = json_node_get_object (json_parser_get_root (f->parser));
  f->meta = json_object_has_member (f->header, "__metadata__")
            ? json_object_get_object_member (f->header, "__metadata__") : NULL;
  f->data = f->contents + 8 + n;
  f->data_size = f->size - 8 - n;
  return f;
}

static const char *
fixture_meta (const Fixture *f, const char *key)
{
  if (!f->meta || !json_object_has_member (f->meta, key))
    return NULL;
  return json_object_get_string_member (f->meta, key);
}

static gboolean
fixture_has (const Fixture *f, const char *name)
{
  return json_object_has_member (f->header, name);
}

/* IEEE half -> float, written independently of the core's widening. */
static float
f16_to_f32 (guint16 h)
{
  const int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  const float sign = (h & 0x8000) ? -1.0f : 1.0f;

  if (e == 0)
    return sign * ldexpf ((float) m, -24);
  if (e == 31)
    return m ? NAN : sign * INFINITY;
  return sign * ldexpf ((float) (m | 0x400), e - 25);
}

/* Returns a new float array; shape in @shape (up to 4 dims). */
static float *
fixture_tensor (const Fixture *f, const char *name, int *ndim, gint64 shape[4])
{
  JsonObject *e;
  JsonArray *sh, *off;
  const char *dtype;
  guint64 begin, end, numel = 1;
  float *out;

  g_assert_true (fixture_has (f, name));
  e = json_object_get_object_member (f->header, name);
  dtype = json_object_get_string_member (e, "dtype");
  sh = json_object_get_array_member (e, "shape");
  off = json_object_get_array_member (e, "data_offsets");
  *ndim = (int) json_array_get_length (sh);
  g_assert_cmpint (*ndim, <=, 4);
  for (int i = 0; i < *ndim; i++)
    {
      shape[i] = json_array_get_int_element (sh, i);
      g_assert_cmpint (shape[i], >, 0);
      numel *= (guint64) shape[i];
    }
  begin = (guint64) json_array_get_int_element (off, 0);
  end = (guint64) json_array_get_int_element (off, 1);
  g_assert_cmpuint (end, <=, f->data_size);
  out = g_new (float, numel);
  if (strcmp (dtype, "F32") == 0)
    {
      g_assert_cmpuint (end - begin, ==, numel * 4);
      for (guint64 i = 0; i < numel; i++)
        {
          const guint8 *p = f->data + begin + 4 * i;
          guint32 bits = (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 |
                         (guint32) p[3] << 24;
          memcpy (&out[i], &bits, 4);
        }
    }
  else if (strcmp (dtype, "F16") == 0)
    {
      g_assert_cmpuint (end - begin, ==, numel * 2);
      for (guint64 i = 0; i < numel; i++)
        {
          const guint8 *p = f->data + begin + 2 * i;
          out[i] = f16_to_f32 ((guint16) (p[0] | p[1] << 8));
        }
    }
  else
    g_error ("fixture tensor %s: unexpected dtype %s", name, dtype);
  return out;
}

static P2pTensor *
fixture_chw (const Fixture *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree float *data = NULL;
  gint64 shape[4];
  int ndim;
  P2pTensor *t;

  data = fixture_tensor (f, name, &ndim, shape);
  g_assert_cmpint (ndim, ==, 3);
  t = p2p_tensor_new ((int) shape[0], (int) shape[1], (int) shape[2], &error);
  g_assert_no_error (error);
  memcpy (t->data, data, p2p_tensor_numel (t) * sizeof (float));
  return t;
}

static char *
golden_path (const char *file)
{
  return g_test_build_filename (G_TEST_DIST, "data", "golden", file, NULL);
}

/* ---- comparisons ------------------------------------------------------ */

static double
max_abs_diff (const float *a, const float *b, gsize n, gsize *where)
{
  double worst = 0.0;

  *where = 0;
  for (gsize i = 0; i < n; i++)
    {
      double d = fabs ((double) a[i] - (double) b[i]);
      if (!(d <= worst))   /* also catches NaN */
        {
          worst = isnan (d) ? INFINITY : d;
          *where = i;
        }
    }
  return worst;
}

static void
assert_close (const char *what, const P2pTensor *got, const P2pTensor *want, double tol)
{
  gsize where;
  double d;

  g_assert_cmpint (got->c, ==, want->c);
  g_assert_cmpint (got->h, ==, want->h);
  g_assert_cmpint (got->w, ==, want->w);
  d = max_abs_diff (got->data, want->data, p2p_tensor_numel (want), &where);
  g_test_message ("%s: max abs error %.3g (tolerance %.0e)", what, d, tol);
  if (!(d <= tol))
    g_test_fail_printf ("%s: max abs error %.6g at element %" G_GSIZE_FORMAT
                        " (c %d, y %d, x %d): got %.7g, want %.7g", what, d, where,
                        (int) (where / ((gsize) want->h * want->w)),
                        (int) (where / want->w % want->h), (int) (where % want->w),
                        got->data[where], want->data[where]);
}

static P2pTensor *
run_net_threads (const P2pModel *model, const P2pTensor *input, P2pNormMode mode, int threads)
{
  g_autoptr(GError) error = NULL;
  P2pNetOptions opts;
  P2pTensor *out;

  p2p_net_options_init (&opts);
  opts.norm_mode = mode;
  opts.threads = threads;
  out = p2p_net_run (model, &opts, input, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
  return out;
}

static P2pTensor *
run_net (const P2pModel *model, const P2pTensor *input, P2pNormMode mode)
{
  return run_net_threads (model, input, mode, 0);
}

/* ---- network cases ---------------------------------------------------- */

static void
test_network (gconstpointer data)
{
  const char *name = data;
  g_autofree char *io_file = g_strconcat (name, ".io.safetensors", NULL);
  g_autofree char *io_path = golden_path (io_file);
  g_autoptr(Fixture) io = fixture_load (io_path);
  g_autofree char *model_path = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(P2pTensor) input = NULL, want_official = NULL, want_running = NULL;
  g_autoptr(P2pTensor) official = NULL, running = NULL;
  const gboolean same = g_strcmp0 (fixture_meta (io, "running_equals_official"), "true") == 0;
  const char *model_file = fixture_meta (io, "model");

  g_assert_nonnull (model_file);
  g_test_message ("%s", fixture_meta (io, "description"));
  model_path = golden_path (model_file);
  model = p2p_model_load (model_path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);

  input = fixture_chw (io, "input");
  want_official = fixture_chw (io, "output_official");
  /* For instance/no norm both modes must give the same output. */
  g_assert_true (same != fixture_has (io, "output_running"));
  want_running = fixture_chw (io, same ? "output_official" : "output_running");
  g_assert_cmpint (input->c, ==, p2p_model_get_info (model)->input_nc);
  g_assert_cmpint (want_official->c, ==, p2p_model_get_info (model)->output_nc);
  g_assert_cmpint (input->h % p2p_model_size_multiple (model), ==, 0);
  g_assert_cmpint (input->w % p2p_model_size_multiple (model), ==, 0);

  /* The cost formula (compute limit, p2p_model_macs) against PyTorch's
   * convolutions counted by hooks (gen-golden.py). */
  g_assert_nonnull (fixture_meta (io, "macs"));
  g_assert_cmpuint (p2p_model_macs (model, input->h, input->w), ==,
                    g_ascii_strtoull (fixture_meta (io, "macs"), NULL, 10));

  official = run_net (model, input, P2P_NORM_MODE_OFFICIAL);
  assert_close ("official", official, want_official, TOLERANCE);
  running = run_net (model, input, P2P_NORM_MODE_RUNNING);
  assert_close ("running", running, want_running, TOLERANCE);

  /* One thread: same result within the tolerance (summation order may differ). */
  {
    g_autoptr(P2pTensor) one = run_net_threads (model, input, P2P_NORM_MODE_OFFICIAL, 1);
    assert_close ("official, 1 thread", one, want_official, TOLERANCE);
  }

  /* A second run gives the same numbers (no state kept between runs). */
  {
    g_autoptr(P2pTensor) again = run_net (model, input, P2P_NORM_MODE_OFFICIAL);
    assert_close ("official, second run", again, official, 0.0);
  }
}

/* The stochastic mode has no PyTorch reference (its random stream is the
 * engine's own); check its properties instead: reproducible for a seed,
 * different across seeds and from the official mode where the model has
 * dropout layers, equal to the official mode where it has none. */
static P2pTensor *
run_stochastic (const P2pModel *model, const P2pTensor *input, guint64 seed)
{
  g_autoptr(GError) error = NULL;
  P2pNetOptions opts;
  P2pTensor *out;

  p2p_net_options_init (&opts);
  opts.norm_mode = P2P_NORM_MODE_STOCHASTIC;
  opts.seed = seed;
  out = p2p_net_run (model, &opts, input, &error);
  g_assert_no_error (error);
  return out;
}

static double
tensor_diff (const P2pTensor *a, const P2pTensor *b)
{
  gsize where;
  g_assert_cmpuint (p2p_tensor_numel (a), ==, p2p_tensor_numel (b));
  return max_abs_diff (a->data, b->data, p2p_tensor_numel (a), &where);
}

static void
test_stochastic (gconstpointer data)
{
  const char *name = data;
  g_autofree char *io_file = g_strconcat (name, ".io.safetensors", NULL);
  g_autofree char *io_path = golden_path (io_file);
  g_autoptr(Fixture) io = fixture_load (io_path);
  g_autofree char *model_path = golden_path (fixture_meta (io, "model"));
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = p2p_model_load (model_path, &error);
  g_autoptr(P2pTensor) input = NULL, official = NULL, s1 = NULL, s1b = NULL, s2 = NULL;

  g_assert_no_error (error);
  input = fixture_chw (io, "input");
  official = run_net (model, input, P2P_NORM_MODE_OFFICIAL);
  s1 = run_stochastic (model, input, 1);
  s1b = run_stochastic (model, input, 1);
  s2 = run_stochastic (model, input, 2);
  g_assert_cmpfloat (tensor_diff (s1, s1b), ==, 0.0);
  if (p2p_model_get_info (model)->use_dropout)
    {
      g_test_message ("seed 1 vs 2: %.3g, seed 1 vs official: %.3g",
                      tensor_diff (s1, s2), tensor_diff (s1, official));
      g_assert_cmpfloat (tensor_diff (s1, s2), >, 1e-3);
      g_assert_cmpfloat (tensor_diff (s1, official), >, 1e-3);
    }
  else
    {
      g_assert_cmpfloat (tensor_diff (s1, official), <=, 1e-6);
      g_assert_cmpfloat (tensor_diff (s2, official), <=, 1e-6);
    }
}

/* The model's reported info agrees with the fixture's metadata. */
static void
test_info (void)
{
  g_autofree char *path = golden_path ("resnet6_batch_drop_bf16.safetensors");
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = p2p_model_load (path, &error);
  const P2pModelInfo *info;

  g_assert_no_error (error);
  info = p2p_model_get_info (model);
  g_assert_cmpint (info->arch, ==, P2P_ARCH_RESNET);
  g_assert_cmpstr (info->arch_name, ==, "resnet_6blocks");
  g_assert_cmpint (info->depth, ==, 6);
  g_assert_cmpint (info->ngf, ==, 3);
  g_assert_cmpint (info->norm, ==, P2P_NORM_BATCH);
  g_assert_true (info->use_dropout);
  g_assert_cmpint (info->task, ==, P2P_TASK_GENERIC);
  g_assert_cmpint (info->native_size, ==, 256);
  g_assert_cmpstr (info->license, ==, "CC0-1.0");
  g_assert_cmpint (p2p_model_size_multiple (model), ==, 4);

  g_clear_pointer (&model, p2p_model_free);
  g_free (path);
  path = golden_path ("unet128_colorize.safetensors");
  model = p2p_model_load (path, &error);
  g_assert_no_error (error);
  info = p2p_model_get_info (model);
  g_assert_cmpint (info->arch, ==, P2P_ARCH_UNET);
  g_assert_cmpint (info->depth, ==, 7);
  g_assert_cmpint (info->task, ==, P2P_TASK_COLORIZE);
  g_assert_cmpint (info->input_space, ==, P2P_SPACE_LAB_L);
  g_assert_cmpint (info->output_space, ==, P2P_SPACE_LAB_AB);
  g_assert_cmpint (p2p_model_size_multiple (model), ==, 128);
}

/* ---- colorize end to end ---------------------------------------------- */

static void
test_colorize_net (void)
{
  g_autofree char *path = golden_path ("colorize_e2e.safetensors");
  g_autoptr(Fixture) fx = fixture_load (path);
  g_autofree char *model_path = golden_path (fixture_meta (fx, "model"));
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = p2p_model_load (model_path, &error);
  g_autoptr(P2pTensor) input = NULL, want = NULL, got = NULL;
  g_autofree float *L = NULL;
  gint64 shape[4];
  int ndim;

  g_assert_no_error (error);
  L = fixture_tensor (fx, "lab_l", &ndim, shape);
  g_assert_cmpint (ndim, ==, 2);
  input = p2p_tensor_new (1, (int) shape[0], (int) shape[1], &error);
  g_assert_no_error (error);
  /* The reference: float32 L / 50 - 1. */
  for (gsize i = 0; i < p2p_tensor_numel (input); i++)
    input->data[i] = L[i] / 50.0f - 1.0f;
  want = fixture_chw (fx, "net_output_ab");
  got = run_net (model, input, P2P_NORM_MODE_OFFICIAL);
  assert_close ("colorize ab", got, want, TOLERANCE);
}

static void
test_colorize_pipeline (void)
{
  g_autofree char *path = golden_path ("colorize_e2e.safetensors");
  g_autoptr(Fixture) fx = fixture_load (path);
  g_autofree char *model_path = golden_path (fixture_meta (fx, "model"));
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = p2p_model_load (model_path, &error);
  g_autoptr(P2pImage) in = NULL, out = NULL;
  g_autofree float *rgb8 = NULL, *want = NULL;
  P2pPipelineOptions opts;
  gint64 shape[4], wshape[4];
  int ndim, wndim;
  gsize n, where;
  double d;

  g_assert_no_error (error);
  rgb8 = fixture_tensor (fx, "image_rgb8", &ndim, shape);
  want = fixture_tensor (fx, "rgb_float", &wndim, wshape);
  g_assert_cmpint (ndim, ==, 3);
  g_assert_cmpint (shape[2], ==, 3);
  in = p2p_image_new ((int) shape[1], (int) shape[0], 3, &error);
  g_assert_no_error (error);
  n = (gsize) shape[0] * shape[1] * 3;
  for (gsize i = 0; i < n; i++)
    in->data[i] = rgb8[i] / 255.0f;

  p2p_pipeline_options_init (&opts);
  /* The image already has the native size: no resampling either way. */
  opts.size_mode = P2P_SIZE_MODE_WHOLE;
  opts.net.norm_mode = P2P_NORM_MODE_OFFICIAL;
  opts.chroma = 1.0;
  out = p2p_pipeline_run (model, in, &opts, &error);
  g_assert_no_error (error);
  g_assert_cmpint (out->width, ==, in->width);
  g_assert_cmpint (out->height, ==, in->height);
  g_assert_cmpint (out->channels, ==, 3);
  d = max_abs_diff (out->data, want, n, &where);
  /* Lab conversions may run in float32 in the engine: allow for that, but
   * far below one 8-bit step (1/255 = 3.9e-3). */
  g_test_message ("colorize pipeline: max abs error %.3g", d);
  if (!(d <= 1e-3))
    g_test_fail_printf ("colorize pipeline: max abs error %.6g at pixel %" G_GSIZE_FORMAT
                        " channel %d: got %.7g, want %.7g", d, where / 3, (int) (where % 3),
                        out->data[where], want[where]);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

int
main (int argc, char **argv)
{
  g_autofree char *dir_path = NULL;
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *entry;

  g_test_init (&argc, &argv, NULL);

  dir_path = g_test_build_filename (G_TEST_DIST, "data", "golden", NULL);
  dir = g_dir_open (dir_path, 0, NULL);
  if (dir)
    while ((entry = g_dir_read_name (dir)))
      if (g_str_has_suffix (entry, ".io.safetensors"))
        g_ptr_array_add (names, g_strndup (entry, strlen (entry) - strlen (".io.safetensors")));
  /* Missing fixtures must fail, not silently test nothing. */
  if (names->len < 12)
    g_error ("expected at least 12 golden fixtures in %s, found %u", dir_path, names->len);
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *test_path = g_strconcat ("/golden/net/", (char *) names->pdata[i], NULL);
      g_test_add_data_func (test_path, names->pdata[i], test_network);
    }
  g_test_add_func ("/golden/info", test_info);
  g_test_add_data_func ("/golden/stochastic/unet-dropout", "unet128_batch", test_stochastic);
  g_test_add_data_func ("/golden/stochastic/resnet-dropout", "resnet9_batch_drop", test_stochastic);
  g_test_add_data_func ("/golden/stochastic/no-dropout", "resnet6_batch", test_stochastic);
  g_test_add_func ("/golden/colorize/net", test_colorize_net);
  g_test_add_func ("/golden/colorize/pipeline", test_colorize_pipeline);
  return g_test_run ();
}
