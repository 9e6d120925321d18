/* pix2pix-cli.c - command-line front-end of the pix2pix core.
 *
 *   pix2pix-cli run --model MODEL [options] INPUT OUTPUT
 *   pix2pix-cli run --model MODEL [options] --output-dir DIR INPUT|FOLDER...
 *   pix2pix-cli info MODEL
 *   pix2pix-cli models
 *   pix2pix-cli bench --model MODEL --size WxH [--threads N] [--runs N] [--per-layer] [--fresh-buffers]
 *   pix2pix-cli import CHECKPOINT.pth OUTPUT.safetensors [--task T] [--name N] ...
 *
 * MODEL is a model file, or the name of an installed model looked up as
 * the plug-in does (p2p-model-path.h).
 * Exit status: 0 success, 1 runtime failure (one line on stderr:
 * "pix2pix-cli: <message>"; a batch run prints one such line per failed
 * file, writes the others and then exits 1), 2 usage error.
 */
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "p2p.h"

#define PROG "pix2pix-cli"
#ifndef P2P_CLI_VERSION
#define P2P_CLI_VERSION "(unknown version)"
#endif
/* Colon-separated folders an install puts the bundled models into (the
 * plug-in folders of the GIMPs found at build time, the data folder). */
#ifndef P2P_CLI_MODEL_DIRS
#define P2P_CLI_MODEL_DIRS ""
#endif
#ifndef P2P_CLI_LOCALEDIR
#define P2P_CLI_LOCALEDIR ""
#endif

enum { EXIT_OK = 0, EXIT_FAILURE_RUN = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
  "Usage:\n"
  "  " PROG " run --model MODEL [--size-mode resize|whole|tile] [--net-size N]\n"
  "              [--tile-size N] [--tile-overlap N]\n"
  "              [--norm-mode official|running|stochastic] [--seed N] [--chroma X] [--threads N]\n"
  "              [--hints HINTS] [--max-memory MB] [--estimate] INPUT OUTPUT\n"
  "  " PROG " run --model MODEL [options] [--hints-dir DIR] [--format EXT]\n"
  "              --output-dir DIR INPUT|FOLDER...\n"
  "  " PROG " info MODEL\n"
  "  " PROG " models\n"
  "  " PROG " bench --model MODEL --size WxH [--threads N] [--runs N] [--per-layer] [--fresh-buffers]\n"
  "  " PROG " import CHECKPOINT.pth OUTPUT.safetensors [--task sketch-to-photo|colorize|generic]\n"
  "              [--name NAME] [--license L] [--dtype F32|F16|BF16] [--dropout yes|no]\n"
  "  " PROG " COMMAND --help\n";

/* Prints one line on stderr: whatever the message holds, scripts and the
 * tests rely on a single line. */
static void
p2p_cli_fail_message (const char *message)
{
  g_autofree char *line = g_strdup (message ? message : "unknown error");

  g_strdelimit (line, "\r\n", ' ');
  g_strstrip (line);
  fprintf (stderr, PROG ": %s\n", line);
}

static int
p2p_cli_fail (GError *error)
{
  p2p_cli_fail_message (error ? error->message : NULL);
  return EXIT_FAILURE_RUN;
}

static int G_GNUC_PRINTF (1, 2)
p2p_cli_usage_error (const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  g_strdelimit (msg, "\r\n", ' ');
  fprintf (stderr, PROG ": %s\n%s", msg, usage_text);
  return EXIT_USAGE;
}

/* Parses the options of one subcommand; FALSE after printing a usage
 * error.  --help is handled (and exits 0) inside GOption. */
static gboolean
p2p_cli_parse (const char    *command,
               const char    *parameters,
               const char    *summary,
               GOptionEntry  *entries,
               int           *argc,
               char        ***argv)
{
  g_autoptr(GOptionContext) ctx = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *prgname = g_strdup_printf (PROG " %s", command);
  gboolean ok;

  /* GOption's --help reads "<prgname> [OPTION…] <parameters>". */
  g_set_prgname (prgname);
  ctx = g_option_context_new (parameters);
  g_option_context_set_summary (ctx, summary);
  g_option_context_add_main_entries (ctx, entries, NULL);
  ok = g_option_context_parse (ctx, argc, argv, &error);
  g_set_prgname (PROG);
  if (!ok)
    {
      p2p_cli_usage_error ("%s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* ---- images ------------------------------------------------------------ */

/* Prefixes gdk-pixbuf's @error about the file at @path with "@what: ",
 * naming the file ("@verb “name”: ") only where the message does not
 * already (gdk-pixbuf's usually do). */
static void
p2p_cli_prefix_file_error (GError **error, const char *path, const char *what, const char *verb)
{
  g_autofree char *display = g_filename_display_name (path);

  if (strstr ((*error)->message, display))
    g_prefix_error (error, "%s: ", what);
  else
    g_prefix_error (error, "%s “%s”: ", verb, display);
}

/* The input as the user has it: an 8-bit RGB or RGBA pixbuf, upright. */
static GdkPixbuf *
p2p_cli_load_image (const char *path, GError **error)
{
  g_autoptr(GdkPixbuf) raw = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *display = g_filename_display_name (path);
  int nch;

  raw = gdk_pixbuf_new_from_file (path, error);
  if (!raw)
    {
      p2p_cli_prefix_file_error (error, path, "cannot read image", "cannot read image");
      return NULL;
    }
  /* Camera JPEGs are often stored sideways with an EXIF rotation. */
  pixbuf = gdk_pixbuf_apply_embedded_orientation (raw);
  if (!pixbuf)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   "not enough memory to rotate image “%s”", display);
      return NULL;
    }
  g_clear_object (&raw);

  nch = gdk_pixbuf_get_n_channels (pixbuf);
  if (gdk_pixbuf_get_colorspace (pixbuf) != GDK_COLORSPACE_RGB ||
      gdk_pixbuf_get_bits_per_sample (pixbuf) != 8 || (nch != 3 && nch != 4) ||
      (nch == 4) != !!gdk_pixbuf_get_has_alpha (pixbuf))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   "unsupported pixel format in image “%s”", display);
      return NULL;
    }
  return g_steal_pointer (&pixbuf);
}

static inline guchar
p2p_cli_to_u8 (float v)
{
  if (!(v > 0.0f))
    return 0;
  if (v >= 1.0f)
    return 255;
  return (guchar) (v * 255.0f + 0.5f);
}

/* The pipeline reads rows of the input pixbuf as floats and writes rows of
 * the result straight into the output pixbuf: no image-sized float buffer
 * in tile mode. */
typedef struct {
  const guchar *in;
  int           in_stride, in_nch;
  const guchar *hints;              /* RGBA, or NULL */
  int           hints_stride;
  guchar       *out;
  int           out_stride, out_nch;
  int           width;
} P2pCliRows;

static gboolean
p2p_cli_read_rows (P2pInput input, int y, int n_rows, float *rows, gpointer data,
                   GError **error)
{
  const P2pCliRows *r = data;
  const gboolean hints = input == P2P_INPUT_HINTS;
  const int ch = hints ? 4 : r->in_nch;

  for (int j = 0; j < n_rows; j++)
    {
      const guchar *row = hints ? r->hints + (gsize) (y + j) * r->hints_stride
                                : r->in + (gsize) (y + j) * r->in_stride;
      float *out = rows + (gsize) j * r->width * ch;

      /* As ToTensor: uint8 / 255 in float. */
      for (int i = 0; i < r->width * ch; i++)
        out[i] = (float) row[i] / 255.0f;
    }
  return TRUE;
}

static gboolean
p2p_cli_write_rows (int y, int n_rows, const float *rows, int channels, gpointer data,
                    GError **error)
{
  const P2pCliRows *r = data;

  if (channels != r->out_nch)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   "the result has %d channels, not %d", channels, r->out_nch);
      return FALSE;
    }
  for (int j = 0; j < n_rows; j++)
    {
      guchar *row = r->out + (gsize) (y + j) * r->out_stride;
      const float *in = rows + (gsize) j * r->width * channels;

      for (int i = 0; i < r->width * channels; i++)
        row[i] = p2p_cli_to_u8 (in[i]);
    }
  return TRUE;
}

/* The gdk-pixbuf format that writes files named like @path (by the
 * extension, any case), e.g. "png", "jpeg", "tiff", "bmp" (transfer
 * full), or NULL with a message listing the writable types.  Checked
 * before the network runs, so that a wrong name costs nothing. */
static char *
p2p_cli_output_format (const char *path, GError **error)
{
  g_autofree char *base = g_path_get_basename (path);
  const char *dot = strrchr (base, '.');
  g_autofree char *ext = dot && dot[1] ? g_ascii_strdown (dot + 1, -1) : NULL;
  g_autoptr(GString) known = g_string_new (NULL);
  GSList *formats = gdk_pixbuf_get_formats ();
  char *found = NULL;

  for (GSList *l = formats; l != NULL; l = l->next)
    {
      GdkPixbufFormat *f = l->data;
      g_auto(GStrv) exts = NULL;

      if (!gdk_pixbuf_format_is_writable (f) || gdk_pixbuf_format_is_disabled (f))
        continue;
      exts = gdk_pixbuf_format_get_extensions (f);
      for (int i = 0; exts != NULL && exts[i] != NULL; i++)
        {
          if (!found && ext && g_ascii_strcasecmp (exts[i], ext) == 0)
            found = gdk_pixbuf_format_get_name (f);
          g_string_append_printf (known, "%s.%s", known->len ? ", " : "", exts[i]);
        }
    }
  g_slist_free (formats);
  if (!found)
    {
      g_autofree char *display = g_filename_display_name (path);

      if (ext)
        g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                     _("cannot write “%s”: unknown image type “.%s” (known: %s)"),
                     display, ext, known->str);
      else
        g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                     _("cannot write “%s”: the file name has no extension to say its "
                       "image type (known: %s)"), display, known->str);
    }
  return found;
}

static gboolean
p2p_cli_save (GdkPixbuf *pixbuf, const char *path, const char *format, GError **error)
{
  gboolean ok;

  /* gdk-pixbuf's JPEG default (75) shows blocks in smooth results. */
  if (g_str_equal (format, "jpeg"))
    ok = gdk_pixbuf_save (pixbuf, path, format, error, "quality", "95", NULL);
  else
    ok = gdk_pixbuf_save (pixbuf, path, format, error, NULL);
  if (!ok)
    p2p_cli_prefix_file_error (error, path, "cannot write the result", "cannot write");
  return ok;
}

/* The folders pix2pix-cli looks models up in (transfer full): as the
 * plug-in, the bundled models first (the installed plug-in folders, and a
 * per-user plug-in install in a GIMP profile), then the user's own models
 * (pix2pix/ in the GIMP 3.0 and 2.10 profiles), then $P2P_MODEL_PATH. */
static char **
p2p_cli_model_search_path (void)
{
  static const struct { const char *env, *version; } gimps[] = {
    { "GIMP3_DIRECTORY", "3.0" }, { "GIMP2_DIRECTORY", "2.10" },
  };
  g_auto(GStrv) installed = g_strsplit (P2P_CLI_MODEL_DIRS, G_SEARCHPATH_SEPARATOR_S, -1);
  g_autoptr(GStrvBuilder) bundled = g_strv_builder_new ();
  g_autoptr(GStrvBuilder) user = g_strv_builder_new ();
  g_auto(GStrv) bundled_v = NULL, user_v = NULL;

  g_strv_builder_addv (bundled, (const char **) installed);
  for (guint i = 0; i < G_N_ELEMENTS (gimps); i++)
    {
      /* GIMP's own rule: $GIMPn_DIRECTORY (relative to the home folder
       * unless absolute), else <config folder>/GIMP/<version>. */
      const char *env = g_getenv (gimps[i].env);
      g_autofree char *profile =
        env && *env ? (g_path_is_absolute (env) ? g_strdup (env)
                                                : g_build_filename (g_get_home_dir (), env, NULL))
                    : g_build_filename (g_get_user_config_dir (), "GIMP", gimps[i].version, NULL);
      g_autofree char *plugin = g_build_filename (profile, "plug-ins", "gimp-pix2pix", "models", NULL);
      g_autofree char *own = g_build_filename (profile, P2P_PROFILE_MODEL_DIR, NULL);

      g_strv_builder_add (bundled, plugin);
      g_strv_builder_add (user, own);
    }
  bundled_v = g_strv_builder_end (bundled);
  user_v = g_strv_builder_end (user);
  return p2p_model_search_path_new ((const char *const *) bundled_v, (const char *const *) user_v);
}

/* @model is a file (a path, or a file in the current folder) or the name
 * of a model in the search path (transfer full). */
static char *
p2p_cli_find_model (const char *model, GError **error)
{
  g_auto(GStrv) search = NULL;

  if (g_file_test (model, G_FILE_TEST_IS_REGULAR) || strchr (model, G_DIR_SEPARATOR))
    return g_strdup (model);
  search = p2p_cli_model_search_path ();
  return p2p_model_path_resolve (search, model, error);
}

static P2pModel *
p2p_cli_load_model (const char *name, GError **error)
{
  g_autofree char *path = p2p_cli_find_model (name, error);

  if (!path)
    return NULL;
  /* The core's messages name the file. */
  return p2p_model_load (path, error);
}

/* ---- run --------------------------------------------------------------- */

/* Runs @model on the image file @in_path and writes the result to
 * @out_path as @format; @hints_path (or NULL) is a hints image of the
 * input's size.  Nothing is written on failure. */
static gboolean
p2p_cli_run_file (P2pModel                 *model,
                  const P2pPipelineOptions *base_options,
                  const char               *in_path,
                  const char               *hints_path,
                  const char               *out_path,
                  const char               *format,
                  GError                  **error)
{
  P2pPipelineOptions options = *base_options;
  g_autoptr(GdkPixbuf) hints = NULL;
  g_autoptr(GdkPixbuf) input = NULL;
  g_autoptr(GdkPixbuf) output = NULL;
  P2pCliRows rows;
  int w, h;

  input = p2p_cli_load_image (in_path, error);
  if (!input)
    return FALSE;
  w = gdk_pixbuf_get_width (input);
  h = gdk_pixbuf_get_height (input);
  if (hints_path)
    {
      g_autofree char *display = g_filename_display_name (hints_path);

      /* Whether the model takes hints is the pipeline's to say (its task
       * table); it refuses before anything is written. */
      hints = p2p_cli_load_image (hints_path, error);
      if (!hints)
        return FALSE;
      if (gdk_pixbuf_get_width (hints) != w || gdk_pixbuf_get_height (hints) != h)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       "%s: the hints image is %d x %d pixels, the input %d x %d; "
                       "they must be the same size", display,
                       gdk_pixbuf_get_width (hints), gdk_pixbuf_get_height (hints), w, h);
          return FALSE;
        }
      if (!gdk_pixbuf_get_has_alpha (hints) || gdk_pixbuf_get_n_channels (hints) != 4)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       "%s: the hints image has no transparency; hints are the opaque "
                       "pixels of an otherwise transparent image", display);
          return FALSE;
        }
      options.read_hints = TRUE;
    }
  /* The result has the input's alpha, if the model's task keeps it (a
   * sketch is flattened on white: opaque).  Its pages are touched only as
   * the rows arrive. */
  output = gdk_pixbuf_new (GDK_COLORSPACE_RGB,
                           p2p_pipeline_result_channels (model,
                                                         gdk_pixbuf_get_n_channels (input)) == 4,
                           8, w, h);
  if (!output)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   "not enough memory to write a %d x %d image", w, h);
      return FALSE;
    }
  rows.in = gdk_pixbuf_read_pixels (input);
  rows.in_stride = gdk_pixbuf_get_rowstride (input);
  rows.in_nch = gdk_pixbuf_get_n_channels (input);
  rows.out = gdk_pixbuf_get_pixels (output);
  rows.out_stride = gdk_pixbuf_get_rowstride (output);
  rows.out_nch = gdk_pixbuf_get_n_channels (output);
  rows.width = w;
  rows.hints = hints ? gdk_pixbuf_read_pixels (hints) : NULL;
  rows.hints_stride = hints ? gdk_pixbuf_get_rowstride (hints) : 0;
  if (!p2p_pipeline_run_rows (model, w, h, rows.in_nch, p2p_cli_read_rows, p2p_cli_write_rows,
                              &rows, &options, error))
    return FALSE;
  /* Large images: make room for the encoder. */
  g_clear_object (&input);
  return p2p_cli_save (output, out_path, format, error);
}

/* "dir/name.ext" -> "name" (transfer full). */
static char *
p2p_cli_stem (const char *path)
{
  char *base = g_path_get_basename (path);
  char *dot = strrchr (base, '.');

  if (dot && dot != base)
    *dot = '\0';
  return base;
}

static gboolean
p2p_cli_is_image_name (const char *name)
{
  GSList *formats = gdk_pixbuf_get_formats ();
  const char *dot = strrchr (name, '.');
  gboolean found = FALSE;

  for (GSList *l = formats; dot && !found && l != NULL; l = l->next)
    {
      g_auto(GStrv) exts = gdk_pixbuf_format_get_extensions (l->data);

      for (int i = 0; exts != NULL && exts[i] != NULL && !found; i++)
        found = g_ascii_strcasecmp (exts[i], dot + 1) == 0;
    }
  g_slist_free (formats);
  return found;
}

static int
p2p_cli_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The batch's input files (transfer full): each file argument as given,
 * each folder's image files (by their extension; not its subfolders),
 * sorted by name. */
static GPtrArray *
p2p_cli_batch_inputs (char **args, GError **error)
{
  g_autoptr(GPtrArray) inputs = g_ptr_array_new_with_free_func (g_free);

  for (int i = 0; args[i] != NULL; i++)
    {
      g_autoptr(GDir) dir = NULL;
      g_autoptr(GPtrArray) names = NULL;
      const char *name;

      if (!g_file_test (args[i], G_FILE_TEST_IS_DIR))
        {
          /* A missing file is that file's failure, reported in turn. */
          g_ptr_array_add (inputs, g_strdup (args[i]));
          continue;
        }
      dir = g_dir_open (args[i], 0, error);
      if (!dir)
        return NULL;
      names = g_ptr_array_new_with_free_func (g_free);
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (args[i], name, NULL);

          if (p2p_cli_is_image_name (name) && g_file_test (path, G_FILE_TEST_IS_REGULAR))
            g_ptr_array_add (names, g_steal_pointer (&path));
        }
      g_ptr_array_sort (names, p2p_cli_compare_strings);
      for (guint k = 0; k < names->len; k++)
        g_ptr_array_add (inputs, g_strdup (names->pdata[k]));
    }
  return g_steal_pointer (&inputs);
}

/* Whether two paths name the same existing file. */
static gboolean
p2p_cli_same_file (const char *a, const char *b)
{
  GStatBuf sa, sb;

  return g_stat (a, &sa) == 0 && g_stat (b, &sb) == 0 &&
         sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* Batch use: every input into @out_dir as <stem>.<ext>; a file that fails
 * is reported (one line on stderr) and the others go on.  Progress lines
 * on stdout: "[i/n] INPUT -> OUTPUT", and a summary at the end. */
static int
p2p_cli_run_batch (P2pModel                 *model,
                   const P2pPipelineOptions *options,
                   char                    **args,
                   const char               *out_dir,
                   const char               *hints_dir,
                   const char               *ext,
                   const char               *format)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) inputs = p2p_cli_batch_inputs (args, &error);
  g_autoptr(GHashTable) written = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint n_ok = 0, n_failed = 0;

  if (!inputs)
    return p2p_cli_fail (error);
  if (inputs->len == 0)
    {
      p2p_cli_fail_message (_("no input images (a folder's image files are those whose "
                              "extension names an image type)"));
      return EXIT_FAILURE_RUN;
    }
  for (guint i = 0; i < inputs->len; i++)
    {
      const char *in = inputs->pdata[i];
      g_autofree char *stem = p2p_cli_stem (in);
      g_autofree char *out_name = g_strconcat (stem, ".", ext, NULL);
      g_autofree char *out = g_build_filename (out_dir, out_name, NULL);
      g_autofree char *hints = NULL;
      g_autoptr(GError) file_error = NULL;
      const char *earlier;

      if (hints_dir)
        {
          g_autofree char *hints_name = g_strconcat (stem, ".png", NULL);

          hints = g_build_filename (hints_dir, hints_name, NULL);
          if (!g_file_test (hints, G_FILE_TEST_IS_REGULAR))
            g_clear_pointer (&hints, g_free);
        }
      printf ("[%u/%u] %s -> %s\n", i + 1, inputs->len, in, out);
      fflush (stdout);
      earlier = g_hash_table_lookup (written, out);
      if (earlier)
        g_set_error (&file_error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                     _("%s: not written: “%s” holds the result of %s"), in, out, earlier);
      else if (p2p_cli_same_file (in, out))
        g_set_error (&file_error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                     _("%s: not written: the result would replace the input"), in);
      else if (p2p_cli_run_file (model, options, in, hints, out, format, &file_error))
        {
          g_hash_table_insert (written, g_strdup (out), g_strdup (in));
          n_ok++;
          continue;
        }
      /* Each message on one line, prefixed by the file unless the
       * message names it already. */
      {
        g_autofree char *display = g_filename_display_name (in);

        if (!strstr (file_error->message, display))
          g_prefix_error (&file_error, "%s: ", display);
      }
      p2p_cli_fail (file_error);
      n_failed++;
    }
  /* TRANSLATORS: the batch's summary: files written, files failed */
  printf (_("%u written, %u failed"), n_ok, n_failed);
  printf ("\n");
  return n_failed ? EXIT_FAILURE_RUN : EXIT_OK;
}

/* run --estimate: what p2p_pipeline_run_rows() would cost.  Exit status
 * 0 when the run would go ahead, 1 (with the one-line message the run
 * would give) when it would be refused for memory. */
static int
p2p_cli_print_estimate (const P2pModel *model, int w, int h, int channels,
                        const P2pPipelineOptions *options)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *peak = NULL, *limit = NULL;
  P2pRunEstimate est;

  if (!p2p_pipeline_estimate (model, w, h, channels, options, TRUE, &est, &error))
    return p2p_cli_fail (error);
  peak = g_format_size (est.peak_bytes);
  limit = g_format_size (est.limit_bytes);
  printf ("network:       %d x %d, %d pass%s\n", est.net_width, est.net_height, est.passes,
          est.passes == 1 ? "" : "es");
  printf ("MACs:          %" G_GUINT64_FORMAT " (%.2f G)\n", est.macs, est.macs / 1e9);
  printf ("peak memory:   %s (%" G_GUINT64_FORMAT " bytes; limit %s)\n", peak, est.peak_bytes,
          limit);
  printf ("time:          about %.1f s (at most %.0f * 10^9 MACs a second and thread)\n",
          est.seconds, P2P_ESTIMATE_MACS_PER_CORE_SECOND / 1e9);
  printf ("fits:          %s\n", est.fits ? "yes" : "no");
  if (!est.fits)
    {
      g_autofree char *msg = g_strdup_printf ("the run would need about %s of memory; "
                                              "the limit is %s", peak, limit);
      p2p_cli_fail_message (msg);
      return EXIT_FAILURE_RUN;
    }
  return EXIT_OK;
}

static int
p2p_cli_run (int argc, char **argv)
{
  g_autofree char *model_name = NULL;
  g_autofree char *size_mode = NULL;
  g_autofree char *norm_mode = NULL;
  g_autofree char *seed = NULL;
  g_autofree char *hints_path = NULL;
  g_autofree char *out_dir = NULL;
  g_autofree char *hints_dir = NULL;
  g_autofree char *out_ext = NULL;
  g_autofree char *format = NULL;
  g_auto(GStrv) files = NULL;
  double chroma = 1.0;
  int threads = 0, tile_size = 0, tile_overlap = 0, net_size = 0;
  double max_memory_mb = 0.0;
  gboolean estimate_only = FALSE;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_name,
      "Model file (.safetensors or .pth), or an installed model's name (see `" PROG " models`)",
      "MODEL" },
    { "size-mode", 0, 0, G_OPTION_ARG_STRING, &size_mode,
      "resize (to the network's size and back, default), whole (full resolution) or "
      "tile (full resolution in overlapping tiles, bounded memory)", "MODE" },
    { "net-size", 0, 0, G_OPTION_ARG_INT, &net_size,
      "Resize mode: size the network sees (default 0: the model's native size; for a model "
      "with a resize limit (see `" PROG " info`), larger images at their longer side up to "
      "that limit)", "N" },
    { "tile-size", 0, 0, G_OPTION_ARG_INT, &tile_size,
      "Tile mode: tile side (default 0: twice the model's native size, at least 256)", "N" },
    { "tile-overlap", 0, 0, G_OPTION_ARG_INT, &tile_overlap,
      "Tile mode: overlap between tiles (default 0: a quarter tile)", "N" },
    { "norm-mode", 0, 0, G_OPTION_ARG_STRING, &norm_mode,
      "official (default), running or stochastic", "MODE" },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed, "Seed of the stochastic mode (default 0)", "N" },
    { "chroma", 0, 0, G_OPTION_ARG_DOUBLE, &chroma,
      "Colorize: colour strength (default 1: as the model gives it; some models ask for "
      "stronger colour in runs without hints, see `info`)", "X" },
    { "hints", 0, 0, G_OPTION_ARG_FILENAME, &hints_path,
      "Colorize with a model that takes hints: an image of INPUT's size with transparency, "
      "whose opaque pixels give the colour of the photo there", "HINTS" },
    { "output-dir", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir,
      "Batch use: write each INPUT's result to DIR/<name>.<format>; INPUTs may be files "
      "and folders (their image files)", "DIR" },
    { "hints-dir", 0, 0, G_OPTION_ARG_FILENAME, &hints_dir,
      "Batch use: for INPUT name.ext, DIR/name.png (when there is one) is its --hints", "DIR" },
    { "format", 0, 0, G_OPTION_ARG_STRING, &out_ext,
      "Batch use: the results' file type by its extension: png (default), jpg, tiff, bmp, ...",
      "EXT" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default 0: all cores)", "N" },
    { "max-memory", 0, 0, G_OPTION_ARG_DOUBLE, &max_memory_mb,
      "Refuse, before running, a run estimated to need more than MB megabytes "
      "(default 0: the memory available now)", "MB" },
    { "estimate", 0, 0, G_OPTION_ARG_NONE, &estimate_only,
      "Print the estimated multiply-adds, peak memory and time of the run, and stop "
      "(OUTPUT is not written)", NULL },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  P2pPipelineOptions options;
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;

  if (!p2p_cli_parse ("run", "INPUT OUTPUT | --output-dir DIR INPUT...",
                      "Runs a model on an image and writes the result in the format the "
                      "output file's extension names (PNG, JPEG, TIFF, ...), or on many images "
                      "into a folder.",
                      entries, &argc, &argv))
    return EXIT_USAGE;

  p2p_pipeline_options_init (&options);
  if (!model_name)
    return p2p_cli_usage_error ("run: --model is required");
  if (out_dir)
    {
      if (!*out_dir)
        return p2p_cli_usage_error (_("run: --output-dir needs a folder"));
      if (!files || !files[0])
        return p2p_cli_usage_error (_("run: expected one or more INPUT files or folders"));
      if (hints_path)
        return p2p_cli_usage_error (_("run: with --output-dir, give hints with --hints-dir"));
    }
  else
    {
      if (!files || g_strv_length (files) != 2)
        return p2p_cli_usage_error (files && g_strv_length (files) > 2
                                    ? _("run: several inputs need --output-dir")
                                    : "run: expected INPUT and OUTPUT");
      if (hints_dir || out_ext)
        return p2p_cli_usage_error (_("run: --hints-dir and --format are for --output-dir"));
    }
  if (size_mode && !p2p_size_mode_from_string (size_mode, &options.size_mode))
    return p2p_cli_usage_error ("run: unknown size mode “%s” (resize, whole or tile)", size_mode);
  if (tile_size < 0 || tile_size > 16384 || tile_overlap < 0)
    return p2p_cli_usage_error ("run: --tile-size needs 0 to 16384 and --tile-overlap 0 or more");
  if (net_size < 0 || net_size > P2P_PIPELINE_NET_SIZE_MAX)
    return p2p_cli_usage_error ("run: --net-size needs 0 to %d", P2P_PIPELINE_NET_SIZE_MAX);
  options.net_size = net_size;
  options.tile_size = tile_size;
  options.tile_overlap = tile_overlap;
  if (norm_mode && !p2p_norm_mode_from_string (norm_mode, &options.net.norm_mode))
    return p2p_cli_usage_error ("run: unknown norm mode “%s” (official, running or stochastic)",
                                norm_mode);
  if (seed && !g_ascii_string_to_unsigned (seed, 10, 0, G_MAXUINT64, &options.net.seed, NULL))
    return p2p_cli_usage_error ("run: --seed needs a non-negative integer, not “%s”", seed);
  if (!isfinite (chroma) || chroma < 0.0)
    return p2p_cli_usage_error ("run: --chroma needs a number of 0 or more");
  if (threads < 0)
    return p2p_cli_usage_error ("run: --threads needs 0 (all cores) or more");
  if (!isfinite (max_memory_mb) || max_memory_mb < 0.0 || max_memory_mb > 1e12)
    return p2p_cli_usage_error ("run: --max-memory needs a number of megabytes, 0 or more");
  /* at least one byte: 0 means the memory available */
  options.max_memory = max_memory_mb > 0.0 ? MAX ((guint64) (max_memory_mb * 1e6), 1) : 0;
  options.chroma = chroma;
  options.net.threads = threads;

  /* The output type, before anything runs. */
  if (out_dir)
    {
      g_autofree char *probe = NULL;

      if (!out_ext)
        out_ext = g_strdup ("png");
      probe = g_strconcat ("result.", out_ext, NULL);
      format = p2p_cli_output_format (probe, &error);
    }
  else
    format = p2p_cli_output_format (files[1], &error);
  if (!format)
    return p2p_cli_usage_error ("%s", error->message);
  if (out_dir && !g_file_test (out_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *display = g_filename_display_name (out_dir);

      g_set_error (&error, P2P_ERROR, P2P_ERROR_NOT_FOUND,
                   _("the output folder “%s” does not exist"), display);
      return p2p_cli_fail (error);
    }
  if (hints_dir && !g_file_test (hints_dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *display = g_filename_display_name (hints_dir);

      g_set_error (&error, P2P_ERROR, P2P_ERROR_NOT_FOUND,
                   _("the hints folder “%s” does not exist"), display);
      return p2p_cli_fail (error);
    }
  p2p_blas_set_threads (threads);

  model = p2p_cli_load_model (model_name, &error);
  if (!model)
    return p2p_cli_fail (error);
  if (estimate_only)
    {
      g_autoptr(GdkPixbuf) input = NULL;

      if (out_dir)
        return p2p_cli_usage_error ("run: --estimate takes one INPUT and OUTPUT, "
                                    "not --output-dir");
      input = p2p_cli_load_image (files[0], &error);
      if (!input)
        return p2p_cli_fail (error);
      options.read_hints = hints_path != NULL;
      return p2p_cli_print_estimate (model, gdk_pixbuf_get_width (input),
                                     gdk_pixbuf_get_height (input),
                                     gdk_pixbuf_get_n_channels (input), &options);
    }
  if (out_dir)
    return p2p_cli_run_batch (model, &options, files, out_dir, hints_dir, out_ext, format);
  if (!p2p_cli_run_file (model, &options, files[0], hints_path, files[1], format, &error))
    return p2p_cli_fail (error);
  return EXIT_OK;
}

/* ---- models ------------------------------------------------------------ */

static int
p2p_cli_models (int argc, char **argv)
{
  GOptionEntry entries[] = { { NULL } };
  g_auto(GStrv) search = NULL;
  g_autoptr(GPtrArray) files = NULL;

  if (!p2p_cli_parse ("models", "",
                      "Lists the folders searched for models by name, and the models there.",
                      entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return p2p_cli_usage_error ("models: unexpected argument “%s”", argv[1]);
  search = p2p_cli_model_search_path ();
  files = p2p_model_path_list_files (search);
  printf ("%s\n", _("Folders searched, in this order:"));
  for (int i = 0; search[i] != NULL; i++)
    printf ("  %s\n", search[i]);
  printf ("%s\n", _("Models (use the name with --model):"));
  for (guint i = 0; i < files->len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(P2pModel) model = p2p_model_load (files->pdata[i], &error);
      g_autofree char *base = g_path_get_basename (files->pdata[i]);
      g_autofree char *stem = p2p_cli_stem (files->pdata[i]);
      const P2pModelInfo *info = model ? p2p_model_get_info (model) : NULL;

      /* The stem finds this file unless a .safetensors of the same stem
       * comes first in the folder or an earlier one: then the full name. */
      {
        g_autofree char *back = p2p_model_path_resolve (search, stem, NULL);
        const char *name = g_strcmp0 (back, files->pdata[i]) == 0 ? stem : base;

        if (info)
          printf ("  %-24s %-16s %s (%s)\n", name, p2p_task_to_string (info->task),
                  info->name && *info->name ? info->name : base, (char *) files->pdata[i]);
        else
          printf ("  %-24s %-16s %s: %s\n", name, _("(unusable)"),
                  (char *) files->pdata[i], error->message);
      }
    }
  return EXIT_OK;
}

/* ---- info -------------------------------------------------------------- */

static char *
p2p_cli_format_count (guint64 v)
{
  if (v >= G_GUINT64_CONSTANT (1000000000))
    return g_strdup_printf ("%" G_GUINT64_FORMAT " (%.2f G)", v, v / 1e9);
  if (v >= 1000000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " (%.2f M)", v, v / 1e6);
  if (v >= 1000)
    return g_strdup_printf ("%" G_GUINT64_FORMAT " (%.1f k)", v, v / 1e3);
  return g_strdup_printf ("%" G_GUINT64_FORMAT, v);
}

static int
p2p_cli_info (int argc, char **argv)
{
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autofree char *params = NULL;
  g_autofree char *macs = NULL;
  const P2pModelInfo *info;
  int multiple, native;

  if (!p2p_cli_parse ("info", "MODEL", "Prints a model's metadata (MODEL: a file or an "
                      "installed model's name).", entries, &argc, &argv))
    return EXIT_USAGE;
  if (!files || g_strv_length (files) != 1)
    return p2p_cli_usage_error ("info: expected one MODEL");

  model = p2p_cli_load_model (files[0], &error);
  if (!model)
    return p2p_cli_fail (error);
  info = p2p_model_get_info (model);
  multiple = MAX (p2p_model_size_multiple (model), 1);
  native = p2p_model_fit_side (model, info->native_size);
  params = p2p_cli_format_count (info->n_params);
  macs = p2p_cli_format_count (p2p_model_macs (model, native, native));

  printf ("name:          %s\n", info->name ? info->name : "");
  if (info->description && *info->description)
    printf ("description:   %s\n", info->description);
  printf ("license:       %s\n", info->license ? info->license : "");
  printf ("task:          %s\n", p2p_task_to_string (info->task));
  printf ("architecture:  %s (%s, %d %s)\n", info->arch_name,
          info->arch == P2P_ARCH_RESNET ? "ResNet" :
          info->arch == P2P_ARCH_UNET_RC ? "U-Net, resize-convolution decoder" : "U-Net",
          info->depth, info->arch == P2P_ARCH_RESNET ? "residual blocks" : "downsamplings");
  printf ("ngf:           %d\n", info->ngf);
  printf ("norm:          %s\n", p2p_norm_to_string (info->norm));
  printf ("dropout:       %s\n", info->use_dropout ? "yes" : "no");
  printf ("input:         %d channel%s, %s\n", info->input_nc, info->input_nc == 1 ? "" : "s",
          p2p_space_to_string (info->input_space));
  printf ("output:        %d channel%s, %s\n", info->output_nc, info->output_nc == 1 ? "" : "s",
          p2p_space_to_string (info->output_space));
  printf ("native size:   %d x %d\n", info->native_size, info->native_size);
  if (info->resize_max_size > 0)
    printf ("resize limit:  %d (resize mode, default network size: larger images run at their "
            "longer side, up to %d x %d)\n", info->resize_max_size, info->resize_max_size,
            info->resize_max_size);
  if (info->unhinted_chroma_target > 0)
    printf ("no-hint color: up to %d %% (a run without hints multiplies --chroma by what "
            "brings the prediction's mean chroma to %d, from 1 to %.2f)\n",
            info->unhinted_chroma_percent, info->unhinted_chroma_target,
            info->unhinted_chroma_percent / 100.0);
  else if (info->unhinted_chroma_percent != 100)
    printf ("no-hint color: %d %% (a run without hints multiplies --chroma by %.2f)\n",
            info->unhinted_chroma_percent, info->unhinted_chroma_percent / 100.0);
  printf ("size multiple: %d (at least %d)\n", multiple, p2p_model_min_size (model));
  printf ("parameters:    %s\n", params);
  printf ("MACs:          %s at %d x %d\n", macs, native, native);
  return EXIT_OK;
}

/* ---- bench ------------------------------------------------------------- */

static gboolean
p2p_cli_parse_size (const char *s, int *w, int *h)
{
  g_auto(GStrv) parts = g_strsplit_set (s, "xX", 3);
  guint64 a, b;

  if (g_strv_length (parts) == 1)
    {
      if (!g_ascii_string_to_unsigned (parts[0], 10, 1, P2P_IMAGE_MAX_SIDE, &a, NULL))
        return FALSE;
      *w = *h = (int) a;
      return TRUE;
    }
  if (g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 1, P2P_IMAGE_MAX_SIDE, &a, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 1, P2P_IMAGE_MAX_SIDE, &b, NULL))
    return FALSE;
  *w = (int) a;
  *h = (int) b;
  return TRUE;
}

static int
p2p_cli_cmp_double (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* --per-layer: every op of every timed run (runs x ops records). */
typedef struct {
  GArray *records;   /* P2pLayerTiming, run after run */
  gboolean on;
} P2pCliProfile;

static void
p2p_cli_profile_layer (const P2pLayerTiming *t, gpointer data)
{
  P2pCliProfile *prof = data;

  if (prof->on)
    g_array_append_vals (prof->records, t, 1);
}

static double
p2p_cli_median (double *v, int n)
{
  qsort (v, n, sizeof (double), p2p_cli_cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Per-op table (median over the runs of each op's time) and a summary of
 * where the time goes.  run_ms: the median whole-run time. */
static void
p2p_cli_print_profile (GArray *records, int runs, double run_ms)
{
  static const char *const phase_names[P2P_N_PHASES] = {
    "GEMM", "im2col / Winograd input+weight transforms", "col2im / Winograd output transform",
    "zeroing", "conv bias"
  };
  const guint n_ops = records->len / runs;
  g_autofree double *v = g_new (double, runs);
  double phase_ms[P2P_N_PHASES] = { 0 };
  double conv_ms = 0, listed_ms = 0, conv_other_ms = 0;
  g_autoptr(GHashTable) by_op = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, g_free);
  g_autoptr(GPtrArray) op_order = g_ptr_array_new ();
  guint64 macs_total = 0;

  if (n_ops * runs != records->len)
    {
      printf ("per-layer: runs reported different op counts; no table\n");
      return;
    }
  printf ("\nper-layer (median of %d runs; %% of the median run %.2f ms):\n", runs, run_ms);
  printf ("| # | op | k/s | in CxHxW | out CxHxW | ms | GFLOP/s | %% run | GEMM ms | im2col or W-in ms | col2im or W-out ms | zero+bias ms |\n");
  printf ("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  for (guint i = 0; i < n_ops; i++)
    {
      const P2pLayerTiming *t0 = &g_array_index (records, P2pLayerTiming, i);
      double ms, ph[P2P_N_PHASES];
      double *acc;

      for (int r = 0; r < runs; r++)
        v[r] = g_array_index (records, P2pLayerTiming, r * n_ops + i).seconds * 1e3;
      ms = p2p_cli_median (v, runs);
      for (int p = 0; p < P2P_N_PHASES; p++)
        {
          for (int r = 0; r < runs; r++)
            v[r] = g_array_index (records, P2pLayerTiming, r * n_ops + i).phase_s[p] * 1e3;
          ph[p] = p2p_cli_median (v, runs);
        }
      listed_ms += ms;
      acc = g_hash_table_lookup (by_op, t0->op);
      if (!acc)
        {
          acc = g_new0 (double, 1);
          g_hash_table_insert (by_op, (gpointer) t0->op, acc);
          g_ptr_array_add (op_order, (gpointer) t0->op);
        }
      *acc += ms;
      if (t0->macs)
        {
          double phase_sum = 0;
          conv_ms += ms;
          macs_total += t0->macs;
          for (int p = 0; p < P2P_N_PHASES; p++)
            {
              phase_ms[p] += ph[p];
              phase_sum += ph[p];
            }
          conv_other_ms += MAX (ms - phase_sum, 0.0);
          printf ("| %u | %s | %d/%d | %dx%dx%d | %dx%dx%d | %.2f | %.1f | %.1f | %.2f | %.2f | %.2f | %.2f |\n",
                  i, t0->op, t0->kernel, t0->stride, t0->in_c, t0->in_h, t0->in_w,
                  t0->out_c, t0->out_h, t0->out_w, ms,
                  ms > 0 ? 2.0 * (double) t0->macs / (ms * 1e6) : 0.0,
                  100.0 * ms / run_ms, ph[P2P_PHASE_GEMM], ph[P2P_PHASE_IM2COL],
                  ph[P2P_PHASE_COL2IM], ph[P2P_PHASE_ZERO] + ph[P2P_PHASE_BIAS]);
        }
      else
        printf ("| %u | %s | | %dx%dx%d | %dx%dx%d | %.2f | | %.1f | | | | |\n",
                i, t0->op, t0->in_c, t0->in_h, t0->in_w, t0->out_c, t0->out_h, t0->out_w,
                ms, 100.0 * ms / run_ms);
    }

  printf ("\nwhere the time goes (sums of per-op medians):\n");
  printf ("| part | ms | %% run |\n|---|---|---|\n");
  for (int p = 0; p < P2P_N_PHASES; p++)
    printf ("| convolutions: %s | %.2f | %.1f |\n", phase_names[p], phase_ms[p],
            100.0 * phase_ms[p] / run_ms);
  printf ("| convolutions: rest (output allocation, page faults outside the parts) | %.2f | %.1f |\n",
          conv_other_ms, 100.0 * conv_other_ms / run_ms);
  for (guint i = 0; i < op_order->len; i++)
    {
      const char *op = op_order->pdata[i];
      const double ms = *(double *) g_hash_table_lookup (by_op, op);
      if (g_str_equal (op, "conv") || g_str_equal (op, "conv-transpose"))
        continue;
      printf ("| %s | %.2f | %.1f |\n", op, ms, 100.0 * ms / run_ms);
    }
  printf ("| between ops (frees, progress, untimed) | %.2f | %.1f |\n",
          run_ms - listed_ms, 100.0 * (run_ms - listed_ms) / run_ms);
  printf ("convolutions: %.2f ms, %.1f GFLOP/s over their own time; GEMM alone %.1f GFLOP/s\n",
          conv_ms, conv_ms > 0 ? 2.0 * (double) macs_total / (conv_ms * 1e6) : 0.0,
          phase_ms[P2P_PHASE_GEMM] > 0 ?
            2.0 * (double) macs_total / (phase_ms[P2P_PHASE_GEMM] * 1e6) : 0.0);
}

static int
p2p_cli_bench (int argc, char **argv)
{
  g_autofree char *model_path = NULL;
  g_autofree char *size = NULL;
  int threads = 0, runs = 5;
  gboolean per_layer = FALSE, fresh = FALSE;
  g_autoptr(P2pArena) arena = NULL;
  P2pCliProfile prof = { NULL, FALSE };
  struct rusage ru0, ru1;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Model file, or an installed model's name", "MODEL" },
    { "size", 's', 0, G_OPTION_ARG_STRING, &size, "Input size, e.g. 256x256", "WxH" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &threads, "Threads (default 0: all cores)", "N" },
    { "runs", 'n', 0, G_OPTION_ARG_INT, &runs, "Timed runs after one warm-up (default 5)", "N" },
    { "per-layer", 0, 0, G_OPTION_ARG_NONE, &per_layer,
      "Also time every op (table of ops and where the time goes)", NULL },
    { "fresh-buffers", 0, 0, G_OPTION_ARG_NONE, &fresh,
      "Do not keep buffers between runs (each run as a single plug-in call)", NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(P2pTensor) input = NULL;
  g_autoptr(GRand) rand = NULL;
  g_autofree double *ms = NULL;
  g_autofree char *macs_str = NULL;
  const P2pModelInfo *info;
  P2pNetOptions options;
  struct rusage usage;
  int w, h, multiple;
  guint64 macs;
  double median;
  gsize n;

  if (!p2p_cli_parse ("bench", "", "Times the network alone on a random input.",
                      entries, &argc, &argv))
    return EXIT_USAGE;
  if (argc > 1)
    return p2p_cli_usage_error ("bench: unexpected argument “%s”", argv[1]);
  if (!model_path)
    return p2p_cli_usage_error ("bench: --model is required");
  if (!size || !p2p_cli_parse_size (size, &w, &h))
    return p2p_cli_usage_error ("bench: --size needs WxH, e.g. 256x256");
  if (threads < 0)
    return p2p_cli_usage_error ("bench: --threads needs 0 (all cores) or more");
  if (runs < 1 || runs > 10000)
    return p2p_cli_usage_error ("bench: --runs needs 1 to 10000");

  model = p2p_cli_load_model (model_path, &error);
  if (!model)
    return p2p_cli_fail (error);
  info = p2p_model_get_info (model);
  multiple = MAX (p2p_model_size_multiple (model), 1);
  if (w % multiple != 0 || h % multiple != 0 ||
      w < p2p_model_min_size (model) || h < p2p_model_min_size (model))
    {
      g_autofree char *msg =
        g_strdup_printf ("bench: %s needs sides that are multiples of %d and at least %d, "
                         "not %d x %d", info->arch_name, multiple,
                         p2p_model_min_size (model), w, h);
      p2p_cli_fail_message (msg);
      return EXIT_FAILURE_RUN;
    }

  p2p_blas_set_threads (threads);
  p2p_net_options_init (&options);
  options.threads = threads;
  if (!fresh)
    {
      arena = p2p_arena_new ();
      options.arena = arena;
    }
  if (per_layer)
    {
      prof.records = g_array_new (FALSE, FALSE, sizeof (P2pLayerTiming));
      options.layer_func = p2p_cli_profile_layer;
      options.layer_data = &prof;
    }

  input = p2p_tensor_new (info->input_nc, h, w, &error);
  if (!input)
    return p2p_cli_fail (error);
  rand = g_rand_new_with_seed (1);
  n = p2p_tensor_numel (input);
  for (gsize i = 0; i < n; i++)
    input->data[i] = (float) g_rand_double_range (rand, -1.0, 1.0);

  ms = g_new (double, runs);
  for (int r = -1; r < runs; r++)
    {
      gint64 t0;

      if (r == 0)
        getrusage (RUSAGE_SELF, &ru0);
      prof.on = r >= 0;
      t0 = g_get_monotonic_time ();
      g_autoptr(P2pTensor) out = p2p_net_run (model, &options, input, &error);

      if (!out)
        return p2p_cli_fail (error);
      if (r >= 0)
        ms[r] = (g_get_monotonic_time () - t0) / 1000.0;
    }
  getrusage (RUSAGE_SELF, &ru1);
  qsort (ms, runs, sizeof (double), p2p_cli_cmp_double);
  median = runs % 2 ? ms[runs / 2] : 0.5 * (ms[runs / 2 - 1] + ms[runs / 2]);
  macs = p2p_model_macs (model, h, w);
  macs_str = p2p_cli_format_count (macs);
  getrusage (RUSAGE_SELF, &usage);

  printf ("model:        %s (%s, ngf %d, norm %s)\n", info->name ? info->name : "",
          info->arch_name, info->ngf, p2p_norm_to_string (info->norm));
  printf ("size:         %d x %d\n", w, h);
  printf ("threads:      %d\n", p2p_blas_get_threads ());
  printf ("blas core:    %s\n", p2p_blas_get_corename ());
  printf ("runs:         %d after 1 warm-up, %s\n", runs,
          fresh ? "fresh buffers each run" : "buffers kept between runs");
  printf ("median:       %.2f ms (min %.2f, max %.2f)\n", median, ms[0], ms[runs - 1]);
  printf ("MACs:         %s\n", macs_str);
  printf ("GFLOP/s:      %.1f\n", median > 0 ? 2.0 * (double) macs / (median * 1e6) : 0.0);
  /* Linux reports ru_maxrss in KiB. */
  printf ("peak RSS:     %.1f MiB\n", usage.ru_maxrss / 1024.0);
  printf ("per run:      %.0f minor page faults, %.3f s user, %.3f s system (means)\n",
          (double) (ru1.ru_minflt - ru0.ru_minflt) / runs,
          ((ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
           1e-6 * (ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec)) / runs,
          ((ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
           1e-6 * (ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec)) / runs);
  if (per_layer)
    {
      p2p_cli_print_profile (prof.records, runs, median);
      g_array_unref (prof.records);
    }
  return EXIT_OK;
}

/* ---- import ------------------------------------------------------------ */

static int
p2p_cli_import (int argc, char **argv)
{
  g_autofree char *task = NULL, *name = NULL, *license = NULL, *dtype = NULL;
  g_autofree char *description = NULL, *source = NULL, *dropout = NULL;
  int native_size = 0;
  g_auto(GStrv) files = NULL;
  GOptionEntry entries[] = {
    { "task", 0, 0, G_OPTION_ARG_STRING, &task,
      "sketch-to-photo, colorize or generic (default: colorize for 1 -> 2 channels, else generic)", "TASK" },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name, "Display name (default: from the file name)", "NAME" },
    { "license", 0, 0, G_OPTION_ARG_STRING, &license, "Licence of the weights", "L" },
    { "description", 0, 0, G_OPTION_ARG_STRING, &description, "One or two sentences", "TEXT" },
    { "source", 0, 0, G_OPTION_ARG_STRING, &source, "Where the weights come from", "TEXT" },
    { "dtype", 0, 0, G_OPTION_ARG_STRING, &dtype,
      "Weight type written: F32, F16, BF16 (default: the checkpoint's)", "TYPE" },
    { "native-size", 0, 0, G_OPTION_ARG_INT, &native_size,
      "Training resolution (default: 2^depth for U-Nets, 256 for ResNets)", "N" },
    { "dropout", 0, 0, G_OPTION_ARG_STRING, &dropout,
      "yes or no: the U-Net has dropout layers (default: yes with batch norm)", "yes|no" },
    { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files, NULL, NULL },
    { NULL }
  };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(P2pModel) model = NULL;
  P2pImportOptions opts;
  const P2pModelInfo *info;
  gsize size;
  const char *data;

  if (!p2p_cli_parse ("import", "CHECKPOINT.pth OUTPUT.safetensors",
                      "Converts a PyTorch pix2pix/CycleGAN generator checkpoint (latest_net_G.pth) "
                      "to a model file.", entries, &argc, &argv))
    return EXIT_USAGE;
  if (!files || g_strv_length (files) != 2)
    return p2p_cli_usage_error ("import: expected CHECKPOINT and OUTPUT");

  p2p_import_options_init (&opts);
  if (task)
    {
      if (g_str_equal (task, "generic"))
        opts.task = P2P_TASK_GENERIC;
      else if (g_str_equal (task, "sketch-to-photo"))
        opts.task = P2P_TASK_SKETCH_TO_PHOTO;
      else if (g_str_equal (task, "colorize"))
        opts.task = P2P_TASK_COLORIZE;
      else
        return p2p_cli_usage_error ("import: unknown task “%s” (sketch-to-photo, colorize or generic)", task);
    }
  if (dtype)
    {
      if (g_ascii_strcasecmp (dtype, "F32") == 0)
        opts.dtype = P2P_IMPORT_DTYPE_F32;
      else if (g_ascii_strcasecmp (dtype, "F16") == 0)
        opts.dtype = P2P_IMPORT_DTYPE_F16;
      else if (g_ascii_strcasecmp (dtype, "BF16") == 0)
        opts.dtype = P2P_IMPORT_DTYPE_BF16;
      else
        return p2p_cli_usage_error ("import: unknown dtype “%s” (F32, F16 or BF16)", dtype);
    }
  if (dropout)
    {
      if (g_str_equal (dropout, "yes"))
        opts.dropout = 1;
      else if (g_str_equal (dropout, "no"))
        opts.dropout = 0;
      else
        return p2p_cli_usage_error ("import: --dropout needs yes or no");
    }
  if (native_size < 0)
    return p2p_cli_usage_error ("import: --native-size needs a positive number");
  opts.native_size = native_size;
  opts.name = name;
  opts.license = license;
  opts.description = description;
  opts.source = source;

  bytes = p2p_model_convert_pth (files[0], &opts, &error);
  if (!bytes)
    return p2p_cli_fail (error);
  /* Never write a file that the loader would refuse. */
  model = p2p_model_new_from_bytes (bytes, &error);
  if (!model)
    {
      g_prefix_error (&error, "%s: the checkpoint does not match the detected generator: ", files[0]);
      return p2p_cli_fail (error);
    }
  data = g_bytes_get_data (bytes, &size);
  if (!g_file_set_contents (files[1], data, (gssize) size, &error))
    return p2p_cli_fail (error);
  info = p2p_model_get_info (model);
  printf ("%s: %s, ngf %d, %d -> %d, norm %s, dropout %s, task %s\n", files[1], info->arch_name,
          info->ngf, info->input_nc, info->output_nc, p2p_norm_to_string (info->norm),
          info->use_dropout ? "yes" : "no", p2p_task_to_string (info->task));
  return EXIT_OK;
}

/* ---- main -------------------------------------------------------------- */

/* The catalogues (the core's messages and ours) are installed with the
 * plug-in (<plug-in folder>/locale, beside the bundled models' folder) or
 * in the system's locale folder. */
static void
p2p_cli_bind_textdomain (void)
{
  g_auto(GStrv) dirs = g_strsplit (P2P_CLI_MODEL_DIRS, G_SEARCHPATH_SEPARATOR_S, -1);

  for (int i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *parent = g_path_get_dirname (dirs[i]);
      g_autofree char *locale = g_build_filename (parent, "locale", NULL);

      if (*dirs[i] && g_file_test (locale, G_FILE_TEST_IS_DIR))
        {
          bindtextdomain (GETTEXT_PACKAGE, locale);
          bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
          return;
        }
    }
  if (*P2P_CLI_LOCALEDIR)
    bindtextdomain (GETTEXT_PACKAGE, P2P_CLI_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
}

int
main (int argc, char **argv)
{
  const char *command;

  p2p_blas_init_early (argc, argv);
  setlocale (LC_ALL, "");
  /* Figures on stdout stay machine-readable whatever the locale. */
  setlocale (LC_NUMERIC, "C");
  p2p_cli_bind_textdomain ();
  g_set_prgname (PROG);

  if (argc < 2)
    {
      fputs (usage_text, stderr);
      return EXIT_USAGE;
    }
  command = argv[1];
  if (g_str_equal (command, "--help") || g_str_equal (command, "-h") ||
      g_str_equal (command, "help"))
    {
      fputs (usage_text, stdout);
      return EXIT_OK;
    }
  if (g_str_equal (command, "--version"))
    {
      puts (PROG " " P2P_CLI_VERSION);
      return EXIT_OK;
    }

  /* Each subcommand parses its own options with argv[0] = the command. */
  if (g_str_equal (command, "run"))
    return p2p_cli_run (argc - 1, argv + 1);
  if (g_str_equal (command, "info"))
    return p2p_cli_info (argc - 1, argv + 1);
  if (g_str_equal (command, "models"))
    return p2p_cli_models (argc - 1, argv + 1);
  if (g_str_equal (command, "bench"))
    return p2p_cli_bench (argc - 1, argv + 1);
  if (g_str_equal (command, "import"))
    return p2p_cli_import (argc - 1, argv + 1);
  return p2p_cli_usage_error ("unknown command “%s”", command);
}
