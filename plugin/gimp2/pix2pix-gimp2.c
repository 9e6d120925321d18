/* pix2pix-gimp2.c - GIMP 2.10 front-end (libgimp-2.0, GTK 2).
 *
 * Registers the two procedures with positional PDB arguments, shows a GTK 2
 * dialog in interactive mode and does the image work through the 2.10 API.
 * The pixel work, model handling and texts are in ../p2p-plugin-common.c.
 *
 * Order of work, so that a failure or a cancel (GIMP kills a plug-in whose
 * progress is cancelled) leaves the image exactly as it was: read the
 * source, run the network, and only then open the undo group, convert the
 * image mode if needed, add the layer and write it.
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

#define P2P_MODEL_STRING_MAX 1024

/* Last-used values, stored with gimp_set_data (fixed size, no pointers). */
typedef struct {
  gchar   model[P2P_MODEL_STRING_MAX];
  gint32  size_mode;
  gint32  norm_mode;
  gint32  seed;
  gdouble chroma;
  gint32  net_size;   /* after the first release: values stored by older versions still load */
  gint32  hints;      /* layer of color hints, -1: none (likewise added later) */
} P2pGimp2Values;

static void query (void);
static void run   (const gchar      *name,
                   gint              nparams,
                   const GimpParam  *param,
                   gint             *nreturn_vals,
                   GimpParam       **return_vals);

const GimpPlugInInfo PLUG_IN_INFO = { NULL, NULL, query, run };

/* GIMP's MAIN() spelled out, to choose the BLAS kernels and OpenMP's wait
 * policy before the libraries start (p2p-blas.h; may re-execute once). */
int
main (int argc, char *argv[])
{
  p2p_blas_init_early (argc, argv);
  return gimp_main (&PLUG_IN_INFO, argc, argv);
}

#define P2P_ARG_RUN_MODE  { GIMP_PDB_INT32,    "run-mode",  "The run mode { RUN-INTERACTIVE (0), RUN-NONINTERACTIVE (1), RUN-WITH-LAST-VALS (2) }" }
#define P2P_ARG_IMAGE     { GIMP_PDB_IMAGE,    "image",     "Input image" }
#define P2P_ARG_DRAWABLE  { GIMP_PDB_DRAWABLE, "drawable",  "Source layer" }
#define P2P_ARG_MODEL     { GIMP_PDB_STRING,   "model",     "Model: empty for the filter's default, a model file name from the model folders, or a path to a .safetensors file" }
#define P2P_ARG_SIZE_MODE { GIMP_PDB_INT32,    "size-mode", "Size mode { RESIZE (0): resize to the model's size, as trained; WHOLE (1): run at full resolution; TILE (2): full resolution in overlapping tiles, bounded memory }" }
#define P2P_ARG_NORM_MODE { GIMP_PDB_INT32,    "norm-mode", "Normalization { OFFICIAL (0): per-image statistics; RUNNING (1): running statistics; STOCHASTIC (2): dropout on, seeded }" }
#define P2P_ARG_SEED      { GIMP_PDB_INT32,    "seed",      "Random seed for STOCHASTIC mode (>= 0)" }
#define P2P_ARG_CHROMA    { GIMP_PDB_FLOAT,    "chroma",    "Color strength: multiplier on the colors (0 - 4, 1 = the model's default strength: as predicted with hints, the model's own gain without)" }
#define P2P_ARG_NET_SIZE  { GIMP_PDB_INT32,    "net-size",  "RESIZE mode: side in pixels of the square the network sees (0 = the model's own size, up to 16384)" }
#define P2P_ARG_HINTS     { GIMP_PDB_DRAWABLE, "hints",     "Layer of color hints (-1: none): its pixels of at least 50% opacity give the color the photo has there; any size and offsets, aligned by image position; may be hidden; never changed" }

/* A filter's arguments, from its row of the filter table.  net-size and
 * hints came after the first release, last: GIMP 2.10's Script-Fu insists
 * on every argument, so older Script-Fu calls get a calling error (see
 * README); C and Python callers that pass an older count are still
 * accepted (p2p_n_required_args). */
#define P2P_MAX_ARGS 11

static int
p2p_args (const P2pFilterInfo *info,
          GimpParamDef        *args)
{
  const GimpParamDef common[] = {
    P2P_ARG_RUN_MODE, P2P_ARG_IMAGE, P2P_ARG_DRAWABLE, P2P_ARG_MODEL, P2P_ARG_SIZE_MODE,
    P2P_ARG_NORM_MODE, P2P_ARG_SEED,
  };
  const GimpParamDef chroma = P2P_ARG_CHROMA, net_size = P2P_ARG_NET_SIZE, hints = P2P_ARG_HINTS;
  /* the size modes the filter offers, in the argument's description (the
   * procedure browser); one string per filter for the process's life */
  static char *size_mode_doc[P2P_N_FILTERS];
  int n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (common); i++)
    args[n++] = common[i];
  if (size_mode_doc[info->filter] == NULL)
    {
      GString *doc = g_string_new (common[4].description);

      g_string_append (doc, ". This filter offers:");
      for (int m = 0; m < P2P_N_SIZE_MODES; m++)
        if (p2p_filter_offers_size_mode (info->filter, m))
          g_string_append_printf (doc, " %s (%d)", p2p_size_mode_choices[m].nick, m);
      g_string_append (doc, "; the others give poor results with its models and run as resize (0)");
      size_mode_doc[info->filter] = g_string_free (doc, FALSE);
    }
  args[4].description = size_mode_doc[info->filter];
  if (info->options & P2P_FILTER_OPTION_CHROMA)
    args[n++] = chroma;
  args[n++] = net_size;
  if (info->options & P2P_FILTER_OPTION_HINTS)
    args[n++] = hints;
  return n;
}

/* The arguments a call must give at least: those of the first release. */
static int
p2p_n_required_args (const P2pFilterInfo *info)
{
  return 7 + ((info->options & P2P_FILTER_OPTION_CHROMA) ? 1 : 0);
}

static const GimpParamDef p2p_return_vals[] = {
  { GIMP_PDB_LAYER, "new-layer", "The layer holding the result" },
};

static void
p2p_install (const P2pFilterInfo *info)
{
  GimpParamDef args[P2P_MAX_ARGS];
  int nargs = p2p_args (info, args);

  gimp_install_procedure (info->proc_name, info->blurb, info->help,
                          "gimp-pix2pix authors",
                          "gimp-pix2pix authors",
                          "2026",
                          info->menu_label,
                          "RGB*, GRAY*, INDEXED*",
                          GIMP_PLUGIN,
                          nargs, G_N_ELEMENTS (p2p_return_vals),
                          args, p2p_return_vals);
  gimp_plugin_menu_register (info->proc_name, info->menu_path);
}

/* --- the batch script's helpers (p2p-plugin-batch.h) ------------------ */

static void
p2p_batch_install (void)
{
  static const GimpParamDef check_args[] = {
    P2P_ARG_RUN_MODE,
    { GIMP_PDB_STRING, "filename", "The image file" },
  };
  static const GimpParamDef check_return[] = {
    { GIMP_PDB_STRING, "problem", "Empty when the file can be read whole, else why not" },
  };
  static const GimpParamDef text_args[] = {
    P2P_ARG_RUN_MODE,
    { GIMP_PDB_STRING, "key",  "Which message" },
    { GIMP_PDB_STRING, "arg1", "First argument, or empty" },
    { GIMP_PDB_STRING, "arg2", "Second argument, or empty" },
    { GIMP_PDB_STRING, "arg3", "Third argument, or empty" },
  };
  static const GimpParamDef text_return[] = {
    { GIMP_PDB_STRING, "text", "The message, translated" },
  };

  gimp_install_procedure (P2P_PROC_BATCH_CHECK,
                          "Whether an image file can be read whole (for pix2pix-batch)",
                          "Decodes the file to find damaged or truncated images, which GIMP "
                          "2.10 loads in part without an error.  Files of a format this check "
                          "does not know pass.",
                          "gimp-pix2pix authors", "gimp-pix2pix authors", "2026",
                          NULL, NULL, GIMP_PLUGIN,
                          G_N_ELEMENTS (check_args), G_N_ELEMENTS (check_return),
                          check_args, check_return);
  gimp_install_procedure (P2P_PROC_BATCH_TEXT,
                          "pix2pix-batch's messages, translated (for pix2pix-batch)",
                          "Script-Fu scripts cannot use the plug-in's translations: the batch "
                          "script asks for its messages here.",
                          "gimp-pix2pix authors", "gimp-pix2pix authors", "2026",
                          NULL, NULL, GIMP_PLUGIN,
                          G_N_ELEMENTS (text_args), G_N_ELEMENTS (text_return),
                          text_args, text_return);
}

static gboolean
p2p_batch_is_helper (const gchar *name)
{
  return g_str_equal (name, P2P_PROC_BATCH_CHECK) || g_str_equal (name, P2P_PROC_BATCH_TEXT);
}

/* The batch helper @name's answer (transfer full); NULL for a call with
 * the wrong arguments. */
static gchar *
p2p_batch_answer (const gchar     *name,
                  gint             nparams,
                  const GimpParam *param)
{
  if (g_str_equal (name, P2P_PROC_BATCH_CHECK) && nparams == 2)
    return p2p_batch_check_image (param[1].data.d_string);
  if (g_str_equal (name, P2P_PROC_BATCH_TEXT) && nparams == 5)
    return p2p_batch_text (param[1].data.d_string, param[2].data.d_string,
                           param[3].data.d_string, param[4].data.d_string);
  return NULL;
}

static void
query (void)
{
  g_autofree char *locale_dir = p2p_plugin_bind_textdomain (gimp_get_progname ());

  g_autofree char *help_uri = p2p_plugin_help_uri (gimp_get_progname ());

  /* Lets GIMP translate the menu labels, blurbs and undo labels. */
  gimp_plugin_domain_register (GETTEXT_PACKAGE, locale_dir);
  /* Our own help pages: the dialogs' Help button shows them (help ids are
   * the procedure names) instead of asking for GIMP's manual. */
  if (help_uri != NULL)
    gimp_plugin_help_register (P2P_HELP_DOMAIN, help_uri);
  for (guint i = 0; i < P2P_N_FILTERS; i++)
    p2p_install (&p2p_filters[i]);
  p2p_batch_install ();
}

/* --- values <-> params ----------------------------------------------- */

static void
p2p_values_default (P2pGimp2Values *vals)
{
  memset (vals, 0, sizeof *vals);
  vals->size_mode = P2P_SIZE_MODE_RESIZE;
  vals->norm_mode = P2P_NORM_MODE_OFFICIAL;
  vals->seed = 0;
  vals->chroma = P2P_CHROMA_DEFAULT;
  vals->net_size = 0;
  vals->hints = -1;
}

static gboolean
p2p_values_check (P2pFilter             filter,
                  const P2pGimp2Values *vals,
                  GError              **error)
{
  /* the modes this filter offers (the filter table), by the numbers the
   * PDB argument takes (run() has mapped the ones it no longer offers) */
  if (!p2p_filter_check_size_mode (filter, vals->size_mode, error))
    return FALSE;
  if (vals->norm_mode < 0 || vals->norm_mode >= P2P_N_NORM_MODES)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Invalid normalization mode %d (0 = per-image, 1 = running, 2 = random variation)."),
                   vals->norm_mode);
      return FALSE;
    }
  if (vals->seed < 0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Invalid seed %d: it must not be negative."), vals->seed);
      return FALSE;
    }
  if (vals->net_size < 0 || vals->net_size > P2P_NET_SIZE_MAX)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Invalid network size %d: it must be between 0 (the model's own size) and %d."),
                   vals->net_size, P2P_NET_SIZE_MAX);
      return FALSE;
    }
  if (!(vals->chroma >= P2P_CHROMA_MIN && vals->chroma <= P2P_CHROMA_MAX))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Invalid color strength %g: it must be between %g and %g."),
                   vals->chroma, P2P_CHROMA_MIN, P2P_CHROMA_MAX);
      return FALSE;
    }
  if (vals->hints != -1 && !(gimp_item_is_valid (vals->hints) && gimp_item_is_drawable (vals->hints)))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Invalid hints layer %d: give a layer of the image, or -1 for none."),
                   vals->hints);
      return FALSE;
    }
  return TRUE;
}

/* Remembered hints (a layer ID) are used again only in the same image,
 * while the layer exists: Filters > Repeat on another image, or after the
 * layer was deleted, runs without. */
static void
p2p_values_forget_hints (P2pGimp2Values *vals,
                         gint32          image)
{
  if (vals->hints != -1 &&
      !(gimp_item_is_valid (vals->hints) && gimp_item_get_image (vals->hints) == image))
    vals->hints = -1;
}

static void
p2p_values_to_params (const P2pGimp2Values *vals,
                      P2pFilterParams      *params)
{
  g_free (params->model);
  params->model = g_strdup (vals->model);
  params->size_mode = (P2pSizeMode) p2p_size_mode_choices[vals->size_mode].value;
  params->norm_mode = (P2pNormMode) p2p_norm_mode_choices[vals->norm_mode].value;
  params->seed = (guint64) vals->seed;
  params->chroma = vals->chroma;
  params->net_size = vals->net_size;
}

/* --- dialog ------------------------------------------------------------ */

typedef struct {
  P2pFilter       filter;
  gint32          image, source;
  GtkWidget      *chooser;      /* p2p_model_chooser_new() */
  P2pPreviewPanel panel;
  P2pGimp2Values *vals;
} P2pDialog;

static const char *
p2p_dialog_model (P2pDialog *d)
{
  return p2p_model_chooser_get_model (d->chooser);
}

/* The preview panel's options: the values, with the chooser's model. */
static void
p2p_dialog_options (P2pFilterParams *params,
                    gpointer         data)
{
  P2pDialog *d = data;

  p2p_filter_params_init (params, d->filter);
  p2p_values_to_params (d->vals, params);
  g_free (params->model);
  params->model = g_strdup (p2p_dialog_model (d));
}

static void
p2p_dialog_changed (GtkWidget *widget,
                    P2pDialog *d)
{
  p2p_preview_panel_schedule (&d->panel);
}

static void
p2p_dialog_model_changed (GtkComboBox *combo,
                          P2pDialog   *d)
{
  p2p_preview_panel_schedule (&d->panel);
}

static void
p2p_int_changed (GtkAdjustment *adj,
                 gint32        *value)
{
  *value = (gint32) gtk_adjustment_get_value (adj);
}

/* The hints layer's buffer and place relative to @source (-1: none). */
static gboolean
p2p_hints_get (gint32     hints_layer,
               gint32     source,
               P2pHints  *hints)
{
  gint hx, hy, sx, sy;

  memset (hints, 0, sizeof *hints);
  if (hints_layer == -1)
    return FALSE;
  gimp_drawable_offsets (hints_layer, &hx, &hy);
  gimp_drawable_offsets (source, &sx, &sy);
  hints->buffer = gimp_drawable_get_buffer (hints_layer);
  hints->dx = hx - sx;
  hints->dy = hy - sy;
  return TRUE;
}

/* Hints: layers of the same image with transparency, not the source. */
static gboolean
p2p_hints_constraint (gint32   image,
                      gint32   item,
                      gpointer data)
{
  const P2pDialog *d = data;

  return image == d->image && item != d->source && gimp_drawable_has_alpha (item);
}

static void
p2p_dialog_hints_changed (GtkWidget *combo,
                          P2pDialog *d)
{
  P2pHints hints;
  gint layer = -1;

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &layer);
  d->vals->hints = layer;
  if (d->panel.preview != NULL)
    {
      gboolean have = p2p_hints_get (layer, d->source, &hints);

      p2p_preview_set_hints (d->panel.preview, have ? &hints : NULL, NULL);
      if (have)
        g_object_unref (hints.buffer);
    }
  p2p_preview_panel_schedule (&d->panel);
}

/* A layer of the image named like "hints", else -1. */
static gint32
p2p_find_hints_layer (gint32 image,
                      gint32 source)
{
  gint n = 0;
  gint *layers = gimp_image_get_layers (image, &n);
  gint32 found = -1;

  for (int i = 0; i < n && found == -1; i++)
    {
      g_autofree char *name = gimp_item_get_name (layers[i]);
      g_autofree char *lower = g_utf8_strdown (name ? name : "", -1);

      if (layers[i] != source && strstr (lower, "hint") != NULL &&
          gimp_drawable_has_alpha (layers[i]))
        found = layers[i];
    }
  g_free (layers);
  return found;
}

/* The size modes the filter offers (the filter table), by their PDB
 * numbers. */
static GtkWidget *
p2p_size_mode_combo_new (P2pFilter filter)
{
  GtkWidget *combo = g_object_new (GIMP_TYPE_INT_COMBO_BOX, NULL);

  for (int m = 0; m < P2P_N_SIZE_MODES; m++)
    if (p2p_filter_offers_size_mode (filter, m))
      gimp_int_combo_box_append (GIMP_INT_COMBO_BOX (combo),
                                 GIMP_INT_STORE_VALUE, m,
                                 GIMP_INT_STORE_LABEL, _(p2p_size_mode_choices[m].label),
                                 -1);
  return combo;
}

/* What the chosen size mode does, under the choice. */
static void
p2p_size_mode_describe (GtkWidget *combo,
                        GtkWidget *label)
{
  gint mode = 0;

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &mode);
  if (mode >= 0 && mode < P2P_N_SIZE_MODES)
    gtk_label_set_text (GTK_LABEL (label), _(p2p_size_mode_choices[mode].description));
}

/* @widget is sensitive only while @combo has the value it was given in
 * p2p_dialog_add_spin(). */
static void
p2p_sensitive_if (GtkWidget *combo,
                  GtkWidget *widget)
{
  const gint when = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (widget), "p2p-sensitive-if"));
  gint value = 0;

  gimp_int_combo_box_get_active (GIMP_INT_COMBO_BOX (combo), &value);
  gtk_widget_set_sensitive (widget, value == when);
}

/* The model chooser (each model once, broken files greyed, the import
 * button where the filter has one) in @table's row @row. */
static void
p2p_dialog_add_model (P2pDialog  *d,
                      GtkWidget  *table,
                      int         row,
                      char      **search)
{
  g_autofree char *user_dir = g_build_filename (gimp_directory (), P2P_PROFILE_MODEL_DIR, NULL);
  GtkWidget *label;

  d->chooser = p2p_model_chooser_new (d->filter, search, user_dir, d->vals->model);
  label = gimp_table_attach_aligned (GTK_TABLE (table), 0, row, _("_Model:"), 0.0, 0.0,
                                     d->chooser, 2, FALSE);
  gtk_label_set_mnemonic_widget (GTK_LABEL (label), p2p_model_chooser_get_combo (d->chooser));
  g_signal_connect (p2p_model_chooser_get_combo (d->chooser), "changed",
                    G_CALLBACK (p2p_dialog_model_changed), d);
}

/* A spin button for *@value (0 to @max) with @label and @tip in @table's
 * row @row; it and its label are sensitive only while @combo has the value
 * @when (the option matters only then). */
static void
p2p_dialog_add_spin (P2pDialog  *d,
                     GtkWidget  *table,
                     int         row,
                     const char *label,
                     const char *tip,
                     gint32     *value,
                     int         max,
                     double      step,
                     double      page,
                     GtkWidget  *combo,
                     int         when)
{
  GtkObject *adj;
  GtkWidget *widgets[2];

  widgets[0] = gimp_spin_button_new (&adj, *value, 0, max, step, page, 0, 1, 0);
  widgets[1] = gimp_table_attach_aligned (GTK_TABLE (table), 0, row, label, 0.0, 0.5,
                                          widgets[0], 1, TRUE);
  gimp_help_set_help_data (widgets[0], tip, NULL);
  g_signal_connect (adj, "value-changed", G_CALLBACK (p2p_int_changed), value);
  g_signal_connect (adj, "value-changed", G_CALLBACK (p2p_dialog_changed), d);
  for (int i = 0; i < 2; i++)
    {
      g_object_set_data (G_OBJECT (widgets[i]), "p2p-sensitive-if", GINT_TO_POINTER (when));
      g_signal_connect (combo, "changed", G_CALLBACK (p2p_sensitive_if), widgets[i]);
      p2p_sensitive_if (combo, widgets[i]);
    }
}

/* The expert options, in a collapsed "Advanced" section: the network size
 * (resize mode only: follows @size_combo), how the network adapts to the
 * image, and the seed (random variation only). */
static void
p2p_dialog_add_advanced (P2pDialog      *d,
                         GtkWidget      *vbox,
                         GtkWidget      *size_combo,
                         P2pGimp2Values *vals)
{
  GtkWidget *expander = gtk_expander_new_with_mnemonic (_("_Advanced"));
  GtkWidget *table = gtk_table_new (3, 3, FALSE);
  GtkWidget *combo;

  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_container_set_border_width (GTK_CONTAINER (table), 6);
  gtk_container_add (GTK_CONTAINER (expander), table);
  gtk_box_pack_start (GTK_BOX (vbox), expander, FALSE, FALSE, 0);

  p2p_dialog_add_spin (d, table, 0, _("Ne_twork size:"),
                       _("Resize mode: side in pixels of the square the network "
                         "sees (0 = the model's own size; larger sizes give the "
                         "network more detail, at more cost)"),
                       &vals->net_size, P2P_NET_SIZE_MAX, 32, 128, size_combo, P2P_SIZE_MODE_RESIZE);

  combo = gimp_int_combo_box_new (_(p2p_norm_mode_choices[0].label), 0,
                                  _(p2p_norm_mode_choices[1].label), 1,
                                  _(p2p_norm_mode_choices[2].label), 2,
                                  NULL);
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), vals->norm_mode,
                              G_CALLBACK (gimp_int_combo_box_get_active),
                              &vals->norm_mode);
  g_signal_connect (combo, "changed", G_CALLBACK (p2p_dialog_changed), d);
  gimp_help_set_help_data (combo, _(p2p_norm_mode_help), NULL);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, 1, _("Ada_ptation:"), 0.0, 0.5,
                             combo, 2, FALSE);

  p2p_dialog_add_spin (d, table, 2, _("S_eed:"),
                       _("Random variation only: each seed gives another result"),
                       &vals->seed, P2P_SEED_MAX, 1, 10, combo, P2P_NORM_MODE_STOCHASTIC);
}

static gboolean
p2p_dialog (P2pFilter       filter,
            gint32          image,
            gint32          drawable,
            P2pGimp2Values *vals)
{
  const P2pFilterInfo *info = p2p_filter_info (filter);
  P2pDialog d = { 0 };
  g_auto(GStrv) search = p2p_plugin_model_search_path (gimp_get_progname (), gimp_directory ());
  P2pPreview *preview = NULL;
  GtkWidget *dialog, *vbox, *hbox, *table, *combo, *size_combo, *label;
  GtkObject *adj;
  int row = 0;
  gboolean ok;

  gimp_ui_init (P2P_PLUGIN_NAME, FALSE);

  d.filter = filter;
  d.vals = vals;
  if (gimp_item_is_layer_mask (drawable))
    drawable = gimp_layer_from_mask (drawable);
  d.image = image;
  d.source = drawable;
  if (gimp_item_is_layer (drawable) && !gimp_item_is_group (drawable))
    {
      GeglBuffer *buffer = gimp_drawable_get_buffer (drawable);
      preview = p2p_preview_new (buffer, NULL, gimp_drawable_has_alpha (drawable),
                                 search, filter, NULL);
      g_object_unref (buffer);
    }

  dialog = gimp_dialog_new (p2p_filter_title (filter), P2P_PLUGIN_NAME,
                            NULL, 0, gimp_standard_help_func,
                            info->proc_name,
                            _("_Cancel"), GTK_RESPONSE_CANCEL,
                            _("_OK"), GTK_RESPONSE_OK,
                            NULL);
  gtk_dialog_set_alternative_button_order (GTK_DIALOG (dialog),
                                           GTK_RESPONSE_OK, GTK_RESPONSE_CANCEL, -1);
  gtk_dialog_set_default_response (GTK_DIALOG (dialog), GTK_RESPONSE_OK);
  gimp_window_set_transient (GTK_WINDOW (dialog));

  hbox = gtk_hbox_new (FALSE, 12);
  gtk_container_set_border_width (GTK_CONTAINER (hbox), 12);
  gtk_box_pack_start (GTK_BOX (gtk_dialog_get_content_area (GTK_DIALOG (dialog))),
                      hbox, TRUE, TRUE, 0);

  vbox = gtk_vbox_new (FALSE, 6);
  gtk_box_pack_start (GTK_BOX (hbox), vbox, FALSE, FALSE, 0);
  p2p_preview_panel_init (&d.panel, vbox, preview,
                          preview != NULL ? gimp_drawable_preview_new_from_drawable_id (drawable)
                                          : NULL,
                          p2p_dialog_options, &d);

  vbox = gtk_vbox_new (FALSE, 12);
  gtk_box_pack_start (GTK_BOX (hbox), vbox, TRUE, TRUE, 0);

  if (info->input_help != NULL)
    {
      /* what to draw: the first thing read, above the options */
      label = gtk_label_new (_(info->input_help));
      gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
      gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
      gtk_widget_set_size_request (label, 380, -1);
      gtk_box_pack_start (GTK_BOX (vbox), label, FALSE, FALSE, 0);
    }

  table = gtk_table_new (6, 3, FALSE);
  gtk_table_set_col_spacings (GTK_TABLE (table), 6);
  gtk_table_set_row_spacings (GTK_TABLE (table), 6);
  gtk_box_pack_start (GTK_BOX (vbox), table, FALSE, FALSE, 0);

  p2p_dialog_add_model (&d, table, row++, search);

  combo = p2p_size_mode_combo_new (filter);
  gimp_int_combo_box_connect (GIMP_INT_COMBO_BOX (combo), vals->size_mode,
                              G_CALLBACK (gimp_int_combo_box_get_active),
                              &vals->size_mode);
  g_signal_connect (combo, "changed", G_CALLBACK (p2p_dialog_changed), &d);
  gimp_table_attach_aligned (GTK_TABLE (table), 0, row++, _("S_ize:"), 0.0, 0.5,
                             combo, 2, FALSE);
  size_combo = combo;
  label = gtk_label_new (NULL);
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
  gtk_label_set_line_wrap (GTK_LABEL (label), TRUE);
  gtk_widget_set_size_request (label, 320, -1);
  gtk_table_attach (GTK_TABLE (table), label, 1, 3, row, row + 1, GTK_FILL, GTK_FILL, 0, 0);
  row++;
  g_signal_connect (combo, "changed", G_CALLBACK (p2p_size_mode_describe), label);
  p2p_size_mode_describe (combo, label);


  if (info->options & P2P_FILTER_OPTION_CHROMA)
    {
      adj = gimp_scale_entry_new (GTK_TABLE (table), 0, row++, _("Color stren_gth:"),
                                  200, 6, vals->chroma, P2P_CHROMA_MIN, P2P_CHROMA_MAX,
                                  0.05, 0.25, 2, TRUE, 0, 0, NULL, NULL);
      g_signal_connect (adj, "value-changed",
                        G_CALLBACK (gimp_double_adjustment_update), &vals->chroma);
      g_signal_connect (adj, "value-changed", G_CALLBACK (p2p_dialog_changed), &d);
    }

  if (info->options & P2P_FILTER_OPTION_HINTS)
    {
      /* The last-used hints layer if it is still there, else one named
       * like "hints", else none. */
      gint32 preset = vals->hints != -1 && gimp_item_is_valid (vals->hints) &&
                      p2p_hints_constraint (image, vals->hints, &d)
                      ? vals->hints : p2p_find_hints_layer (image, drawable);

      combo = gimp_layer_combo_box_new (p2p_hints_constraint, &d);
      gimp_int_combo_box_prepend (GIMP_INT_COMBO_BOX (combo),
                                  GIMP_INT_STORE_VALUE, -1,
                                  GIMP_INT_STORE_LABEL, _("None (colorize on its own)"),
                                  -1);
      gimp_int_combo_box_set_active (GIMP_INT_COMBO_BOX (combo), preset);
      gimp_help_set_help_data (combo, _("A transparent layer with dots or short strokes of "
                                        "the colors the photo has there (sky, skin, a red "
                                        "coat): the network spreads them along the photo's "
                                        "own edges. It may be hidden; it is not changed."),
                               NULL);
      gimp_table_attach_aligned (GTK_TABLE (table), 0, row++, _("Color _hints:"), 0.0, 0.5,
                                 combo, 2, FALSE);
      g_signal_connect (combo, "changed", G_CALLBACK (p2p_dialog_hints_changed), &d);
      p2p_dialog_hints_changed (combo, &d);
    }

  p2p_dialog_add_advanced (&d, vbox, size_combo, vals);

  label = gtk_label_new (_("The result goes into a new layer above the active layer."));
  gtk_misc_set_alignment (GTK_MISC (label), 0.0, 0.5);
  gtk_box_pack_start (GTK_BOX (vbox), label, FALSE, FALSE, 0);

  gtk_widget_show_all (dialog);
  p2p_preview_panel_start (&d.panel);
  ok = gimp_dialog_run (GIMP_DIALOG (dialog)) == GTK_RESPONSE_OK;

  if (ok)
    g_strlcpy (vals->model, p2p_dialog_model (&d), sizeof vals->model);

  gtk_widget_destroy (dialog);
  p2p_preview_panel_clear (&d.panel);
  return ok;
}

/* --- the work ---------------------------------------------------------- */

static gboolean
p2p_progress_update (double   fraction,
                     gpointer user_data)
{
  /* Cancel from GIMP's progress makes GIMP end this process; there is
   * nothing to poll here. */
  gimp_progress_update (fraction);
  return TRUE;
}

static gint32
p2p_apply (P2pFilter              filter,
           gint32                 image,
           gint32                 drawable,
           gint32                 hints_layer,
           const P2pFilterParams *params,
           GError               **error)
{
  const P2pFilterInfo *info = p2p_filter_info (filter);
  P2pHints hints = { NULL };
  g_auto(GStrv) search = NULL;
  g_autofree char *model_path = NULL;
  g_autofree char *layer_name = NULL;
  g_autofree char *source_name = NULL;
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(GeglBuffer) result = NULL;
  GimpImageBaseType base;
  gboolean convert, has_alpha, use_selection;
  gint32 layer, parent, position;
  gint off_x, off_y, sx, sy, sw, sh, width, height;
  GeglBuffer *src_buf, *dst_buf, *sel_buf = NULL;

  /* A layer mask works on its layer; channels and groups are refused. */
  if (gimp_item_is_layer_mask (drawable))
    drawable = gimp_layer_from_mask (drawable);
  if (!gimp_item_is_layer (drawable) || gimp_item_is_group (drawable))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Please select a normal layer (not a channel or a layer group)."));
      return -1;
    }
  if (gimp_item_get_image (drawable) != image)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The layer does not belong to the image."));
      return -1;
    }

  use_selection = !gimp_selection_is_empty (image);
  if (use_selection && !gimp_drawable_mask_intersect (drawable, &sx, &sy, &sw, &sh))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The selection does not touch the layer: nothing to do."));
      return -1;
    }

  if (hints_layer != -1 && (info->options & P2P_FILTER_OPTION_HINTS))
    {
      if (gimp_item_get_image (hints_layer) != image || !gimp_item_is_layer (hints_layer))
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("The hints layer must be a layer of the same image."));
          return -1;
        }
      if (!gimp_drawable_has_alpha (hints_layer))
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("The hints layer has no transparency: hints are the painted "
                         "pixels of an otherwise transparent layer."));
          return -1;
        }
    }

  search = p2p_plugin_model_search_path (gimp_get_progname (), gimp_directory ());
  model_path = p2p_plugin_model_resolve (search, filter, params->model, error);
  if (model_path == NULL)
    return -1;

  gimp_progress_init (_("Loading the model..."));
  model = p2p_plugin_model_load (model_path, filter, error);
  if (model == NULL)
    return -1;

  base = gimp_image_base_type (image);
  convert = base == GIMP_INDEXED || (base == GIMP_GRAY && info->grey_to_rgb);
  has_alpha = gimp_drawable_has_alpha (drawable);
  gimp_drawable_offsets (drawable, &off_x, &off_y);

  /* The pipeline reads the layer and writes the result row by row (in
   * tile mode the layer is never held as floats); the image is left alone
   * until the result is complete. */
  src_buf = gimp_drawable_get_buffer (drawable);
  if (use_selection)
    sel_buf = gimp_drawable_get_buffer (gimp_image_get_selection (image));
  gimp_progress_set_text (p2p_filter_title (filter));
  if (info->options & P2P_FILTER_OPTION_HINTS)
    p2p_hints_get (hints_layer, drawable, &hints);
  result = p2p_filter_run_buffer (model, src_buf, NULL, has_alpha, sel_buf, off_x, off_y,
                                  &hints, params, p2p_progress_update, NULL, error);
  g_clear_object (&hints.buffer);
  g_object_unref (src_buf);
  if (sel_buf != NULL)
    g_object_unref (sel_buf);
  if (result == NULL)
    return -1;
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

  source_name = gimp_item_get_name (drawable);
  layer_name = p2p_filter_result_layer_name (filter, model, source_name);
  layer = gimp_layer_new (image, layer_name, width, height,
                          gimp_image_base_type (image) == GIMP_GRAY ? GIMP_GRAYA_IMAGE
                                                                    : GIMP_RGBA_IMAGE,
                          100.0, GIMP_LAYER_MODE_NORMAL);
  parent = gimp_item_get_parent (drawable);
  position = gimp_image_get_item_position (image, drawable);

  dst_buf = gimp_drawable_get_buffer (layer);
  p2p_buffer_copy_result (result, dst_buf, NULL);
  g_object_unref (dst_buf);   /* flushes the tiles to GIMP */
  g_clear_object (&result);

  /* Into the image only now, with its pixels: a cancel during the copy
   * above (GIMP ends the plug-in) leaves the image without a half-written
   * layer. */
  if (!convert)
    gimp_image_undo_group_start (image);
  gimp_image_insert_layer (image, layer, parent > 0 ? parent : 0, position);
  gimp_layer_set_offsets (layer, off_x, off_y);

  /* The source's layer mask is copied as an (editable) mask of the new
   * layer, so that the result shows where the source shows. */
  if (gimp_layer_get_mask (drawable) > 0)
    {
      gint32 src_mask = gimp_layer_get_mask (drawable);
      gint32 mask = gimp_layer_create_mask (layer, GIMP_ADD_MASK_WHITE);
      GeglBuffer *from, *to;

      gimp_layer_add_mask (layer, mask);
      from = gimp_drawable_get_buffer (src_mask);
      to = gimp_drawable_get_buffer (mask);
      gegl_buffer_copy (from, NULL, GEGL_ABYSS_NONE, to, NULL);
      g_object_unref (from);
      g_object_unref (to);
      gimp_layer_set_apply_mask (layer, gimp_layer_get_apply_mask (drawable));
      gimp_drawable_update (mask, 0, 0, width, height);
    }

  gimp_drawable_update (layer, 0, 0, width, height);
  gimp_image_undo_group_end (image);
  gimp_progress_update (1.0);
  return layer;
}

static void
run (const gchar      *name,
     gint              nparams,
     const GimpParam  *param,
     gint             *nreturn_vals,
     GimpParam       **return_vals)
{
  static GimpParam values[2];
  static gchar *text = NULL;   /* the string returned, until the next call */
  g_autoptr(GError) error = NULL;
  P2pFilter filter;
  P2pFilterParams params;
  P2pGimp2Values vals;
  GimpRunMode run_mode;
  GimpPDBStatusType status = GIMP_PDB_SUCCESS;
  const P2pFilterInfo *info = p2p_filter_info_for_proc (name);
  GimpParamDef args[P2P_MAX_ARGS];
  gint32 layer = -1;
  int nargs, required;

  g_free (p2p_plugin_bind_textdomain (gimp_get_progname ()));
  textdomain (GETTEXT_PACKAGE);
  gegl_init (NULL, NULL);

  *nreturn_vals = 1;
  *return_vals = values;
  values[0].type = GIMP_PDB_STATUS;
  g_clear_pointer (&text, g_free);

  if (p2p_batch_is_helper (name))
    {
      text = p2p_batch_answer (name, nparams, param);
      values[0].data.d_status = text != NULL ? GIMP_PDB_SUCCESS : GIMP_PDB_CALLING_ERROR;
      values[1].type = GIMP_PDB_STRING;
      values[1].data.d_string = text;
      *nreturn_vals = text != NULL ? 2 : 1;
      return;
    }

  if (info == NULL)
    {
      values[0].data.d_status = GIMP_PDB_CALLING_ERROR;
      return;
    }
  filter = info->filter;
  nargs = p2p_args (info, args);
  required = p2p_n_required_args (info);
  run_mode = param[0].data.d_int32;
  p2p_filter_params_init (&params, filter);
  p2p_values_default (&vals);

  switch (run_mode)
    {
    case GIMP_RUN_INTERACTIVE:
      gimp_get_data (name, &vals);
      vals.model[P2P_MODEL_STRING_MAX - 1] = '\0';
      p2p_values_forget_hints (&vals, param[1].data.d_image);
      p2p_filter_map_size_mode (filter, &vals.size_mode, NULL);
      if (!p2p_values_check (filter, &vals, NULL))
        p2p_values_default (&vals);
      if (!p2p_dialog (filter, param[1].data.d_image, param[2].data.d_drawable, &vals))
        status = GIMP_PDB_CANCEL;
      break;

    case GIMP_RUN_NONINTERACTIVE:
      /* Fewer: a caller written before net-size or hints existed. */
      if (nparams < required || nparams > nargs)
        {
          g_set_error (&error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("Wrong number of arguments: %d given, %d expected."), nparams, nargs);
          status = GIMP_PDB_CALLING_ERROR;
          break;
        }
      g_strlcpy (vals.model, param[3].data.d_string ? param[3].data.d_string : "",
                 sizeof vals.model);
      vals.size_mode = param[4].data.d_int32;
      {
        g_autofree char *note = NULL;

        /* a mode the filter no longer offers: resize, said in GIMP's
         * message console (stderr in batch mode), as GIMP 3 does */
        if (p2p_filter_map_size_mode (filter, &vals.size_mode, &note))
          gimp_message (note);
      }
      vals.norm_mode = param[5].data.d_int32;
      vals.seed = param[6].data.d_int32;
      for (int i = 7; i < nparams; i++)
        {
          if (g_str_equal (args[i].name, "chroma"))
            vals.chroma = param[i].data.d_float;
          else if (g_str_equal (args[i].name, "net-size"))
            vals.net_size = param[i].data.d_int32;
          else if (g_str_equal (args[i].name, "hints"))
            vals.hints = param[i].data.d_drawable;
        }
      break;

    case GIMP_RUN_WITH_LAST_VALS:
      gimp_get_data (name, &vals);
      vals.model[P2P_MODEL_STRING_MAX - 1] = '\0';
      p2p_values_forget_hints (&vals, param[1].data.d_image);
      p2p_filter_map_size_mode (filter, &vals.size_mode, NULL);
      break;

    default:
      break;
    }

  if (status == GIMP_PDB_SUCCESS && !p2p_values_check (filter, &vals, &error))
    status = GIMP_PDB_CALLING_ERROR;

  if (status == GIMP_PDB_SUCCESS)
    {
      p2p_values_to_params (&vals, &params);
      layer = p2p_apply (filter, param[1].data.d_image, param[2].data.d_drawable,
                         vals.hints, &params, &error);
      if (layer < 0)
        switch (p2p_filter_error_status (error))
          {
          case P2P_FILTER_STATUS_CANCEL:          status = GIMP_PDB_CANCEL; break;
          case P2P_FILTER_STATUS_CALLING_ERROR:   status = GIMP_PDB_CALLING_ERROR; break;
          case P2P_FILTER_STATUS_EXECUTION_ERROR: status = GIMP_PDB_EXECUTION_ERROR; break;
          }
    }

  if (status == GIMP_PDB_SUCCESS)
    {
      if (run_mode == GIMP_RUN_INTERACTIVE)
        gimp_set_data (name, &vals, sizeof vals);
      if (run_mode != GIMP_RUN_NONINTERACTIVE)
        gimp_displays_flush ();
      *nreturn_vals = 2;
      values[1].type = GIMP_PDB_LAYER;
      values[1].data.d_layer = layer;
    }
  else if (error != NULL)
    {
      text = p2p_filter_error_text (filter, error);
      if (run_mode != GIMP_RUN_NONINTERACTIVE && status != GIMP_PDB_CANCEL)
        gimp_message (text);
      *nreturn_vals = 2;
      values[1].type = GIMP_PDB_STRING;
      values[1].data.d_string = text;
    }

  values[0].data.d_status = status;
  p2p_filter_params_clear (&params);
}
