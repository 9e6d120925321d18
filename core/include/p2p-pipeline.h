/* p2p-pipeline.h - image in, image out: the work behind both filters.
 *
 * p2p_pipeline_run() converts an image to the model's input space, brings
 * it to a size the network accepts (according to the size mode), runs the
 * network, and converts back to an image of the input's size:
 *  - generic RGB models: output RGB, or RGBA carrying the input's alpha
 *    unchanged (but for NaN, which becomes 0, and +-Inf, which become 1
 *    and 0).
 *  - sketch-to-photo: the drawing is composited on white paper first
 *    (colour * alpha + 1 - alpha, gamma-encoded; what fully transparent
 *    pixels hide does not matter) and the output is opaque RGB: a line
 *    drawing on a transparent layer gives the same picture as the same
 *    drawing flattened on white.
 *  - colorize: L of the input (Lab, D65, as scikit-image's rgb2lab) at full
 *    resolution, ab from the model (upsampled), times @chroma, back to sRGB
 *    with clipping; alpha carried.
 * Grey inputs are expanded to RGB where the model wants RGB.  Input values
 * outside [0, 1], NaN and infinities never reach the output as NaN or Inf:
 * colour is clamped, alpha as above.  An image that could not be processed
 * in the memory available (or options->max_memory) is refused
 * (P2P_ERROR_NO_MEMORY) before anything is allocated: see
 * p2p_pipeline_estimate().
 */
#pragma once

#include <glib.h>
#include "p2p-image.h"
#include "p2p-model.h"
#include "p2p-net.h"

G_BEGIN_DECLS

typedef enum {
  P2P_SIZE_MODE_RESIZE,  /* reference behaviour: bicubic to the native size, run, bicubic back */
  P2P_SIZE_MODE_WHOLE,   /* run at the image's own resolution: reflect-pad to the multiple the
                            net needs, run, crop */
  P2P_SIZE_MODE_TILE,    /* run at the image's own resolution on overlapping tiles, blended
                            with raised-cosine weights; every tile is normalised with the
                            statistics of the whole image (measured on a copy downscaled to
                            at most twice the tile size), so tiles agree and memory stays
                            bounded by the tile size (through p2p_pipeline_run_rows(): one
                            tile row's full-width bands besides) */
} P2pSizeMode;

/* The largest net_size (the error message for larger ones says 16384). */
#define P2P_PIPELINE_NET_SIZE_MAX 16384

typedef struct {
  P2pSizeMode   size_mode;
  int           net_size;      /* resize mode: side of the square the net sees, rounded up
                                  to the net's multiple; 0 = the model's native size.
                                  Larger values give colorize more detail to work from */
  int           tile_size;     /* tile mode: tile side in pixels, rounded up to the net's
                                  multiple; 0 = twice the model's native size, at least 256 */
  int           tile_overlap;  /* tile mode: overlap between tiles; 0 = a quarter tile */
  double        chroma;   /* colorize: multiplier on a and b (1.0 = as predicted; a run
                             without hints multiplies it by the model's
                             unhinted_chroma_percent / 100, see P2pModelInfo) */
  /* Colour hints, for models that take them (input space lab_l_hints;
   * any other model refuses hints with P2P_ERROR_BAD_INPUT).  An RGBA
   * image of the input's size: a pixel with alpha >= 0.5 is a hint, its
   * colour's Lab a, b the hint's value; the rest is ignored.  Without
   * hints such a model colours on its own.
   *  - hints: for p2p_pipeline_run() (not owned; NULL: none);
   *  - read_hints: for p2p_pipeline_run_rows(): the reader also serves
   *    P2P_INPUT_HINTS rows (4 floats a pixel, values as in P2pImage). */
  const P2pImage *hints;
  gboolean      read_hints;
  /* A run whose estimated peak memory (p2p_pipeline_estimate()) exceeds
   * this many bytes is refused with P2P_ERROR_NO_MEMORY before anything
   * is allocated.  0 (the default): the memory available now
   * (p2p_available_memory()). */
  guint64       max_memory;
  P2pNetOptions net;      /* progress/cancel go through net.progress */
} P2pPipelineOptions;

void p2p_pipeline_options_init (P2pPipelineOptions *options);

/* Returns a new image (transfer full) or NULL with @error set. */
P2pImage *p2p_pipeline_run (const P2pModel           *model,
                            const P2pImage           *input,
                            const P2pPipelineOptions *options,
                            GError                  **error);

/* Rows for p2p_pipeline_run_rows().
 *
 * The reader fills @rows with rows [@y, @y + @n_rows) of @input (the image,
 * or the colour hints where options->read_hints asks for them): packed,
 * full width, interleaved, in the input's channels, values as in P2pImage
 * (p2p-image.h); @rows belongs to the pipeline and is valid only during
 * the call.  Rows may be asked for in any order and more than once (tile
 * mode reads each tile row's window, reflected at the image borders, and
 * the rows again when it writes them).
 *
 * The writer receives finished rows [@y, @y + @n_rows) of the result,
 * @channels 3 (RGB) or 4 (RGBA) floats a pixel, exactly what
 * p2p_pipeline_run() returns for them; @rows is the pipeline's and valid
 * only during the call.  Every row comes exactly once, top to bottom.
 *
 * Either returns FALSE, with @error set, to stop the run, which then fails
 * with that error. */
typedef enum {
  P2P_INPUT_IMAGE,   /* the image to process, in its own channels */
  P2P_INPUT_HINTS,   /* colour hints (options->read_hints): RGBA */
} P2pInput;

typedef gboolean (*P2pRowReader) (P2pInput  input,
                                  int       y,
                                  int       n_rows,
                                  float    *rows,
                                  gpointer  user_data,
                                  GError  **error);
typedef gboolean (*P2pRowWriter) (int          y,
                                  int          n_rows,
                                  const float *rows,
                                  int          channels,
                                  gpointer     user_data,
                                  GError     **error);

/* p2p_pipeline_run() for an image that the caller keeps in a form of its
 * own (8-bit pixels, a GIMP buffer): @width x @height pixels of @channels
 * (1 to 4), read and written through @read and @write (both get
 * @user_data).  Tile mode never holds the image as floats: only the
 * statistics copy, one tile row's bands and one tile (see
 * P2P_SIZE_MODE_TILE), so memory grows with the width, not the area.
 * Resize and whole mode read the whole image at once and write the whole
 * result at once.  The result equals p2p_pipeline_run()'s on the same
 * pixels.  FALSE with @error set on failure (rows written before it are
 * then incomplete). */
gboolean p2p_pipeline_run_rows (const P2pModel           *model,
                                int                       width,
                                int                       height,
                                int                       channels,
                                P2pRowReader              read,
                                P2pRowWriter              write,
                                gpointer                  user_data,
                                const P2pPipelineOptions *options,
                                GError                  **error);

/* Channels of the result for an input of @channels (1 to 4): 4 when the
 * input has alpha and the model's task carries it (not sketch-to-photo,
 * whose drawing is flattened on white), else 3.  Lets a caller of
 * p2p_pipeline_run_rows() make its output before the run. */
int       p2p_pipeline_result_channels (const P2pModel *model, int channels);

/* What a run will cost, known before it starts (p2p_pipeline_estimate()). */
typedef struct {
  guint64 macs;        /* multiply-adds of all the network's passes (the architecture's
                          cost formula, p2p_model_macs(), summed over the passes) */
  guint64 peak_bytes;  /* the most memory the run holds at once: its image buffers, the
                          network's tensors and scratch.  Not counted: the model's weights
                          (already loaded) and the caller's own image.  Meant as an upper
                          bound; tests/test-estimate.c checks it against the measured peak
                          of real runs (within a factor) */
  guint64 limit_bytes; /* what the run may use: options->max_memory, else the memory
                          available now */
  gboolean fits;       /* peak_bytes <= limit_bytes: p2p_pipeline_run*() will not refuse
                          it for memory */
  double  seconds;     /* a conservative guess of the time: macs at
                          P2P_ESTIMATE_MACS_PER_CORE_SECOND per thread, at most 8 threads */
  int     net_width;   /* the largest network pass, in pixels */
  int     net_height;
  int     passes;      /* network passes (tile mode: one per tile, and the statistics pass) */
} P2pRunEstimate;

/* Multiply-adds per second and thread that the time estimate assumes: a
 * floor under what this engine measured (bench/RESULTS.md: 33-50 * 10^9 per
 * thread on 256-1024 px U-Nets; 11.7 * 10^9 per core for unet_128 at
 * 8192 x 8192 on 2 busy cores, see bench/README.md "Estimates"), so that the
 * time shown is rarely too short. */
#define P2P_ESTIMATE_MACS_PER_CORE_SECOND 1.0e10

/* The cost of running @model on a @width x @height image of @channels with
 * @options (NULL: the defaults), through p2p_pipeline_run_rows() when
 * @streamed (pix2pix-cli, the plug-in: tile mode holds only bands of the
 * image) or p2p_pipeline_run() when not.  Nothing is allocated or run.
 * FALSE with @error set where the run itself would refuse the arguments
 * (bad size, options, hints); a run that would not fit in memory is not an
 * error here: @estimate->fits says so. */
gboolean p2p_pipeline_estimate (const P2pModel           *model,
                                int                       width,
                                int                       height,
                                int                       channels,
                                const P2pPipelineOptions *options,
                                gboolean                  streamed,
                                P2pRunEstimate           *estimate,
                                GError                  **error);

const char *p2p_size_mode_to_string   (P2pSizeMode mode);
gboolean    p2p_size_mode_from_string (const char *s, P2pSizeMode *mode);

G_END_DECLS
