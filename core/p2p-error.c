/* p2p-error.c - the P2P_ERROR domain. */
#include "p2p-error.h"

G_DEFINE_QUARK (p2p-error-quark, p2p_error)
