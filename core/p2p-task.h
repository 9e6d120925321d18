/* p2p-task.h - what differs between kinds of model, in one table (private
 * to the pipeline).
 *
 * The pipeline (p2p-pipeline.c) works on a "plane": the image in the form
 * the network's input is made from, at full resolution, followed by the
 * channels of any extra input (colour hints).  A task row says how to make
 * that plane from image rows, how to resize it for resize mode, how the
 * plane's values map to the network's and back, how the network's output
 * returns to full resolution in resize mode, and how output rows become
 * result rows.  Resize, whole and tile mode call these and never ask which
 * task they run.
 *
 *   RGB (generic): plane = the image's colour channels (1 grey or 3),
 *     v * 2 - 1 into the net with grey <-> RGB as the net needs,
 *     (y + 1) / 2 out; resized as Pillow resizes 8-bit images; alpha is
 *     carried to the result.
 *   RGB on paper (sketch-to-photo): the same, but the plane is the drawing
 *     composited on white paper (a drawing's transparent pixels are paper,
 *     whatever colour they hide) and the result is opaque.
 *   Lab (colorize): plane = L; L / 50 - 1 in, ab = y * 110 out, upsampled
 *     with a guided filter on the full-resolution L, recombined with it.
 *   Lab with hints: plane = L, hint a, hint b, hint mask (models/FORMAT.md
 *     "lab_l_hints"); hint channels are reduced by mask-weighted averaging.
 */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-task.h is private to the core (core/ and tests/); include p2p.h"
#endif
#include <glib.h>
#include "p2p-image.h"
#include "p2p-model.h"
#include "p2p-net.h"

G_BEGIN_DECLS

/* Channels of the hints plane: a, b (Lab, as the hint colour has them) and
 * the mask (1 where there is a hint, else 0; a and b are 0 there). */
#define P2P_HINT_CHANNELS 3

/* Channels a hints image has as rows (RGBA floats), and the alpha from
 * which a pixel is a hint. */
#define P2P_HINT_IMAGE_CHANNELS 4
#define P2P_HINT_ALPHA_MIN 0.5f

typedef struct _P2pTaskSpec P2pTaskSpec;

struct _P2pTaskSpec {
  const char *name;
  /* Extra input channels after the image's in the plane (hints). */
  int         hint_channels;
  /* Channels of the network's output as an image: 3 (RGB) or 2 (ab). */
  int         out_channels;
  /* Resize the image channels as Pillow resizes 8-bit images (clamped
   * between passes), as the reference did for RGB. */
  gboolean    clamp_resize;
  /* finish() needs the input's rows when it gets no plane (Lab: L). */
  gboolean    finish_reads_image;
  /* The input's alpha is used up by image_to_plane (a drawing on white
   * paper): the result has no alpha channel. */
  gboolean    opaque;
  /* Floats per pixel of the net's output that upsample() holds as work
   * (Lab: the guide at that size and the guided filter's planes, see
   * p2p_guided_upsample), for p2p_pipeline_estimate(). */
  int         upsample_work;

  /* Plane channels the image gives for an image of @channels (1-4). */
  int       (*image_plane_channels) (int channels);
  /* @rows (an image's rows) -> @plane (same pixels, plane channels from
   * the image only, packed). */
  gboolean  (*image_to_plane) (const P2pImage *rows, float *plane, int plane_stride,
                               GError **error);
  /* One pass of the network on @net_in (a plane at a size the net takes),
   * returned in image form (out_channels). */
  P2pImage *(*run_net) (const P2pModel *model, const P2pImage *net_in,
                        const P2pNetOptions *net_options, GError **error);
  /* Resize mode: the net's output @out_low back to @plane_full's size. */
  P2pImage *(*upsample) (const P2pImage *out_low, const P2pImage *plane_full, GError **error);
  /* Result rows: @out (out_channels) finished into @dst's colour channels
   * (3 of @dst's 3 or 4); @plane holds the same rows of the plane, or is
   * NULL, and then @image (the input's rows) is used. */
  gboolean  (*finish) (const P2pImage *out, const P2pImage *plane, const P2pImage *image,
                       double chroma, P2pImage *dst, GError **error);
};

/* The row of @info's model, or NULL with P2P_ERROR_UNSUPPORTED when the
 * pipeline cannot run it (spaces and channel counts it does not know). */
const P2pTaskSpec *p2p_task_for_model (const P2pModelInfo *info, GError **error);

/* Channels of the result for an image of @channels: 4 when the image has
 * alpha and the task carries it, else 3. */
int       p2p_task_out_channels (const P2pTaskSpec *task, int channels);

/* Plane channels for an image of @channels: image part plus hints. */
int       p2p_task_plane_channels (const P2pTaskSpec *task, int channels);

/* Whether @n_pixels hint pixels (RGBA floats) hold a hint: alpha at least
 * P2P_HINT_ALPHA_MIN, colour finite.  A transparent hints layer is none. */
gboolean  p2p_task_hints_any (const float *rgba, gsize n_pixels);

/* Hint rows (RGBA floats, P2P_HINT_IMAGE_CHANNELS) -> the hint channels of
 * @plane (written at @first of each pixel's @plane_stride floats). */
void      p2p_task_hints_to_plane (const P2pImage *hints, float *plane, int plane_stride,
                                   int first);

/* The plane of a whole image (and its hints, or NULL: no hints), as
 * image_to_plane and p2p_task_hints_to_plane make it.  (transfer full) */
P2pImage *p2p_task_make_plane (const P2pTaskSpec *task, const P2pImage *image,
                               const P2pImage *hints, GError **error);

/* Resize mode: the plane at the size the net sees (bicubic for the image
 * channels, clamped where the task says; mask-weighted area averages for
 * the hint channels, so that a hint of a few pixels survives any
 * reduction).  (transfer full) */
P2pImage *p2p_task_resize_plane (const P2pTaskSpec *task, const P2pImage *plane,
                                 int width, int height, GError **error);

/* Mean chroma, sqrt(a^2 + b^2), of the @w x @h region at (@x, @y) of @ab
 * (a 2-channel net output in Lab units); 0 for an empty region. */
double    p2p_task_mean_chroma (const P2pImage *ab, int x, int y, int w, int h);

/* The colour gain of a run without hints for a model that declares
 * unhinted_chroma_target @target: @target / @mean_chroma, at least 1 (a
 * colourful guess is left as it is) and at most @cap (a grey one is not
 * blown up); @cap for a prediction without any colour. */
double    p2p_task_unhinted_gain (double mean_chroma, double target, double cap);

G_END_DECLS
