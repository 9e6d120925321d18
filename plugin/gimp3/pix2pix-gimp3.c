/* pix2pix-gimp3.c - GIMP 3.0 front-end (libgimp-3.0, GTK 3).
 *
 * A GimpPlugIn subclass declaring the two procedures with typed arguments
 * (GimpProcedureConfig), so Script-Fu can call them with named arguments
 * and GIMP remembers the last-used values by itself.  The pixel work,
 * model handling and texts are in ../p2p-plugin-common.c.
 *
 * As in the 2.10 front-end, the image is only touched after the network
 * has run: a failure or a cancel (GIMP ends a plug-in whose progress is
 * cancelled) leaves it exactly as it was.
 */

#include "config.h"

#include <string.h>
#include <libgimp/gimp.h>
#include <libgimp/gimpui.h>
#include <glib/gi18n-lib.h>

#include "p2p-plugin-common.h"
#include "p2p-plugin-batch.h"
#include "p2p-plugin-chooser.h"
#include "p2p-plugin-dialog.h"

#define P2P_TYPE_PLUGIN (p2p_plugin_get_type ())
G_DECLARE_FINAL_TYPE (P2pPlugin, p2p_plugin, P2P, PLUGIN, GimpPlugIn)

struct _P2pPlugin
{
  GimpPlugIn parent_instance;
};

G_DEFINE_TYPE (P2pPlugin, p2p_plugin, GIMP_TYPE_PLUG_IN)

/* GIMP_MAIN spelled out, to choose the BLAS kernels and OpenMP's wait
 * policy before the libraries start (p2p-blas.h; may re-execute once). */
int
main (int argc, char *argv[])
{
  p2p_blas_init_early (argc, argv);
  return gimp_main (P2P_TYPE_PLUGIN, argc, argv);
}

static GList *
p2p_plugin_query_procedures (GimpPlugIn *plug_in)
{
  GList *list = NULL;
  g_autofree char *help_uri = p2p_plugin_help_uri (gimp_get_progname ());

  /* Our own help pages: the dialogs' Help button shows them (help ids are
   * the procedure names) instead of asking for GIMP's manual. */
  if (help_uri != NULL)
    {
      g_autoptr(GFile) help = g_file_new_for_uri (help_uri);

      gimp_plug_in_set_help_domain (plug_in, P2P_HELP_DOMAIN, help);
    }

  for (guint i = 0; i < P2P_N_FILTERS; i++)
    list = g_list_append (list, g_strdup (p2p_filters[i].proc_name));
  list = g_list_append (list, g_strdup (P2P_PROC_BATCH_CHECK));
  list = g_list_append (list, g_strdup (P2P_PROC_BATCH_TEXT));
  return list;
}

static gboolean
p2p_plugin_set_i18n (GimpPlugIn   *plug_in,
                     const gchar  *procedure_name,
                     gchar       **gettext_domain,
                     gchar       **catalog_dir)
{
  /* Our own domain, catalogues in <plug-in folder>/locale (GIMP binds it). */
  *gettext_domain = g_strdup (GETTEXT_PACKAGE);
  *catalog_dir = g_strdup ("locale");
  return TRUE;
}

/* The choices whose bit is set in @mask (bit i: choices[i]); a PDB call
 * with any other nick is refused by GIMP itself. */
static GimpChoice *
p2p_choice_new (const P2pChoice *choices,
                int              n,
                guint            mask)
{
  GimpChoice *choice = gimp_choice_new ();

  for (int i = 0; i < n; i++)
    if (mask & (1u << i))
      gimp_choice_add (choice, choices[i].nick, choices[i].value, _(choices[i].label),
                       choices[i].description ? _(choices[i].description) : NULL);
  return choice;
}

/* --- the work ------------------------------------------------------------- */

static gboolean
p2p_progress_update (double   fraction,
                     gpointer user_data)
{
  /* Cancel from GIMP's progress ends this process; nothing to poll here. */
  gimp_progress_update (fraction);
  return TRUE;
}

/* The hints layer's buffer, color space and place relative to @source. */
static void
p2p_hints_get (GimpDrawable *hints_layer,
               GimpDrawable *source,
               P2pHints     *hints)
{
  gint hx = 0, hy = 0, sx = 0, sy = 0;

  memset (hints, 0, sizeof *hints);
  if (hints_layer == NULL)
    return;
  gimp_drawable_get_offsets (hints_layer, &hx, &hy);
  gimp_drawable_get_offsets (source, &sx, &sy);
  hints->buffer = gimp_drawable_get_buffer (hints_layer);
  hints->space = gimp_drawable_get_format (hints_layer);
  hints->dx = hx - sx;
  hints->dy = hy - sy;
}

static GimpLayer *
p2p_apply (P2pFilter              filter,
           GimpImage             *image,
           GimpDrawable          *drawable,
           GimpDrawable          *hints_layer,
           const P2pFilterParams *params,
           GError               **error)
{
  const P2pFilterInfo *info = p2p_filter_info (filter);
  P2pHints hints = { NULL };
  g_auto(GStrv) search = NULL;
  g_autofree char *model_path = NULL;
  g_autofree char *layer_name = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(GeglBuffer) result = NULL;
  GimpImageBaseType base;
  GimpLayer *layer, *parent;
  GeglBuffer *src_buf, *dst_buf, *sel_buf = NULL;
  gboolean convert, has_alpha, use_selection;
  gint off_x, off_y, sx, sy, sw, sh, position, width, height;

  /* A layer mask works on its layer; channels and groups are refused. */
  if (gimp_item_is_layer_mask (GIMP_ITEM (drawable)))
    drawable = GIMP_DRAWABLE (gimp_layer_from_mask (GIMP_LAYER_MASK (drawable)));
  if (!gimp_item_is_layer (GIMP_ITEM (drawable)) || gimp_item_is_group (GIMP_ITEM (drawable)))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Please select a normal layer (not a channel or a layer group)."));
      return NULL;
    }

  use_selection = !gimp_selection_is_empty (image);
  if (use_selection && !gimp_drawable_mask_intersect (drawable, &sx, &sy, &sw, &sh))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The selection does not touch the layer: nothing to do."));
      return NULL;
    }

  if (!(info->options & P2P_FILTER_OPTION_HINTS))
    hints_layer = NULL;
  if (hints_layer != NULL)
    {
      if (gimp_item_get_image (GIMP_ITEM (hints_layer)) != image)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("The hints layer must be a layer of the same image."));
          return NULL;
        }
      if (!gimp_drawable_has_alpha (hints_layer))
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("The hints layer has no transparency: hints are the painted "
                         "pixels of an otherwise transparent layer."));
          return NULL;
        }
    }

  search = p2p_plugin_model_search_path (gimp_get_progname (), gimp_directory ());
  model_path = p2p_plugin_model_resolve (search, filter, params->model, error);
  if (model_path == NULL)
    return NULL;

  gimp_progress_init (_("Loading the model..."));
  model = p2p_plugin_model_load (model_path, filter, error);
  if (model == NULL)
    return NULL;

  base = gimp_image_get_base_type (image);
  convert = base == GIMP_INDEXED || (base == GIMP_GRAY && info->grey_to_rgb);
  has_alpha = gimp_drawable_has_alpha (drawable);
  gimp_drawable_get_offsets (drawable, &off_x, &off_y);

  /* The pipeline reads the layer and writes the result row by row (in
   * tile mode the layer is never held as floats); the image is left alone
   * until the result is complete. */
  src_buf = gimp_drawable_get_buffer (drawable);
  if (use_selection)
    sel_buf = gimp_drawable_get_buffer (GIMP_DRAWABLE (gimp_image_get_selection (image)));
  gimp_progress_set_text (p2p_filter_title (filter));
  p2p_hints_get (hints_layer, drawable, &hints);
  result = p2p_filter_run_buffer (model, src_buf, gimp_drawable_get_format (drawable), has_alpha,
                                  sel_buf, off_x, off_y, &hints, params, p2p_progress_update,
                                  NULL, error);
  g_clear_object (&hints.buffer);
  g_object_unref (src_buf);
  if (sel_buf != NULL)
    g_object_unref (sel_buf);
  if (result == NULL)
    return NULL;
  width = gegl_buffer_get_width (result);
  height = gegl_buffer_get_height (result);

  /* From here on the image changes, all inside one undo step: it starts
   * with the conversion where one is needed (the new layer takes the
   * image's new type), else just before the layer goes in. */
  if (convert)
    {
      gimp_image_undo_group_start (image);
      gimp_image_convert_rgb (image);
    }

  layer_name = p2p_filter_result_layer_name (filter, model,
                                            gimp_item_get_name (GIMP_ITEM (drawable)));
  layer = gimp_layer_new (image, layer_name, width, height,
                          gimp_image_get_base_type (image) == GIMP_GRAY ? GIMP_GRAYA_IMAGE
                                                                         : GIMP_RGBA_IMAGE,
                          100.0, GIMP_LAYER_MODE_NORMAL);
  parent = GIMP_LAYER (gimp_item_get_parent (GIMP_ITEM (drawable)));
  position = gimp_image_get_item_position (image, GIMP_ITEM (drawable));

  dst_buf = gimp_drawable_get_buffer (GIMP_DRAWABLE (layer));
  p2p_buffer_copy_result (result, dst_buf, gimp_drawable_get_format (GIMP_DRAWABLE (layer)));
  g_object_unref (dst_buf);   /* flushes the tiles to GIMP */
  g_clear_object (&result);

  /* Into the image only now, with its pixels: a cancel during the copy
   * above (GIMP ends the plug-in) leaves the image without a half-written
   * layer. */
  if (!convert)
    gimp_image_undo_group_start (image);
  gimp_image_insert_layer (image, layer, parent, position);
  gimp_layer_set_offsets (layer, off_x, off_y);

  /* The source's layer mask is copied as an (editable) mask of the new
   * layer, so that the result shows where the source shows. */
  if (gimp_layer_get_mask (GIMP_LAYER (drawable)) != NULL)
    {
      GimpLayerMask *src_mask = gimp_layer_get_mask (GIMP_LAYER (drawable));
      GimpLayerMask *mask = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);
      GeglBuffer *from, *to;

      gimp_layer_add_mask (layer, mask);
      from = gimp_drawable_get_buffer (GIMP_DRAWABLE (src_mask));
      to = gimp_drawable_get_buffer (GIMP_DRAWABLE (mask));
      gegl_buffer_copy (from, NULL, GEGL_ABYSS_NONE, to, NULL);
      g_object_unref (from);
      g_object_unref (to);
      gimp_layer_set_apply_mask (layer, gimp_layer_get_apply_mask (GIMP_LAYER (drawable)));
      gimp_drawable_update (GIMP_DRAWABLE (mask), 0, 0, width, height);
    }

  gimp_drawable_update (GIMP_DRAWABLE (layer), 0, 0, width, height);
  gimp_image_undo_group_end (image);
  gimp_progress_update (1.0);
  return layer;
}

/* Reads the procedure's arguments into @params (initialised here). */
static void
p2p_params_from_config (GimpProcedureConfig *config,
                        P2pFilter            filter,
                        P2pFilterParams     *params)
{
  int seed = 0, net_size = 0;
  double chroma = P2P_CHROMA_DEFAULT;

  p2p_filter_params_init (params, filter);
  g_free (params->model);
  g_object_get (config, "model", &params->model, "seed", &seed, "net-size", &net_size, NULL);
  if (params->model == NULL)
    params->model = g_strdup ("");
  if (p2p_filter_info (filter)->options & P2P_FILTER_OPTION_CHROMA)
    g_object_get (config, "chroma", &chroma, NULL);
  params->size_mode = (P2pSizeMode) gimp_procedure_config_get_choice_id (config, "size-mode");
  params->norm_mode = (P2pNormMode) gimp_procedure_config_get_choice_id (config, "norm-mode");
  params->seed = (guint64) seed;
  params->chroma = chroma;
  params->net_size = net_size;
}

/* --- dialog ----------------------------------------------------------------- */

typedef struct {
  P2pFilter            filter;
  GimpProcedureConfig *config;
  GimpDrawable        *source;
  GimpDrawable        *hints;     /* the hints the preview has, or NULL (a reference) */
  P2pPreviewPanel      panel;
  GtkWidget           *size_help;       /* what the chosen size mode does */
} P2pDialogPreview;

/* What the chosen size mode does, under the choice. */
static void
p2p_dialog_size_help_update (P2pDialogPreview      *p,
                             const P2pFilterParams *params)
{
  if (p->size_help != NULL && params->size_mode >= 0 && params->size_mode < P2P_N_SIZE_MODES)
    gtk_label_set_text (GTK_LABEL (p->size_help),
                        _(p2p_size_mode_choices[params->size_mode].description));
}

/* The preview panel's options: the procedure's config.  A newly chosen
 * hints layer goes to the preview, and the size mode's description
 * follows the choice. */
static void
p2p_dialog_options (P2pFilterParams *params,
                    gpointer         data)
{
  P2pDialogPreview *p = data;

  if (p->panel.preview != NULL && (p2p_filter_info (p->filter)->options & P2P_FILTER_OPTION_HINTS))
    {
      GimpDrawable *layer = NULL;

      g_object_get (p->config, "hints", &layer, NULL);
      if (layer != p->hints)
        {
          P2pHints hints;

          p2p_hints_get (layer, p->source, &hints);
          p2p_preview_set_hints (p->panel.preview, &hints, NULL);
          g_clear_object (&hints.buffer);
          g_set_object (&p->hints, layer);
        }
      g_clear_object (&layer);
    }

  p2p_params_from_config (p->config, p->filter, params);
  p2p_dialog_size_help_update (p, params);
}

/* Any option changed: one preview run once the dialog is idle again. */
static void
p2p_dialog_config_changed (GObject          *config,
                           GParamSpec       *pspec,
                           P2pDialogPreview *p)
{
  p2p_preview_panel_schedule (&p->panel);
}

static void
p2p_dialog_model_changed (GtkComboBox *combo,
                          GtkWidget   *chooser)
{
  GObject *config = g_object_get_data (G_OBJECT (chooser), "p2p-config");

  g_object_set (config, "model", p2p_model_chooser_get_model (chooser), NULL);
}

/* The config's model changed from elsewhere: the dialog's Reset (to
 * initial values or factory defaults) sets the property, and the chooser,
 * which no GIMP widget binds, must show it. */
static void
p2p_dialog_config_model_changed (GObject    *config,
                                 GParamSpec *pspec,
                                 GtkWidget  *chooser)
{
  g_autofree char *model = NULL;

  g_object_get (config, "model", &model, NULL);
  if (!p2p_model_chooser_set_model (chooser, model))
    /* not listed (a file since removed): keep the chooser's line */
    g_object_set (config, "model", p2p_model_chooser_get_model (chooser), NULL);
}

/* The model chooser (each model once, broken files greyed, the import
 * button where the filter has one), its label above it, into @box. */
static void
p2p_dialog_add_model (GtkWidget           *box,
                      GimpProcedureConfig *config,
                      P2pFilter            filter,
                      char               **search)
{
  g_autofree char *user_dir = g_build_filename (gimp_directory (), P2P_PROFILE_MODEL_DIR, NULL);
  g_autofree char *current = NULL;
  GtkWidget *label, *chooser;

  g_object_get (config, "model", &current, NULL);
  label = gtk_label_new_with_mnemonic (_("_Model:"));
  gtk_label_set_xalign (GTK_LABEL (label), 0.0);
  gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
  chooser = p2p_model_chooser_new (filter, search, user_dir, current);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), p2p_model_chooser_get_combo (chooser));
  gtk_box_pack_start (GTK_BOX (box), chooser, FALSE, FALSE, 0);
  g_object_set_data (G_OBJECT (chooser), "p2p-config", config);
  g_signal_connect (p2p_model_chooser_get_combo (chooser), "changed",
                    G_CALLBACK (p2p_dialog_model_changed), chooser);
  p2p_dialog_model_changed (GTK_COMBO_BOX (p2p_model_chooser_get_combo (chooser)), chooser);
  g_signal_connect_object (config, "notify::model",
                           G_CALLBACK (p2p_dialog_config_model_changed), chooser, 0);
}

/* @field is sensitive only while @choice_field has the value @nick. */
static void
p2p_dialog_sensitive_if (GimpProcedureDialog *dialog,
                         const char          *field,
                         const char          *choice_field,
                         const char          *nick)
{
  GimpValueArray *values = gimp_value_array_new (1);
  GValue value = G_VALUE_INIT;

  g_value_init (&value, G_TYPE_STRING);
  g_value_set_string (&value, nick);
  gimp_value_array_append (values, &value);
  g_value_unset (&value);
  gimp_procedure_dialog_set_sensitive_if_in (dialog, field, NULL, choice_field, values, TRUE);
}

/* The expert options in a collapsed "Advanced" section: network size
 * (resize mode only), how the network adapts to the image, the seed
 * (random variation only).  Returns its id for the dialog's list. */
static const char *
p2p_dialog_add_advanced (GimpProcedureDialog *dialog)
{
  GtkWidget *expander;

  gimp_procedure_dialog_get_label (dialog, "p2p-advanced-title", _("_Advanced"), FALSE, TRUE);
  gimp_procedure_dialog_fill_box (dialog, "p2p-advanced-box", "net-size", "norm-mode", "seed",
                                  NULL);
  expander = gimp_procedure_dialog_fill_expander (dialog, "p2p-advanced", "p2p-advanced-title",
                                                  FALSE, "p2p-advanced-box");
  gtk_expander_set_expanded (GTK_EXPANDER (expander), FALSE);
  gimp_help_set_help_data (gimp_procedure_dialog_get_widget (dialog, "norm-mode", G_TYPE_NONE),
                           _(p2p_norm_mode_help), NULL);
  p2p_dialog_sensitive_if (dialog, "net-size", "size-mode", "resize");
  p2p_dialog_sensitive_if (dialog, "seed", "norm-mode", "stochastic");
  return "p2p-advanced";
}

/* A layer of @image (not @source) named like "hints", with transparency;
 * NULL if none (transfer full). */
static GimpDrawable *
p2p_find_hints_layer (GimpImage    *image,
                      GimpDrawable *source)
{
  GimpLayer **layers = gimp_image_get_layers (image);
  GimpDrawable *found = NULL;

  for (int i = 0; layers != NULL && layers[i] != NULL && found == NULL; i++)
    {
      g_autofree char *lower = g_utf8_strdown (gimp_item_get_name (GIMP_ITEM (layers[i])), -1);

      if (GIMP_DRAWABLE (layers[i]) != source && strstr (lower, "hint") != NULL &&
          gimp_drawable_has_alpha (GIMP_DRAWABLE (layers[i])))
        found = g_object_ref (GIMP_DRAWABLE (layers[i]));
    }
  g_free (layers);
  return found;
}

static gboolean
p2p_dialog (GimpProcedure       *procedure,
            GimpProcedureConfig *config,
            P2pFilter            filter,
            GimpDrawable        *drawable)
{
  const P2pFilterInfo *info = p2p_filter_info (filter);
  g_auto(GStrv) search = p2p_plugin_model_search_path (gimp_get_progname (), gimp_directory ());
  P2pDialogPreview preview = { .filter = filter, .config = config };
  P2pPreview *pv = NULL;
  GtkWidget *dialog, *box, *content;
  gboolean ok;
  gulong notify_id;

  gimp_ui_init (P2P_PLUGIN_NAME);

  if (gimp_item_is_layer_mask (GIMP_ITEM (drawable)))
    drawable = GIMP_DRAWABLE (gimp_layer_from_mask (GIMP_LAYER_MASK (drawable)));
  preview.source = drawable;
  if (gimp_item_is_layer (GIMP_ITEM (drawable)) && !gimp_item_is_group (GIMP_ITEM (drawable)))
    {
      GeglBuffer *buffer = gimp_drawable_get_buffer (drawable);
      pv = p2p_preview_new (buffer, gimp_drawable_get_format (drawable),
                            gimp_drawable_has_alpha (drawable), search, filter, NULL);
      g_object_unref (buffer);
    }

  dialog = gimp_procedure_dialog_new (procedure, config, p2p_filter_title (filter));

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  gtk_container_set_border_width (GTK_CONTAINER (box), 6);

  p2p_preview_panel_init (&preview.panel, box, pv,
                          pv != NULL ? gimp_drawable_preview_new_from_drawable (drawable) : NULL,
                          p2p_dialog_options, &preview);
  if (info->input_help != NULL)
    {
      /* what to draw: the first thing read, above the options */
      GtkWidget *label = gtk_label_new (_(info->input_help));

      gtk_label_set_xalign (GTK_LABEL (label), 0.0);
      gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_max_width_chars (GTK_LABEL (label), 50);
      gtk_box_pack_start (GTK_BOX (box), label, FALSE, FALSE, 0);
    }
  p2p_dialog_add_model (box, config, filter, search);

  {
    GList *fields = NULL;

    fields = g_list_append (fields, "size-mode");
    /* what the chosen mode does, right under it (p2p_dialog_options) */
    preview.size_help = gimp_procedure_dialog_get_label (GIMP_PROCEDURE_DIALOG (dialog),
                                                         "p2p-size-mode-help", "", FALSE, FALSE);
    gtk_label_set_xalign (GTK_LABEL (preview.size_help), 0.0);
    gtk_label_set_line_wrap (GTK_LABEL (preview.size_help), TRUE);
    gtk_label_set_max_width_chars (GTK_LABEL (preview.size_help), 50);
    fields = g_list_append (fields, "p2p-size-mode-help");
    if (info->options & P2P_FILTER_OPTION_CHROMA)
      {
        /* A slider reads better than a bare spin button for a strength. */
        gimp_procedure_dialog_get_widget (GIMP_PROCEDURE_DIALOG (dialog), "chroma",
                                          GIMP_TYPE_SPIN_SCALE);
        fields = g_list_append (fields, "chroma");
      }
    if (info->options & P2P_FILTER_OPTION_HINTS)
      {
        GimpDrawable *hints = NULL;

        /* No hints chosen yet: a layer named like "hints", if there is one. */
        g_object_get (config, "hints", &hints, NULL);
        if (hints == NULL)
          {
            hints = p2p_find_hints_layer (gimp_item_get_image (GIMP_ITEM (drawable)), drawable);
            if (hints != NULL)
              g_object_set (config, "hints", hints, NULL);
          }
        g_clear_object (&hints);
        fields = g_list_append (fields, "hints");
      }
    fields = g_list_append (fields, (gpointer) p2p_dialog_add_advanced (GIMP_PROCEDURE_DIALOG (dialog)));
    gimp_procedure_dialog_fill_list (GIMP_PROCEDURE_DIALOG (dialog), fields);
    g_list_free (fields);
  }

  content = gtk_dialog_get_content_area (GTK_DIALOG (dialog));
  gtk_box_pack_start (GTK_BOX (content), box, FALSE, FALSE, 0);
  gtk_box_reorder_child (GTK_BOX (content), box, 0);
  gtk_widget_show_all (box);
  p2p_preview_panel_start (&preview.panel);
  notify_id = g_signal_connect (config, "notify", G_CALLBACK (p2p_dialog_config_changed), &preview);

  ok = gimp_procedure_dialog_run (GIMP_PROCEDURE_DIALOG (dialog));

  g_signal_handler_disconnect (config, notify_id);
  gtk_widget_destroy (dialog);
  p2p_preview_panel_clear (&preview.panel);
  g_clear_object (&preview.hints);
  return ok;
}

/* --- run ---------------------------------------------------------------------- */

static GimpValueArray *
p2p_error_return (GimpProcedure     *procedure,
                  GimpRunMode        run_mode,
                  GimpPDBStatusType  status,
                  P2pFilter          filter,
                  const GError      *error)
{
  g_autofree char *text = p2p_filter_error_text (filter, error);

  if (run_mode == GIMP_RUN_INTERACTIVE && status != GIMP_PDB_CANCEL)
    gimp_message (text);
  return gimp_procedure_new_return_values (procedure, status,
                                           g_error_new_literal (GIMP_PLUG_IN_ERROR, 0, text));
}

static GimpValueArray *
p2p_run (GimpProcedure        *procedure,
         GimpRunMode           run_mode,
         GimpImage            *image,
         GimpDrawable        **drawables,
         GimpProcedureConfig  *config,
         gpointer              run_data)
{
  P2pFilter filter = (P2pFilter) GPOINTER_TO_INT (run_data);
  g_autoptr(GError) error = NULL;
  g_autoptr(GimpDrawable) hints = NULL;
  P2pFilterParams params;
  GimpValueArray *ret;
  GimpLayer *layer;
  GimpPDBStatusType status = GIMP_PDB_EXECUTION_ERROR;

  /* libgimp 3 only sets GEGL's configuration (swap folder, cache size)
   * from GIMP's; GEGL itself is not initialised in the plug-in process.
   * Buffers GIMP hands over use libgimp's own tile backend, but our own
   * (gegl_buffer_new: result, preview) use GEGL's swap backend, whose
   * class set-up looks into the swap file table that only gegl_init
   * creates: "g_hash_table_lookup: assertion 'hash_table != NULL'".  GIMP's
   * own C plug-ins start their run the same way. */
  gegl_init (NULL, NULL);

  if (drawables == NULL || gimp_core_object_array_get_length ((GObject **) drawables) != 1)
    {
      g_set_error (&error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Please select exactly one layer."));
      return p2p_error_return (procedure, run_mode, GIMP_PDB_CALLING_ERROR, filter, error);
    }

  if (run_mode == GIMP_RUN_INTERACTIVE &&
      !p2p_dialog (procedure, config, filter, drawables[0]))
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CANCEL, NULL);

  p2p_params_from_config (config, filter, &params);
  if (p2p_filter_info (filter)->options & P2P_FILTER_OPTION_HINTS)
    g_object_get (config, "hints", &hints, NULL);

  layer = p2p_apply (filter, image, drawables[0], hints, &params, &error);
  p2p_filter_params_clear (&params);

  if (layer == NULL)
    {
      switch (p2p_filter_error_status (error))
        {
        case P2P_FILTER_STATUS_CANCEL:          status = GIMP_PDB_CANCEL; break;
        case P2P_FILTER_STATUS_CALLING_ERROR:   status = GIMP_PDB_CALLING_ERROR; break;
        case P2P_FILTER_STATUS_EXECUTION_ERROR: status = GIMP_PDB_EXECUTION_ERROR; break;
        }
      return p2p_error_return (procedure, run_mode, status, filter, error);
    }

  if (run_mode != GIMP_RUN_NONINTERACTIVE)
    gimp_displays_flush ();

  ret = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_LAYER (ret, 1, layer);
  return ret;
}

/* --- the batch script's helpers (p2p-plugin-batch.h) -------------------------------- */

static GimpValueArray *
p2p_batch_run (GimpProcedure       *procedure,
               GimpProcedureConfig *config,
               gpointer             run_data)
{
  g_autofree char *text = NULL;
  GimpValueArray *ret;

  if (g_str_equal (gimp_procedure_get_name (procedure), P2P_PROC_BATCH_CHECK))
    {
      g_autofree char *filename = NULL;

      g_object_get (config, "filename", &filename, NULL);
      text = p2p_batch_check_image (filename);
    }
  else
    {
      g_autofree char *key = NULL, *arg1 = NULL, *arg2 = NULL, *arg3 = NULL;

      g_object_get (config, "key", &key, "arg1", &arg1, "arg2", &arg2, "arg3", &arg3, NULL);
      text = p2p_batch_text (key, arg1, arg2, arg3);
    }
  if (text == NULL)
    return gimp_procedure_new_return_values (procedure, GIMP_PDB_CALLING_ERROR,
                                             g_error_new_literal (GIMP_PLUG_IN_ERROR, 0,
                                                                  "unknown message key"));
  ret = gimp_procedure_new_return_values (procedure, GIMP_PDB_SUCCESS, NULL);
  GIMP_VALUES_SET_STRING (ret, 1, text);
  return ret;
}

static GimpProcedure *
p2p_batch_create_procedure (GimpPlugIn  *plug_in,
                            const gchar *name)
{
  GimpProcedure *procedure = gimp_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                                 p2p_batch_run, NULL, NULL);

  gimp_procedure_set_attribution (procedure, "gimp-pix2pix authors",
                                  "gimp-pix2pix authors", "2026");
  gimp_procedure_add_enum_argument (procedure, "run-mode", "Run mode", "The run mode",
                                    GIMP_TYPE_RUN_MODE, GIMP_RUN_NONINTERACTIVE,
                                    G_PARAM_READWRITE);
  if (g_str_equal (name, P2P_PROC_BATCH_CHECK))
    {
      gimp_procedure_set_documentation (procedure,
        "Whether an image file can be read whole (for pix2pix-batch)",
        "Decodes the file to find damaged or truncated images.  Files of a format this "
        "check does not know pass.", name);
      gimp_procedure_add_string_argument (procedure, "filename", "File name", "The image file",
                                          "", G_PARAM_READWRITE);
      gimp_procedure_add_string_return_value (procedure, "problem", "Problem",
                                              "Empty when the file can be read whole, else why not",
                                              "", G_PARAM_READWRITE);
    }
  else
    {
      gimp_procedure_set_documentation (procedure,
        "pix2pix-batch's messages, translated (for pix2pix-batch)",
        "Script-Fu scripts cannot use the plug-in's translations: the batch script asks for "
        "its messages here.", name);
      gimp_procedure_add_string_argument (procedure, "key", "Key", "Which message",
                                          "", G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "arg1", "Argument 1", "Or empty",
                                          "", G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "arg2", "Argument 2", "Or empty",
                                          "", G_PARAM_READWRITE);
      gimp_procedure_add_string_argument (procedure, "arg3", "Argument 3", "Or empty",
                                          "", G_PARAM_READWRITE);
      gimp_procedure_add_string_return_value (procedure, "text", "Text",
                                              "The message, translated", "", G_PARAM_READWRITE);
    }
  return procedure;
}

/* --- registration ----------------------------------------------------------------- */

static GimpProcedure *
p2p_plugin_create_procedure (GimpPlugIn  *plug_in,
                             const gchar *name)
{
  const P2pFilterInfo *info = p2p_filter_info_for_proc (name);
  GimpProcedure *procedure;

  if (g_str_equal (name, P2P_PROC_BATCH_CHECK) || g_str_equal (name, P2P_PROC_BATCH_TEXT))
    return p2p_batch_create_procedure (plug_in, name);
  if (info == NULL)
    return NULL;

  procedure = gimp_image_procedure_new (plug_in, name, GIMP_PDB_PROC_TYPE_PLUGIN,
                                        p2p_run, GINT_TO_POINTER (info->filter), NULL);

  gimp_procedure_set_image_types (procedure, "RGB*, GRAY*, INDEXED*");
  gimp_procedure_set_sensitivity_mask (procedure, GIMP_PROCEDURE_SENSITIVE_DRAWABLE);
  gimp_procedure_set_menu_label (procedure, _(info->menu_label));
  gimp_procedure_add_menu_path (procedure, info->menu_path);
  gimp_procedure_set_documentation (procedure, _(info->blurb), _(info->help), name);
  gimp_procedure_set_attribution (procedure, "gimp-pix2pix authors",
                                  "gimp-pix2pix authors", "2026");

  gimp_procedure_add_string_argument (procedure, "model", _("_Model"),
                                      _("Empty for the filter's default model, a model file "
                                        "name from the model folders, or a path to a "
                                        ".safetensors file"),
                                      "", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "size-mode", _("S_ize"),
                                      _("How the image is fitted to the network"),
                                      p2p_choice_new (p2p_size_mode_choices, P2P_N_SIZE_MODES,
                                                      info->size_modes),
                                      "resize", G_PARAM_READWRITE);
  gimp_procedure_add_choice_argument (procedure, "norm-mode", _("Ada_ptation"),
                                      _("How the network adjusts to the picture"),
                                      p2p_choice_new (p2p_norm_mode_choices, P2P_N_NORM_MODES, G_MAXUINT),
                                      "official", G_PARAM_READWRITE);
  gimp_procedure_add_int_argument (procedure, "seed", _("S_eed"),
                                   _("Random variation only: each seed gives another result"),
                                   0, P2P_SEED_MAX, 0, G_PARAM_READWRITE);
  if (info->options & P2P_FILTER_OPTION_CHROMA)
    gimp_procedure_add_double_argument (procedure, "chroma", _("Color stren_gth"),
                                        _("Multiplier on the colors (1 = the model's default strength)"),
                                        P2P_CHROMA_MIN, P2P_CHROMA_MAX, P2P_CHROMA_DEFAULT,
                                        G_PARAM_READWRITE);
  /* Last, so that calls with positional arguments written before it
   * existed keep working (it takes its default). */
  gimp_procedure_add_int_argument (procedure, "net-size", _("Ne_twork size"),
                                   _("Resize mode: side in pixels of the square the network "
                                     "sees (0 = the model's own size; larger sizes give the "
                                     "network more detail, at more cost)"),
                                   0, P2P_NET_SIZE_MAX, 0, G_PARAM_READWRITE);
  /* Last too, for the same reason. */
  if (info->options & P2P_FILTER_OPTION_HINTS)
    gimp_procedure_add_drawable_argument (procedure, "hints", _("Color _hints"),
                                          _("A transparent layer with dots or short strokes "
                                            "of the colors the photo has there (sky, skin, a "
                                            "red coat); none: colorize on its own. Any size "
                                            "and offsets, aligned by image position; it may "
                                            "be hidden and is not changed."),
                                          TRUE, G_PARAM_READWRITE);

  gimp_procedure_add_layer_return_value (procedure, "new-layer", _("New layer"),
                                         _("The layer holding the result"),
                                         FALSE, G_PARAM_READWRITE);
  return procedure;
}

static void
p2p_plugin_class_init (P2pPluginClass *klass)
{
  GimpPlugInClass *plug_in_class = GIMP_PLUG_IN_CLASS (klass);

  plug_in_class->query_procedures = p2p_plugin_query_procedures;
  plug_in_class->create_procedure = p2p_plugin_create_procedure;
  plug_in_class->set_i18n = p2p_plugin_set_i18n;
}

static void
p2p_plugin_init (P2pPlugin *self)
{
}
