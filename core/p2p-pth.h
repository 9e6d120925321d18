/* p2p-pth.h - PyTorch checkpoint (latest_net_G.pth) import, private part.
 *
 * The public entry points (p2p_model_import_pth, p2p_model_convert_pth,
 * P2pImportOptions) are declared in p2p-model.h; this header holds what
 * p2p-model.c and the tests need besides.
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-pth.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include <glib.h>
#include "p2p-model.h"

G_BEGIN_DECLS

/* TRUE when @data starts like a torch.save file: a ZIP archive, or a pickle
 * (PROTO opcode) that is not a safetensors header whose length happens to
 * start with the same bytes. */
gboolean  p2p_pth_sniff      (const guint8 *data, gsize size);

/* Reads the first bytes of @path and sniffs them; FALSE when the file cannot
 * be read (the caller then reports that error its own way). */
gboolean  p2p_pth_file_is_pth (const char *path);

/* Converts a checkpoint held in memory to a safetensors model image
 * (models/FORMAT.md).  @file_name (UTF-8, may be NULL) gives the default
 * display name.  Errors are in P2P_ERROR and do not name the file. */
GBytes   *p2p_pth_to_safetensors (const guint8            *data,
                                  gsize                    size,
                                  const char              *file_name,
                                  const P2pImportOptions  *opts,
                                  GError                 **error);

G_END_DECLS
