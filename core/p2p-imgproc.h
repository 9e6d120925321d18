/* p2p-imgproc.h - image processing behind the pipelines (private).
 *
 * Not installed and not part of the public API: shared by p2p-pipeline.c
 * and the tests.  All images are P2pImage (interleaved float, any channel
 * count 1..4: the same functions serve RGB(A), grey, a lone L plane and the
 * 2-channel ab planes of the colorize pipeline).
 *
 * Every function that allocates returns NULL with a GError in P2P_ERROR
 * (P2P_ERROR_NO_MEMORY, P2P_ERROR_BAD_INPUT) instead of aborting, since
 * image sizes come from the user.
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-imgproc.h is private to the core (core/ and tests/); include p2p.h"
#endif

#include <glib.h>
#include "p2p-image.h"
#include "p2p-tensor.h"

G_BEGIN_DECLS

/* Loops over fewer values than this stay on one thread: waking the OpenMP
 * team costs more than the work (many small images in tests and tiles). */
#define P2P_PARALLEL_MIN (1 << 16)

/* ---- resampling (p2p-resize.c) ---------------------------------------- */

/* Pillow's BICUBIC resize (Image.resize(..., Image.BICUBIC), a = -0.5):
 * separable, horizontal pass first; source pixel i has centre i + 0.5 and
 * output pixel j maps to centre (j + 0.5) * in / out; when downsampling the
 * kernel is widened by in / out (antialiasing); the window is cut at the
 * image border and the weights renormalised to sum 1.  Sums in double, the
 * intermediate image in float, as Pillow does for "F" images.  A pass whose
 * size does not change is skipped (Pillow copies), so resizing to the same
 * size returns an exact copy.  No clamping of the result (bicubic overshoots;
 * callers clamp where they need to). */
P2pImage *p2p_image_resize_bicubic (const P2pImage *src,
                                    int             width,
                                    int             height,
                                    GError        **error);

/* The same for image values in [0, 1], clamping after each pass as Pillow
 * does for 8-bit images (which it also rounds; we keep float precision).
 * The clamp between the passes matters at sharp edges, where the first
 * pass overshoots: results then differ from the unclamped resize by several
 * levels, and this variant stays within one level of Pillow on 8-bit RGB. */
P2pImage *p2p_image_resize_bicubic_clamped (const P2pImage *src,
                                            int             width,
                                            int             height,
                                            GError        **error);

/* The same resize, streamed: the source rows are pushed top to bottom,
 * each once, in as many calls as the caller likes; the result equals
 * p2p_image_resize_bicubic() (@clamp FALSE) or
 * p2p_image_resize_bicubic_clamped() (@clamp TRUE) of the whole source
 * bit for bit (the two share their row code), while holding only the
 * result and the horizontally resampled rows the vertical pass still
 * needs (about 4 x src_height / height of them). */
typedef struct _P2pResizeStream P2pResizeStream;

/* NULL with P2P_ERROR_BAD_INPUT or P2P_ERROR_NO_MEMORY. */
P2pResizeStream *p2p_resize_stream_new    (int              src_width,
                                           int              src_height,
                                           int              channels,
                                           int              width,
                                           int              height,
                                           gboolean         clamp,
                                           GError         **error);
/* @rows: @n_rows packed source rows (src_width x channels floats each),
 * the next ones from the top; read only during the call. */
void             p2p_resize_stream_push   (P2pResizeStream *stream,
                                           const float     *rows,
                                           int              n_rows);
/* After all src_height rows: the result (transfer full); frees @stream. */
P2pImage        *p2p_resize_stream_finish (P2pResizeStream *stream);
void             p2p_resize_stream_free   (P2pResizeStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pResizeStream, p2p_resize_stream_free)

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

/* ---- colour (p2p-color.c) --------------------------------------------- */

/* scikit-image rgb2lab / lab2rgb for one pixel, D65 white, 2 degree
 * observer, in double.  sRGB in [0, 1] (gamma-encoded).  lab -> rgb clamps
 * z < 0 to 0 and clips the result to [0, 1] as lab2rgb does. */
void p2p_srgb_to_lab (const double rgb[3], double lab[3]);
void p2p_lab_to_srgb (const double lab[3], double rgb[3]);

/* Edge-aware upsampling (fast guided filter, see p2p-guided.c): @src_low
 * (any channels) to the size of the 1-channel @guide_full, guided by it;
 * @guide_low is the guide at @src_low's size.  Guide values are divided by
 * @guide_range (100 for Lab L); @radius is the window radius at the low
 * resolution, @eps the regularisation in that normalised range. */
P2pImage *p2p_guided_upsample (const P2pImage *src_low,
                               const P2pImage *guide_low,
                               const P2pImage *guide_full,
                               double          guide_range,
                               int             radius,
                               double          eps,
                               GError        **error);

/* One-channel image of L (0..100) of the colour channels of @src; grey
 * inputs are taken as R = G = B. */
P2pImage *p2p_image_lab_lightness (const P2pImage *src, GError **error);

/* Writes sRGB from L (@l, 1 channel) and a, b (@ab, 2 channels, multiplied
 * by @chroma) into channels 0..2 of @dst (3 or 4 channels, other channels
 * untouched).  All three images must have the same size. */
void      p2p_lab_planes_to_srgb (const P2pImage *l,
                                  const P2pImage *ab,
                                  double          chroma,
                                  P2pImage       *dst);

G_END_DECLS
