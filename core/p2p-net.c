/* p2p-net.c - running a generator: checks the input, sets up a pass
 * (p2p-pass.c) and runs the model's architecture (arch/) on it.
 */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-blas.h"
#include "p2p-error.h"
#include "p2p-model-private.h"
#include "p2p-net.h"

static const char *const norm_mode_names[] = { "official", "running", "stochastic", NULL };

const char *
p2p_norm_mode_to_string (P2pNormMode mode)
{
  return (guint) mode < 3 ? norm_mode_names[mode] : "?";
}

gboolean
p2p_norm_mode_from_string (const char *s, P2pNormMode *mode)
{
  for (int i = 0; s && norm_mode_names[i]; i++)
    if (g_strcmp0 (s, norm_mode_names[i]) == 0)
      {
        *mode = i;
        return TRUE;
      }
  return FALSE;
}

void
p2p_net_options_init (P2pNetOptions *options)
{
  memset (options, 0, sizeof *options);
  options->norm_mode = P2P_NORM_MODE_OFFICIAL;
}

/* ---- entry point ----------------------------------------------------- */

P2pTensor *
p2p_net_run (const P2pModel      *model,
             const P2pNetOptions *options,
             const P2pTensor     *input,
             GError             **error)
{
  const P2pModelInfo *info;
  P2pNetOptions defaults;
  P2pPass *pass;
  P2pTensor *out;
  int mult;

  g_return_val_if_fail (model != NULL && input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  info = p2p_model_get_info (model);
  if (!options)
    {
      p2p_net_options_init (&defaults);
      options = &defaults;
    }
  mult = p2p_model_size_multiple (model);
  if (input->c != info->input_nc)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The network takes %d input channels, not %d"), info->input_nc, input->c);
      return NULL;
    }
  if (input->h % mult || input->w % mult ||
      input->h < p2p_model_min_size (model) || input->w < p2p_model_min_size (model))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The network needs a width and height that are multiples of %d "
                     "and at least %d; got %d x %d"),
                   mult, p2p_model_min_size (model), input->w, input->h);
      return NULL;
    }

  /* 0 leaves the libraries' defaults (all cores). */
  if (options->threads > 0)
    p2p_blas_set_threads (options->threads);
  pass = p2p_pass_new (options, info->norm);
  out = p2p_model_get_arch (model)->forward (pass, info, p2p_model_get_weights (model), input, error);
  return p2p_pass_finish (pass, out);
}
