/* p2p-plugin-chooser.h - the dialogs' model chooser, one GTK source for
 * both front-ends (built against GTK 2 for GIMP 2.10 and GTK 3 for GIMP
 * 3.0; it uses only what both have).
 *
 * The chooser is a box holding a combo box of the filter's models (each
 * listed once: the filter's default model marked "(default)", every line
 * with name, task, file size and licence; files that cannot be used are
 * listed greyed), a label with the chosen model's details or why a file
 * cannot be used, and, for filters with P2P_FILTER_OPTION_IMPORT, a button
 * that imports a PyTorch checkpoint (.pth) into the user's model folder
 * (p2p_plugin_model_import()) and selects it.
 */
#pragma once

#include <gtk/gtk.h>
#include "p2p-plugin-common.h"

G_BEGIN_DECLS

/* @search_path and @user_dir are copied; @current is the model string to
 * preselect ("" or NULL: the filter's default, else a path or file name as
 * the procedures take it).  (transfer floating) */
GtkWidget  *p2p_model_chooser_new       (P2pFilter    filter,
                                         char       **search_path,
                                         const char  *user_dir,
                                         const char  *current);

/* The model string of the chosen line ("" for the default model, else its
 * path; "" when nothing usable is chosen).  (transfer none) */
const char *p2p_model_chooser_get_model (GtkWidget   *chooser);

/* The combo box: for the label's mnemonic, and its "changed" signal,
 * which also follows an import. */
GtkWidget  *p2p_model_chooser_get_combo (GtkWidget   *chooser);

/* Selects the usable line whose model string is @model ("" or NULL: the
 * default model), as the dialog's Reset needs; FALSE when there is none
 * (the choice is then left as it was). */
gboolean    p2p_model_chooser_set_model (GtkWidget   *chooser,
                                         const char  *model);

G_END_DECLS
