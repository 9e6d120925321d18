/* p2p-model-private.h - a loaded model's insides for the rest of the core:
 * its tensor entries and the binder (p2p-binder.c), the metadata name
 * tables (p2p-model-names.c), its architecture and bound weights
 * (p2p-net.c). */
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

/* One tensor of a loaded file (p2p-model.c): parsed from the header, its
 * data widened or used in place, marked used by the binder. */
#define P2P_MODEL_MAX_DIMS 8

typedef enum { P2P_DT_F32, P2P_DT_F16, P2P_DT_BF16 } P2pDtype;

typedef struct {
  char    *name;
  P2pDtype dtype;
  int      ndim;
  gint64   shape[P2P_MODEL_MAX_DIMS];
  guint64  begin, end;       /* within the data section */
  const float *f32;          /* view into the file or into an owned buffer */
  gboolean used;
} P2pEntry;

/* The binder (p2p-binder.c) that p2p-model.c hands an architecture's
 * bind(). */
struct _P2pBinder {
  GHashTable         *entries;   /* name -> P2pEntry */
  const P2pModelInfo *info;
  GError            **error;
  gboolean            ok;        /* FALSE after the first failure */
};

const P2pArchSpec *p2p_model_get_arch    (const P2pModel *model);
/* The weights the architecture's bind() returned (transfer none). */
gconstpointer      p2p_model_get_weights (const P2pModel *model);

G_END_DECLS
