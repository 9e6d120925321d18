/* p2p-plugin-common.h - the GIMP-version-neutral part of the plug-in.
 *
 * Both front-ends (gimp2/ for libgimp-2.0, gimp3/ for libgimp-3.0) are thin:
 * they declare the PDB procedures, show the dialog and talk to the image.
 * Everything else lives here: procedure names and defaults, the model
 * search path and model list, moving pixels between GeglBuffers and
 * P2pImages, the selection mask, the progress/cancel glue and the error
 * texts.  This file uses GLib, GEGL and the core only - never libgimp -
 * so it compiles unchanged against either GIMP.
 */
#pragma once

#include <glib.h>
#include <gegl.h>
#include "p2p.h"

G_BEGIN_DECLS

/* The plug-in's folder and binary name; GIMP 3 requires them to be equal. */
#define P2P_PLUGIN_NAME        "gimp-pix2pix"
#define P2P_PROC_SKETCH        "plug-in-pix2pix-sketch-to-photo"
#define P2P_PROC_COLORIZE      "plug-in-pix2pix-colorize"
/* P2P_MODEL_PATH_ENV, P2P_PROFILE_MODEL_DIR and P2P_MODEL_SUFFIX come from
 * the core's p2p-model-path.h. */
#define P2P_PROC_APPLY_MODEL   "plug-in-pix2pix-apply-model"
/* The plug-in's own help (HTML pages installed in <plug-in folder>/help,
 * <locale>/gimp-help.xml mapping each procedure name to its page): GIMP
 * shows them instead of "The GIMP user manual is not installed". */
#define P2P_HELP_DOMAIN        "gimp-pix2pix"
#define P2P_HELP_FOLDER        "help"

typedef enum {
  P2P_FILTER_SKETCH_TO_PHOTO,
  P2P_FILTER_COLORIZE,
  P2P_FILTER_APPLY_MODEL,
  P2P_N_FILTERS
} P2pFilter;

/* Options a filter offers besides model, size mode, normalization, seed
 * and network size (which all have). */
typedef enum {
  P2P_FILTER_OPTION_CHROMA = 1 << 0,   /* color strength */
  P2P_FILTER_OPTION_HINTS  = 1 << 1,   /* a layer of color hints */
  P2P_FILTER_OPTION_IMPORT = 1 << 2,   /* the dialog imports PyTorch .pth checkpoints */
} P2pFilterOptions;

/* The filter table: one row per filter, everything the front-ends need to
 * declare, show and run it.  A new filter is a row here (and its tests);
 * the front-ends loop over the table. */
typedef struct {
  P2pFilter        filter;
  const char      *proc_name;
  const char      *title;          /* N_(): dialog title, progress, layer and error texts */
  const char      *menu_label;     /* N_() */
  const char      *menu_path;
  const char      *blurb;          /* N_() */
  const char      *help;           /* N_() */
  /* N_(): what to draw, shown at the top of the dialog; NULL: none.  Not
   * appended to help: GIMP 2.10 translates PDB help only as a whole msgid. */
  const char      *input_help;
  const char      *default_model;  /* file name in the model folders; NULL: none (the
                                      user must choose one) */
  P2pTask          task;           /* the models it lists and accepts */
  /* The size modes it offers (P2P_SIZE_MODE_BIT): those that give good
   * pictures with its models, measured through pix2pix-cli on eval_in
   * (models/README.md, "Size modes").  Resize is always among them (the
   * default).  Others are refused with a message (GIMP 3: not in the
   * procedure's choice; GIMP 2.10 and the common code:
   * p2p_filter_check_size_mode()). */
  guint            size_modes;
  P2pFilterOptions options;
  gboolean         grey_to_rgb;    /* a grey image becomes RGB first (indexed always does) */
  gboolean         layer_from_model; /* the result layer is named after the model */
} P2pFilterInfo;

extern const P2pFilterInfo p2p_filters[P2P_N_FILTERS];

#define P2P_SIZE_MODE_BIT(mode) (1u << (mode))

/* The row of @filter; of a procedure name, or NULL for an unknown one. */
const P2pFilterInfo *p2p_filter_info          (P2pFilter filter);
const P2pFilterInfo *p2p_filter_info_for_proc (const char *proc_name);

/* Everything a run needs besides the image.  @model is the user's string:
 * "" (the filter's default model), a bundled/installed model's file name
 * (with or without ".safetensors"), or a path to a model file. */
typedef struct {
  P2pFilter    filter;
  char        *model;       /* owned */
  P2pSizeMode  size_mode;
  P2pNormMode  norm_mode;
  guint64      seed;
  double       chroma;      /* P2P_FILTER_OPTION_CHROMA only */
  int          net_size;    /* resize mode: side of the square the network sees,
                               0 = the model's default (p2p_model_resize_side()) */
} P2pFilterParams;

#define P2P_CHROMA_MIN      0.0
#define P2P_CHROMA_MAX      4.0
#define P2P_CHROMA_DEFAULT  1.0
#define P2P_SEED_MAX        G_MAXINT
#define P2P_NET_SIZE_MAX    P2P_PIPELINE_NET_SIZE_MAX
/* The dialogs' preview runs the network at no more than this size. */
#define P2P_PREVIEW_NET_SIZE_MAX 512

void        p2p_filter_params_init  (P2pFilterParams *params, P2pFilter filter);
void        p2p_filter_params_clear (P2pFilterParams *params);

/* The filter's title, translated ("Sketch to Photo"). */
const char *p2p_filter_title        (P2pFilter filter);

/* Name of the result layer: "Sketch to Photo (Background)" (translated). */
char       *p2p_filter_layer_name   (P2pFilter filter, const char *source_name);

/* Name of the result layer for a run of @model: the filter's (as above),
 * or for a filter whose row says layer_from_model the model's own name,
 * "Monet (Background)". */
char       *p2p_filter_result_layer_name (P2pFilter       filter,
                                          const P2pModel *model,
                                          const char     *source_name);

/* The help folder's URI for the plug-in @program (absolute path of the
 * executable): file:///.../plug-ins/gimp-pix2pix/help (transfer full). */
char       *p2p_plugin_help_uri     (const char *program);

/* Whether @filter offers size mode @mode (any int: a PDB argument). */
gboolean    p2p_filter_offers_size_mode (P2pFilter filter, int mode);
/* TRUE, or FALSE with a translated P2P_ERROR_BAD_INPUT naming the modes
 * @filter offers (by the names scripts use). */
gboolean    p2p_filter_check_size_mode  (P2pFilter filter, int mode, GError **error);

/* Scripts written before the filter dropped a size mode: such a mode (a
 * known one that @filter does not offer) runs as resize, the default and
 * what the measurements found best.  Returns TRUE when *@mode was changed,
 * with *@note (transfer full, translated) saying so; unknown numbers are
 * left for p2p_filter_check_size_mode().  GIMP 3 does the same by itself
 * for a choice its procedure does not list (it logs the value as out of
 * range and uses the default). */
gboolean    p2p_filter_map_size_mode    (P2pFilter filter, int *mode, char **note);

/* An error for the PDB/message: "Sketch to Photo: <message>". */
char       *p2p_filter_error_text   (P2pFilter filter, const GError *error);

/* What a failed run returns to the PDB: one mapping for both front-ends
 * (each turns it into its GimpPDBStatusType). */
typedef enum {
  P2P_FILTER_STATUS_CANCEL,          /* the user cancelled */
  P2P_FILTER_STATUS_CALLING_ERROR,   /* bad arguments or input */
  P2P_FILTER_STATUS_EXECUTION_ERROR, /* anything else */
} P2pFilterStatus;

P2pFilterStatus p2p_filter_error_status (const GError *error);

/* --- i18n ------------------------------------------------------------- */

/* Binds the text domain to <dir of @program>/locale, falling back to
 * LOCALEDIR when that folder does not exist.  Returns the directory used
 * (transfer full). */
char       *p2p_plugin_bind_textdomain (const char *program);

/* --- models ------------------------------------------------------------ */

/* The folders searched for models, in order (transfer full, NULL-terminated):
 *  1. <plug-in folder>/models  (bundled models installed with the plug-in)
 *  2. P2P_MODELDIR             (the data folder given at build time)
 *  3. <GIMP profile>/pix2pix    (the user's own models)
 *  4. each folder in $P2P_MODEL_PATH (colon separated; for tests)
 * (p2p_model_search_path_new(): the same rule pix2pix-cli follows). */
char      **p2p_plugin_model_search_path (const char *program, const char *gimp_dir);

typedef struct {
  char    *path;          /* absolute file name */
  char    *file_name;     /* basename, e.g. "colorize.safetensors" */
  char    *display_name;  /* from the model's metadata, else file name */
  char    *license;
  char    *description;
  P2pTask  task;
  /* Added with p2p_plugin_model_list_all(): */
  char    *error;         /* NULL, or why the file cannot be used (translated) */
  guint64  file_size;     /* bytes */
} P2pPluginModel;

void        p2p_plugin_model_free (P2pPluginModel *entry);

/* Every loadable model file (.safetensors or .pth) in the search path,
 * sorted by display name (p2p_model_path_list_files()).
 * The first folder holding a file name wins, as in p2p_plugin_model_resolve(), so
 * the list shows exactly the files a name would resolve to.  Models that
 * fail to load are skipped with a g_message.  When @task is not
 * P2P_TASK_GENERIC, only models that can run that task are listed.
 * (transfer full) array of P2pPluginModel. */
GPtrArray  *p2p_plugin_model_list   (char **search_path, P2pTask task);

/* As p2p_plugin_model_list(), but models that fail to load are listed too
 * (whatever @task), with ->error saying why (and no g_message): the
 * dialogs show them greyed.  (transfer full) */
GPtrArray  *p2p_plugin_model_list_all (char **search_path, P2pTask task);

/* The models @filter's chooser lists: p2p_plugin_model_list_all() for the
 * filter's task, strictly (generic models are listed by Apply pix2pix
 * Model only, although Sketch to Photo still runs one given by name).
 * (transfer full) */
GPtrArray  *p2p_plugin_model_list_for_filter (char **search_path, P2pFilter filter);

/* Whether @entry is the filter's default model (the file an empty model
 * string resolves to): the chooser shows it once, as the default. */
gboolean    p2p_plugin_model_is_default (const P2pPluginModel *entry, P2pFilter filter);

/* The model string the chooser stores for @entry: "" for the default
 * model, else its path (transfer none). */
const char *p2p_plugin_model_choice (const P2pPluginModel *entry, P2pFilter filter);

/* One chooser line: "Name (default) - sketch-to-photo, 20.9 MB, CC-BY-4.0",
 * or "file.safetensors - cannot be used" for a broken file (translated,
 * transfer full). */
char       *p2p_plugin_model_label   (const P2pPluginModel *entry, P2pFilter filter);

/* Text under the chooser: licence, file and description, or the reason a
 * broken file cannot be used (translated, transfer full). */
char       *p2p_plugin_model_details (const P2pPluginModel *entry);

/* Converts the PyTorch checkpoint @pth_path (an official pix2pix/CycleGAN
 * generator, latest_net_G.pth) into the user's model folder @user_dir
 * (made if missing) as <name>.safetensors, where <name> comes from the
 * file name, or for a "latest_net_G*.pth" from its folder's name
 * ("style_monet_pretrained" -> "style_monet").  An existing file is never
 * overwritten.  The converted bytes are checked by loading them before
 * they are written.  Returns the new file's path (transfer full), or NULL
 * with a translated error. */
char       *p2p_plugin_model_import  (const char *pth_path,
                                      const char *user_dir,
                                      GError    **error);

/* Resolves the user's model string to a file name (transfer full), or NULL
 * with a translated P2P_ERROR_NOT_FOUND message: "" is the filter's
 * default model, anything else goes to p2p_model_path_resolve(). */
char       *p2p_plugin_model_resolve (char          **search_path,
                                     P2pFilter        filter,
                                     const char      *model,
                                     GError         **error);

/* Loads and checks that the model suits the filter (a colorize filter
 * cannot run a sketch model and vice versa; generic models run anywhere). */
P2pModel   *p2p_plugin_model_load  (const char *path,
                                       P2pFilter   filter,
                                       GError    **error);

/* --- running ------------------------------------------------------------ */

/* A layer of color hints (P2P_FILTER_OPTION_HINTS): a pixel with alpha of
 * at least 50% says what color the photo has there (only its hue and
 * saturation count).  Any size and place: it is aligned with the source by
 * image coordinates, and is transparent (no hints) outside its extent. */
typedef struct {
  GeglBuffer *buffer;   /* (transfer none); NULL: no hints */
  const Babl *space;    /* its color space, NULL: sRGB */
  int         dx, dy;   /* its top-left corner minus the source layer's */
} P2pHints;

/* Progress glue: @update shows a fraction (e.g. gimp_progress_update) and
 * returns FALSE when the user cancelled. */
typedef gboolean (*P2pPluginProgressFunc) (double fraction, gpointer user_data);

/* Runs the pipeline for @params on @input (and the RGBA @hints of its size,
 * or NULL).  Errors are translated texts. */
P2pImage   *p2p_filter_run          (const P2pModel        *model,
                                     const P2pImage        *input,
                                     const P2pImage        *hints,
                                     const P2pFilterParams *params,
                                     P2pPluginProgressFunc  progress,
                                     gpointer               progress_data,
                                     GError               **error);

/* Runs the pipeline for @params on the whole extent of @source, reading
 * and writing rows as it asks (p2p_pipeline_run_rows(): in tile mode the
 * layer is never held as floats), and returns the result as a new buffer
 * of the source's size at (0, 0) (transfer full): "R'G'B'A float" holding
 * the values as computed from the source read as gamma-encoded RGB(A) in
 * @space (a babl space: GIMP 3 passes the drawable's format, GIMP 2.10
 * NULL for sRGB), alpha
 * multiplied by @selection's mask at (sel_x, sel_y) + pixel position when
 * @selection is not NULL.  GEGL's tile cache holds it (and swaps it to disk
 * when large).  @hints (or NULL) are read row by row beside the source.
 * NULL with a translated error, or "Cancelled.". */
GeglBuffer *p2p_filter_run_buffer   (const P2pModel        *model,
                                     GeglBuffer            *source,
                                     const Babl            *space,
                                     gboolean               with_alpha,
                                     GeglBuffer            *selection,
                                     int                    sel_x,
                                     int                    sel_y,
                                     const P2pHints        *hints,
                                     const P2pFilterParams *params,
                                     P2pPluginProgressFunc  progress,
                                     gpointer               progress_data,
                                     GError               **error);

/* Copies p2p_filter_run_buffer()'s result into @dest (same size) as the
 * values of gamma-encoded RGBA in @space (the new layer's; NULL: sRGB),
 * without conversion: the numbers the network computed. */
void        p2p_buffer_copy_result  (GeglBuffer            *result,
                                     GeglBuffer            *dest,
                                     const Babl            *space);

/* Choice tables for the size and norm modes: GIMP 2.10 passes them as
 * integers (index), GIMP 3 as choice strings (nick). */
typedef struct {
  int         value;
  const char *nick;    /* "resize" - the core's own name */
  const char *label;   /* untranslated, wrap in _() to show */
  const char *description; /* what the choice does, a sentence or two for
                              the dialog (untranslated, N_()); or NULL */
} P2pChoice;

extern const P2pChoice p2p_size_mode_choices[];
extern const P2pChoice p2p_norm_mode_choices[];
#define P2P_N_SIZE_MODES 3
#define P2P_N_NORM_MODES 3
/* What the normalization choice does, in plain words (untranslated). */
extern const char p2p_norm_mode_help[];

/* --- preview ------------------------------------------------------------ */

/* The dialogs' live preview: the source scaled down once so that its longer
 * side is at most P2P_PREVIEW_SIZE, then the filter run on that at every
 * change of the options (a pass at 256x256 takes well under a second); in
 * whole and tile mode a 1:1 region of the source instead (see
 * p2p_preview_shows_region()). */
#define P2P_PREVIEW_SIZE 256

typedef struct _P2pPreview P2pPreview;

P2pPreview *p2p_preview_new    (GeglBuffer            *source,
                                const Babl            *space,
                                gboolean               with_alpha,
                                char                 **search_path,
                                P2pFilter              filter,
                                GError               **error);
/* Returns straight-alpha RGBA 8-bit pixels, rows packed (transfer full,
 * g_free), or NULL with @error set (e.g. the chosen model cannot be
 * loaded). */
/* The hints the preview uses from now on (NULL or no buffer: none),
 * reduced to the preview's size so that every hint stays visible to the
 * network however far the layer is scaled down. */
gboolean    p2p_preview_set_hints (P2pPreview          *preview,
                                   const P2pHints      *hints,
                                   GError             **error);
guchar     *p2p_preview_render (P2pPreview            *preview,
                                const P2pFilterParams *params,
                                int                   *width,
                                int                   *height,
                                GError               **error);
void        p2p_preview_free   (P2pPreview            *preview);

/* Whether p2p_preview_render() shows a 1:1 region for @params (whole and
 * tile mode, which work at the layer's own resolution) instead of the
 * whole layer scaled down (resize mode). */
gboolean    p2p_preview_shows_region (const P2pFilterParams *params);
/* The region: at most P2P_PREVIEW_SIZE a side (the layer's size when
 * smaller), its top-left corner in layer coordinates, kept inside the
 * layer; it starts at the layer's centre. */
void        p2p_preview_set_region (P2pPreview *preview, int x, int y);
void        p2p_preview_get_region (P2pPreview *preview, int *x, int *y,
                                    int *width, int *height);

/* What running @params on the whole layer is estimated to cost
 * (p2p_pipeline_estimate()), as a sentence for the dialog, translated
 * (transfer full): "Estimated for the whole layer: about 3 seconds, 250 MB
 * of memory."; when the run would be refused for memory, the sentence says
 * so and *@fits (may be NULL) is FALSE.  NULL with @error when the model
 * cannot be loaded or the options are invalid. */
char       *p2p_preview_estimate (P2pPreview            *preview,
                                  const P2pFilterParams *params,
                                  gboolean              *fits,
                                  GError               **error);

G_END_DECLS
