/* p2p-plugin-chooser.c - the dialogs' model chooser (see the header). */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-plugin-chooser.h"

enum {
  P2P_COL_LABEL,      /* what the line says */
  P2P_COL_MODEL,      /* the model string it stands for */
  P2P_COL_USABLE,     /* FALSE: greyed, cannot be chosen */
  P2P_COL_DETAILS,    /* the text under the combo box */
  P2P_N_COLS
};

typedef struct {
  P2pFilter     filter;
  char        **search_path;
  char         *user_dir;
  GtkListStore *store;      /* owned by the combo box */
  GtkWidget    *combo;
  GtkWidget    *details;
  char         *model;      /* the chosen line's model string */
} P2pChooser;

static void
p2p_chooser_free (P2pChooser *c)
{
  g_strfreev (c->search_path);
  g_free (c->user_dir);
  g_free (c->model);
  g_free (c);
}

static P2pChooser *
p2p_chooser_get (GtkWidget *chooser)
{
  return g_object_get_data (G_OBJECT (chooser), "p2p-chooser");
}

static gboolean
p2p_chooser_matches (const P2pPluginModel *e,
                     P2pFilter             filter,
                     const char           *current)
{
  g_autofree char *with_suffix = NULL;

  if (current == NULL || *current == '\0')
    return p2p_plugin_model_is_default (e, filter);
  with_suffix = g_strconcat (current, P2P_MODEL_SUFFIX, NULL);
  return g_strcmp0 (current, e->path) == 0 || g_strcmp0 (current, e->file_name) == 0 ||
         g_strcmp0 (with_suffix, e->file_name) == 0;
}

/* (Re)fills the list from the model folders and selects the line of
 * @select (a model string); else the first usable line. */
static void
p2p_chooser_fill (P2pChooser *c,
                  const char *select)
{
  g_autoptr(GPtrArray) models = p2p_plugin_model_list_for_filter (c->search_path, c->filter);
  int active = -1, first_usable = -1, row = 0;

  gtk_list_store_clear (c->store);
  /* The default model first, then the others as listed (by name). */
  for (int pass = 0; pass < 2; pass++)
    for (guint i = 0; i < models->len; i++)
      {
        const P2pPluginModel *e = g_ptr_array_index (models, i);
        g_autofree char *label = NULL;
        g_autofree char *details = NULL;
        GtkTreeIter iter;

        if (p2p_plugin_model_is_default (e, c->filter) != (pass == 0))
          continue;
        label = p2p_plugin_model_label (e, c->filter);
        details = p2p_plugin_model_details (e);
        gtk_list_store_append (c->store, &iter);
        gtk_list_store_set (c->store, &iter,
                            P2P_COL_LABEL, label,
                            P2P_COL_MODEL, p2p_plugin_model_choice (e, c->filter),
                            P2P_COL_USABLE, e->error == NULL,
                            P2P_COL_DETAILS, details,
                            -1);
        if (e->error == NULL && first_usable < 0)
          first_usable = row;
        if (e->error == NULL && active < 0 && p2p_chooser_matches (e, c->filter, select))
          active = row;
        row++;
      }
  gtk_combo_box_set_active (GTK_COMBO_BOX (c->combo), active >= 0 ? active : first_usable);
  if (row == 0)
    gtk_label_set_text (GTK_LABEL (c->details),
                        _("No model found: put .safetensors files into the model folder."));
}

static void
p2p_chooser_changed (GtkComboBox *combo,
                     P2pChooser  *c)
{
  GtkTreeIter iter;
  g_autofree char *model = NULL;
  g_autofree char *details = NULL;
  gboolean usable = FALSE;

  if (gtk_combo_box_get_active_iter (combo, &iter))
    gtk_tree_model_get (GTK_TREE_MODEL (c->store), &iter, P2P_COL_MODEL, &model,
                        P2P_COL_USABLE, &usable, P2P_COL_DETAILS, &details, -1);
  g_free (c->model);
  c->model = g_strdup (usable && model != NULL ? model : "");
  if (details != NULL)
    gtk_label_set_text (GTK_LABEL (c->details), details);
}

static void
p2p_chooser_message (GtkWidget      *parent,
                     GtkMessageType  type,
                     const char     *text)
{
  GtkWidget *top = gtk_widget_get_toplevel (parent);
  GtkWidget *msg = gtk_message_dialog_new (GTK_IS_WINDOW (top) ? GTK_WINDOW (top) : NULL,
                                           GTK_DIALOG_MODAL, type, GTK_BUTTONS_CLOSE,
                                           "%s", text);

  gtk_dialog_run (GTK_DIALOG (msg));
  gtk_widget_destroy (msg);
}

static void
p2p_chooser_import (GtkButton  *button,
                    P2pChooser *c)
{
  GtkWidget *top = gtk_widget_get_toplevel (GTK_WIDGET (button));
  GtkWidget *dialog;
  GtkFileFilter *filter;
  g_autofree char *file = NULL;

  dialog = gtk_file_chooser_dialog_new (_("Import a PyTorch Model"),
                                        GTK_IS_WINDOW (top) ? GTK_WINDOW (top) : NULL,
                                        GTK_FILE_CHOOSER_ACTION_OPEN,
                                        _("_Cancel"), GTK_RESPONSE_CANCEL,
                                        _("_Import"), GTK_RESPONSE_ACCEPT,
                                        NULL);
  filter = gtk_file_filter_new ();
  gtk_file_filter_set_name (filter, _("PyTorch checkpoints (*.pth)"));
  gtk_file_filter_add_pattern (filter, "*.pth");
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (dialog), filter);
  if (gtk_dialog_run (GTK_DIALOG (dialog)) == GTK_RESPONSE_ACCEPT)
    file = gtk_file_chooser_get_filename (GTK_FILE_CHOOSER (dialog));
  gtk_widget_destroy (dialog);
  if (file == NULL)
    return;

  {
    g_autoptr(GError) error = NULL;
    g_autofree char *path = p2p_plugin_model_import (file, c->user_dir, &error);

    if (path == NULL)
      {
        p2p_chooser_message (GTK_WIDGET (button), GTK_MESSAGE_ERROR, error->message);
        return;
      }
    p2p_chooser_fill (c, path);
    {
      g_autofree char *text = g_strdup_printf (_("The model was imported as %s."), path);
      p2p_chooser_message (GTK_WIDGET (button), GTK_MESSAGE_INFO, text);
    }
  }
}

GtkWidget *
p2p_model_chooser_new (P2pFilter    filter,
                       char       **search_path,
                       const char  *user_dir,
                       const char  *current)
{
  P2pChooser *c = g_new0 (P2pChooser, 1);
  GtkCellRenderer *cell;
  GtkWidget *box;

  c->filter = filter;
  c->search_path = g_strdupv (search_path);
  c->user_dir = g_strdup (user_dir);
  c->model = g_strdup ("");

#if GTK_CHECK_VERSION (3, 0, 0)
  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
#else
  box = gtk_vbox_new (FALSE, 4);
#endif
  g_object_set_data_full (G_OBJECT (box), "p2p-chooser", c, (GDestroyNotify) p2p_chooser_free);

  c->store = gtk_list_store_new (P2P_N_COLS, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_BOOLEAN,
                                 G_TYPE_STRING);
  c->combo = gtk_combo_box_new_with_model (GTK_TREE_MODEL (c->store));
  g_object_unref (c->store);
  cell = gtk_cell_renderer_text_new ();
  /* Long names and licences must not widen the dialog past the screen. */
  g_object_set (cell, "ellipsize", PANGO_ELLIPSIZE_END, "width-chars", 56, NULL);
  gtk_cell_layout_pack_start (GTK_CELL_LAYOUT (c->combo), cell, TRUE);
  gtk_cell_layout_set_attributes (GTK_CELL_LAYOUT (c->combo), cell,
                                  "text", P2P_COL_LABEL, "sensitive", P2P_COL_USABLE, NULL);
  gtk_box_pack_start (GTK_BOX (box), c->combo, FALSE, FALSE, 0);

  c->details = gtk_label_new (NULL);
  gtk_misc_set_alignment (GTK_MISC (c->details), 0.0, 0.5);
  gtk_label_set_line_wrap (GTK_LABEL (c->details), TRUE);
#if GTK_CHECK_VERSION (3, 0, 0)
  gtk_label_set_max_width_chars (GTK_LABEL (c->details), 50);
#endif
  gtk_box_pack_start (GTK_BOX (box), c->details, FALSE, FALSE, 0);

  if (p2p_filter_info (filter)->options & P2P_FILTER_OPTION_IMPORT)
    {
      GtkWidget *button = gtk_button_new_with_mnemonic (_("_Import a PyTorch model (.pth)..."));
      GtkWidget *hbox;

#if GTK_CHECK_VERSION (3, 0, 0)
      hbox = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 0);
#else
      hbox = gtk_hbox_new (FALSE, 0);
#endif
      gtk_widget_set_tooltip_text (button,
                                   _("Converts a pix2pix or CycleGAN generator checkpoint "
                                     "(latest_net_G.pth) into your model folder, so that it is "
                                     "listed here from now on."));
      g_signal_connect (button, "clicked", G_CALLBACK (p2p_chooser_import), c);
      gtk_box_pack_start (GTK_BOX (hbox), button, FALSE, FALSE, 0);
      gtk_box_pack_start (GTK_BOX (box), hbox, FALSE, FALSE, 0);
    }

  g_signal_connect (c->combo, "changed", G_CALLBACK (p2p_chooser_changed), c);
  p2p_chooser_fill (c, current);
  p2p_chooser_changed (GTK_COMBO_BOX (c->combo), c);
  return box;
}

const char *
p2p_model_chooser_get_model (GtkWidget *chooser)
{
  return p2p_chooser_get (chooser)->model;
}

GtkWidget *
p2p_model_chooser_get_combo (GtkWidget *chooser)
{
  return p2p_chooser_get (chooser)->combo;
}

gboolean
p2p_model_chooser_set_model (GtkWidget  *chooser,
                             const char *model)
{
  P2pChooser *c = p2p_chooser_get (chooser);
  GtkTreeModel *store = GTK_TREE_MODEL (c->store);
  GtkTreeIter iter;
  gboolean more;
  int row = 0;

  if (model == NULL)
    model = "";
  if (g_strcmp0 (c->model, model) == 0)
    return TRUE;
  for (more = gtk_tree_model_get_iter_first (store, &iter); more;
       more = gtk_tree_model_iter_next (store, &iter), row++)
    {
      g_autofree char *line_model = NULL;
      gboolean usable = FALSE;

      gtk_tree_model_get (store, &iter, P2P_COL_MODEL, &line_model, P2P_COL_USABLE, &usable, -1);
      if (usable && g_strcmp0 (line_model, model) == 0)
        {
          gtk_combo_box_set_active (GTK_COMBO_BOX (c->combo), row);
          return TRUE;
        }
    }
  return FALSE;
}
