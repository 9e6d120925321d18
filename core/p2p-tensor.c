/* p2p-tensor.c - CHW float tensors and aligned float buffers. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-tensor.h"

guint64
p2p_physical_memory (void)
{
  static gsize cached = 0;

  if (g_once_init_enter (&cached))
    {
      long pages = sysconf (_SC_PHYS_PAGES), page = sysconf (_SC_PAGESIZE);
      guint64 total = G_MAXUINT64;

      if (pages > 0 && page > 0 && (guint64) pages <= G_MAXUINT64 / (guint64) page)
        total = (guint64) pages * (guint64) page;
      /* g_once_init_leave needs a non-zero value. */
      g_once_init_leave (&cached, (gsize) MIN (total, (guint64) G_MAXSIZE));
    }
  return cached == G_MAXSIZE ? G_MAXUINT64 : (guint64) cached;
}

guint64
p2p_available_memory (void)
{
  g_autofree char *text = NULL;
  const char *line;

  if (g_file_get_contents ("/proc/meminfo", &text, NULL, NULL) &&
      (line = strstr (text, "MemAvailable:")) != NULL)
    {
      guint64 kib = g_ascii_strtoull (line + strlen ("MemAvailable:"), NULL, 10);

      if (kib > 0 && kib < G_MAXUINT64 / 1024)
        return MIN (kib * 1024, p2p_physical_memory ());
    }
  return p2p_physical_memory ();
}

float *
p2p_alloc_floats (gsize n)
{
  gsize bytes;
  void *p = NULL;

  if (n == 0)
    n = 1;
  if (!g_size_checked_mul (&bytes, n, sizeof (float)))
    return NULL;
  /* Round up to the alignment, as aligned_alloc requires. */
  if (bytes > G_MAXSIZE - 63)
    return NULL;
  bytes = (bytes + 63) & ~(gsize) 63;
  if ((guint64) bytes > p2p_physical_memory ())
    return NULL;
  if (posix_memalign (&p, 64, bytes) != 0)
    return NULL;
  return p;
}

void
p2p_free_aligned (void *p)
{
  free (p);
}

/* ---- arena ------------------------------------------------------------ */

/* Blocks below this size go straight to malloc (which keeps them itself). */
#define ARENA_MIN_FLOATS ((gsize) 1 << 16)

typedef struct {
  float *p;
  gsize  n;
} ArenaBlock;

struct _P2pArena {
  GArray *blocks;   /* ArenaBlock, free ones, oldest release first */
  gsize   cached;   /* floats in blocks */
  gsize   live;     /* floats handed out and not yet released */
  gsize   peak;     /* most floats ever live at once */
  guint   keep;     /* live + cached stays within keep x peak */
};

P2pArena *
p2p_arena_new_full (guint keep)
{
  P2pArena *a = g_new0 (P2pArena, 1);
  a->blocks = g_array_new (FALSE, FALSE, sizeof (ArenaBlock));
  a->keep = MAX (keep, 1);
  return a;
}

P2pArena *
p2p_arena_new (void)
{
  return p2p_arena_new_full (2);
}

void
p2p_arena_free (P2pArena *a)
{
  if (!a)
    return;
  for (guint i = 0; i < a->blocks->len; i++)
    p2p_free_aligned (g_array_index (a->blocks, ArenaBlock, i).p);
  g_array_unref (a->blocks);
  g_free (a);
}

gsize
p2p_arena_cached_bytes (const P2pArena *a)
{
  return a ? a->cached * sizeof (float) : 0;
}

float *
p2p_arena_alloc_floats (P2pArena *a, gsize n, gsize *cap)
{
  int best = -1;
  float *p;

  if (n == 0)
    n = 1;
  *cap = n;
  if (!a || n < ARENA_MIN_FLOATS)
    return p2p_alloc_floats (n);

  /* Best fit among the blocks no larger than twice the request (a small
   * tensor must not pin a big block that a later layer needs). */
  for (guint i = 0; i < a->blocks->len; i++)
    {
      const ArenaBlock *b = &g_array_index (a->blocks, ArenaBlock, i);
      if (b->n >= n && b->n / 2 <= n &&
          (best < 0 || b->n < g_array_index (a->blocks, ArenaBlock, best).n))
        best = (int) i;
    }
  if (best >= 0)
    {
      const ArenaBlock b = g_array_index (a->blocks, ArenaBlock, best);
      g_array_remove_index (a->blocks, best);
      a->cached -= b.n;
      a->live += b.n;
      *cap = b.n;
      return b.p;
    }

  /* A miss.  The cache may only hold what keeps live + cached within keep
   * times the largest live total seen so far: oldest blocks go first. */
  while (a->blocks->len > 0 && a->live + a->cached + n > a->keep * MAX (a->peak, a->live + n))
    {
      const ArenaBlock b = g_array_index (a->blocks, ArenaBlock, 0);
      a->cached -= b.n;
      p2p_free_aligned (b.p);
      g_array_remove_index (a->blocks, 0);
    }
  p = p2p_alloc_floats (n);
  if (!p && a->blocks->len > 0)
    {
      /* Out of memory: drop the whole cache and try once more. */
      for (guint i = 0; i < a->blocks->len; i++)
        p2p_free_aligned (g_array_index (a->blocks, ArenaBlock, i).p);
      g_array_set_size (a->blocks, 0);
      a->cached = 0;
      p = p2p_alloc_floats (n);
    }
  if (p)
    {
      a->live += n;
      a->peak = MAX (a->peak, a->live);
    }
  return p;
}

void
p2p_arena_release (P2pArena *a, float *p, gsize cap)
{
  ArenaBlock b = { p, cap };

  if (!p)
    return;
  if (!a || cap < ARENA_MIN_FLOATS)
    {
      p2p_free_aligned (p);
      return;
    }
  g_array_append_val (a->blocks, b);
  a->cached += cap;
  a->live -= MIN (a->live, cap);
}

/* ---- tensors ---------------------------------------------------------- */

P2pTensor *
p2p_tensor_new (int c, int h, int w, GError **error)
{
  return p2p_tensor_new_in (NULL, c, h, w, error);
}

P2pTensor *
p2p_tensor_new_in (P2pArena *arena, int c, int h, int w, GError **error)
{
  gsize n;
  P2pTensor *t;

  g_return_val_if_fail (c > 0 && h > 0 && w > 0, NULL);

  if (!g_size_checked_mul (&n, (gsize) c, (gsize) h) ||
      !g_size_checked_mul (&n, n, (gsize) w))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("A %d x %d x %d tensor is too large for this computer"), c, h, w);
      return NULL;
    }

  t = g_new0 (P2pTensor, 1);
  t->c = c;
  t->h = h;
  t->w = w;
  t->data = p2p_arena_alloc_floats (arena, n, &t->cap);
  t->arena = arena;
  if (!t->data)
    {
      g_free (t);
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory for a %d x %d x %d tensor (%llu MB)"),
                   c, h, w, (unsigned long long) ((n * sizeof (float)) >> 20));
      return NULL;
    }
  return t;
}

void
p2p_tensor_free (P2pTensor *t)
{
  if (!t)
    return;
  if (t->arena)
    p2p_arena_release (t->arena, t->data, t->cap);
  else
    p2p_free_aligned (t->data);
  g_free (t);
}

void
p2p_tensor_detach (P2pTensor *t)
{
  if (t->arena && t->cap >= ARENA_MIN_FLOATS)
    t->arena->live -= MIN (t->arena->live, t->cap);
  t->arena = NULL;
}

gsize
p2p_tensor_numel (const P2pTensor *t)
{
  return (gsize) t->c * (gsize) t->h * (gsize) t->w;
}
