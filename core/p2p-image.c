/* p2p-image.c - float images exchanged with the host, their geometry
 * (reflection, windows, padding, cropping, alpha) and their conversion to
 * and from network tensors. */
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-image.h"
#include "p2p-image-private.h"
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

P2pImage *
p2p_image_copy (const P2pImage *src, GError **error)
{
  P2pImage *dst = p2p_image_new (src->width, src->height, src->channels, error);

  if (dst)
    memcpy (dst->data, src->data,
            (gsize) src->width * src->height * src->channels * sizeof (float));
  return dst;
}

int
p2p_reflect_index (int i, int n)
{
  int period, m;

  if (n <= 1)
    return 0;
  period = 2 * (n - 1);
  m = i % period;
  if (m < 0)
    m += period;
  return m < n ? m : period - m;
}

P2pImage *
p2p_image_window_reflect (const P2pImage *src,
                          int             x0,
                          int             y0,
                          int             width,
                          int             height,
                          GError        **error)
{
  const int ch = src->channels;
  g_autofree int *xmap = NULL;
  P2pImage *dst;

  g_return_val_if_fail (width > 0 && height > 0, NULL);

  dst = p2p_image_new (width, height, ch, error);
  if (!dst)
    return NULL;

  xmap = g_try_new (int, width);
  if (!xmap)
    {
      p2p_image_free (dst);
      g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                   _("Not enough memory to pad the image"));
      return NULL;
    }
  for (int x = 0; x < width; x++)
    xmap[x] = p2p_reflect_index (x0 + x, src->width);

  for (int y = 0; y < height; y++)
    {
      int sy = p2p_reflect_index (y0 + y, src->height);
      const float *in = src->data + (gsize) sy * src->width * ch;
      float *out = dst->data + (gsize) y * width * ch;

      for (int x = 0; x < width; x++)
        for (int c = 0; c < ch; c++)
          out[x * ch + c] = in[xmap[x] * ch + c];
    }
  return dst;
}

P2pImage *
p2p_image_pad_reflect (const P2pImage *src,
                       int             left,
                       int             top,
                       int             width,
                       int             height,
                       GError        **error)
{
  g_return_val_if_fail (left >= 0 && top >= 0, NULL);
  g_return_val_if_fail (width >= left + src->width && height >= top + src->height, NULL);

  return p2p_image_window_reflect (src, -left, -top, width, height, error);
}

P2pImage *
p2p_image_crop (const P2pImage *src,
                int             x,
                int             y,
                int             width,
                int             height,
                GError        **error)
{
  const int ch = src->channels;
  P2pImage *dst;

  g_return_val_if_fail (x >= 0 && y >= 0 && width > 0 && height > 0, NULL);
  g_return_val_if_fail (x + width <= src->width && y + height <= src->height, NULL);

  dst = p2p_image_new (width, height, ch, error);
  if (!dst)
    return NULL;
  for (int r = 0; r < height; r++)
    memcpy (dst->data + (gsize) r * width * ch,
            src->data + ((gsize) (y + r) * src->width + x) * ch,
            (gsize) width * ch * sizeof (float));
  return dst;
}

gboolean
p2p_image_has_alpha (const P2pImage *image)
{
  return image->channels == 2 || image->channels == 4;
}

P2pImage *
p2p_image_strip_alpha (const P2pImage *src, GError **error)
{
  int cc = src->channels <= 2 ? 1 : 3;
  gsize n = (gsize) src->width * src->height;
  P2pImage *dst;

  if (!p2p_image_has_alpha (src))
    return p2p_image_copy (src, error);

  dst = p2p_image_new (src->width, src->height, cc, error);
  if (!dst)
    return NULL;
  for (gsize p = 0; p < n; p++)
    for (int c = 0; c < cc; c++)
      dst->data[p * cc + c] = src->data[p * src->channels + c];
  return dst;
}

P2pTensor *
p2p_image_to_tensor (const P2pImage *src, int tensor_channels, GError **error)
{
  const int ch = src->channels;
  const gsize n = (gsize) src->width * src->height;
  P2pTensor *t;
  float *t0, *t1, *t2;

  g_return_val_if_fail (tensor_channels == 1 || tensor_channels == 3, NULL);

  t = p2p_tensor_new (tensor_channels, src->height, src->width, error);
  if (!t)
    return NULL;
  t0 = t->data;
  t1 = t->data + n;
  t2 = t->data + 2 * n;

  /* v * 2 - 1 rounds exactly like the reference's (v - 0.5) / 0.5: both are
   * the one rounding of 2v - 1 (scaling by 2 is exact).  Values are first
   * clamped to [0, 1], the range of the 8-bit images the nets were trained
   * on (float images from GIMP may exceed it; NaN becomes 0). */
  for (gsize p = 0; p < n; p++)
    {
      float px[3];

      for (int c = 0; c < MIN (ch, 3); c++)
        px[c] = p2p_clamp01 (src->data[p * ch + c]);

      if (ch <= 2)
        {
          float v = px[0] * 2.0f - 1.0f;

          t0[p] = v;
          if (tensor_channels == 3)
            t1[p] = t2[p] = v;
        }
      else if (tensor_channels == 3)
        {
          t0[p] = px[0] * 2.0f - 1.0f;
          t1[p] = px[1] * 2.0f - 1.0f;
          t2[p] = px[2] * 2.0f - 1.0f;
        }
      else
        {
          /* PIL's convert('L'): ITU-R 601-2 luma. */
          float l = 0.299f * px[0] + 0.587f * px[1] + 0.114f * px[2];

          t0[p] = l * 2.0f - 1.0f;
        }
    }
  return t;
}

P2pImage *
p2p_tensor_to_rgb_image (const P2pTensor *t, GError **error)
{
  const gsize n = (gsize) t->w * t->h;
  P2pImage *dst;

  g_return_val_if_fail (t->c == 1 || t->c == 3, NULL);

  dst = p2p_image_new (t->w, t->h, 3, error);
  if (!dst)
    return NULL;
  for (gsize p = 0; p < n; p++)
    for (int c = 0; c < 3; c++)
      {
        /* tensor2im tiles a one-channel output to RGB. */
        float y = t->data[(t->c == 1 ? 0 : c) * n + p];

        dst->data[p * 3 + c] = (y + 1.0f) / 2.0f;
      }
  return dst;
}

P2pImage *
p2p_tensor_to_image (const P2pTensor *t,
                     double           scale,
                     double           offset,
                     GError         **error)
{
  const gsize n = (gsize) t->w * t->h;
  P2pImage *dst;

  g_return_val_if_fail (t->c >= 1 && t->c <= 4, NULL);

  dst = p2p_image_new (t->w, t->h, t->c, error);
  if (!dst)
    return NULL;
  for (int c = 0; c < t->c; c++)
    for (gsize p = 0; p < n; p++)
      dst->data[p * t->c + c] = (float) (t->data[c * n + p] * scale + offset);
  return dst;
}

P2pTensor *
p2p_image_to_tensor_affine (const P2pImage *src,
                            double          scale,
                            double          offset,
                            GError        **error)
{
  const gsize n = (gsize) src->width * src->height;
  const int ch = src->channels;
  P2pTensor *t;

  t = p2p_tensor_new (ch, src->height, src->width, error);
  if (!t)
    return NULL;
  for (int c = 0; c < ch; c++)
    for (gsize p = 0; p < n; p++)
      t->data[c * n + p] = (float) (src->data[p * ch + c] * scale + offset);
  return t;
}

void
p2p_image_clamp (P2pImage *image, int first, int count)
{
  const gsize n = (gsize) image->width * image->height;
  const int ch = image->channels;

  g_return_if_fail (first >= 0 && count >= 0 && first + count <= ch);

  for (gsize p = 0; p < n; p++)
    for (int c = first; c < first + count; c++)
      {
        float v = image->data[p * ch + c];

        /* Written so that NaN fails both tests and ends up 0. */
        if (v > 1.0f)
          v = 1.0f;
        else if (!(v >= 0.0f))
          v = 0.0f;
        image->data[p * ch + c] = v;
      }
}
