/* p2p-model-path.c - finding model files by name (see p2p-model-path.h). */

#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-model-path.h"

static void
add_dirs (GPtrArray         *dirs,
          GHashTable        *seen,
          const char *const *list)
{
  for (int i = 0; list != NULL && list[i] != NULL; i++)
    {
      if (*list[i] == '\0' || g_hash_table_contains (seen, list[i]))
        continue;
      g_hash_table_add (seen, g_strdup (list[i]));
      g_ptr_array_add (dirs, g_strdup (list[i]));
    }
}

char **
p2p_model_search_path_new (const char *const *bundled_dirs,
                           const char *const *user_dirs)
{
  g_autoptr(GPtrArray) dirs = g_ptr_array_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  const char *env = g_getenv (P2P_MODEL_PATH_ENV);

  add_dirs (dirs, seen, bundled_dirs);
  add_dirs (dirs, seen, user_dirs);
  if (env != NULL && *env)
    {
      g_auto(GStrv) parts = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
      add_dirs (dirs, seen, (const char *const *) parts);
    }
  g_ptr_array_add (dirs, NULL);
  return (char **) g_ptr_array_free (g_steal_pointer (&dirs), FALSE);
}

gboolean
p2p_model_file_name_is_model (const char *file_name)
{
  return file_name != NULL &&
         (g_str_has_suffix (file_name, P2P_MODEL_SUFFIX) ||
          g_str_has_suffix (file_name, P2P_MODEL_PTH_SUFFIX));
}

char *
p2p_model_path_resolve (char       **search_path,
                        const char  *name,
                        GError     **error)
{
  g_autoptr(GString) searched = g_string_new (NULL);
  const char *candidates[3] = { NULL, NULL, NULL };
  g_autofree char *with_st = NULL, *with_pth = NULL;

  g_return_val_if_fail (name != NULL, NULL);

  /* A path (anything with a directory separator) is used as given. */
  if (strchr (name, G_DIR_SEPARATOR) != NULL)
    {
      if (g_file_test (name, G_FILE_TEST_IS_REGULAR))
        return g_strdup (name);
      g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND,
                   _("Model file \"%s\" does not exist."), name);
      return NULL;
    }

  /* A name never gets a second suffix: "x.pth" is the file x.pth, not
   * x.pth.safetensors. */
  if (p2p_model_file_name_is_model (name))
    candidates[0] = name;
  else
    {
      candidates[0] = with_st = g_strconcat (name, P2P_MODEL_SUFFIX, NULL);
      candidates[1] = with_pth = g_strconcat (name, P2P_MODEL_PTH_SUFFIX, NULL);
    }

  for (int i = 0; *name && search_path != NULL && search_path[i] != NULL; i++)
    {
      for (int c = 0; candidates[c] != NULL; c++)
        {
          g_autofree char *path = g_build_filename (search_path[i], candidates[c], NULL);

          if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
            return g_steal_pointer (&path);
        }
      g_string_append_printf (searched, "\n  %s", search_path[i]);
    }

  g_set_error (error, P2P_ERROR, P2P_ERROR_NOT_FOUND,
               _("No model named \"%s\" was found. Searched folders:%s"),
               name, searched->str);
  return NULL;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
p2p_model_path_list_files (char **search_path)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  for (int i = 0; search_path != NULL && search_path[i] != NULL; i++)
    {
      g_autoptr(GDir) dir = g_dir_open (search_path[i], 0, NULL);
      g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
      const char *name;

      if (dir == NULL)
        continue;
      while ((name = g_dir_read_name (dir)) != NULL)
        if (p2p_model_file_name_is_model (name))
          g_ptr_array_add (names, g_strdup (name));
      g_ptr_array_sort (names, compare_strings);

      for (guint k = 0; k < names->len; k++)
        {
          const char *file_name = names->pdata[k];
          g_autofree char *path = g_build_filename (search_path[i], file_name, NULL);

          /* A file of that name in a later folder is never what the name
           * resolves to, so it is not listed either. */
          if (g_hash_table_contains (seen, file_name) ||
              !g_file_test (path, G_FILE_TEST_IS_REGULAR))
            continue;
          g_hash_table_add (seen, g_strdup (file_name));
          g_ptr_array_add (files, g_steal_pointer (&path));
        }
    }
  return files;
}
