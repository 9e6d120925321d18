/* p2p-plugin-dialog.c - the dialogs' preview panel (see the header). */

#include "config.h"

#include <string.h>
#include <glib/gi18n-lib.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>

#include "p2p-plugin-dialog.h"

static void
p2p_pixels_free (guchar   *pixels,
                 gpointer  data)
{
  g_free (pixels);
}

/* A wrapping line of text under the preview, packed into @box. */
static GtkWidget *
p2p_panel_line_new (GtkWidget *box,
                    int        max_chars)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
#if GTK_CHECK_VERSION (3, 0, 0)
  gtk_label_set_max_width_chars (GTK_LABEL (label), max_chars);
#else
  gtk_widget_set_size_request (label, P2P_PREVIEW_SIZE, -1);
#endif
  gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
  return label;
}

/* Whole and tile mode: GIMP's drawable preview of the layer at 1:1, moved
 * with its scroll bars, navigation button or by dragging; our result is
 * drawn over the part it shows.  Hidden in resize mode. */
static void
p2p_panel_add_region_preview (P2pPreviewPanel *panel,
                              GtkWidget       *box,
                              GtkWidget       *region_preview)
{
  GtkWidget *area = gimp_preview_get_area (GIMP_PREVIEW (region_preview));

  panel->region_preview = region_preview;
  gimp_preview_set_update (GIMP_PREVIEW (region_preview), TRUE);
  gtk_widget_set_size_request (area, P2P_PREVIEW_SIZE, P2P_PREVIEW_SIZE);
  gtk_box_pack_start (GTK_BOX (box), region_preview, FALSE, FALSE, 0);
  /* scrolled: the region moved */
  g_signal_connect_swapped (region_preview, "invalidated",
                            G_CALLBACK (p2p_preview_panel_schedule), panel);
  gimp_help_set_help_data (region_preview,
                           _("At full resolution: a part of the layer at 1:1. Drag it or use "
                             "the scroll bars to see another part."), NULL);
}

void
p2p_preview_panel_init (P2pPreviewPanel            *panel,
                        GtkWidget                  *box,
                        P2pPreview                 *preview,
                        GtkWidget                  *region_preview,
                        P2pPreviewPanelOptionsFunc  options,
                        gpointer                    options_data)
{
  memset (panel, 0, sizeof *panel);
  panel->preview = preview;
  panel->options = options;
  panel->options_data = options_data;

  /* Live preview of the whole layer, scaled down. */
  panel->frame = gtk_frame_new (NULL);
  gtk_frame_set_shadow_type (GTK_FRAME (panel->frame), GTK_SHADOW_IN);
  gtk_widget_set_size_request (panel->frame, P2P_PREVIEW_SIZE + 4, P2P_PREVIEW_SIZE + 4);
#if GTK_CHECK_VERSION (3, 0, 0)
  gtk_widget_set_halign (panel->frame, GTK_ALIGN_CENTER);
#endif
  gtk_box_pack_start (GTK_BOX (box), panel->frame, FALSE, FALSE, 0);
  panel->image = gtk_image_new ();
  gtk_container_add (GTK_CONTAINER (panel->frame), panel->image);
  if (region_preview != NULL)
    p2p_panel_add_region_preview (panel, box, region_preview);
  panel->error = p2p_panel_line_new (box, 40);
  panel->estimate = p2p_panel_line_new (box, 50);
#if GTK_CHECK_VERSION (3, 0, 0)
  gtk_label_set_xalign (GTK_LABEL (panel->estimate), 0.0);
#else
  gtk_misc_set_alignment (GTK_MISC (panel->estimate), 0.0, 0.5);
#endif
}

/* Resize mode shows the layer scaled down; whole and tile mode a 1:1
 * region of it that the user moves in GIMP's own drawable preview. */
static gboolean
p2p_panel_mode (P2pPreviewPanel       *panel,
                const P2pFilterParams *params)
{
  const gboolean region = panel->region_preview != NULL && p2p_preview_shows_region (params);

  gtk_widget_set_visible (panel->frame, !region);
  if (panel->region_preview != NULL)
    gtk_widget_set_visible (panel->region_preview, region);
  return region;
}

/* The estimated time and memory of the run on the whole layer, under the
 * options; a warning when it would be refused for memory. */
static void
p2p_panel_estimate (P2pPreviewPanel       *panel,
                    const P2pFilterParams *params)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = p2p_preview_estimate (panel->preview, params, NULL, &error);

  gtk_widget_set_visible (panel->estimate, text != NULL);
  if (text != NULL)
    gtk_label_set_text (GTK_LABEL (panel->estimate), text);
}

/* The filter's result for @params: drawn over the drawable preview's
 * visible region, or as the scaled-down image. */
static gboolean
p2p_panel_render (P2pPreviewPanel       *panel,
                  const P2pFilterParams *params,
                  gboolean               region,
                  GError               **error)
{
  guchar *rgba;
  int x = 0, y = 0, w = 0, h = 0;

  if (region)
    {
      gimp_preview_get_position (GIMP_PREVIEW (panel->region_preview), &x, &y);
      p2p_preview_set_region (panel->preview, x, y);
    }
  rgba = p2p_preview_render (panel->preview, params, &w, &h, error);
  if (rgba == NULL)
    return FALSE;
  if (region)
    {
      GtkWidget *area = gimp_preview_get_area (GIMP_PREVIEW (panel->region_preview));

      gimp_preview_area_draw (GIMP_PREVIEW_AREA (area), 0, 0, w, h, GIMP_RGBA_IMAGE, rgba, w * 4);
      g_free (rgba);
    }
  else
    {
      /* the pixbuf takes @rgba */
      GdkPixbuf *pixbuf = gdk_pixbuf_new_from_data (rgba, GDK_COLORSPACE_RGB, TRUE, 8, w, h,
                                                    w * 4, p2p_pixels_free, NULL);

      gtk_image_set_from_pixbuf (GTK_IMAGE (panel->image), pixbuf);
      g_object_unref (pixbuf);
    }
  return TRUE;
}

static gboolean
p2p_panel_update (gpointer user_data)
{
  P2pPreviewPanel *panel = user_data;
  g_autoptr(GError) error = NULL;
  P2pFilterParams params;
  gboolean shown;

  panel->idle = 0;
  if (panel->preview == NULL)
    return G_SOURCE_REMOVE;

  panel->options (&params, panel->options_data);
  p2p_panel_estimate (panel, &params);
  shown = p2p_panel_render (panel, &params, p2p_panel_mode (panel, &params), &error);
  p2p_filter_params_clear (&params);
  if (!shown)
    gtk_label_set_text (GTK_LABEL (panel->error), error->message);
  gtk_widget_set_visible (panel->error, !shown);
  return G_SOURCE_REMOVE;
}

void
p2p_preview_panel_start (P2pPreviewPanel *panel)
{
  P2pFilterParams params;

  gtk_widget_hide (panel->error);
  panel->options (&params, panel->options_data);
  p2p_panel_mode (panel, &params);
  p2p_filter_params_clear (&params);
  p2p_preview_panel_schedule (panel);
}

void
p2p_preview_panel_schedule (P2pPreviewPanel *panel)
{
  if (panel->idle == 0)
    panel->idle = g_idle_add (p2p_panel_update, panel);
}

void
p2p_preview_panel_clear (P2pPreviewPanel *panel)
{
  if (panel->idle != 0)
    g_source_remove (panel->idle);
  panel->idle = 0;
  g_clear_pointer (&panel->preview, p2p_preview_free);
}
