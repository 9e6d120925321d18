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
#include "p2p-image-private.h"
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
