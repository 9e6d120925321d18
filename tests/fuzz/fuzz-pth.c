/* fuzz-pth.c - libFuzzer target for the PyTorch checkpoint importer
 * (core/p2p-pth.c: zip reader, legacy container, pickle subset, detection)
 * and, when a conversion succeeds, the safetensors loader behind it.
 *
 * Not part of the normal build (it needs clang's libFuzzer).  From the
 * repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *     -DGETTEXT_PACKAGE='"gimp-pix2pix"' -Icore \
 *     tests/fuzz/fuzz-pth.c core/p2p-pth.c core/p2p-model.c core/p2p-error.c core/p2p-tensor.c \
 *     $(pkg-config --cflags --libs glib-2.0 json-glib-1.0) -lm -o fuzz-pth
 *   mkdir -p corpus && cp tests/data/pth/[a-z]*.pth corpus/
 *   ./fuzz-pth -dict=tests/fuzz/pth.dict -max_len=262144 -timeout=10 -rss_limit_mb=2048 corpus
 *
 * Every input must end in a model or a GError in P2P_ERROR; anything else
 * (crash, sanitizer report, leak, a NULL without error) is a bug.
 */
#include <stdlib.h>
#include <glib.h>

#include "p2p-error.h"
#include "p2p-model.h"
#include "p2p-pth.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
silent_log (const char *domain, GLogLevelFlags level, const char *message, gpointer user_data)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static gboolean init = FALSE;
  GError *error = NULL;
  GBytes *st;

  if (!init)
    {
      g_log_set_default_handler (silent_log, NULL);
      init = TRUE;
    }
  st = p2p_pth_to_safetensors (data, size, "fuzz/latest_net_G.pth", NULL, &error);
  if (!st)
    {
      if (!error || error->domain != P2P_ERROR)
        abort ();
      g_error_free (error);
      return 0;
    }
  if (error)
    abort ();
  {
    P2pModel *model = p2p_model_new_from_bytes (st, &error);
    if (model)
      p2p_model_free (model);
    else if (!error || error->domain != P2P_ERROR)
      abort ();
    g_clear_error (&error);
  }
  g_bytes_unref (st);
  return 0;
}
