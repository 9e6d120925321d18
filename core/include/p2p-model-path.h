/* p2p-model-path.h - finding model files by name.
 *
 * The plug-in and pix2pix-cli look models up the same way, here: a search
 * path of folders, in order; a model's name is its file name with or
 * without the suffix (".safetensors", or ".pth" for a PyTorch checkpoint
 * used as it is), and the first folder holding a name wins.  Each
 * front-end says which folders it has (the plug-in: its own folder and
 * the GIMP profile it runs in; pix2pix-cli: the folders an install puts
 * models into and the GIMP profiles' model folders).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Colon-separated folders searched after the front-end's own (tests,
 * users with models elsewhere). */
#define P2P_MODEL_PATH_ENV     "P2P_MODEL_PATH"
/* The model folder inside a GIMP profile (~/.config/GIMP/3.0/pix2pix). */
#define P2P_PROFILE_MODEL_DIR  "pix2pix"
#define P2P_MODEL_SUFFIX       ".safetensors"
#define P2P_MODEL_PTH_SUFFIX   ".pth"

/* The search path (transfer full, NULL-terminated; g_strfreev): the
 * folders of @bundled_dirs (models installed with the program), then
 * @user_dirs (the user's own models), then each folder of
 * $P2P_MODEL_PATH.  Either list may be NULL.  Empty entries and folders
 * already listed are left out.  The bundled folders come first so that a
 * stray file in a user folder never replaces a bundled model of the same
 * name. */
char     **p2p_model_search_path_new  (const char *const *bundled_dirs,
                                       const char *const *user_dirs);

/* Whether @file_name (a base name) is one a model lookup considers: it
 * ends in ".safetensors" or ".pth". */
gboolean   p2p_model_file_name_is_model (const char *file_name);

/* The file @name stands for (transfer full), or NULL with
 * P2P_ERROR_NOT_FOUND and a translated message naming @name and the
 * folders searched.  @name with a directory separator is a path, used as
 * given.  Otherwise, in each folder in turn: @name itself when it ends in
 * a model suffix, else @name.safetensors, then @name.pth. */
char      *p2p_model_path_resolve     (char       **search_path,
                                       const char  *name,
                                       GError     **error);

/* Every model file in the search path that its name resolves to (the
 * first folder holding a file name wins): absolute paths (transfer full,
 * GPtrArray of char *, freed with it), in search-path order and by file
 * name within a folder.  Unreadable folders are skipped. */
GPtrArray *p2p_model_path_list_files  (char       **search_path);

G_END_DECLS
