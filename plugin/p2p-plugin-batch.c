/* p2p-plugin-batch.c - the batch script's helpers (see the header). */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <gdk-pixbuf/gdk-pixbuf.h>

#include "p2p-plugin-batch.h"

char *
p2p_batch_check_image (const char *path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkPixbuf) pixbuf = NULL;
  g_autofree char *display = g_filename_display_name (path ? path : "");

  if (path == NULL || !g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return g_strdup_printf (_("\"%s\" is not a file."), display);
  /* gdk-pixbuf sniffs the contents, not the name.  Decoding the whole
   * image is what finds a file cut short. */
  if (gdk_pixbuf_get_file_info (path, NULL, NULL) == NULL)
    return g_strdup ("");
  pixbuf = gdk_pixbuf_new_from_file (path, &error);
  if (pixbuf == NULL)
    return g_strdup_printf (_("The image cannot be read whole (damaged or cut short?): %s"),
                            error->message);
  return g_strdup ("");
}

static gboolean
p2p_batch_count (const char *s,
                 guint64    *n)
{
  return s != NULL && g_ascii_string_to_unsigned (s, 10, 0, G_MAXUINT32, n, NULL);
}

char *
p2p_batch_text (const char *key,
                const char *arg1,
                const char *arg2,
                const char *arg3)
{
  guint64 written, failed;

  if (g_strcmp0 (key, "no-output-folder") == 0)
    return g_strdup (_("No output folder given: choose the folder the results go to."));
  if (g_strcmp0 (key, "output-folder-missing") == 0 && arg1 != NULL)
    return g_strdup_printf (_("The output folder \"%s\" does not exist."), arg1);
  if (g_strcmp0 (key, "no-input") == 0 && arg1 != NULL)
    return g_strdup_printf (_("No file matches \"%s\"."), arg1);
  if (g_strcmp0 (key, "summary") == 0 && p2p_batch_count (arg1, &written) &&
      p2p_batch_count (arg2, &failed) && arg3 != NULL)
    {
      /* TRANSLATORS: the start of pix2pix-batch's summary; the second
       * part follows, e.g. "3 files written to out, 1 failed." */
      g_autofree char *first = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u file written to %s",
                                                             "%u files written to %s",
                                                             (gulong) written),
                                                (guint) written, arg3);
      /* TRANSLATORS: the end of pix2pix-batch's summary ("1 failed") */
      g_autofree char *second = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                              "%u failed", "%u failed",
                                                              (gulong) failed),
                                                 (guint) failed);

      /* TRANSLATORS: pix2pix-batch's summary: "<files written>, <failed>." */
      return g_strdup_printf (_("%s, %s."), first, second);
    }
  return NULL;
}
