/* p2p-tensor.c - CHW float tensors and aligned float buffers. */
#include <stdlib.h>
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

P2pTensor *
p2p_tensor_new (int c, int h, int w, GError **error)
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
  t->data = p2p_alloc_floats (n);
  if (!t->data)
    {
      g_free (t);
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory for a %d x %d x %d tensor (%" G_GSIZE_FORMAT " MB)"),
                   c, h, w, (n * sizeof (float)) >> 20);
      return NULL;
    }
  return t;
}

void
p2p_tensor_free (P2pTensor *t)
{
  if (!t)
    return;
  p2p_free_aligned (t->data);
  g_free (t);
}

gsize
p2p_tensor_numel (const P2pTensor *t)
{
  return (gsize) t->c * (gsize) t->h * (gsize) t->w;
}
