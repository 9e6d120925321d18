/* test-chooser.c - the dialogs' model chooser as a widget (GTK 2 for the
 * GIMP 2.10 front-end, GTK 3 for GIMP 3.0: built once per front-end).
 *
 * Mainly p2p_model_chooser_set_model(), which GIMP 3's Reset relies on:
 * the dialog's Reset sets the procedure config's "model", and the chooser
 * (no GIMP widget binds it) must follow - to the default model, to another
 * listed one, and not to a file that is not listed or cannot be used.
 * Needs a display (run under xvfb-run); skipped without one.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "p2p-plugin-chooser.h"
#include "tiny-model.h"

typedef struct {
  char *dir;
  char *search[2];
  char *other;      /* a second colorize model's path */
  char *broken;     /* a file that is not a model */
} Folder;

static void
folder_setup (Folder *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("p2p-chooser-XXXXXX", &error);
  g_assert_no_error (error);
  f->search[0] = f->dir;
  f->search[1] = NULL;
  /* the filter's default (by its file name) and another colorize model */
  for (guint32 seed = 1; seed <= 2; seed++)
    {
      TinyModelSpec spec = { "resnet_1blocks", 2, 1, 2, "colorize", 16, seed, NULL };
      g_autofree char *path = g_build_filename (f->dir, seed == 1 ? "colorize.safetensors"
                                                                  : "other.safetensors", NULL);

      g_assert_true (tiny_model_write (&spec, path, &error));
      g_assert_no_error (error);
    }
  f->other = g_build_filename (f->dir, "other.safetensors", NULL);
  f->broken = g_build_filename (f->dir, "broken.safetensors", NULL);
  g_assert_true (g_file_set_contents (f->broken, "not a model", -1, NULL));
}

static void
folder_teardown (Folder *f, gconstpointer data)
{
  g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  /* everything the set-up wrote, then the folder */
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_clear_pointer (&f->dir, g_free);
  g_clear_pointer (&f->other, g_free);
  g_clear_pointer (&f->broken, g_free);
}

static void
test_set_model (Folder *f, gconstpointer data)
{
  GtkWidget *chooser = p2p_model_chooser_new (P2P_FILTER_COLORIZE, f->search, f->dir, "");
  GtkComboBox *combo;

  g_object_ref_sink (chooser);
  combo = GTK_COMBO_BOX (p2p_model_chooser_get_combo (chooser));
  /* the default first and chosen, as "" */
  g_assert_cmpint (gtk_combo_box_get_active (combo), ==, 0);
  g_assert_cmpstr (p2p_model_chooser_get_model (chooser), ==, "");

  /* another listed model, by the path the procedures store */
  g_assert_true (p2p_model_chooser_set_model (chooser, f->other));
  g_assert_cmpstr (p2p_model_chooser_get_model (chooser), ==, f->other);
  g_assert_cmpint (gtk_combo_box_get_active (combo), !=, 0);

  /* Reset to factory defaults: "" (and NULL) is the default model */
  g_assert_true (p2p_model_chooser_set_model (chooser, ""));
  g_assert_cmpstr (p2p_model_chooser_get_model (chooser), ==, "");
  g_assert_cmpint (gtk_combo_box_get_active (combo), ==, 0);
  g_assert_true (p2p_model_chooser_set_model (chooser, f->other));
  g_assert_true (p2p_model_chooser_set_model (chooser, NULL));
  g_assert_cmpstr (p2p_model_chooser_get_model (chooser), ==, "");

  /* not listed, or listed greyed: refused, the choice left as it was */
  g_assert_true (p2p_model_chooser_set_model (chooser, f->other));
  g_assert_false (p2p_model_chooser_set_model (chooser, "/nowhere/gone.safetensors"));
  g_assert_false (p2p_model_chooser_set_model (chooser, f->broken));
  g_assert_cmpstr (p2p_model_chooser_get_model (chooser), ==, f->other);

  g_object_unref (chooser);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!gtk_init_check (&argc, &argv))
    {
      g_print ("1..0 # SKIP no display\n");
      return 77;
    }
  g_test_add ("/chooser/set-model", Folder, NULL, folder_setup, test_set_model, folder_teardown);
  return g_test_run ();
}
