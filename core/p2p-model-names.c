/* p2p-model-names.c - the metadata names of the model enums
 * (models/FORMAT.md), shared by the loader (p2p-model.c) and the checkpoint
 * import (p2p-pth.c), which depends on nothing else of the loader. */
#include "p2p-model-private.h"

const char *const p2p_task_names[] = { "generic", "sketch-to-photo", "colorize", NULL };
const char *const p2p_norm_names[] = { "batch", "instance", "none", NULL };
const char *const p2p_space_names[] = { "rgb", "lab_l", "lab_ab", "lab_l_hints", NULL };

const char *p2p_task_to_string (P2pTask t) { return (guint) t < 3 ? p2p_task_names[t] : "?"; }
const char *p2p_norm_to_string (P2pNorm n) { return (guint) n < 3 ? p2p_norm_names[n] : "?"; }
const char *p2p_space_to_string (P2pSpace s) { return (guint) s < 4 ? p2p_space_names[s] : "?"; }
