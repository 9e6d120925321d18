/* p2p-plugin-common.c - GIMP-version-neutral plug-in code (see the header). */

#include "config.h"

#include <errno.h>
#include <string.h>
#include <locale.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>

#include "p2p-plugin-common.h"

/* Rows moved per gegl_buffer_get/set call: bounds the temporary memory a
 * huge layer needs for the selection mask and keeps GEGL's tile cache warm. */
#define P2P_CHUNK_ROWS 64

const P2pChoice p2p_size_mode_choices[] = {
  { P2P_SIZE_MODE_RESIZE, "resize", N_("Resize to the model's size (as trained)"),
    N_("The network sees the whole image scaled to the network size, and its result is scaled "
       "back to the layer's size. A larger network size gives more detail but takes longer "
       "and more memory.") },
  { P2P_SIZE_MODE_WHOLE,  "whole",  N_("Whole image at full resolution"),
    N_("The network runs on the layer at its own resolution: every pixel is used, but on a "
       "large image the network sees only a small part at a time, as if zoomed in.") },
  { P2P_SIZE_MODE_TILE,   "tile",   N_("Full resolution in tiles (large images, less memory)"),
    N_("As the whole image at full resolution, in overlapping tiles: for large images, with "
       "much less memory.") },
};

/* Plain words for what the normalization modes do (the nicks are the
 * core's technical names). */
const P2pChoice p2p_norm_mode_choices[] = {
  { P2P_NORM_MODE_OFFICIAL,   "official",   N_("Adapt to this image (recommended)"), NULL },
  { P2P_NORM_MODE_RUNNING,    "running",    N_("Fixed, as learned in training"), NULL },
  { P2P_NORM_MODE_STOCHASTIC, "stochastic", N_("Random variation (a new result for each seed)"), NULL },
};

const char p2p_norm_mode_help[] =
  N_("How the network adjusts to the picture: adapting to this image is how pix2pix "
     "was published and usually looks best; fixed values from training can look more "
     "alike across a series of images; random variation gives another result for each "
     "seed.");

void
p2p_filter_params_init (P2pFilterParams *params,
                        P2pFilter        filter)
{
  memset (params, 0, sizeof *params);
  params->filter = filter;
  params->model = g_strdup ("");
  params->size_mode = P2P_SIZE_MODE_RESIZE;
  params->norm_mode = P2P_NORM_MODE_OFFICIAL;
  params->seed = 0;
  params->chroma = P2P_CHROMA_DEFAULT;
}

void
p2p_filter_params_clear (P2pFilterParams *params)
{
  g_clear_pointer (&params->model, g_free);
}

const P2pFilterInfo p2p_filters[P2P_N_FILTERS] = {
  [P2P_FILTER_SKETCH_TO_PHOTO] = {
    P2P_FILTER_SKETCH_TO_PHOTO, P2P_PROC_SKETCH,
    N_("Sketch to Photo"), N_("_Sketch to Photo..."), "<Image>/Filters/Artistic",
    N_("Turn a line drawing into a photo-like image with a pix2pix network"),
    N_("Runs a pix2pix generator trained on sketch/photo pairs on the active "
       "layer and puts the result into a new layer above it.  Transparent "
       "parts of the drawing count as white paper and the result is opaque; "
       "a gray or indexed image is converted to RGB.  Only the selection is "
       "shown in the new layer."),
    N_("Draw dark lines on a light ground, then give regions their colors: "
       "bucket-fill them or paint rough strokes under the lines. The result "
       "keeps your colors; lines alone give only a muddy guess."),
    "sketch-to-photo" P2P_MODEL_SUFFIX, P2P_TASK_SKETCH_TO_PHOTO,
    /* at full resolution the lines keep their place and detail (at the
     * model's size a large drawing comes back as a blur); tiles gave white
     * halos and lower scores than the whole image (models/README.md) */
    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_RESIZE) | P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_WHOLE),
    0, TRUE, FALSE,
  },
  [P2P_FILTER_COLORIZE] = {
    P2P_FILTER_COLORIZE, P2P_PROC_COLORIZE,
    N_("Auto Colorize"), N_("Auto _Colorize..."), "<Image>/Colors",
    N_("Colorize a grayscale photo with a pix2pix network"),
    N_("Predicts colors for the active layer with a pix2pix generator and puts "
       "the result into a new layer above it.  The lightness of the source is "
       "kept; a gray or indexed image is converted to RGB.  Only the selection "
       "is shown in the new layer."),
    NULL,
    "colorize" P2P_MODEL_SUFFIX, P2P_TASK_COLORIZE,
    /* at full resolution the network sees texture, not objects, and the
     * colors go wrong (a red motorcycle turned olive); the layer's own
     * lightness is full resolution anyway */
    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_RESIZE),
    P2P_FILTER_OPTION_CHROMA | P2P_FILTER_OPTION_HINTS, TRUE, FALSE,
  },
  [P2P_FILTER_APPLY_MODEL] = {
    P2P_FILTER_APPLY_MODEL, P2P_PROC_APPLY_MODEL,
    N_("Apply pix2pix Model"), N_("Apply pix2pix _Model..."), "<Image>/Filters/Artistic",
    N_("Run any pix2pix or CycleGAN generator (e.g. a painting style) on the layer"),
    N_("Runs the chosen generator model (any task: the models of the other "
       "filters, imported PyTorch checkpoints such as the official CycleGAN "
       "styles) on the active layer and puts the result into a new layer "
       "above it, named after the model.  Only the selection is shown in "
       "the new layer."),
    NULL,
    NULL, P2P_TASK_GENERIC,
    /* any generator: not measured (styles are usually run at full
     * resolution), so every mode */
    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_RESIZE) | P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_WHOLE) |
    P2P_SIZE_MODE_BIT (P2P_SIZE_MODE_TILE),
    P2P_FILTER_OPTION_IMPORT, TRUE, TRUE,
  },
};

const P2pFilterInfo *
p2p_filter_info (P2pFilter filter)
{
  g_return_val_if_fail ((guint) filter < P2P_N_FILTERS, &p2p_filters[0]);
  return &p2p_filters[filter];
}

const P2pFilterInfo *
p2p_filter_info_for_proc (const char *proc_name)
{
  for (guint i = 0; i < P2P_N_FILTERS; i++)
    if (g_strcmp0 (p2p_filters[i].proc_name, proc_name) == 0)
      return &p2p_filters[i];
  return NULL;
}

gboolean
p2p_filter_offers_size_mode (P2pFilter filter,
                             int       mode)
{
  return mode >= 0 && mode < P2P_N_SIZE_MODES &&
         (p2p_filter_info (filter)->size_modes & P2P_SIZE_MODE_BIT (mode)) != 0;
}

gboolean
p2p_filter_check_size_mode (P2pFilter   filter,
                            int         mode,
                            GError    **error)
{
  g_autoptr(GString) offered = NULL;

  if (p2p_filter_offers_size_mode (filter, mode))
    return TRUE;
  offered = g_string_new (NULL);
  for (int m = 0; m < P2P_N_SIZE_MODES; m++)
    if (p2p_filter_offers_size_mode (filter, m))
      g_string_append_printf (offered, "%s%s (%d)", offered->len ? ", " : "",
                              p2p_size_mode_choices[m].nick, m);
  if (mode >= 0 && mode < P2P_N_SIZE_MODES)
    /* TRANSLATORS: "<filter> does not offer the size mode "whole" (1); it offers: resize (0)" */
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                 _("%s does not offer the size mode “%s” (%d), which gives poor results with "
                   "its models; it offers: %s."), p2p_filter_title (filter),
                 p2p_size_mode_choices[mode].nick, mode, offered->str);
  else
    g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                 _("Invalid size mode %d; %s offers: %s."), mode, p2p_filter_title (filter),
                 offered->str);
  return FALSE;
}

gboolean
p2p_filter_map_size_mode (P2pFilter   filter,
                          int        *mode,
                          char      **note)
{
  if (*mode < 0 || *mode >= P2P_N_SIZE_MODES || p2p_filter_offers_size_mode (filter, *mode))
    return FALSE;
  if (note != NULL)
    /* TRANSLATORS: "Auto Colorize: the size mode "whole" is no longer offered ..." */
    *note = g_strdup_printf (_("%s: the size mode “%s” is no longer offered (it gives poor "
                               "results with this filter's models); the image was processed "
                               "with “%s” instead."), p2p_filter_title (filter),
                             p2p_size_mode_choices[*mode].nick,
                             p2p_size_mode_choices[P2P_SIZE_MODE_RESIZE].nick);
  *mode = P2P_SIZE_MODE_RESIZE;
  return TRUE;
}

const char *
p2p_filter_title (P2pFilter filter)
{
  return _(p2p_filter_info (filter)->title);
}

char *
p2p_filter_layer_name (P2pFilter   filter,
                       const char *source_name)
{
  /* TRANSLATORS: name of the new layer: "<filter> (<source layer name>)" */
  return g_strdup_printf (_("%s (%s)"), p2p_filter_title (filter),
                          source_name ? source_name : "");
}

char *
p2p_filter_result_layer_name (P2pFilter       filter,
                              const P2pModel *model,
                              const char     *source_name)
{
  const P2pModelInfo *info = model != NULL ? p2p_model_get_info (model) : NULL;

  if (p2p_filter_info (filter)->layer_from_model && info != NULL && info->name != NULL &&
      *info->name)
    return g_strdup_printf (_("%s (%s)"), info->name, source_name ? source_name : "");
  return p2p_filter_layer_name (filter, source_name);
}

char *
p2p_plugin_help_uri (const char *program)
{
  g_autofree char *exe_dir = NULL;
  g_autofree char *dir = NULL;
  char *uri;

  if (program == NULL || !g_path_is_absolute (program))
    return NULL;
  exe_dir = g_path_get_dirname (program);
  dir = g_build_filename (exe_dir, P2P_HELP_FOLDER, NULL);
  uri = g_filename_to_uri (dir, NULL, NULL);
  return uri;
}

char *
p2p_filter_error_text (P2pFilter     filter,
                       const GError *error)
{
  /* TRANSLATORS: "<filter name>: <error message>" */
  return g_strdup_printf (_("%s: %s"), p2p_filter_title (filter),
                          error != NULL ? error->message : _("Unknown error."));
}

P2pFilterStatus
p2p_filter_error_status (const GError *error)
{
  if (g_error_matches (error, P2P_ERROR, P2P_ERROR_CANCELLED))
    return P2P_FILTER_STATUS_CANCEL;
  if (g_error_matches (error, P2P_ERROR, P2P_ERROR_BAD_INPUT))
    return P2P_FILTER_STATUS_CALLING_ERROR;
  return P2P_FILTER_STATUS_EXECUTION_ERROR;
}

char *
p2p_plugin_bind_textdomain (const char *program)
{
  g_autofree char *dir = NULL;

  if (program != NULL && g_path_is_absolute (program))
    {
      g_autofree char *exe_dir = g_path_get_dirname (program);
      dir = g_build_filename (exe_dir, "locale", NULL);
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
        g_clear_pointer (&dir, g_free);
    }
  if (dir == NULL)
    dir = g_strdup (LOCALEDIR);

  bindtextdomain (GETTEXT_PACKAGE, dir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  return g_steal_pointer (&dir);
}

/* --- models ---------------------------------------------------------- */

char **
p2p_plugin_model_search_path (const char *program,
                              const char *gimp_dir)
{
  g_autoptr(GPtrArray) bundled = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) user = g_ptr_array_new_with_free_func (g_free);

  if (program != NULL && g_path_is_absolute (program))
    {
      g_autofree char *exe_dir = g_path_get_dirname (program);
      g_ptr_array_add (bundled, g_build_filename (exe_dir, "models", NULL));
    }
#ifdef P2P_MODELDIR
  g_ptr_array_add (bundled, g_strdup (P2P_MODELDIR));
#endif
  g_ptr_array_add (bundled, NULL);
  if (gimp_dir != NULL && *gimp_dir)
    g_ptr_array_add (user, g_build_filename (gimp_dir, P2P_PROFILE_MODEL_DIR, NULL));
  g_ptr_array_add (user, NULL);
  /* The order and $P2P_MODEL_PATH are the core's, as for pix2pix-cli. */
  return p2p_model_search_path_new ((const char *const *) bundled->pdata,
                                    (const char *const *) user->pdata);
}

void
p2p_plugin_model_free (P2pPluginModel *entry)
{
  if (entry == NULL)
    return;
  g_free (entry->path);
  g_free (entry->file_name);
  g_free (entry->display_name);
  g_free (entry->license);
  g_free (entry->description);
  g_free (entry->error);
  g_free (entry);
}

static gboolean
p2p_task_fits (P2pTask model_task,
               P2pTask wanted)
{
  return wanted == P2P_TASK_GENERIC || model_task == wanted ||
         (model_task == P2P_TASK_GENERIC && wanted == P2P_TASK_SKETCH_TO_PHOTO);
}

static int
p2p_plugin_model_compare (gconstpointer a,
                         gconstpointer b)
{
  const P2pPluginModel *ea = *(P2pPluginModel * const *) a;
  const P2pPluginModel *eb = *(P2pPluginModel * const *) b;

  return g_utf8_collate (ea->display_name, eb->display_name);
}

/* Listing is stricter than loading: a generic model is offered by Apply
 * pix2pix Model, not by Sketch to Photo (which still runs one by name). */
static gboolean
p2p_task_lists (P2pTask model_task,
                P2pTask wanted)
{
  return wanted == P2P_TASK_GENERIC || model_task == wanted;
}

/* Every model file in the search path: exactly the files their names
 * resolve to (the core's lookup, shared with pix2pix-cli), loadable or not;
 * @strict: list by p2p_task_lists, else by p2p_task_fits.  Broken files get
 * ->error when @keep_broken, else a g_message and no entry. */
static GPtrArray *
p2p_plugin_model_scan (char     **search_path,
                       P2pTask    task,
                       gboolean   strict,
                       gboolean   keep_broken)
{
  GPtrArray *list = g_ptr_array_new_with_free_func ((GDestroyNotify) p2p_plugin_model_free);
  g_autoptr(GPtrArray) files = p2p_model_path_list_files (search_path);

  for (guint k = 0; k < files->len; k++)
    {
      const char *path = files->pdata[k];
      g_autoptr(GError) error = NULL;
      g_autoptr(P2pModel) model = NULL;
      const P2pModelInfo *info;
      P2pPluginModel *entry;
      g_autofree char *file_name = g_path_get_basename (path);

      model = p2p_model_load (path, &error);
      if (model == NULL && !keep_broken)
        {
          g_message ("%s: %s", path, error->message);
          continue;
        }
      info = model != NULL ? p2p_model_get_info (model) : NULL;
      if (info != NULL && !(strict ? p2p_task_lists (info->task, task)
                                   : p2p_task_fits (info->task, task)))
        continue;

      entry = g_new0 (P2pPluginModel, 1);
      {
        GStatBuf st;

        if (g_stat (path, &st) == 0)
          entry->file_size = (guint64) st.st_size;
      }
      entry->path = g_strdup (path);
      if (info != NULL)
        {
          entry->display_name = g_strdup (info->name && *info->name ? info->name : file_name);
          entry->license = g_strdup (info->license ? info->license : "");
          entry->description = g_strdup (info->description ? info->description : "");
          entry->task = info->task;
        }
      else
        {
          entry->display_name = g_strdup (file_name);
          entry->license = g_strdup ("");
          entry->description = g_strdup ("");
          entry->task = P2P_TASK_GENERIC;
          entry->error = g_strdup (error->message);
        }
      entry->file_name = g_steal_pointer (&file_name);
      g_ptr_array_add (list, entry);
    }
  g_ptr_array_sort (list, p2p_plugin_model_compare);
  return list;
}

GPtrArray *
p2p_plugin_model_list (char  **search_path,
                       P2pTask task)
{
  return p2p_plugin_model_scan (search_path, task, FALSE, FALSE);
}

GPtrArray *
p2p_plugin_model_list_all (char  **search_path,
                           P2pTask task)
{
  return p2p_plugin_model_scan (search_path, task, FALSE, TRUE);
}

GPtrArray *
p2p_plugin_model_list_for_filter (char      **search_path,
                                  P2pFilter   filter)
{
  return p2p_plugin_model_scan (search_path, p2p_filter_info (filter)->task, TRUE, TRUE);
}

gboolean
p2p_plugin_model_is_default (const P2pPluginModel *entry,
                             P2pFilter             filter)
{
  const char *def = p2p_filter_info (filter)->default_model;

  /* The list holds the file a name resolves to (first folder wins), so
   * the entry of that file name is the default's. */
  return def != NULL && entry->error == NULL && g_strcmp0 (entry->file_name, def) == 0;
}

const char *
p2p_plugin_model_choice (const P2pPluginModel *entry,
                         P2pFilter             filter)
{
  return p2p_plugin_model_is_default (entry, filter) ? "" : entry->path;
}

char *
p2p_plugin_model_label (const P2pPluginModel *entry,
                        P2pFilter             filter)
{
  g_autofree char *size = g_format_size (entry->file_size);

  if (entry->error != NULL)
    /* TRANSLATORS: a model file in the chooser that does not load */
    return g_strdup_printf (_("%s - cannot be used"), entry->file_name);
  if (p2p_plugin_model_is_default (entry, filter))
    /* TRANSLATORS: model chooser line: name, task, file size, licence */
    return g_strdup_printf (_("%s (default) - %s, %s, %s"), entry->display_name,
                            p2p_task_to_string (entry->task), size, entry->license);
  /* TRANSLATORS: model chooser line: name, task, file size, licence */
  return g_strdup_printf (_("%s - %s, %s, %s"), entry->display_name,
                          p2p_task_to_string (entry->task), size, entry->license);
}

char *
p2p_plugin_model_details (const P2pPluginModel *entry)
{
  if (entry->error != NULL)
    return g_strdup_printf (_("This file cannot be used: %s\nFile: %s"), entry->error,
                            entry->path);
  return g_strdup_printf (_("License: %s\nFile: %s\n%s"), entry->license, entry->path,
                          entry->description);
}

/* The model's name for an imported checkpoint: the file name without
 * ".pth", or, for the official names (latest_net_G.pth, 200_net_G.pth),
 * the folder's name without "_pretrained". */
static char *
p2p_import_name (const char *pth_path)
{
  g_autofree char *base = g_path_get_basename (pth_path);
  char *dot = g_str_has_suffix (base, ".pth") ? base + strlen (base) - 4 : NULL;

  if (dot != NULL)
    *dot = '\0';
  if (g_str_has_suffix (base, "_net_G") || g_str_has_suffix (base, "_net_G_A") ||
      g_str_has_suffix (base, "_net_G_B"))
    {
      g_autofree char *dir = g_path_get_dirname (pth_path);
      g_autofree char *folder = g_path_get_basename (dir);

      if (g_str_has_suffix (folder, "_pretrained"))
        folder[strlen (folder) - strlen ("_pretrained")] = '\0';
      if (*folder && !g_str_equal (folder, ".") && !g_str_equal (folder, G_DIR_SEPARATOR_S))
        return g_steal_pointer (&folder);
    }
  return g_steal_pointer (&base);
}

char *
p2p_plugin_model_import (const char *pth_path,
                         const char *user_dir,
                         GError    **error)
{
  g_autofree char *name = p2p_import_name (pth_path);
  g_autofree char *file_name = NULL;
  g_autofree char *dest = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(P2pModel) check = NULL;
  g_autoptr(GError) local_error = NULL;
  P2pImportOptions opts;

  /* A name that is no plain file name (empty, a path) would write
   * elsewhere than the model folder. */
  if (*name == '\0' || strchr (name, G_DIR_SEPARATOR) != NULL || name[0] == '.')
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Cannot name a model after \"%s\"; rename the file first."), pth_path);
      return NULL;
    }
  file_name = g_strconcat (name, P2P_MODEL_SUFFIX, NULL);
  dest = g_build_filename (user_dir, file_name, NULL);
  if (g_file_test (dest, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("A model named \"%s\" is already installed (%s); remove it or rename "
                     "the checkpoint first."), name, dest);
      return NULL;
    }

  p2p_import_options_init (&opts);
  opts.name = name;
  bytes = p2p_model_convert_pth (pth_path, &opts, &local_error);
  if (bytes != NULL)
    check = p2p_model_new_from_bytes (bytes, &local_error);
  if (check == NULL)
    {
      g_autofree char *base = g_path_get_basename (pth_path);

      g_set_error (error, P2P_ERROR, local_error->code, _("Cannot import \"%s\": %s"), base,
                   local_error->message);
      return NULL;
    }
  if (g_mkdir_with_parents (user_dir, 0755) != 0)
    {
      int err = errno;

      g_set_error (error, P2P_ERROR, P2P_ERROR_IO, _("Cannot make the model folder %s: %s"),
                   user_dir, g_strerror (err));
      return NULL;
    }
  if (!g_file_set_contents (dest, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                            &local_error))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_IO, _("Cannot write %s: %s"), dest,
                   local_error->message);
      return NULL;
    }
  return g_steal_pointer (&dest);
}

char *
p2p_plugin_model_resolve (char       **search_path,
                          P2pFilter    filter,
                          const char  *model,
                          GError     **error)
{
  if (model == NULL || *model == '\0')
    model = p2p_filter_info (filter)->default_model;
  if (model == NULL)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("%s has no default model: choose one (a model name or file)."),
                   p2p_filter_title (filter));
      return NULL;
    }
  return p2p_model_path_resolve (search_path, model, error);
}

P2pModel *
p2p_plugin_model_load (const char *path,
                           P2pFilter   filter,
                           GError    **error)
{
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(GError) local_error = NULL;
  const P2pModelInfo *info;

  model = p2p_model_load (path, &local_error);
  if (model == NULL)
    {
      /* The core's message names the file (its full path): said once. */
      g_set_error (error, P2P_ERROR, local_error->code,
                   _("Cannot load the model: %s"), local_error->message);
      return NULL;
    }

  info = p2p_model_get_info (model);
  if (!p2p_task_fits (info->task, p2p_filter_info (filter)->task))
    {
      g_autofree char *base = g_path_get_basename (path);
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("Model \"%s\" is made for the task \"%s\" and cannot be used by %s."),
                   base, p2p_task_to_string (info->task), p2p_filter_title (filter));
      return NULL;
    }
  return g_steal_pointer (&model);
}

/* --- pixels ---------------------------------------------------------- */

static const Babl *
p2p_float_format (const Babl *space,
                  gboolean    with_alpha)
{
  const char *name = with_alpha ? "R'G'B'A float" : "R'G'B' float";

  return space != NULL ? babl_format_with_space (name, space) : babl_format (name);
}

/* --- running ---------------------------------------------------------- */

typedef struct {
  P2pPluginProgressFunc func;
  gpointer              data;
} P2pProgressGlue;

static gboolean
p2p_progress_glue (double   fraction,
                   gpointer user_data)
{
  P2pProgressGlue *glue = user_data;

  return glue->func == NULL || glue->func (fraction, glue->data);
}

/* The pipeline options for @params, with progress through @glue. */
static void
p2p_filter_options (const P2pFilterParams *params,
                    P2pProgressGlue       *glue,
                    P2pPipelineOptions    *opts)
{
  p2p_pipeline_options_init (opts);
  opts->size_mode = params->size_mode;
  opts->chroma = p2p_filter_info (params->filter)->options & P2P_FILTER_OPTION_CHROMA
                 ? params->chroma : 1.0;
  opts->net_size = params->net_size;
  opts->net.norm_mode = params->norm_mode;
  opts->net.seed = params->seed;
  opts->net.progress = p2p_progress_glue;
  opts->net.progress_data = glue;
}

/* Passes the pipeline's error @e (taken) on, a cancel as "Cancelled.". */
static void
p2p_filter_error (GError  *e,
                  GError **error)
{
  if (g_error_matches (e, P2P_ERROR, P2P_ERROR_CANCELLED))
    {
      g_set_error_literal (error, P2P_ERROR, P2P_ERROR_CANCELLED, _("Cancelled."));
      g_error_free (e);
    }
  else
    g_propagate_error (error, e);
}

P2pImage *
p2p_filter_run (const P2pModel        *model,
                const P2pImage        *input,
                const P2pImage        *hints,
                const P2pFilterParams *params,
                P2pPluginProgressFunc  progress,
                gpointer               progress_data,
                GError               **error)
{
  P2pPipelineOptions opts;
  P2pProgressGlue glue = { progress, progress_data };
  g_autoptr(GError) local_error = NULL;
  P2pImage *out;

  if (!p2p_filter_check_size_mode (params->filter, params->size_mode, error))
    return NULL;
  p2p_filter_options (params, &glue, &opts);
  opts.hints = hints;
  out = p2p_pipeline_run (model, input, &opts, &local_error);
  if (out == NULL)
    p2p_filter_error (g_steal_pointer (&local_error), error);
  return out;
}

/* --- running on GEGL buffers, row by row ------------------------------- */

typedef struct {
  GeglBuffer   *source;
  const Babl   *in_format;
  GeglBuffer   *result;
  const Babl   *out_format;   /* "R'G'B'A float": raw values, no conversion */
  GeglBuffer   *selection;
  int           sel_x, sel_y;
  const P2pHints *hints;
  const Babl   *hints_format;
  int           width;
  float        *rgba;         /* one chunk of result rows */
  float        *mask;         /* one chunk of selection rows */
} P2pRowGlue;

static gboolean
p2p_rows_read (P2pInput  input,
               int       y,
               int       n_rows,
               float    *rows,
               gpointer  user_data,
               GError  **error)
{
  P2pRowGlue *glue = user_data;
  const GeglRectangle *extent = gegl_buffer_get_extent (glue->source);

  if (input == P2P_INPUT_HINTS)
    {
      /* The same image pixels in the hints layer's coordinates; outside
       * its extent the abyss is transparent: no hints there. */
      const GeglRectangle *hext = gegl_buffer_get_extent (glue->hints->buffer);
      GeglRectangle rect = { hext->x - glue->hints->dx, hext->y - glue->hints->dy + y,
                             extent->width, n_rows };

      gegl_buffer_get (glue->hints->buffer, &rect, 1.0, glue->hints_format, rows,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      return TRUE;
    }
  {
    GeglRectangle rect = { extent->x, extent->y + y, extent->width, n_rows };

    gegl_buffer_get (glue->source, &rect, 1.0, glue->in_format, rows,
                     GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
  }
  return TRUE;
}

static gboolean
p2p_rows_write (int          y,
                int          n_rows,
                const float *rows,
                int          channels,
                gpointer     user_data,
                GError     **error)
{
  P2pRowGlue *glue = user_data;
  const int w = glue->width;

  for (int y0 = 0; y0 < n_rows; y0 += P2P_CHUNK_ROWS)
    {
      const int n = MIN (P2P_CHUNK_ROWS, n_rows - y0);
      const gsize px = (gsize) w * n;
      const float *src = rows + (gsize) y0 * w * channels;
      GeglRectangle rect = { 0, y + y0, w, n };

      for (gsize i = 0; i < px; i++)
        {
          glue->rgba[i * 4 + 0] = src[i * channels + 0];
          glue->rgba[i * 4 + 1] = src[i * channels + 1];
          glue->rgba[i * 4 + 2] = src[i * channels + 2];
          glue->rgba[i * 4 + 3] = channels == 4 ? src[i * 4 + 3] : 1.0f;
        }
      if (glue->selection != NULL)
        {
          /* The selection is image-sized: outside the image the abyss is 0,
           * i.e. not selected, which is what GIMP's own filters do. */
          GeglRectangle srect = { glue->sel_x, glue->sel_y + y + y0, w, n };

          gegl_buffer_get (glue->selection, &srect, 1.0, babl_format ("Y float"), glue->mask,
                           GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
          for (gsize i = 0; i < px; i++)
            glue->rgba[i * 4 + 3] *= CLAMP (glue->mask[i], 0.0f, 1.0f);
        }
      gegl_buffer_set (glue->result, &rect, 0, glue->out_format, glue->rgba, GEGL_AUTO_ROWSTRIDE);
    }
  return TRUE;
}

GeglBuffer *
p2p_filter_run_buffer (const P2pModel        *model,
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
                       GError               **error)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (source);
  const GeglRectangle result_extent = { 0, 0, extent->width, extent->height };
  P2pProgressGlue pglue = { progress, progress_data };
  g_autoptr(GError) local_error = NULL;
  g_autoptr(GeglBuffer) result = NULL;
  g_autofree float *rgba = NULL;
  g_autofree float *mask = NULL;
  P2pPipelineOptions opts;
  P2pRowGlue glue;

  if (!p2p_filter_check_size_mode (params->filter, params->size_mode, error))
    return NULL;
  rgba = g_try_new (float, (gsize) extent->width * 4 * P2P_CHUNK_ROWS);
  mask = selection != NULL ? g_try_new (float, (gsize) extent->width * P2P_CHUNK_ROWS) : NULL;
  if (rgba == NULL || (selection != NULL && mask == NULL))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory to write the result."));
      return NULL;
    }
  result = gegl_buffer_new (&result_extent, babl_format ("R'G'B'A float"));

  glue.source = source;
  glue.in_format = p2p_float_format (space, with_alpha);
  glue.result = result;
  glue.out_format = babl_format ("R'G'B'A float");
  glue.selection = selection;
  glue.sel_x = sel_x;
  glue.sel_y = sel_y;
  glue.width = extent->width;
  glue.rgba = rgba;
  glue.mask = mask;
  glue.hints = hints != NULL && hints->buffer != NULL ? hints : NULL;
  glue.hints_format = glue.hints ? p2p_float_format (glue.hints->space, TRUE) : NULL;

  p2p_filter_options (params, &pglue, &opts);
  opts.read_hints = glue.hints != NULL;
  if (!p2p_pipeline_run_rows (model, extent->width, extent->height, with_alpha ? 4 : 3,
                              p2p_rows_read, p2p_rows_write, &glue, &opts, &local_error))
    {
      p2p_filter_error (g_steal_pointer (&local_error), error);
      return NULL;
    }
  return g_steal_pointer (&result);
}

void
p2p_buffer_copy_result (GeglBuffer *result,
                        GeglBuffer *dest,
                        const Babl *space)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (dest);
  const Babl *format = p2p_float_format (space, TRUE);
  g_autofree float *rows = g_new (float, (gsize) extent->width * 4 * P2P_CHUNK_ROWS);

  for (int y = 0; y < extent->height; y += P2P_CHUNK_ROWS)
    {
      const int n = MIN (P2P_CHUNK_ROWS, extent->height - y);
      GeglRectangle src = { 0, y, extent->width, n };
      GeglRectangle dst = { extent->x, extent->y + y, extent->width, n };

      gegl_buffer_get (result, &src, 1.0, babl_format ("R'G'B'A float"), rows,
                       GEGL_AUTO_ROWSTRIDE, GEGL_ABYSS_NONE);
      gegl_buffer_set (dest, &dst, 0, format, rows, GEGL_AUTO_ROWSTRIDE);
    }
}

/* --- preview ------------------------------------------------------------- */

struct _P2pPreview {
  P2pFilter  filter;
  char     **search_path;
  int        src_width, src_height;   /* the source layer's size */
  double     scale;        /* preview pixels per source pixel */
  P2pImage  *input;        /* scaled-down source */
  P2pImage  *hints;        /* reduced hints (RGBA, the input's size), or NULL */
  char      *model_path;   /* of the cached model */
  P2pModel  *model;
  /* Whole and tile mode: a 1:1 region of the source (P2P_PREVIEW_SIZE a
   * side at most), read when shown. */
  GeglBuffer *source;      /* (owned reference) */
  const Babl *space;
  gboolean    with_alpha;
  int         region_x, region_y;
  P2pHints    hints_1to1;  /* the hints as given (buffer: owned reference), or none */
};

P2pPreview *
p2p_preview_new (GeglBuffer  *source,
                 const Babl  *space,
                 gboolean     with_alpha,
                 char       **search_path,
                 P2pFilter    filter,
                 GError     **error)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (source);
  int longest = MAX (extent->width, extent->height);
  double scale = longest > P2P_PREVIEW_SIZE ? (double) P2P_PREVIEW_SIZE / longest : 1.0;
  int w = MAX (1, (int) (extent->width * scale));
  int h = MAX (1, (int) (extent->height * scale));
  int channels = with_alpha ? 4 : 3;
  g_autoptr(P2pImage) input = p2p_image_new (w, h, channels, error);
  P2pPreview *preview;
  GeglRectangle rect = { (int) (extent->x * scale), (int) (extent->y * scale), w, h };

  if (input == NULL)
    return NULL;
  /* GEGL scales while reading (box-filtered mipmap levels): cheap even for
   * huge layers. */
  gegl_buffer_get (source, &rect, scale, p2p_float_format (space, with_alpha), input->data,
                   (gint) ((gsize) w * channels * sizeof (float)), GEGL_ABYSS_CLAMP);

  preview = g_new0 (P2pPreview, 1);
  preview->src_width = extent->width;
  preview->src_height = extent->height;
  preview->scale = scale;
  preview->filter = filter;
  preview->search_path = g_strdupv (search_path);
  preview->input = g_steal_pointer (&input);
  preview->source = g_object_ref (source);
  preview->space = space;
  preview->with_alpha = with_alpha;
  /* the region starts at the layer's centre */
  p2p_preview_set_region (preview, (extent->width - P2P_PREVIEW_SIZE) / 2,
                          (extent->height - P2P_PREVIEW_SIZE) / 2);
  return preview;
}

void
p2p_preview_set_region (P2pPreview *preview,
                        int         x,
                        int         y)
{
  int w, h;

  p2p_preview_get_region (preview, NULL, NULL, &w, &h);
  preview->region_x = CLAMP (x, 0, preview->src_width - w);
  preview->region_y = CLAMP (y, 0, preview->src_height - h);
}

void
p2p_preview_get_region (P2pPreview *preview,
                        int        *x,
                        int        *y,
                        int        *width,
                        int        *height)
{
  if (x != NULL)
    *x = preview->region_x;
  if (y != NULL)
    *y = preview->region_y;
  if (width != NULL)
    *width = MIN (preview->src_width, P2P_PREVIEW_SIZE);
  if (height != NULL)
    *height = MIN (preview->src_height, P2P_PREVIEW_SIZE);
}

gboolean
p2p_preview_shows_region (const P2pFilterParams *params)
{
  return params->size_mode != P2P_SIZE_MODE_RESIZE;
}

/* The region at 1:1, and the hints over it (RGBA, or NULL when none). */
static P2pImage *
p2p_preview_read_region (P2pPreview *preview,
                         P2pImage  **hints_out,
                         GError    **error)
{
  const GeglRectangle *extent = gegl_buffer_get_extent (preview->source);
  const int channels = preview->with_alpha ? 4 : 3;
  int x, y, w, h;
  g_autoptr(P2pImage) crop = NULL;
  g_autoptr(P2pImage) hints = NULL;

  p2p_preview_get_region (preview, &x, &y, &w, &h);
  crop = p2p_image_new (w, h, channels, error);
  if (crop == NULL)
    return NULL;
  {
    const GeglRectangle rect = { extent->x + x, extent->y + y, w, h };

    gegl_buffer_get (preview->source, &rect, 1.0,
                     p2p_float_format (preview->space, preview->with_alpha), crop->data,
                     (gint) ((gsize) w * channels * sizeof (float)), GEGL_ABYSS_CLAMP);
  }
  if (preview->hints_1to1.buffer != NULL)
    {
      const P2pHints *ph = &preview->hints_1to1;
      const GeglRectangle *hext = gegl_buffer_get_extent (ph->buffer);
      const GeglRectangle rect = { hext->x - ph->dx + x, hext->y - ph->dy + y, w, h };

      /* aligned as p2p_filter_run_buffer reads them: transparent outside */
      hints = p2p_image_new (w, h, 4, error);
      if (hints == NULL)
        return NULL;
      gegl_buffer_get (ph->buffer, &rect, 1.0, p2p_float_format (ph->space, TRUE), hints->data,
                       (gint) ((gsize) w * 4 * sizeof (float)), GEGL_ABYSS_NONE);
    }
  *hints_out = g_steal_pointer (&hints);
  return g_steal_pointer (&crop);
}

gboolean
p2p_preview_set_hints (P2pPreview     *preview,
                       const P2pHints *hints,
                       GError        **error)
{
  const int pw = preview->input->width, ph = preview->input->height;
  const int W = preview->src_width;
  g_autoptr(P2pImage) reduced = NULL;
  g_autofree float *rows = NULL;
  g_autofree float *count = NULL;
  const Babl *format;

  g_clear_pointer (&preview->hints, p2p_image_free);
  g_clear_object (&preview->hints_1to1.buffer);
  if (hints == NULL || hints->buffer == NULL)
    return TRUE;
  preview->hints_1to1 = *hints;
  g_object_ref (preview->hints_1to1.buffer);

  /* Each hint pixel of the source's extent adds its color to the preview
   * pixel it falls in; a preview pixel with any hint is a hint of their
   * mean color.  Scaling the layer down like the source would fade small
   * dots below the 50% alpha that makes a hint. */
  reduced = p2p_image_new (pw, ph, 4, error);
  rows = g_try_new (float, (gsize) W * 4 * P2P_CHUNK_ROWS);
  count = g_try_new0 (float, (gsize) pw * ph);
  if (reduced == NULL || rows == NULL || count == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Not enough memory to read the hints."));
      return FALSE;
    }
  format = p2p_float_format (hints->space, TRUE);
  for (int y = 0; y < preview->src_height; y += P2P_CHUNK_ROWS)
    {
      const int n = MIN (P2P_CHUNK_ROWS, preview->src_height - y);
      const GeglRectangle *hext = gegl_buffer_get_extent (hints->buffer);
      GeglRectangle rect = { hext->x - hints->dx, hext->y - hints->dy + y, W, n };

      gegl_buffer_get (hints->buffer, &rect, 1.0, format, rows, GEGL_AUTO_ROWSTRIDE,
                       GEGL_ABYSS_NONE);
      for (int r = 0; r < n; r++)
        {
          const int py = MIN (ph - 1, (int) ((y + r) * preview->scale));

          for (int x = 0; x < W; x++)
            {
              const float *px = rows + ((gsize) r * W + x) * 4;
              const int qx = MIN (pw - 1, (int) (x * preview->scale));
              float *o = reduced->data + ((gsize) py * pw + qx) * 4;

              if (!(px[3] >= 0.5f))
                continue;
              for (int c = 0; c < 3; c++)
                o[c] += px[c];
              count[(gsize) py * pw + qx] += 1.0f;
            }
        }
    }
  for (gsize p = 0; p < (gsize) pw * ph; p++)
    if (count[p] > 0.0f)
      {
        for (int c = 0; c < 3; c++)
          reduced->data[p * 4 + c] /= count[p];
        reduced->data[p * 4 + 3] = 1.0f;
      }
  preview->hints = g_steal_pointer (&reduced);
  return TRUE;
}

/* The model @params names, loaded once and kept while the name stays. */
static gboolean
p2p_preview_load_model (P2pPreview            *preview,
                        const P2pFilterParams *params,
                        GError               **error)
{
  g_autofree char *path = NULL;

  path = p2p_plugin_model_resolve (preview->search_path, preview->filter, params->model, error);
  if (path == NULL)
    return FALSE;
  if (preview->model == NULL || g_strcmp0 (path, preview->model_path) != 0)
    {
      g_clear_pointer (&preview->model, p2p_model_free);
      g_clear_pointer (&preview->model_path, g_free);
      preview->model = p2p_plugin_model_load (path, preview->filter, error);
      if (preview->model == NULL)
        return FALSE;
      preview->model_path = g_steal_pointer (&path);
    }
  return TRUE;
}

/* "about 3 seconds", "about 2 minutes" (translated). */
static char *
p2p_format_duration (double seconds)
{
  if (seconds < 1.0)
    return g_strdup (_("under a second"));
  if (seconds < 90.0)
    {
      const int s = (int) (seconds + 0.5);
      return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %d second",
                                           "about %d seconds", s), s);
    }
  {
    const int m = (int) (seconds / 60.0 + 0.5);
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "about %d minute",
                                         "about %d minutes", m), m);
  }
}

char *
p2p_preview_estimate (P2pPreview            *preview,
                      const P2pFilterParams *params,
                      gboolean              *fits,
                      GError               **error)
{
  P2pPipelineOptions opts;
  P2pProgressGlue glue = { NULL, NULL };
  P2pRunEstimate est;
  g_autofree char *time_s = NULL, *peak_s = NULL, *limit_s = NULL;

  if (!p2p_preview_load_model (preview, params, error))
    return NULL;
  p2p_filter_options (params, &glue, &opts);
  /* as p2p_filter_run_buffer runs it: rows of RGB(A) */
  if (!p2p_pipeline_estimate (preview->model, preview->src_width, preview->src_height,
                              preview->with_alpha ? 4 : 3, &opts, TRUE, &est, error))
    return NULL;
  if (fits != NULL)
    *fits = est.fits;
  peak_s = g_format_size (est.peak_bytes);
  if (est.fits)
    {
      time_s = p2p_format_duration (est.seconds);
      /* TRANSLATORS: "Estimated for the whole layer: about 3 seconds, 250 MB of memory." */
      return g_strdup_printf (_("Estimated for the whole layer: %s, %s of memory."), time_s,
                              peak_s);
    }
  limit_s = g_format_size (est.limit_bytes);
  /* TRANSLATORS: the memory the run needs, then the memory available */
  return g_strdup_printf (params->size_mode == P2P_SIZE_MODE_RESIZE
                          ? _("The whole layer would need about %s of memory, more than the %s "
                              "available, and would be refused. Choose a smaller network size.")
                          : _("The whole layer would need about %s of memory, more than the %s "
                              "available, and would be refused."),
                          peak_s, limit_s);
}

guchar *
p2p_preview_render (P2pPreview            *preview,
                    const P2pFilterParams *params,
                    int                   *width,
                    int                   *height,
                    GError               **error)
{
  g_autofree char *path = NULL;
  g_autoptr(P2pImage) out = NULL;
  guchar *rgba;
  gsize n;

  if (!p2p_preview_load_model (preview, params, error))
    return NULL;

  if (p2p_preview_shows_region (params))
    {
      /* Whole and tile mode work at the layer's own resolution: the
       * preview shows what they give on a 1:1 region (tile mode's
       * statistics then come from the region, not the whole layer). */
      g_autoptr(P2pImage) hints = NULL;
      g_autoptr(P2pImage) crop = p2p_preview_read_region (preview, &hints, error);

      if (crop == NULL)
        return NULL;
      out = p2p_filter_run (preview->model, crop, hints, params, NULL, NULL, error);
    }
  else
  /* The preview image is at most P2P_PREVIEW_SIZE pixels: a larger
   * network size would cost time without showing more. */
  {
    P2pFilterParams p = *params;

    /* The default size follows the layer's size for some models (a
     * resize limit): the layer's, not the small preview image's, so that
     * the preview shows what the filter will give. */
    if (p.net_size == 0)
      p.net_size = p2p_model_resize_side (preview->model, preview->src_width, preview->src_height);
    if (p.net_size > P2P_PREVIEW_NET_SIZE_MAX)
      p.net_size = P2P_PREVIEW_NET_SIZE_MAX;
    out = p2p_filter_run (preview->model, preview->input, preview->hints, &p, NULL, NULL,
                          error);
  }
  if (out == NULL)
    return NULL;

  n = (gsize) out->width * out->height;
  rgba = g_malloc (n * 4);
  for (gsize i = 0; i < n; i++)
    for (int k = 0; k < 4; k++)
      {
        float v = k < 3 ? out->data[i * out->channels + k]
                        : (out->channels == 4 ? out->data[i * 4 + 3] : 1.0f);
        rgba[i * 4 + k] = (guchar) (CLAMP (v, 0.0f, 1.0f) * 255.0f + 0.5f);
      }
  *width = out->width;
  *height = out->height;
  return rgba;
}

void
p2p_preview_free (P2pPreview *preview)
{
  if (preview == NULL)
    return;
  g_strfreev (preview->search_path);
  p2p_image_free (preview->input);
  p2p_image_free (preview->hints);
  g_free (preview->model_path);
  p2p_model_free (preview->model);
  g_clear_object (&preview->source);
  g_clear_object (&preview->hints_1to1.buffer);
  g_free (preview);
}
