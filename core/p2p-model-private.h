/* p2p-model-private.h - a loaded model's architecture and bound weights,
 * for p2p-net.c. */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-model-private.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include "p2p-model.h"
#include "arch/p2p-arch.h"

G_BEGIN_DECLS

/* The metadata names of P2pTask, P2pNorm and P2pSpace, indexed by value,
 * NULL-terminated (p2p-model-names.c). */
extern const char *const p2p_task_names[];
extern const char *const p2p_norm_names[];
extern const char *const p2p_space_names[];

const P2pArchSpec *p2p_model_get_arch    (const P2pModel *model);
/* The weights the architecture's bind() returned (transfer none). */
gconstpointer      p2p_model_get_weights (const P2pModel *model);

G_END_DECLS
