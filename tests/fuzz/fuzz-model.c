/* fuzz-model.c - libFuzzer target for the safetensors model loader
 * (core/p2p-model.c: header length, JSON header, tensor entries, tiling,
 * metadata, binding of the architecture's tensors).
 *
 * Built by tests/fuzz/meson.build in a clang build configured with
 * -Dfuzzing=enabled; see tests/fuzz/README.md for building and running.
 *
 * Every input must end in a model or a GError in P2P_ERROR.  A model that
 * loads is also run once on the smallest input its architecture takes
 * (when that is cheap), so that a tensor bound with the wrong size shows up
 * as an out-of-bounds read under ASan, and its output must have the
 * model's channel count and the input's size.
 */
#include <math.h>
#include <stdlib.h>
#include <glib.h>

#include "p2p-error.h"
#include "p2p-model.h"
#include "p2p-net.h"
#include "p2p-tensor.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

/* A pass costing more multiply-adds than this is skipped (keeps one input
 * well under a second). */
#define MAX_RUN_MACS 20000000

static void
silent_log (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

static void
run_once (const P2pModel *model)
{
  const int side = p2p_model_min_size (model);
  const P2pModelInfo *info = p2p_model_get_info (model);
  P2pNetOptions opts;
  GError *error = NULL;
  P2pTensor *in, *out;

  if (p2p_model_macs (model, side, side) > MAX_RUN_MACS)
    return;
  in = p2p_tensor_new (info->input_nc, side, side, NULL);
  if (!in)
    abort ();
  for (gsize i = 0; i < p2p_tensor_numel (in); i++)
    in->data[i] = (float) ((i * 37) % 19) / 9.0f - 1.0f;
  p2p_net_options_init (&opts);
  opts.threads = 1;
  out = p2p_net_run (model, &opts, in, &error);
  if (!out)
    {
      if (!error || error->domain != P2P_ERROR)
        abort ();
      g_error_free (error);
    }
  else if (out->c != info->output_nc || out->h != side || out->w != side)
    abort ();
  p2p_tensor_free (out);
  p2p_tensor_free (in);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean init = FALSE;
  GError *error = NULL;
  GBytes *bytes;
  P2pModel *model;

  if (!init)
    {
      g_log_set_default_handler (silent_log, NULL);
      init = TRUE;
    }
  /* An exact-size copy, so that a read past the end is caught. */
  bytes = g_bytes_new (data, size);
  model = p2p_model_new_from_bytes (bytes, &error);
  g_bytes_unref (bytes);
  if (!model)
    {
      if (!error || error->domain != P2P_ERROR || !error->message || !*error->message)
        abort ();
      g_error_free (error);
      return 0;
    }
  if (error)
    abort ();
  run_once (model);
  p2p_model_free (model);
  return 0;
}
