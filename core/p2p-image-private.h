/* p2p-image-private.h - image geometry and image <-> tensor conversions
 * (p2p-image.c), private to the core and the tests.  Included by
 * p2p-imgproc.h.
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-image-private.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include <glib.h>
#include "p2p-image.h"
#include "p2p-tensor.h"

G_BEGIN_DECLS

/* v clamped to [0, 1] as a float; NaN becomes 0. */
static inline float
p2p_clamp01 (double v)
{
  return v > 1.0 ? 1.0f : (v >= 0.0 ? (float) v : 0.0f);
}

/* ---- geometry ---------------------------------------------------------- */

/* New image: an exact copy of @src. */
P2pImage *p2p_image_copy (const P2pImage *src, GError **error);

/* Index into [0, n) for a coordinate @i outside it, with PyTorch "reflect"
 * semantics (the edge pixel is not repeated: -1 -> 1, n -> n - 2).  For
 * offsets larger than n - 1, where PyTorch refuses, the reflection is simply
 * repeated (a triangle wave of period 2 (n - 1)); n = 1 always gives 0. */
int       p2p_reflect_index (int i, int n);

/* New image: the @width x @height window of @src whose top-left corner is
 * at (@x0, @y0); coordinates outside @src are reflected (p2p_reflect_index). */
P2pImage *p2p_image_window_reflect (const P2pImage *src,
                                    int             x0,
                                    int             y0,
                                    int             width,
                                    int             height,
                                    GError        **error);

/* New image of @width x @height holding @src at (@left, @top), the border
 * filled by reflection (p2p_reflect_index on each axis). */
P2pImage *p2p_image_pad_reflect (const P2pImage *src,
                                 int             left,
                                 int             top,
                                 int             width,
                                 int             height,
                                 GError        **error);

/* New image: the @width x @height rectangle of @src at (@x, @y), which must
 * lie inside @src. */
P2pImage *p2p_image_crop (const P2pImage *src,
                          int             x,
                          int             y,
                          int             width,
                          int             height,
                          GError        **error);

/* New image of the colour channels only (alpha dropped): 1 for grey and
 * grey+alpha, 3 for RGB and RGBA. */
P2pImage *p2p_image_strip_alpha (const P2pImage *src, GError **error);

/* TRUE for 2 and 4 channels. */
gboolean  p2p_image_has_alpha (const P2pImage *image);

/* ---- image <-> network tensor ----------------------------------------- */

/* CHW tensor of @tensor_channels (1 or 3) from the colour channels of @src
 * (alpha ignored), each value clamped to [0, 1] and mapped by v * 2 - 1 as
 * ToTensor + Normalize (0.5, 0.5) do.  Grey is replicated when the net wants RGB; RGB becomes
 * grey with PIL's convert('L') weights (ITU-R 601: 0.299, 0.587, 0.114) when
 * it wants one channel. */
P2pTensor *p2p_image_to_tensor (const P2pImage *src,
                                int             tensor_channels,
                                GError        **error);

/* RGB image (3 channels) from a network output in [-1, 1]: (y + 1) / 2,
 * one-channel outputs replicated as tensor2im does.  Values are NOT clamped
 * here (they may still be resampled); see p2p_image_clamp(). */
P2pImage  *p2p_tensor_to_rgb_image (const P2pTensor *t, GError **error);

/* Plain copy of a CHW tensor into an interleaved image (c = 1..4 channels),
 * each value mapped by v * @scale + @offset. */
P2pImage  *p2p_tensor_to_image (const P2pTensor *t,
                                double           scale,
                                double           offset,
                                GError         **error);

/* Plain copy of an interleaved image into a CHW tensor, v * @scale + @offset. */
P2pTensor *p2p_image_to_tensor_affine (const P2pImage *src,
                                       double          scale,
                                       double          offset,
                                       GError        **error);

/* Clamps channels [first, first + count) of every pixel to [0, 1]; NaN
 * becomes 0. */
void       p2p_image_clamp (P2pImage *image, int first, int count);

G_END_DECLS
