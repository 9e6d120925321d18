/* p2p-image.c - float images exchanged with the host. */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-image.h"
#include "p2p-tensor.h"

P2pImage *
p2p_image_new (int width, int height, int channels, GError **error)
{
  gsize n;
  P2pImage *image;

  /* Channel counts are chosen by our own code, never read from a file. */
  g_return_val_if_fail (channels >= 1 && channels <= 4, NULL);

  if (width <= 0 || height <= 0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is empty (%d x %d pixels)"), width, height);
      return NULL;
    }
  if (width > P2P_IMAGE_MAX_BUFFER_SIDE || height > P2P_IMAGE_MAX_BUFFER_SIDE)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is too large (%d x %d pixels; at most %d on a side)"),
                   width, height, P2P_IMAGE_MAX_BUFFER_SIDE);
      return NULL;
    }

  /* Cannot overflow a 64-bit gsize with sides <= 65536, but 32-bit
   * platforms exist. */
  if (!g_size_checked_mul (&n, (gsize) width, (gsize) height) ||
      !g_size_checked_mul (&n, n, (gsize) channels))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("A %d x %d image is too large for this computer"), width, height);
      return NULL;
    }

  image = g_new0 (P2pImage, 1);
  image->width = width;
  image->height = height;
  image->channels = channels;
  image->data = p2p_alloc_floats (n);
  if (!image->data)
    {
      g_free (image);
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory for a %d x %d image (%llu MB)"),
                   width, height, (unsigned long long) ((n * sizeof (float)) >> 20));
      return NULL;
    }
  /* All-zero bits are 0.0f in IEEE 754. */
  memset (image->data, 0, n * sizeof (float));
  return image;
}

void
p2p_image_free (P2pImage *image)
{
  if (!image)
    return;
  p2p_free_aligned (image->data);
  g_free (image);
}
