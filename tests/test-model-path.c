/* test-model-path.c - finding models by name (core/p2p-model-path.c), the
 * lookup the plug-in and pix2pix-cli share: the search path's order,
 * names with and without a suffix, PyTorch checkpoints (.pth) found and
 * listed by name, the first folder winning, and the error message. */
#include <string.h>
#include <glib/gstdio.h>

#include "p2p.h"

typedef struct {
  char *root;
  char *dir1, *dir2;
  char *search[3];
} Folders;

static void
touch (const char *dir, const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, "x", -1, NULL));
}

static void
folders_setup (Folders *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->root = g_dir_make_tmp ("p2p-model-path-XXXXXX", &error);
  g_assert_no_error (error);
  f->dir1 = g_build_filename (f->root, "one", NULL);
  f->dir2 = g_build_filename (f->root, "two", NULL);
  g_mkdir (f->dir1, 0700);
  g_mkdir (f->dir2, 0700);
  f->search[0] = f->dir1;
  f->search[1] = f->dir2;
  f->search[2] = NULL;

  /* one: a checkpoint, a model, a file that is no model by its name, a
   * folder that looks like a model by its name */
  touch (f->dir1, "style.pth");
  touch (f->dir1, "mine.safetensors");
  touch (f->dir1, "notes.txt");
  {
    g_autofree char *d = g_build_filename (f->dir1, "folder.safetensors", NULL);
    g_mkdir (d, 0700);
  }
  /* two: "mine" again (hidden by one's), a model and a checkpoint of the
   * same stem, and "style" as a model (one's checkpoint wins for "style") */
  touch (f->dir2, "mine.safetensors");
  touch (f->dir2, "both.safetensors");
  touch (f->dir2, "both.pth");
  touch (f->dir2, "style.safetensors");
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
  const char *bundled[] = { "/opt/p/models", "", "/usr/share/m", NULL };
  const char *user[] = { "/home/u/pix2pix", "/opt/p/models", NULL };
  g_auto(GStrv) path = NULL;
  g_auto(GStrv) bare = NULL;
  int i = 0;

  g_setenv (P2P_MODEL_PATH_ENV, "/x/a" G_SEARCHPATH_SEPARATOR_S G_SEARCHPATH_SEPARATOR_S "/x/b"
            G_SEARCHPATH_SEPARATOR_S "/usr/share/m", TRUE);
  path = p2p_model_search_path_new (bundled, user);
  g_unsetenv (P2P_MODEL_PATH_ENV);

  /* bundled, user, then $P2P_MODEL_PATH; empty entries and repeats left out */
  g_assert_cmpstr (path[i++], ==, "/opt/p/models");
  g_assert_cmpstr (path[i++], ==, "/usr/share/m");
  g_assert_cmpstr (path[i++], ==, "/home/u/pix2pix");
  g_assert_cmpstr (path[i++], ==, "/x/a");
  g_assert_cmpstr (path[i++], ==, "/x/b");
  g_assert_null (path[i]);

  bare = p2p_model_search_path_new (NULL, NULL);
  g_assert_null (bare[0]);
}

static void
test_file_names (void)
{
  g_assert_true (p2p_model_file_name_is_model ("a.safetensors"));
  g_assert_true (p2p_model_file_name_is_model ("latest_net_G.pth"));
  g_assert_false (p2p_model_file_name_is_model ("a.txt"));
  g_assert_false (p2p_model_file_name_is_model ("a.pth.bak"));
  g_assert_false (p2p_model_file_name_is_model (NULL));
}

static char *
resolve (Folders *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  char *path = p2p_model_path_resolve (f->search, name, &error);

  g_assert_no_error (error);
  return path;
}

static void
test_resolve (Folders *f, gconstpointer data)
{
  g_autofree char *want_style = g_build_filename (f->dir1, "style.pth", NULL);
  g_autofree char *want_style_st = g_build_filename (f->dir2, "style.safetensors", NULL);
  g_autofree char *want_mine = g_build_filename (f->dir1, "mine.safetensors", NULL);
  g_autofree char *want_both = g_build_filename (f->dir2, "both.safetensors", NULL);
  g_autofree char *want_both_pth = g_build_filename (f->dir2, "both.pth", NULL);
  g_autofree char *missing = g_build_filename (f->dir2, "nope.safetensors", NULL);
  g_autofree char *a = NULL, *b = NULL, *c = NULL, *d = NULL, *e = NULL, *g = NULL;
  g_autofree char *h = NULL, *i = NULL;
  GError *error = NULL;

  /* a checkpoint by its file name and by its stem */
  a = resolve (f, "style.pth");
  g_assert_cmpstr (a, ==, want_style);
  b = resolve (f, "style");
  g_assert_cmpstr (b, ==, want_style);
  /* a full file name is that file, wherever it is first found */
  c = resolve (f, "style.safetensors");
  g_assert_cmpstr (c, ==, want_style_st);
  /* the first folder wins */
  d = resolve (f, "mine");
  g_assert_cmpstr (d, ==, want_mine);
  /* in one folder, .safetensors before .pth */
  e = resolve (f, "both");
  g_assert_cmpstr (e, ==, want_both);
  g = resolve (f, "both.pth");
  g_assert_cmpstr (g, ==, want_both_pth);
  /* a path is taken as it is */
  h = resolve (f, want_both_pth);
  g_assert_cmpstr (h, ==, want_both_pth);
  /* a folder is no model */
  g_assert_null (p2p_model_path_resolve (f->search, "folder", &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_null (p2p_model_path_resolve (f->search, missing, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_clear_error (&error);
  /* the message names what was asked for, never with a second suffix,
   * and every folder searched */
  g_assert_null (p2p_model_path_resolve (f->search, "x.pth", &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "\"x.pth\""));
  g_assert_null (strstr (error->message, "x.pth.safetensors"));
  g_assert_nonnull (strstr (error->message, f->dir1));
  g_assert_nonnull (strstr (error->message, f->dir2));
  g_clear_error (&error);
  g_assert_null (p2p_model_path_resolve (NULL, "nope", &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND);
  g_clear_error (&error);
  i = resolve (f, "mine.safetensors");
  g_assert_cmpstr (i, ==, want_mine);
}

static void
test_list (Folders *f, gconstpointer data)
{
  g_autoptr(GPtrArray) files = p2p_model_path_list_files (f->search);
  const char *want[] = {
    "one/mine.safetensors", "one/style.pth",
    "two/both.pth", "two/both.safetensors", "two/style.safetensors",
  };

  /* every model file once, as its file name resolves (two's mine is
   * hidden), no other file or folder */
  g_assert_cmpuint (files->len, ==, G_N_ELEMENTS (want));
  for (guint k = 0; k < G_N_ELEMENTS (want); k++)
    {
      g_autofree char *expected = g_build_filename (f->root, want[k], NULL);

      g_assert_cmpstr (files->pdata[k], ==, expected);
    }
  /* and each one resolves to itself by its file name */
  for (guint k = 0; k < files->len; k++)
    {
      g_autofree char *base = g_path_get_basename (files->pdata[k]);
      g_autofree char *back = resolve (f, base);

      g_assert_cmpstr (back, ==, files->pdata[k]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv (P2P_MODEL_PATH_ENV);
  g_test_add_func ("/model-path/search-path", test_search_path);
  g_test_add_func ("/model-path/file-names", test_file_names);
  g_test_add ("/model-path/resolve", Folders, NULL, folders_setup, test_resolve, folders_teardown);
  g_test_add ("/model-path/list", Folders, NULL, folders_setup, test_list, folders_teardown);
  return g_test_run ();
}
