/* test-plugin-common.c - the GIMP-free layer of the plug-in
 * (p2p-plugin-common.c) without GIMP: model folders, the model list and
 * name resolution, filter/model compatibility, texts, and the filter run on
 * GEGL buffers (rows, selection) against the core's own pipeline. */
#include "config.h"

#include <string.h>
#include <locale.h>
#include <glib/gstdio.h>

#include <gdk-pixbuf/gdk-pixbuf.h>

#include "p2p-plugin-common.h"
#include "p2p-plugin-batch.h"
#include "tiny-model.h"

typedef struct {
  char *root;       /* temporary folder */
  char *dir1, *dir2;
  char *search[3];  /* dir1, dir2, NULL */
} Folders;

static void
write_model (const char *dir, const char *file, const char *task, int in_nc, int out_nc,
             guint32 seed)
{
  TinyModelSpec spec = { "resnet_1blocks", 2, in_nc, out_nc, task, 16, seed, NULL };
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autoptr(GError) error = NULL;

  g_assert_true (tiny_model_write (&spec, path, &error));
  g_assert_no_error (error);
}

static void
folders_setup (Folders *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->root = g_dir_make_tmp ("p2p-plugin-common-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir1 = g_build_filename (f->root, "one", NULL);
  f->dir2 = g_build_filename (f->root, "two", NULL);
  g_mkdir (f->dir1, 0700);
  g_mkdir (f->dir2, 0700);
  f->search[0] = f->dir1;
  f->search[1] = f->dir2;
  f->search[2] = NULL;

  /* one: a sketch model, a generic one, a colorize one under another name,
   * a corrupt file and a file that is no model by its name */
  write_model (f->dir1, "mine.safetensors", "sketch-to-photo", 3, 3, 1);
  write_model (f->dir1, "any.safetensors", "generic", 3, 3, 2);
  write_model (f->dir1, "tint.safetensors", "colorize", 1, 2, 3);
  {
    g_autofree char *bad = g_build_filename (f->dir1, "bad.safetensors", NULL);
    g_autofree char *txt = g_build_filename (f->dir1, "notes.txt", NULL);

    g_assert_true (g_file_set_contents (bad, "not a model at all, but long enough to look", -1, NULL));
    g_assert_true (g_file_set_contents (txt, "hello", -1, NULL));
  }
  /* two: the filters' default models, and a second "mine" that one hides */
  write_model (f->dir2, "colorize.safetensors", "colorize", 1, 2, 4);
  write_model (f->dir2, "sketch-to-photo.safetensors", "sketch-to-photo", 3, 3, 5);
  write_model (f->dir2, "mine.safetensors", "colorize", 1, 2, 6);
  /* two: a PyTorch checkpoint put there as it was downloaded (a generic
   * ResNet) */
  {
    g_autofree char *pth = NULL;
    gsize len;
    g_autofree char *dest = g_build_filename (f->dir2, "style.pth", NULL);

    g_assert_true (g_file_get_contents (P2P_TEST_PTH, &pth, &len, NULL));
    g_assert_true (g_file_set_contents (dest, pth, (gssize) len, NULL));
  }
}

static void
remove_tree (const char *path)
{
  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
      const char *name;

      while (dir && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          remove_tree (child);
        }
    }
  g_remove (path);
}

static void
folders_teardown (Folders *f, gconstpointer data)
{
  remove_tree (f->root);
  g_free (f->root);
  g_free (f->dir1);
  g_free (f->dir2);
}

static void
test_search_path (void)
{
  g_auto(GStrv) path = NULL;
  int i = 0;

  g_setenv (P2P_MODEL_PATH_ENV, "/x/a" G_SEARCHPATH_SEPARATOR_S G_SEARCHPATH_SEPARATOR_S "/x/b", TRUE);
  path = p2p_plugin_model_search_path ("/opt/plug/gimp-pix2pix", "/home/u/.config/GIMP/3.0");
  g_unsetenv (P2P_MODEL_PATH_ENV);

  g_assert_cmpstr (path[i++], ==, "/opt/plug/models");
#ifdef P2P_MODELDIR
  g_assert_cmpstr (path[i++], ==, P2P_MODELDIR);
#endif
  g_assert_cmpstr (path[i++], ==, "/home/u/.config/GIMP/3.0/" P2P_PROFILE_MODEL_DIR);
  g_assert_cmpstr (path[i++], ==, "/x/a");   /* the empty entry is skipped */
  g_assert_cmpstr (path[i++], ==, "/x/b");
  g_assert_null (path[i]);

  /* a relative program name gives no plug-in folder */
  g_strfreev (g_steal_pointer (&path));
  path = p2p_plugin_model_search_path ("gimp-pix2pix", NULL);
#ifdef P2P_MODELDIR
  g_assert_cmpstr (path[0], ==, P2P_MODELDIR);
  g_assert_null (path[1]);
#else
  g_assert_null (path[0]);
#endif
}

static void
test_resolve (Folders *f, gconstpointer data)
{
  g_autofree char *c = NULL, *s = NULL, *mine = NULL, *mine2 = NULL, *byp = NULL;
  g_autofree char *want_mine = g_build_filename (f->dir1, "mine.safetensors", NULL);
  g_autofree char *want_col = g_build_filename (f->dir2, "colorize.safetensors", NULL);
  g_autofree char *want_sk = g_build_filename (f->dir2, "sketch-to-photo.safetensors", NULL);
  g_autofree char *missing = g_build_filename (f->dir2, "nope.safetensors", NULL);
  GError *error = NULL;

  c = p2p_plugin_model_resolve (f->search, P2P_FILTER_COLORIZE, "", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c, ==, want_col);
  s = p2p_plugin_model_resolve (f->search, P2P_FILTER_SKETCH_TO_PHOTO, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (s, ==, want_sk);
  /* with or without the suffix; the first folder wins */
  mine = p2p_plugin_model_resolve (f->search, P2P_FILTER_SKETCH_TO_PHOTO, "mine", &error);
  mine2 = p2p_plugin_model_resolve (f->search, P2P_FILTER_SKETCH_TO_PHOTO, "mine.safetensors", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mine, ==, want_mine);
  g_assert_cmpstr (mine2, ==, want_mine);
  /* a path is taken as it is */
  byp = p2p_plugin_model_resolve (f->search, P2P_FILTER_COLORIZE, want_sk, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (byp, ==, want_sk);
  /* a checkpoint in a model folder, by its file name or its stem */
  {
    g_autofree char *want_pth = g_build_filename (f->dir2, "style.pth", NULL);
    g_autofree char *p1 = p2p_plugin_model_resolve (f->search, P2P_FILTER_SKETCH_TO_PHOTO,
                                                    "style.pth", &error);
    g_autofree char *p2 = NULL;

    g_assert_no_error (error);
    g_assert_cmpstr (p1, ==, want_pth);
    p2 = p2p_plugin_model_resolve (f->search, P2P_FILTER_SKETCH_TO_PHOTO, "style", &error);
    g_assert_no_error (error);
    g_assert_cmpstr (p2, ==, want_pth);
  }

  g_assert_null (p2p_plugin_model_resolve (f->search, P2P_FILTER_COLORIZE, missing, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (p2p_plugin_model_resolve (f->search, P2P_FILTER_COLORIZE, "nope", &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  /* the message names what was asked for and every folder searched */
  g_assert_nonnull (strstr (error->message, "\"nope\""));
  g_assert_nonnull (strstr (error->message, f->dir1));
  g_assert_nonnull (strstr (error->message, f->dir2));
  g_clear_error (&error);
}

static const P2pPluginModel *
find_entry (GPtrArray *list, const char *file_name)
{
  for (guint i = 0; i < list->len; i++)
    {
      const P2pPluginModel *e = g_ptr_array_index (list, i);

      if (g_str_equal (e->file_name, file_name))
        return e;
    }
  return NULL;
}

static void
test_list (Folders *f, gconstpointer data)
{
  g_autoptr(GPtrArray) colorize = NULL;
  g_autoptr(GPtrArray) sketch = NULL;
  g_autoptr(GPtrArray) all = NULL;
  g_autofree char *mine_path = g_build_filename (f->dir1, "mine.safetensors", NULL);

  /* the corrupt model is reported with g_message and skipped */
  g_test_expect_message ("gimp-pix2pix", G_LOG_LEVEL_MESSAGE, "*bad.safetensors*");
  colorize = p2p_plugin_model_list (f->search, P2P_TASK_COLORIZE);
  g_test_assert_expected_messages ();
  g_test_expect_message ("gimp-pix2pix", G_LOG_LEVEL_MESSAGE, "*bad.safetensors*");
  sketch = p2p_plugin_model_list (f->search, P2P_TASK_SKETCH_TO_PHOTO);
  g_test_assert_expected_messages ();
  g_test_expect_message ("gimp-pix2pix", G_LOG_LEVEL_MESSAGE, "*bad.safetensors*");
  all = p2p_plugin_model_list (f->search, P2P_TASK_GENERIC);
  g_test_assert_expected_messages ();

  /* colorize: tint and colorize; "mine" of folder two is hidden by folder
   * one's sketch model of that name, which colorize cannot run */
  g_assert_cmpuint (colorize->len, ==, 2);
  g_assert_nonnull (find_entry (colorize, "tint.safetensors"));
  g_assert_nonnull (find_entry (colorize, "colorize.safetensors"));
  /* sketch: its own models and the generic ones (a .pth as well) */
  g_assert_cmpuint (sketch->len, ==, 4);
  g_assert_nonnull (find_entry (sketch, "any.safetensors"));
  g_assert_nonnull (find_entry (sketch, "style.pth"));
  g_assert_cmpstr (find_entry (sketch, "mine.safetensors")->path, ==, mine_path);
  g_assert_null (find_entry (sketch, "tint.safetensors"));
  /* every model once; nothing but .safetensors and .pth files */
  g_assert_cmpuint (all->len, ==, 6);
  g_assert_cmpint (find_entry (all, "style.pth")->task, ==, P2P_TASK_GENERIC);
  g_assert_null (find_entry (all, "bad.safetensors"));
  g_assert_null (find_entry (all, "notes.txt"));
  g_assert_cmpstr (find_entry (all, "mine.safetensors")->path, ==, mine_path);
  g_assert_cmpint (find_entry (all, "tint.safetensors")->task, ==, P2P_TASK_COLORIZE);
  /* sorted by display name (the tiny models share theirs: then stable
   * enough that every entry is there, checked above) */
  for (guint i = 1; i < all->len; i++)
    g_assert_cmpint (g_utf8_collate (((P2pPluginModel *) g_ptr_array_index (all, i - 1))->display_name,
                                     ((P2pPluginModel *) g_ptr_array_index (all, i))->display_name),
                     <=, 0);
}

static void
test_load_for_filter (Folders *f, gconstpointer data)
{
  g_autofree char *sketch = g_build_filename (f->dir1, "mine.safetensors", NULL);
  g_autofree char *generic = g_build_filename (f->dir1, "any.safetensors", NULL);
  g_autofree char *bad = g_build_filename (f->dir1, "bad.safetensors", NULL);
  g_autoptr(P2pModel) ok = NULL;
  GError *error = NULL;

  g_assert_null (p2p_plugin_model_load (sketch, P2P_FILTER_COLORIZE, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  ok = p2p_plugin_model_load (generic, P2P_FILTER_SKETCH_TO_PHOTO, &error);
  g_assert_no_error (error);
  g_assert_nonnull (ok);
  g_assert_null (p2p_plugin_model_load (bad, P2P_FILTER_SKETCH_TO_PHOTO, &error));
  g_assert_nonnull (error);
  /* the message names the file once: the core names it, the plug-in adds no name */
  {
    const char *first = strstr (error->message, "bad.safetensors");

    g_assert_nonnull (first);
    g_assert_null (strstr (first + 1, "bad.safetensors"));
  }
  g_clear_error (&error);
}

static void
test_texts (void)
{
  g_autofree char *name = p2p_filter_layer_name (P2P_FILTER_SKETCH_TO_PHOTO, "Background");
  g_autofree char *name2 = p2p_filter_layer_name (P2P_FILTER_COLORIZE, NULL);
  g_autoptr(GError) e = g_error_new_literal (P2P_ERROR, P2P_ERROR_BAD_INPUT, "boom");
  g_autofree char *text = p2p_filter_error_text (P2P_FILTER_COLORIZE, e);

  g_assert_cmpstr (name, ==, "Sketch to Photo (Background)");
  g_assert_cmpstr (name2, ==, "Auto Colorize ()");
  g_assert_cmpstr (text, ==, "Auto Colorize: boom");
}

/* The filter table: rows in enum order, names unique and found again,
 * every text there, the options and tasks the filters are documented to
 * have. */
static void
test_filter_table (void)
{
  for (guint i = 0; i < P2P_N_FILTERS; i++)
    {
      const P2pFilterInfo *info = &p2p_filters[i];

      g_assert_cmpint (info->filter, ==, i);
      g_assert_true (p2p_filter_info (i) == info);
      g_assert_true (p2p_filter_info_for_proc (info->proc_name) == info);
      g_assert_true (g_str_has_prefix (info->proc_name, "plug-in-pix2pix-"));
      g_assert_true (g_str_has_prefix (info->menu_path, "<Image>/"));
      g_assert_true (info->default_model == NULL ||
                     g_str_has_suffix (info->default_model, P2P_MODEL_SUFFIX));
      g_assert_true (*info->title && *info->menu_label && *info->blurb && *info->help);
      for (guint k = 0; k < i; k++)
        g_assert_cmpstr (p2p_filters[k].proc_name, !=, info->proc_name);
      /* resize, the default, always; nothing outside the modes */
      g_assert_true (p2p_filter_offers_size_mode (i, P2P_SIZE_MODE_RESIZE));
      g_assert_cmpuint (info->size_modes & ~((1u << P2P_N_SIZE_MODES) - 1), ==, 0);
      g_assert_false (p2p_filter_offers_size_mode (i, -1));
      g_assert_false (p2p_filter_offers_size_mode (i, P2P_N_SIZE_MODES));
    }
  /* every size mode says what it does */
  for (guint m = 0; m < P2P_N_SIZE_MODES; m++)
    g_assert_true (p2p_size_mode_choices[m].description != NULL &&
                   strlen (p2p_size_mode_choices[m].description) > 20);
  /* Auto Colorize: the network on the whole image at a chosen size only
   * (models/README.md, "Size modes") */
  g_assert_cmpuint (p2p_filter_info (P2P_FILTER_COLORIZE)->size_modes, ==,
                    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_RESIZE));
  /* Sketch to Photo: resize and the whole image at full resolution */
  g_assert_cmpuint (p2p_filter_info (P2P_FILTER_SKETCH_TO_PHOTO)->size_modes, ==,
                    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_RESIZE) |
                    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_WHOLE));
  g_assert_null (p2p_filter_info_for_proc ("plug-in-pix2pix-nothing"));
  g_assert_cmpstr (p2p_filter_info (P2P_FILTER_COLORIZE)->proc_name, ==, P2P_PROC_COLORIZE);
  g_assert_cmpstr (p2p_filter_info (P2P_FILTER_SKETCH_TO_PHOTO)->proc_name, ==, P2P_PROC_SKETCH);
  g_assert_cmpint (p2p_filter_info (P2P_FILTER_COLORIZE)->task, ==, P2P_TASK_COLORIZE);
  g_assert_cmpint (p2p_filter_info (P2P_FILTER_COLORIZE)->options, ==,
                   P2P_FILTER_OPTION_CHROMA | P2P_FILTER_OPTION_HINTS);
  g_assert_true (p2p_filter_info (P2P_FILTER_COLORIZE)->grey_to_rgb);
  g_assert_cmpint (p2p_filter_info (P2P_FILTER_SKETCH_TO_PHOTO)->options, ==, 0);
  /* #16: grey drawings become RGB (colour results), as for colorize */
  g_assert_true (p2p_filter_info (P2P_FILTER_SKETCH_TO_PHOTO)->grey_to_rgb);
  /* #16: any model, its own result layer name, the .pth import */
  g_assert_cmpstr (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->proc_name, ==, P2P_PROC_APPLY_MODEL);
  g_assert_cmpstr (P2P_PROC_APPLY_MODEL, ==, "plug-in-pix2pix-apply-model");
  g_assert_cmpstr (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->menu_path, ==,
                   "<Image>/Filters/Artistic");
  g_assert_cmpint (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->task, ==, P2P_TASK_GENERIC);
  g_assert_null (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->default_model);
  g_assert_true (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->layer_from_model);
  g_assert_cmpint (p2p_filter_info (P2P_FILTER_APPLY_MODEL)->options, ==, P2P_FILTER_OPTION_IMPORT);
}

static guint n_logged;

static void
count_log (const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
  n_logged++;
}

/* The dialogs' chooser lists (#16 part 6): each model once, the filter's
 * default marked and stored as "", broken files listed with the reason
 * (and no message on stderr), generic models under Apply pix2pix Model
 * only; every line says name, task, size and licence. */
static void
test_chooser_list (Folders *f, gconstpointer data)
{
  g_autoptr(GPtrArray) sketch = NULL;
  g_autoptr(GPtrArray) colorize = NULL;
  g_autoptr(GPtrArray) apply = NULL;
  g_autofree char *sketch_default = g_build_filename (f->dir2, "sketch-to-photo.safetensors", NULL);
  const P2pPluginModel *bad, *def, *any;
  int n_default = 0;

  /* no message on stderr: the reason is in the list instead */
  {
    GLogFunc old = g_log_set_default_handler (count_log, NULL);

    sketch = p2p_plugin_model_list_for_filter (f->search, P2P_FILTER_SKETCH_TO_PHOTO);
    colorize = p2p_plugin_model_list_for_filter (f->search, P2P_FILTER_COLORIZE);
    apply = p2p_plugin_model_list_for_filter (f->search, P2P_FILTER_APPLY_MODEL);
    g_log_set_default_handler (old, NULL);
    g_assert_cmpuint (n_logged, ==, 0);
  }

  /* sketch: mine, sketch-to-photo and the broken file; the generic model
   * belongs to Apply pix2pix Model */
  g_assert_cmpuint (sketch->len, ==, 3);
  g_assert_null (find_entry (sketch, "any.safetensors"));
  g_assert_nonnull (find_entry (apply, "any.safetensors"));
  g_assert_cmpuint (colorize->len, ==, 3);
  /* every file a name resolves to: mine, any, tint, bad, colorize,
   * sketch-to-photo and the .pth checkpoint style.pth */
  g_assert_cmpuint (apply->len, ==, 7);
  g_assert_nonnull (find_entry (apply, "style.pth"));

  for (guint i = 0; i < sketch->len; i++)
    n_default += p2p_plugin_model_is_default (g_ptr_array_index (sketch, i),
                                              P2P_FILTER_SKETCH_TO_PHOTO);
  g_assert_cmpint (n_default, ==, 1);
  def = find_entry (sketch, "sketch-to-photo.safetensors");
  g_assert_cmpstr (def->path, ==, sketch_default);
  g_assert_true (p2p_plugin_model_is_default (def, P2P_FILTER_SKETCH_TO_PHOTO));
  g_assert_cmpstr (p2p_plugin_model_choice (def, P2P_FILTER_SKETCH_TO_PHOTO), ==, "");
  /* Apply pix2pix Model has no default: every line stores its path */
  g_assert_false (p2p_plugin_model_is_default (find_entry (apply, "sketch-to-photo.safetensors"),
                                               P2P_FILTER_APPLY_MODEL));
  any = find_entry (apply, "any.safetensors");
  g_assert_cmpstr (p2p_plugin_model_choice (any, P2P_FILTER_APPLY_MODEL), ==, any->path);
  {
    g_autofree char *label = p2p_plugin_model_label (def, P2P_FILTER_SKETCH_TO_PHOTO);
    g_autofree char *label2 = p2p_plugin_model_label (any, P2P_FILTER_APPLY_MODEL);
    g_autofree char *size = g_format_size (any->file_size);

    g_assert_cmpuint (any->file_size, >, 1000);
    g_assert_nonnull (strstr (label, "(default)"));
    g_assert_nonnull (strstr (label, "sketch-to-photo"));
    g_assert_null (strstr (label2, "(default)"));
    /* name, task, size, licence */
    g_assert_true (g_str_has_prefix (label2, any->display_name));
    g_assert_nonnull (strstr (label2, "generic"));
    g_assert_nonnull (strstr (label2, size));
    g_assert_nonnull (strstr (label2, any->license));
  }

  /* the broken file: listed for every filter, with why */
  bad = find_entry (sketch, "bad.safetensors");
  g_assert_nonnull (bad);
  g_assert_nonnull (find_entry (colorize, "bad.safetensors"));
  g_assert_nonnull (bad->error);
  {
    g_autofree char *label = p2p_plugin_model_label (bad, P2P_FILTER_SKETCH_TO_PHOTO);
    g_autofree char *details = p2p_plugin_model_details (bad);
    g_autoptr(GError) error = NULL;
    g_autoptr(P2pModel) m = p2p_model_load (bad->path, &error);

    g_assert_null (m);
    g_assert_cmpstr (label, ==, "bad.safetensors - cannot be used");
    g_assert_nonnull (strstr (details, error->message));
    g_assert_false (p2p_plugin_model_is_default (bad, P2P_FILTER_SKETCH_TO_PHOTO));
  }
}

/* Apply pix2pix Model: no default model (the user chooses), the result
 * layer named after the model. */
static void
test_apply_model (Folders *f, gconstpointer data)
{
  g_autofree char *any = g_build_filename (f->dir1, "any.safetensors", NULL);
  g_autoptr(P2pModel) model = NULL;
  g_autofree char *name = NULL;
  g_autofree char *sketch_name = NULL;
  GError *error = NULL;

  g_assert_null (p2p_plugin_model_resolve (f->search, P2P_FILTER_APPLY_MODEL, "", &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (error->message, "Apply pix2pix Model"));
  g_clear_error (&error);

  model = p2p_plugin_model_load (any, P2P_FILTER_APPLY_MODEL, &error);
  g_assert_no_error (error);
  name = p2p_filter_result_layer_name (P2P_FILTER_APPLY_MODEL, model, "Background");
  sketch_name = p2p_filter_result_layer_name (P2P_FILTER_SKETCH_TO_PHOTO, model, "Background");
  g_assert_cmpstr (name, ==, "Tiny test model (Background)");
  g_assert_cmpstr (sketch_name, ==, "Sketch to Photo (Background)");
  /* a colorize model runs too */
  {
    g_autofree char *tint = g_build_filename (f->dir1, "tint.safetensors", NULL);
    g_autoptr(P2pModel) m = p2p_plugin_model_load (tint, P2P_FILTER_APPLY_MODEL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (m);
  }
}

/* Importing a PyTorch checkpoint into the user's model folder: the
 * official file name takes its folder's name, the model is listed and
 * loads, an existing model is never overwritten, a bad file writes
 * nothing. */
static void
test_import (Folders *f, gconstpointer data)
{
  g_autofree char *fixture = g_test_build_filename (G_TEST_DIST, "..", "..", "tests", "data", "pth",
                                                    "resnet6_none.zip.pth", NULL);
  g_autofree char *folder = g_build_filename (f->root, "style_monet_pretrained", NULL);
  g_autofree char *official = g_build_filename (folder, "latest_net_G.pth", NULL);
  g_autofree char *junk = g_build_filename (f->root, "junk.pth", NULL);
  g_autofree char *user = g_build_filename (f->root, "profile", "pix2pix", NULL);
  g_autofree char *want = g_build_filename (user, "style_monet.safetensors", NULL);
  g_autofree char *junk_out = g_build_filename (user, "junk.safetensors", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *path = NULL;
  char *search[] = { user, NULL };
  g_autoptr(GPtrArray) list = NULL;
  GError *error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (fixture, &contents, &len, &error));
  g_assert_no_error (error);
  g_mkdir (folder, 0700);
  g_assert_true (g_file_set_contents (official, contents, (gssize) len, NULL));

  path = p2p_plugin_model_import (official, user, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (path, ==, want);
  list = p2p_plugin_model_list_for_filter (search, P2P_FILTER_APPLY_MODEL);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (find_entry (list, "style_monet.safetensors")->display_name, ==, "style_monet");
  g_assert_null (find_entry (list, "style_monet.safetensors")->error);
  {
    g_autoptr(P2pModel) m = p2p_plugin_model_load (path, P2P_FILTER_APPLY_MODEL, &error);

    g_assert_no_error (error);
    g_assert_cmpint (p2p_model_get_info (m)->task, ==, P2P_TASK_GENERIC);
  }

  /* again: refused, the file stays */
  g_assert_null (p2p_plugin_model_import (official, user, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_assert_nonnull (strstr (error->message, "already installed"));
  g_clear_error (&error);
  g_assert_true (g_file_test (want, G_FILE_TEST_IS_REGULAR));

  /* not a checkpoint: an error naming it, nothing written */
  g_assert_true (g_file_set_contents (junk, "PK junk, not a checkpoint", -1, NULL));
  g_assert_null (p2p_plugin_model_import (junk, user, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "junk.pth"));
  g_clear_error (&error);
  g_assert_false (g_file_test (junk_out, G_FILE_TEST_EXISTS));
}

static void
test_error_status (void)
{
  g_autoptr(GError) cancel = g_error_new_literal (P2P_ERROR, P2P_ERROR_CANCELLED, "c");
  g_autoptr(GError) bad = g_error_new_literal (P2P_ERROR, P2P_ERROR_BAD_INPUT, "b");
  g_autoptr(GError) io = g_error_new_literal (P2P_ERROR, P2P_ERROR_IO, "i");
  g_autoptr(GError) other = g_error_new_literal (G_FILE_ERROR, G_FILE_ERROR_NOENT, "n");

  g_assert_cmpint (p2p_filter_error_status (cancel), ==, P2P_FILTER_STATUS_CANCEL);
  g_assert_cmpint (p2p_filter_error_status (bad), ==, P2P_FILTER_STATUS_CALLING_ERROR);
  g_assert_cmpint (p2p_filter_error_status (io), ==, P2P_FILTER_STATUS_EXECUTION_ERROR);
  g_assert_cmpint (p2p_filter_error_status (other), ==, P2P_FILTER_STATUS_EXECUTION_ERROR);
}

/* The filter on GEGL buffers equals the core pipeline on the same floats,
 * with the selection's mask multiplied into the result's alpha. */
static void
check_run_buffer (Folders *f, P2pFilter filter, const char *file, P2pSizeMode mode,
                  gboolean with_alpha, gboolean with_selection)
{
  const int W = 45, H = 23, ch = with_alpha ? 4 : 3;
  const GeglRectangle extent = { 0, 0, W, H };
  g_autofree char *path = g_build_filename (f->dir2, file, NULL);
  g_autoptr(P2pModel) model = p2p_plugin_model_load (path, filter, NULL);
  g_autoptr(P2pImage) in = p2p_image_new (W, H, ch, NULL);
  g_autoptr(P2pImage) want = NULL;
  g_autoptr(GeglBuffer) src = gegl_buffer_new (&extent, babl_format (with_alpha ? "R'G'B'A float"
                                                                                 : "R'G'B' float"));
  /* image-sized selection, the layer at offset (3, 2) in it */
  const GeglRectangle sel_extent = { 0, 0, W + 10, H + 10 };
  g_autoptr(GeglBuffer) sel = gegl_buffer_new (&sel_extent, babl_format ("Y float"));
  g_autofree float *mask = g_new (float, (gsize) (W + 10) * (H + 10));
  g_autofree float *got = g_new (float, (gsize) W * H * 4);
  g_autoptr(GeglBuffer) result = NULL;
  g_autoptr(GError) error = NULL;
  P2pFilterParams params;
  P2pPipelineOptions opts;

  g_assert_nonnull (model);
  for (gsize i = 0; i < (gsize) W * H * ch; i++)
    in->data[i] = (float) ((i * 37 % 101) / 100.0);
  gegl_buffer_set (src, &extent, 0, NULL, in->data, GEGL_AUTO_ROWSTRIDE);
  for (gsize i = 0; i < (gsize) (W + 10) * (H + 10); i++)
    mask[i] = (float) ((i % 7) / 6.0);
  gegl_buffer_set (sel, &sel_extent, 0, NULL, mask, GEGL_AUTO_ROWSTRIDE);

  p2p_filter_params_init (&params, filter);
  params.size_mode = mode;
  params.chroma = 0.5;
  result = p2p_filter_run_buffer (model, src, NULL, with_alpha, with_selection ? sel : NULL,
                                  3, 2, NULL, &params, NULL, NULL, &error);
  p2p_filter_params_clear (&params);
  g_assert_no_error (error);
  g_assert_cmpint (gegl_buffer_get_width (result), ==, W);
  g_assert_cmpint (gegl_buffer_get_height (result), ==, H);
  gegl_buffer_get (result, &extent, 1.0, babl_format ("R'G'B'A float"), got,
                   GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);

  p2p_pipeline_options_init (&opts);
  opts.size_mode = mode;
  /* the colour strength reaches colorize only */
  opts.chroma = filter == P2P_FILTER_COLORIZE ? 0.5 : 1.0;
  want = p2p_pipeline_run (model, in, &opts, &error);
  g_assert_no_error (error);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        const gsize p = (gsize) y * W + x;
        /* alpha as the pipeline gives it (none from a sketch: opaque) */
        float a = want->channels == 4 ? want->data[p * 4 + 3] : 1.0f;

        if (with_selection)
          a *= mask[(gsize) (y + 2) * (W + 10) + x + 3];
        for (int c = 0; c < 3; c++)
          g_assert_cmpfloat (got[p * 4 + c], ==, want->data[p * want->channels + c]);
        g_assert_cmpfloat_with_epsilon (got[p * 4 + 3], a, 1e-6);
      }
}

/* A size mode the filter does not offer is refused before anything runs,
 * naming the modes it offers (what a script passing it reads). */
static void
test_size_mode_refused (Folders *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir2, "colorize.safetensors", NULL);
  g_autoptr(P2pModel) model = p2p_plugin_model_load (path, P2P_FILTER_COLORIZE, NULL);
  g_autoptr(GeglBuffer) src = NULL;
  g_autoptr(GeglBuffer) result = NULL;
  g_autoptr(GError) error = NULL;
  const GeglRectangle extent = { 0, 0, 8, 8 };
  P2pFilterParams params;

  g_assert_nonnull (model);
  src = gegl_buffer_new (&extent, babl_format ("R'G'B' float"));
  p2p_filter_params_init (&params, P2P_FILTER_COLORIZE);
  for (int mode = 0; mode < P2P_N_SIZE_MODES + 1; mode++)
    {
      params.size_mode = mode;
      result = p2p_filter_run_buffer (model, src, NULL, FALSE, NULL, 0, 0, NULL, &params,
                                      NULL, NULL, &error);
      if (p2p_filter_offers_size_mode (P2P_FILTER_COLORIZE, mode))
        {
          g_assert_no_error (error);
          g_assert_nonnull (result);
          g_clear_object (&result);
          continue;
        }
      g_assert_null (result);
      g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
      g_test_message ("%s", error->message);
      g_assert_nonnull (strstr (error->message, "Auto Colorize"));
      g_assert_nonnull (strstr (error->message, "resize (0)"));
      if (mode < P2P_N_SIZE_MODES)
        g_assert_nonnull (strstr (error->message, p2p_size_mode_choices[mode].nick));
      g_clear_error (&error);
    }
  p2p_filter_params_clear (&params);
}

/* The preview in whole and tile mode: a 1:1 region of the layer, moved
 * and kept inside it, whose pixels are the filter run on that region; in
 * resize mode the whole layer scaled down.  The estimate sentence follows
 * the core's estimate for the whole layer. */
static void
test_preview_region (Folders *f, gconstpointer data)
{
  const int W = 300, H = 200;
  const GeglRectangle extent = { 0, 0, W, H };
  g_autoptr(GeglBuffer) src = gegl_buffer_new (&extent, babl_format ("R'G'B' float"));
  g_autofree float *pixels = g_new (float, (gsize) W * H * 3);
  g_autoptr(P2pImage) crop = NULL;
  g_autoptr(P2pImage) want = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guchar *rgba = NULL;
  g_autofree char *text = NULL;
  P2pPreview *preview;
  P2pFilterParams params;
  int x, y, w, h;
  gboolean fits = FALSE;

  for (gsize i = 0; i < (gsize) W * H * 3; i++)
    pixels[i] = (float) ((i * 7919) % 997) / 997.0f;
  gegl_buffer_set (src, &extent, 0, babl_format ("R'G'B' float"), pixels, GEGL_AUTO_ROWSTRIDE);
  preview = p2p_preview_new (src, NULL, FALSE, f->search, P2P_FILTER_SKETCH_TO_PHOTO, &error);
  g_assert_no_error (error);

  /* centred, P2P_PREVIEW_SIZE wide, the layer's height */
  p2p_preview_get_region (preview, &x, &y, &w, &h);
  g_assert_cmpint (w, ==, P2P_PREVIEW_SIZE);
  g_assert_cmpint (h, ==, H);
  g_assert_cmpint (x, ==, (W - P2P_PREVIEW_SIZE) / 2);
  g_assert_cmpint (y, ==, 0);
  p2p_preview_set_region (preview, 1000, -5);
  p2p_preview_get_region (preview, &x, &y, NULL, NULL);
  g_assert_cmpint (x, ==, W - P2P_PREVIEW_SIZE);
  g_assert_cmpint (y, ==, 0);
  p2p_preview_set_region (preview, 17, 0);

  p2p_filter_params_init (&params, P2P_FILTER_SKETCH_TO_PHOTO);
  params.size_mode = P2P_SIZE_MODE_WHOLE;
  g_assert_true (p2p_preview_shows_region (&params));
  rgba = p2p_preview_render (preview, &params, &w, &h, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, P2P_PREVIEW_SIZE);
  g_assert_cmpint (h, ==, H);

  /* the same region through the core */
  {
    g_autofree char *path = g_build_filename (f->dir2, "sketch-to-photo.safetensors", NULL);
    g_autoptr(P2pModel) model = p2p_plugin_model_load (path, P2P_FILTER_SKETCH_TO_PHOTO, &error);
    P2pPipelineOptions opts;

    g_assert_no_error (error);
    crop = p2p_image_new (w, h, 3, &error);
    for (int r = 0; r < h; r++)
      memcpy (crop->data + (gsize) r * w * 3, pixels + ((gsize) r * W + 17) * 3,
              (gsize) w * 3 * sizeof (float));
    p2p_pipeline_options_init (&opts);
    opts.size_mode = P2P_SIZE_MODE_WHOLE;
    want = p2p_pipeline_run (model, crop, &opts, &error);
    g_assert_no_error (error);
  }
  for (gsize p = 0; p < (gsize) w * h; p++)
    for (int c = 0; c < 3; c++)
      {
        const float v = CLAMP (want->data[p * 3 + c], 0.0f, 1.0f);
        g_assert_cmpint (rgba[p * 4 + c], ==, (guchar) (v * 255.0f + 0.5f));
      }
  g_clear_pointer (&rgba, g_free);

  /* resize mode: the whole layer, scaled to P2P_PREVIEW_SIZE */
  params.size_mode = P2P_SIZE_MODE_RESIZE;
  g_assert_false (p2p_preview_shows_region (&params));
  rgba = p2p_preview_render (preview, &params, &w, &h, &error);
  g_assert_no_error (error);
  g_assert_cmpint (w, ==, P2P_PREVIEW_SIZE);
  g_assert_cmpint (h, ==, P2P_PREVIEW_SIZE * H / W);

  /* the estimate for the whole layer */
  text = p2p_preview_estimate (preview, &params, &fits, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  g_assert_true (fits);
  g_assert_true (g_str_has_prefix (text, "Estimated for the whole layer: "));
  g_assert_nonnull (strstr (text, "of memory."));
  g_clear_pointer (&text, g_free);
  params.net_size = P2P_NET_SIZE_MAX;
  text = p2p_preview_estimate (preview, &params, &fits, &error);
  g_assert_no_error (error);
  g_test_message ("%s", text);
  {
    /* the sentence agrees with the core's estimate */
    g_autofree char *path = g_build_filename (f->dir2, "sketch-to-photo.safetensors", NULL);
    g_autoptr(P2pModel) model = p2p_plugin_model_load (path, P2P_FILTER_SKETCH_TO_PHOTO, NULL);
    P2pPipelineOptions opts;
    P2pRunEstimate est;

    p2p_pipeline_options_init (&opts);
    opts.net_size = P2P_NET_SIZE_MAX;
    g_assert_true (p2p_pipeline_estimate (model, W, H, 3, &opts, TRUE, &est, NULL));
    g_assert_cmpint (fits, ==, est.fits);
    g_assert_true (est.fits ? g_str_has_prefix (text, "Estimated")
                            : strstr (text, "smaller network size") != NULL);
  }
  p2p_filter_params_clear (&params);

  /* Resize mode with a model whose network grows with the image: the
   * preview runs at the size the layer gives (300 x 200: its longer side,
   * 300), not the size the small preview image would give (256), so it
   * shows what the filter will do. */
  {
    TinyModelSpec spec = { "resnet_1blocks", 2, 3, 3, "sketch-to-photo", 16, 9, NULL, 400 };
    g_autofree char *path = g_build_filename (f->root, "grows.safetensors", NULL);
    g_autofree guchar *at_default = NULL, *at_layer = NULL, *at_preview = NULL;
    const gsize n = (gsize) P2P_PREVIEW_SIZE * (P2P_PREVIEW_SIZE * H / W) * 4;

    g_assert_true (tiny_model_write (&spec, path, &error));
    p2p_filter_params_init (&params, P2P_FILTER_SKETCH_TO_PHOTO);
    params.model = g_strdup (path);
    params.size_mode = P2P_SIZE_MODE_RESIZE;
    at_default = p2p_preview_render (preview, &params, &w, &h, &error);
    g_assert_no_error (error);
    params.net_size = 300;
    at_layer = p2p_preview_render (preview, &params, &w, &h, &error);
    g_assert_no_error (error);
    params.net_size = 256;
    at_preview = p2p_preview_render (preview, &params, &w, &h, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (at_default, n, at_layer, n);
    g_assert_true (memcmp (at_default, at_preview, n) != 0);
    p2p_filter_params_clear (&params);
  }
  p2p_preview_free (preview);
}

/* A layer whose run would not fit in the memory available is refused
 * before anything is read or allocated, with the core's message (a
 * 60000 x 60000 layer at full resolution: GEGL allocates nothing for an
 * empty buffer, the run would need about 6 TB). */
static void
test_memory_refused (Folders *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir2, "sketch-to-photo.safetensors", NULL);
  g_autoptr(P2pModel) model = p2p_plugin_model_load (path, P2P_FILTER_SKETCH_TO_PHOTO, NULL);
  const GeglRectangle extent = { 0, 0, 60000, 60000 };
  g_autoptr(GeglBuffer) src = gegl_buffer_new (&extent, babl_format ("R'G'B' float"));
  g_autoptr(GeglBuffer) result = NULL;
  g_autoptr(GError) error = NULL;
  P2pFilterParams params;
  P2pPipelineOptions opts;
  P2pRunEstimate est;

  p2p_pipeline_options_init (&opts);
  opts.size_mode = P2P_SIZE_MODE_WHOLE;
  g_assert_true (p2p_pipeline_estimate (model, 60000, 60000, 3, &opts, TRUE, &est, NULL));
  if (est.fits)
    {
      g_test_skip ("this computer has the memory for it");
      return;
    }
  p2p_filter_params_init (&params, P2P_FILTER_SKETCH_TO_PHOTO);
  params.size_mode = P2P_SIZE_MODE_WHOLE;
  result = p2p_filter_run_buffer (model, src, NULL, FALSE, NULL, 0, 0, NULL, &params, NULL, NULL,
                                  &error);
  p2p_filter_params_clear (&params);
  g_assert_null (result);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "60000 x 60000"));
  g_assert_nonnull (strstr (error->message, "memory"));
}

static void
test_run_buffer (Folders *f, gconstpointer data)
{
  check_run_buffer (f, P2P_FILTER_SKETCH_TO_PHOTO, "sketch-to-photo.safetensors",
                    P2P_SIZE_MODE_RESIZE, FALSE, FALSE);
  check_run_buffer (f, P2P_FILTER_SKETCH_TO_PHOTO, "sketch-to-photo.safetensors",
                    P2P_SIZE_MODE_WHOLE, TRUE, TRUE);
  check_run_buffer (f, P2P_FILTER_COLORIZE, "colorize.safetensors", P2P_SIZE_MODE_RESIZE,
                    TRUE, FALSE);
  check_run_buffer (f, P2P_FILTER_COLORIZE, "colorize.safetensors", P2P_SIZE_MODE_RESIZE,
                    FALSE, TRUE);
}

/* The batch script's file check: a PNG cut short (which GIMP 2.10 loads
 * in part without an error) is refused, a whole one and a format the
 * check does not know pass. */
static void
test_batch_check (Folders *f, gconstpointer data)
{
  g_autoptr(GdkPixbuf) pixbuf = gdk_pixbuf_new (GDK_COLORSPACE_RGB, FALSE, 8, 64, 48);
  g_autofree char *good = g_build_filename (f->root, "good.png", NULL);
  g_autofree char *cut = g_build_filename (f->root, "cut.png", NULL);
  g_autofree char *other = g_build_filename (f->root, "notes.xcf", NULL);
  g_autofree char *missing = g_build_filename (f->root, "missing.png", NULL);
  g_autofree char *bytes = NULL;
  g_autofree char *r_good = NULL, *r_cut = NULL, *r_other = NULL, *r_missing = NULL;
  GRand *rand = g_rand_new_with_seed (7);
  guchar *px = gdk_pixbuf_get_pixels (pixbuf);
  gsize len;

  /* noise, so that the compressed data is long enough to cut */
  for (int i = 0; i < gdk_pixbuf_get_rowstride (pixbuf) * 48; i++)
    px[i] = (guchar) g_rand_int_range (rand, 0, 256);
  g_rand_free (rand);
  g_assert_true (gdk_pixbuf_save (pixbuf, good, "png", NULL, NULL));
  g_assert_true (g_file_get_contents (good, &bytes, &len, NULL));
  g_assert_true (g_file_set_contents (cut, bytes, (gssize) (len / 2), NULL));
  g_assert_true (g_file_set_contents (other, "not a format gdk-pixbuf knows", -1, NULL));

  r_good = p2p_batch_check_image (good);
  g_assert_cmpstr (r_good, ==, "");
  r_cut = p2p_batch_check_image (cut);
  g_assert_cmpstr (r_cut, !=, "");
  g_assert_nonnull (strstr (r_cut, "cannot be read whole"));
  r_other = p2p_batch_check_image (other);
  g_assert_cmpstr (r_other, ==, "");
  r_missing = p2p_batch_check_image (missing);
  g_assert_nonnull (strstr (r_missing, "is not a file"));
}

static void
test_batch_text (void)
{
  g_autofree char *none = p2p_batch_text ("no-output-folder", "", "", "");
  g_autofree char *missing = p2p_batch_text ("output-folder-missing", "/x/out", "", "");
  g_autofree char *no_input = p2p_batch_text ("no-input", "in/*.png", "", "");
  g_autofree char *sum = p2p_batch_text ("summary", "2", "1", "out");
  g_autofree char *sum1 = p2p_batch_text ("summary", "1", "0", "out");

  g_assert_cmpstr (none, ==, "No output folder given: choose the folder the results go to.");
  g_assert_cmpstr (missing, ==, "The output folder \"/x/out\" does not exist.");
  g_assert_cmpstr (no_input, ==, "No file matches \"in/*.png\".");
  g_assert_cmpstr (sum, ==, "2 files written to out, 1 failed.");
  g_assert_cmpstr (sum1, ==, "1 file written to out, 0 failed.");
  g_assert_null (p2p_batch_text ("summary", "two", "1", "out"));
  g_assert_null (p2p_batch_text ("summary", "-1", "1", "out"));
  g_assert_null (p2p_batch_text ("no-such-key", "", "", ""));
  g_assert_null (p2p_batch_text (NULL, NULL, NULL, NULL));
}

int
main (int argc, char **argv)
{
  /* untranslated texts, whatever the environment says */
  g_setenv ("LANGUAGE", "C", TRUE);
  setlocale (LC_ALL, "C");
  g_test_init (&argc, &argv, NULL);
  gegl_init (NULL, NULL);

  g_test_add_func ("/plugin-common/search-path", test_search_path);
  g_test_add ("/plugin-common/resolve", Folders, NULL, folders_setup, test_resolve, folders_teardown);
  g_test_add ("/plugin-common/list", Folders, NULL, folders_setup, test_list, folders_teardown);
  g_test_add ("/plugin-common/load-for-filter", Folders, NULL, folders_setup, test_load_for_filter,
              folders_teardown);
  g_test_add_func ("/plugin-common/texts", test_texts);
  g_test_add ("/plugin-common/batch-check", Folders, NULL, folders_setup, test_batch_check,
              folders_teardown);
  g_test_add_func ("/plugin-common/batch-text", test_batch_text);
  g_test_add_func ("/plugin-common/filter-table", test_filter_table);
  g_test_add_func ("/plugin-common/error-status", test_error_status);
  g_test_add ("/plugin-common/chooser-list", Folders, NULL, folders_setup, test_chooser_list,
              folders_teardown);
  g_test_add ("/plugin-common/apply-model", Folders, NULL, folders_setup, test_apply_model,
              folders_teardown);
  g_test_add ("/plugin-common/import-pth", Folders, NULL, folders_setup, test_import,
              folders_teardown);
  g_test_add ("/plugin-common/run-buffer", Folders, NULL, folders_setup, test_run_buffer,
              folders_teardown);
  g_test_add ("/plugin-common/size-mode-refused", Folders, NULL, folders_setup,
              test_size_mode_refused, folders_teardown);
  g_test_add ("/plugin-common/preview-region", Folders, NULL, folders_setup,
              test_preview_region, folders_teardown);
  g_test_add ("/plugin-common/memory-refused", Folders, NULL, folders_setup,
              test_memory_refused, folders_teardown);
  {
    int rc = g_test_run ();

    gegl_exit ();
    return rc;
  }
}
