/* p2p-plugin-dialog.h - the dialogs' preview panel, one source for both
 * front-ends (built against GTK 2 and libgimpui 2.10 for GIMP 2.10, GTK 3
 * and libgimpui 3.0 for GIMP 3.0; it uses only what both have alike).
 *
 * The panel shows, for the options the front-end reads from its dialog,
 * the filter's result on the layer scaled down (resize mode) or on a 1:1
 * region the user moves in GIMP's drawable preview (whole and tile mode),
 * why there is none when the run fails, and the run's estimated time and
 * memory.  It runs once the dialog is idle after a change.
 */
#pragma once

#include <gtk/gtk.h>
#include "p2p-plugin-common.h"

G_BEGIN_DECLS

/* Fills @params (initialised here) with the dialog's options, and brings
 * what follows them besides the preview up to date (the preview's hints,
 * the size mode's description). */
typedef void (*P2pPreviewPanelOptionsFunc) (P2pFilterParams *params,
                                            gpointer         data);

typedef struct {
  P2pPreview *preview;          /* NULL: nothing to preview (not a normal
                                 * layer); owned, freed by _clear() */
  GtkWidget  *frame;            /* resize mode: the layer scaled down */
  GtkWidget  *image;
  GtkWidget  *region_preview;   /* whole/tile mode: GIMP's drawable preview */
  GtkWidget  *error;            /* why there is no preview */
  GtkWidget  *estimate;         /* estimated time and memory */
  P2pPreviewPanelOptionsFunc options;
  gpointer    options_data;
  guint       idle;
} P2pPreviewPanel;

/* Packs the panel's widgets into @box, top to bottom.  @preview (transfer
 * full, or NULL) renders; @region_preview is a GimpDrawablePreview of the
 * same layer the front-end made (transfer floating; NULL with no
 * preview).  @options is asked for the options at each update. */
void p2p_preview_panel_init     (P2pPreviewPanel            *panel,
                                 GtkWidget                  *box,
                                 P2pPreview                 *preview,
                                 GtkWidget                  *region_preview,
                                 P2pPreviewPanelOptionsFunc  options,
                                 gpointer                    options_data);

/* After the dialog is shown: the view the options' size mode wants, and
 * a first update scheduled. */
void p2p_preview_panel_start    (P2pPreviewPanel            *panel);

/* An option changed: one update once the dialog is idle again. */
void p2p_preview_panel_schedule (P2pPreviewPanel            *panel);

/* Before the dialog goes: no further update; frees the preview. */
void p2p_preview_panel_clear    (P2pPreviewPanel            *panel);

G_END_DECLS
