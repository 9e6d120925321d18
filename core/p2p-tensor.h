/* p2p-tensor.h - dense float32 activations, batch 1, CHW layout.
 *
 * Element (c, y, x) is data[(c * h + y) * w + x].  A tensor made by
 * p2p_tensor_new() owns its data; free it with p2p_tensor_free().
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int    c, h, w;
  float *data;   /* owned, c*h*w floats, 64-byte aligned */
} P2pTensor;

/* Returns NULL and sets P2P_ERROR_NO_MEMORY when the size overflows or the
 * allocation fails.  Contents are uninitialised. */
P2pTensor *p2p_tensor_new     (int c, int h, int w, GError **error);
void       p2p_tensor_free    (P2pTensor *t);
gsize      p2p_tensor_numel   (const P2pTensor *t);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pTensor, p2p_tensor_free)

/* 64-byte aligned allocation of n floats with overflow checks; NULL on
 * failure (no abort), and without asking the allocator when the buffer
 * alone would exceed the computer's physical memory (such a request can
 * only fail, or succeed through overcommit and thrash).  Release with
 * p2p_free_aligned(). */
float *p2p_alloc_floats  (gsize n);
void   p2p_free_aligned  (void *p);

/* Physical memory in bytes; G_MAXUINT64 when the system does not say. */
guint64 p2p_physical_memory (void);

G_END_DECLS
