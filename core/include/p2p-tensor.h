/* p2p-tensor.h - dense float32 activations, batch 1, CHW layout.
 *
 * Element (c, y, x) is data[(c * h + y) * w + x].  A tensor made by
 * p2p_tensor_new() owns its data; free it with p2p_tensor_free().
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _P2pArena P2pArena;

typedef struct {
  int       c, h, w;
  float    *data;   /* owned, c*h*w floats, 64-byte aligned */
  P2pArena *arena;  /* NULL, or the arena that gets data back when freed */
  gsize     cap;    /* floats in data's block (arena tensors) */
} P2pTensor;

/* Returns NULL and sets P2P_ERROR_NO_MEMORY when the size overflows or the
 * allocation fails.  Contents are uninitialised. */
P2pTensor *p2p_tensor_new     (int c, int h, int w, GError **error);
/* The same, with the data block taken from / returned to @arena (may be
 * NULL: then as p2p_tensor_new). */
P2pTensor *p2p_tensor_new_in  (P2pArena *arena, int c, int h, int w, GError **error);
/* Makes an arena tensor independent of its arena (before the arena goes). */
void       p2p_tensor_detach  (P2pTensor *t);
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

/* A cache of large float blocks, so that a network pass reuses the blocks
 * its earlier layers released (and a caller that keeps the arena, the
 * blocks of its earlier passes) instead of asking the allocator, which
 * hands large blocks back to the kernel and gets them again as fresh,
 * page-faulting memory every time.  Only our own buffers go through it; the
 * process's malloc settings are untouched.  Not thread-safe: one pass at a
 * time.  Freeing the arena releases every cached block; tensors from it
 * must be freed or detached first. */
P2pArena *p2p_arena_new          (void);
/* keep: live + cached blocks stay within keep x the largest live total
 * seen so far.  p2p_arena_new() keeps 2: a network's layers need blocks of
 * many sizes that are never live together, and keeping them all for the
 * next pass costs at most as much again as one pass (what a caller running
 * many passes wants).  1: the footprint never exceeds the largest live
 * total (reuse within a pass, no extra peak: what one pass gets by itself). */
P2pArena *p2p_arena_new_full     (guint keep);
void      p2p_arena_free         (P2pArena *arena);
/* A block of at least n floats (*cap: its real size), or NULL. */
float    *p2p_arena_alloc_floats (P2pArena *arena, gsize n, gsize *cap);
void      p2p_arena_release      (P2pArena *arena, float *p, gsize cap);
/* Bytes held in the cache (not in use). */
gsize     p2p_arena_cached_bytes (const P2pArena *arena);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pArena, p2p_arena_free)

/* Physical memory in bytes; G_MAXUINT64 when the system does not say. */
guint64 p2p_physical_memory (void);
/* Memory a new allocation can get now without swapping, in bytes: Linux's
 * MemAvailable (free memory and the caches the kernel can drop), else the
 * physical memory.  Read afresh at every call. */
guint64 p2p_available_memory (void);

G_END_DECLS
