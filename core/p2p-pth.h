/* p2p-pth.h - PyTorch checkpoint (latest_net_G.pth) import, private part.
 *
 * Bytes in, safetensors bytes out: no file handling here.  The public
 * entry points (p2p_model_import_pth, p2p_model_convert_pth, which read the
 * file, and P2pImportOptions) are declared in p2p-model.h and defined in
 * p2p-model.c; this header holds what p2p-model.c and the tests need.
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

/* Converts a checkpoint held in memory to a safetensors model image
 * (models/FORMAT.md).  @file_name (UTF-8, may be NULL) gives the default
 * display name.  Errors are in P2P_ERROR and do not name the file. */
GBytes   *p2p_pth_to_safetensors (const guint8            *data,
                                  gsize                    size,
                                  const char              *file_name,
                                  const P2pImportOptions  *opts,
                                  GError                 **error);

G_END_DECLS
