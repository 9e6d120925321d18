/* p2p-error.h - the one error domain of the pix2pix core.
 *
 * Every runtime failure of the core (bad model file, bad image, out of
 * memory, cancelled run) is reported as a GError in P2P_ERROR with one of
 * the codes below and a message meant for the user.  Programming errors
 * (wrong shapes passed between our own functions) are assertions instead.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define P2P_ERROR (p2p_error_quark ())
GQuark p2p_error_quark (void);

typedef enum {
  P2P_ERROR_NOT_FOUND,       /* file does not exist */
  P2P_ERROR_IO,              /* cannot read or write a file */
  P2P_ERROR_NOT_A_MODEL,     /* file is not a safetensors model at all */
  P2P_ERROR_TRUNCATED,       /* file ends before the data it declares */
  P2P_ERROR_BAD_HEADER,      /* header is not valid JSON or has invalid fields */
  P2P_ERROR_BAD_TENSOR,      /* a tensor entry is invalid (dtype, shape, offsets) */
  P2P_ERROR_MISSING_TENSOR,  /* a tensor the architecture needs is absent */
  P2P_ERROR_UNSUPPORTED,     /* valid file, but an architecture/option we do not run */
  P2P_ERROR_NO_MEMORY,       /* the work would not fit in memory */
  P2P_ERROR_BAD_INPUT,       /* unusable input image or argument */
  P2P_ERROR_CANCELLED,       /* the progress callback asked to stop */
} P2pErrorCode;

G_END_DECLS
