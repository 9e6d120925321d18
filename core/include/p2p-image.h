/* p2p-image.h - float images exchanged with the host (CLI, GIMP).
 *
 * Pixels are interleaved, row-major, rows packed (no padding): channel k of
 * pixel (x, y) is data[((gsize) y * width + x) * channels + k].
 * channels: 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA.  Values are gamma-encoded
 * sRGB ("R'G'B'A float" in babl terms), nominally in [0, 1], alpha not
 * premultiplied.  This is the space pix2pix was trained in (PIL 8-bit
 * values scaled to [-1, 1]).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int    width;
  int    height;
  int    channels;
  float *data;     /* owned */
} P2pImage;

/* Largest side accepted by the pipelines. */
#define P2P_IMAGE_MAX_SIDE 65535
/* Largest side of an image buffer: the pipelines pad a largest image to
 * the net's multiple (a power of two) and resample to a model's native
 * size (at most 65536), both of which stay within 2^16. */
#define P2P_IMAGE_MAX_BUFFER_SIDE 65536

/* New zero-filled image; NULL with P2P_ERROR_BAD_INPUT for 0 or dimensions
 * over P2P_IMAGE_MAX_BUFFER_SIDE, P2P_ERROR_NO_MEMORY when it cannot be
 * allocated (or would exceed the physical memory). */
P2pImage *p2p_image_new  (int width, int height, int channels, GError **error);
void      p2p_image_free (P2pImage *image);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pImage, p2p_image_free)

G_END_DECLS
