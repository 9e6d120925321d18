/* p2p-pipeline.c - image in, image out.
 *
 * The work is split in three stages so that a tiled variant can later
 * replace the middle one without touching callers:
 *   1. prepare:  image -> "net plane" at full resolution (RGB/grey colour
 *                channels, or the Lab L plane for colorize);
 *   2. infer:    net plane -> model output plane at full resolution, through
 *                the size mode (resize: to native size and back; whole:
 *                reflect-pad, run, crop);
 *   3. finish:   output plane -> image (RGB clamp, or Lab -> sRGB with the
 *                full-resolution L), alpha re-attached unchanged (or, for
 *                sketches, used up by compositing on white in stage 1).
 */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"
#include "p2p-pipeline.h"
#include "p2p-pipeline-private.h"
#include "p2p-task.h"
#include "p2p-model-private.h"
#include "p2p-ops.h"

void
p2p_pipeline_options_init (P2pPipelineOptions *options)
{
  g_return_if_fail (options != NULL);

  memset (options, 0, sizeof *options);
  options->size_mode = P2P_SIZE_MODE_RESIZE;
  options->chroma = 1.0;
  p2p_net_options_init (&options->net);
}

static const char *const size_mode_names[] = {
  [P2P_SIZE_MODE_RESIZE] = "resize",
  [P2P_SIZE_MODE_WHOLE] = "whole",
  [P2P_SIZE_MODE_TILE] = "tile",
};

const char *
p2p_size_mode_to_string (P2pSizeMode mode)
{
  if ((unsigned) mode < G_N_ELEMENTS (size_mode_names))
    return size_mode_names[mode];
  return "unknown";
}

gboolean
p2p_size_mode_from_string (const char *s, P2pSizeMode *mode)
{
  g_return_val_if_fail (mode != NULL, FALSE);

  if (!s)
    return FALSE;
  for (unsigned i = 0; i < G_N_ELEMENTS (size_mode_names); i++)
    if (g_ascii_strcasecmp (s, size_mode_names[i]) == 0)
      {
        *mode = (P2pSizeMode) i;
        return TRUE;
      }
  return FALSE;
}

/* Cancellation point between the image steps.  The network reports its
 * own progress from 0 to 1, so before it we can only say 0 and after it 1;
 * what matters here is giving the callback a chance to stop a long
 * pre- or post-processing step. */
static gboolean
p2p_pipeline_check (const P2pPipelineOptions *options, double fraction, GError **error)
{
  if (options->net.progress &&
      !options->net.progress (fraction, options->net.progress_data))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_CANCELLED, _("Cancelled"));
      return FALSE;
    }
  return TRUE;
}

/* Checks everything but the memory (p2p_pipeline_check_memory); the
 * model's row of the task table in *@task_out. */
static gboolean
p2p_pipeline_validate (const P2pModelInfo       *info,
                       const P2pTaskSpec       **task_out,
                       int                       width,
                       int                       height,
                       int                       channels,
                       gboolean                  has_data,
                       const P2pPipelineOptions *options,
                       GError                  **error)
{
  if (channels < 1 || channels > 4)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Images must have 1 to 4 channels, not %d"), channels);
      return FALSE;
    }
  if (width <= 0 || height <= 0 || !has_data)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is empty (%d x %d pixels)"), width, height);
      return FALSE;
    }
  if (width > P2P_IMAGE_MAX_SIDE || height > P2P_IMAGE_MAX_SIDE)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is too large (%d x %d pixels; at most %d on a side)"),
                   width, height, P2P_IMAGE_MAX_SIDE);
      return FALSE;
    }
  if (!isfinite (options->chroma) || options->chroma < 0.0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The colour strength must be a number of 0 or more"));
      return FALSE;
    }
  if (options->net_size < 0 || options->net_size > P2P_PIPELINE_NET_SIZE_MAX)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The network size must be from 0 (the model's own) to 16384"));
      return FALSE;
    }
  if (options->tile_size < 0 || options->tile_size > 16384 || options->tile_overlap < 0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The tile size must be from 0 (automatic) to 16384 and the overlap 0 or more"));
      return FALSE;
    }
  if ((unsigned) options->size_mode >= G_N_ELEMENTS (size_mode_names))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Unknown size mode %d"), (int) options->size_mode);
      return FALSE;
    }

  *task_out = p2p_task_for_model (info, error);
  if (!*task_out)
    return FALSE;
  if (options->hints || options->read_hints)
    {
      if ((*task_out)->hint_channels == 0)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("This model takes no color hints"));
          return FALSE;
        }
      if (options->hints &&
          (options->hints->width != width || options->hints->height != height ||
           options->hints->channels != P2P_HINT_IMAGE_CHANNELS || !options->hints->data))
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                       _("The color hints must be an RGBA image of the input's size "
                         "(%d x %d pixels)"), width, height);
          return FALSE;
        }
    }
  return TRUE;
}

/* ---- tile mode ---------------------------------------------------------- */

typedef struct {
  const P2pNetOptions *outer;
  double               base, span;   /* this pass's share of the progress bar */
} TileProgress;

static gboolean
p2p_tile_progress (double fraction, gpointer data)
{
  const TileProgress *tp = data;
  return tp->outer->progress (tp->base + fraction * tp->span, tp->outer->progress_data);
}

/* Start positions of @n tiles of @tile along @length, spread evenly from 0
 * to @length - @tile, so that neighbours overlap by at least the overlap
 * the count was computed for. */
static int
p2p_tile_start (int i, int n, int length, int tile)
{
  if (n <= 1)
    return 0;
  return (int) (((gint64) i * (length - tile) + (n - 1) / 2) / (n - 1));
}

static int
p2p_tile_count (int length, int tile, int overlap)
{
  if (length <= tile)
    return 1;
  return 1 + (length - overlap - 1) / (tile - overlap);
}

/* Blending weight at distance @d from a tile edge that has a neighbour
 * overlapping by @ramp pixels: a raised cosine from ~0 to 1.  Weights of
 * the two tiles do not need to sum to 1: the result is divided by the sum. */
static float
p2p_tile_ramp (int d, int ramp)
{
  if (ramp <= 0 || d >= ramp)
    return 1.0f;
  return (float) (0.5 - 0.5 * cos (G_PI * (d + 0.5) / ramp));
}

/* Statistics copy: P2P_TILE_STATS_TILES (p2p-pipeline-private.h). */

/* Rows converted or written per call of the reader and the writer. */
#define P2P_ROW_CHUNK 16

typedef struct {
  int tw, th;        /* tile size (each at most the padded image) */
  int nx, ny;        /* tiles across and down */
} TileGrid;

static void
p2p_tile_grid (const P2pModel *model, int W, int H, const P2pPipelineOptions *options, TileGrid *g)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  int tile, overlap;

  tile = options->tile_size > 0 ? options->tile_size : MAX (2 * info->native_size, 256);
  tile = p2p_model_fit_side (model, MIN (tile, 16384));
  overlap = options->tile_overlap > 0 ? options->tile_overlap : tile / 4;
  overlap = MIN (overlap, tile / 2);
  /* Tiles never exceed the (padded) image: a small image is one tile. */
  g->tw = MIN (tile, p2p_model_fit_side (model, W));
  g->th = MIN (tile, p2p_model_fit_side (model, H));
  g->nx = p2p_tile_count (W, g->tw, overlap);
  g->ny = p2p_tile_count (H, g->th, overlap);
}

/* Single-tile axes are centred like whole mode; others lie inside. */
static int
p2p_tile_origin (int i, int n, int length, int tile)
{
  return n == 1 ? -(tile - length) / 2 : p2p_tile_start (i, n, length, tile);
}

/* Tile mode over rows: everything p2p_pipeline_run_rows() does in tile
 * mode.  The image is seen only through the reader; what is held is
 *  - the statistics copy (at most P2P_TILE_STATS_TILES tiles a side) and
 *    the rows its vertical pass still needs (P2pResizeStream);
 *  - one tile row of the net's input plane (th full-width rows);
 *  - the blend accumulator and weights of the rows still open, a ring of th
 *    full-width rows (row r in slot r % th: the open rows of tile row ty
 *    are [y0, y0 + th), and rows above the next tile row's top are final);
 *  - chunks of P2P_ROW_CHUNK rows for reading and writing;
 *  - one tile and the net's arena. */
typedef struct {
  const P2pModel           *model;
  const P2pPipelineOptions *options;
  P2pRowReader              read;
  P2pRowWriter              write;
  gpointer                  data;
  int                       W, H, in_ch;
  const P2pTaskSpec        *task;
  gboolean                  alpha;
  gboolean                  hints;    /* the reader serves P2P_INPUT_HINTS */
  int                       ic;       /* plane channels from the image: 1 (grey, L) or 3 */
  int                       cc;       /* plane channels: ic, then the hint channels */
  int                       net_ch;   /* net output image channels: 3 (RGB) or 2 (ab) */
  int                       out_ch;   /* written: 3 or 4 */
  float                    *chunk;    /* P2P_ROW_CHUNK input rows */
  float                    *hint_chunk; /* P2P_ROW_CHUNK hint rows (RGBA), if hints */
  float                    *plane;    /* P2P_ROW_CHUNK rows of plane or output */
  double                    chroma;   /* finish's chroma: the options', with the gain */
} RowRun;

static gboolean
p2p_rows_read (RowRun *rr, P2pInput input, int y, int n, float *dst, GError **error)
{
  GError *local = NULL;

  if (rr->read (input, y, n, dst, rr->data, &local))
    return TRUE;
  if (!local)
    local = g_error_new (P2P_ERROR, P2P_ERROR_BAD_INPUT,
                         input == P2P_INPUT_HINTS
                         ? _("Could not read rows %d to %d of the color hints")
                         : _("Could not read rows %d to %d of the image"), y, y + n - 1);
  g_propagate_error (error, local);
  return FALSE;
}

static gboolean
p2p_rows_write (RowRun *rr, int y, int n, const float *rows, GError **error)
{
  GError *local = NULL;

  if (rr->write (y, n, rows, rr->out_ch, rr->data, &local))
    return TRUE;
  if (!local)
    local = g_error_new (P2P_ERROR, P2P_ERROR_IO,
                         _("Could not write rows %d to %d of the result"), y, y + n - 1);
  g_propagate_error (error, local);
  return FALSE;
}

/* Plane rows [y, y + n) into @dst (n x W x cc), as the task makes them
 * (p2p_task_make_plane). */
static gboolean
p2p_rows_read_plane (RowRun *rr, int y, int n, float *dst, GError **error)
{
  const gsize W = rr->W;

  for (int done = 0; done < n; )
    {
      const int k = MIN (n - done, P2P_ROW_CHUNK);
      float *out = dst + (gsize) done * W * rr->cc;
      const P2pImage view = { rr->W, k, rr->in_ch, rr->chunk };

      if (!p2p_rows_read (rr, P2P_INPUT_IMAGE, y + done, k, rr->chunk, error) ||
          !rr->task->image_to_plane (&view, out, rr->cc, error))
        return FALSE;
      if (rr->cc > rr->ic)
        {
          const P2pImage hints = { rr->W, k, P2P_HINT_IMAGE_CHANNELS, rr->hint_chunk };

          if (rr->hints)
            {
              if (!p2p_rows_read (rr, P2P_INPUT_HINTS, y + done, k, rr->hint_chunk, error))
                return FALSE;
            }
          else
            memset (rr->hint_chunk, 0, (gsize) k * W * P2P_HINT_IMAGE_CHANNELS * sizeof (float));
          p2p_task_hints_to_plane (&hints, out, rr->cc, rr->ic);
        }
      done += k;
    }
  return TRUE;
}

/* One net pass of tile mode over rows on a plane (statistics copy or
 * tile). */
static P2pImage *
p2p_rows_run_net (const RowRun *rr, const P2pImage *plane, const P2pNetOptions *net,
                  GError **error)
{
  return rr->task->run_net (rr->model, plane, net, error);
}

/* Alpha is carried bit for bit, except that NaN becomes 0 and infinities
 * 0 or 1: no NaN or Inf ever reaches the output. */
static void
p2p_copy_alpha (const P2pImage *src, P2pImage *dst)
{
  const gsize n = (gsize) src->width * src->height;
  const int sc = src->channels, dc = dst->channels;

  for (gsize p = 0; p < n; p++)
    {
      const float a = src->data[p * sc + sc - 1];
      dst->data[p * dc + dc - 1] = isfinite (a) ? a : a > 0.0f ? 1.0f : 0.0f;
    }
}

/* Rows [y, y + n) of the result from the accumulator ring: divided by the
 * weight, then finished by the task from the input's rows; the ring's
 * slots are cleared for the rows below. */
static gboolean
p2p_rows_flush (RowRun *rr, float *acc, float *wacc, int ring, int y, int n, GError **error)
{
  const gsize W = rr->W;
  const int nc = rr->net_ch, oc = rr->out_ch;

  for (int done = 0; done < n; )
    {
      const int k = MIN (n - done, P2P_ROW_CHUNK);
      const P2pImage in_view = { rr->W, k, rr->in_ch, rr->chunk };
      /* the quotients (k x W x nc) at the start of the buffer, the result
       * behind them */
      const P2pImage quotients = { rr->W, k, nc, rr->plane };
      P2pImage dst = { rr->W, k, oc, rr->plane + (gsize) k * W * nc };

      if (rr->alpha || rr->task->finish_reads_image)
        if (!p2p_rows_read (rr, P2P_INPUT_IMAGE, y + done, k, rr->chunk, error))
          return FALSE;

      for (int r = 0; r < k; r++)
        {
          const gsize slot = (gsize) ((y + done + r) % ring);
          float *a = acc + slot * W * nc, *ws = wacc + slot * W;
          float *o = quotients.data + (gsize) r * W * nc;

          for (gsize x = 0; x < W; x++)
            for (int c = 0; c < nc; c++)
              o[x * nc + c] = a[x * nc + c] / ws[x];
          memset (a, 0, W * nc * sizeof (float));
          memset (ws, 0, W * sizeof (float));
        }

      if (!rr->task->finish (&quotients, NULL, &in_view, rr->chroma, &dst, error))
        return FALSE;
      if (rr->alpha)
        p2p_copy_alpha (&in_view, &dst);
      if (!p2p_rows_write (rr, y + done, k, dst.data, error))
        return FALSE;
      done += k;
    }
  return TRUE;
}

/* The statistics copy of a W x H image: downscaled by the returned factor
 * (at most 1) to @sw x @sh, reflect-padded to @ctx_w x @ctx_h for the net. */
static double
p2p_tile_stats_size (const P2pModel *model, const TileGrid *g, int W, int H,
                     int *sw, int *sh, int *ctx_w, int *ctx_h)
{
  const double scale = MIN (1.0, ((double) P2P_TILE_STATS_TILES * MAX (g->tw, g->th)) / MAX (W, H));

  *sw = MAX (1, (int) lround (W * scale));
  *sh = MAX (1, (int) lround (H * scale));
  *ctx_w = p2p_model_fit_side (model, *sw);
  *ctx_h = p2p_model_fit_side (model, *sh);
  return scale;
}

/* 1. Statistics of the whole image, on a copy no larger than
 *    P2P_TILE_STATS_TILES tiles a side, downscaled while the rows stream
 *    past.  An image that fits is used as it is, so that a one-tile image
 *    gives exactly the whole-mode result.  @mean_chroma (or NULL): the mean
 *    chroma of that pass's prediction of the image, for
 *    p2p_task_unhinted_gain(). */
static gboolean
p2p_rows_stats (RowRun *rr, const TileGrid *g, P2pNetOptions *net, P2pNormStats *stats,
                double *mean_chroma, GError **error)
{
  const int W = rr->W, H = rr->H;
  int sw, sh, ctx_w, ctx_h;
  const double scale = p2p_tile_stats_size (rr->model, g, W, H, &sw, &sh, &ctx_w, &ctx_h);
  g_autoptr(P2pImage) small = NULL;
  g_autoptr(P2pImage) ctx = NULL;
  g_autoptr(P2pImage) ignored = NULL;

  if (scale < 1.0)
    {
      /* As the task resizes its plane (RGB as Pillow resizes 8-bit images,
       * clamped between passes).  Hint channels are resized bicubic here
       * too: this copy only gives the normalisation statistics. */
      g_autoptr(P2pResizeStream) rs = p2p_resize_stream_new (W, H, rr->cc, sw, sh,
                                                             rr->task->clamp_resize, error);

      if (!rs)
        return FALSE;
      for (int y = 0; y < H; y += P2P_ROW_CHUNK)
        {
          const int k = MIN (H - y, P2P_ROW_CHUNK);

          if (!p2p_rows_read_plane (rr, y, k, rr->plane, error))
            return FALSE;
          p2p_resize_stream_push (rs, rr->plane, k);
        }
      small = p2p_resize_stream_finish (g_steal_pointer (&rs));
    }
  else
    {
      small = p2p_image_new (W, H, rr->cc, error);
      if (small && !p2p_rows_read_plane (rr, 0, H, small->data, error))
        return FALSE;
    }
  if (!small)
    return FALSE;
  ctx = p2p_image_pad_reflect (small, (ctx_w - sw) / 2, (ctx_h - sh) / 2, ctx_w, ctx_h, error);
  if (!ctx)
    return FALSE;
  g_clear_pointer (&small, p2p_image_free);

  net->record_stats = stats;
  net->use_stats = NULL;
  ignored = p2p_rows_run_net (rr, ctx, net, error);
  net->record_stats = NULL;
  if (ignored && mean_chroma)
    *mean_chroma = p2p_task_mean_chroma (ignored, (ctx_w - sw) / 2, (ctx_h - sh) / 2, sw, sh);
  return ignored != NULL;
}

static gboolean
p2p_pipeline_tiled_rows (const P2pModel           *model,
                         const P2pTaskSpec        *task,
                         int                       W,
                         int                       H,
                         int                       channels,
                         P2pRowReader              read,
                         P2pRowWriter              write,
                         gpointer                  data,
                         const P2pPipelineOptions *options,
                         double                    gain_cap,
                         GError                  **error)
{
  RowRun rr = { model, options, read, write, data, W, H, channels, task };
  double mean_chroma = 0.0;
  TileGrid g;
  g_autoptr(P2pNormStats) stats = p2p_norm_stats_new ();
  g_autoptr(P2pImage) in_tile = NULL;
  g_autofree float *chunk = NULL, *hint_chunk = NULL, *plane = NULL, *band = NULL;
  g_autofree float *acc = NULL, *wacc = NULL;
  g_autofree int *xmap = NULL;
  P2pNetOptions net = options->net;
  TileProgress tp = { &options->net, 0, 0 };
  int flushed = 0;

  rr.alpha = p2p_task_out_channels (task, channels) == 4;
  rr.hints = options->read_hints;
  rr.ic = task->image_plane_channels (channels);
  rr.cc = p2p_task_plane_channels (task, channels);
  rr.net_ch = task->out_channels;
  rr.out_ch = rr.alpha ? 4 : 3;
  p2p_tile_grid (model, W, H, options, &g);

  /* All the buffers before any work (sizes checked by the caller). */
  {
    const gsize w = (gsize) W, th = (gsize) g.th;
    /* the flush holds the quotients and the result side by side */
    const gsize plane_ch = MAX ((gsize) rr.cc, (gsize) (rr.net_ch + rr.out_ch));

    chunk = g_try_new (float, P2P_ROW_CHUNK * w * channels);
    if (rr.cc > rr.ic)
      hint_chunk = g_try_new (float, P2P_ROW_CHUNK * w * P2P_HINT_IMAGE_CHANNELS);
    plane = g_try_new (float, P2P_ROW_CHUNK * w * plane_ch);
    band = g_try_new (float, th * w * rr.cc);
    acc = g_try_new0 (float, th * w * rr.net_ch);
    wacc = g_try_new0 (float, th * w);
    xmap = g_try_new (int, g.tw);
    if (!chunk || !plane || !band || !acc || !wacc || !xmap || (rr.cc > rr.ic && !hint_chunk))
      {
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Not enough memory to process a %d x %d image in tiles of %d x %d"),
                     W, H, g.tw, g.th);
        return FALSE;
      }
    in_tile = p2p_image_new (g.tw, g.th, rr.cc, error);
    if (!in_tile)
      return FALSE;
  }
  rr.chunk = chunk;
  rr.hint_chunk = hint_chunk;
  rr.plane = plane;
  rr.chroma = options->chroma;

  if (options->net.progress)
    {
      tp.span = 1.0 / (g.nx * g.ny + 1);
      net.progress = p2p_tile_progress;
      net.progress_data = &tp;
    }

  {
    /* The statistics pass in an arena of its own (unless the caller keeps
     * one), released before the tiles: its blocks, for a copy of up to
     * P2P_TILE_STATS_TILES^2 tiles, would otherwise stay mapped. */
    g_autoptr(P2pArena) arena = net.arena ? NULL : p2p_arena_new_full (1);

    if (arena)
      net.arena = arena;
    if (!p2p_rows_stats (&rr, &g, &net, stats, gain_cap > 0.0 ? &mean_chroma : NULL, error))
      return FALSE;
    net.arena = options->net.arena;
  }
  if (gain_cap > 0.0)
    rr.chroma *= p2p_task_unhinted_gain (mean_chroma,
                                         p2p_model_get_info (model)->unhinted_chroma_target,
                                         gain_cap);

  /* 2. The tiles, each normalised with those statistics, blended, tile row
   *    by tile row. */
  {
    /* One arena for all the tiles (unless the caller keeps one): every
     * tile needs the same blocks, which a pass of its own would map afresh
     * each time.  Keep 2: with keep 1 (no more than one pass's largest
     * live total) blocks of the sizes never live together are dropped and
     * mapped again in every tile (4096 x 4096, 512 tiles: 4.3 M page
     * faults and 21 s of system time against 0.23 M and 6 s), and the
     * statistics pass's peak is higher anyway. */
    g_autoptr(P2pArena) arena = net.arena ? NULL : p2p_arena_new_full (2);
    const int tw = g.tw, th = g.th, nx = g.nx, ny = g.ny;

    if (arena)
      net.arena = arena;
    net.use_stats = stats;
    for (int ty = 0; ty < ny; ty++)
      {
        const int y0 = p2p_tile_origin (ty, ny, H, th);
        const int top_ramp = ty > 0 ? p2p_tile_start (ty - 1, ny, H, th) + th - y0 : 0;
        const int bottom_ramp = ty < ny - 1 ? y0 + th - p2p_tile_start (ty + 1, ny, H, th) : 0;
        const int limit = ty < ny - 1 ? p2p_tile_start (ty + 1, ny, H, th) : H;

        /* This tile row's window of the plane, rows reflected at the image
         * borders (as p2p_image_window_reflect), read in runs of rows that
         * follow each other. */
        for (int y = 0; y < th; )
          {
            const int sy = p2p_reflect_index (y0 + y, H);
            int n = 1;

            while (y + n < th && p2p_reflect_index (y0 + y + n, H) == sy + n)
              n++;
            if (!p2p_rows_read_plane (&rr, sy, n, band + (gsize) y * W * rr.cc, error))
              return FALSE;
            y += n;
          }

        for (int tx = 0; tx < nx; tx++)
          {
            const int x0 = p2p_tile_origin (tx, nx, W, tw);
            const int left_ramp = tx > 0 ? p2p_tile_start (tx - 1, nx, W, tw) + tw - x0 : 0;
            const int right_ramp = tx < nx - 1 ? x0 + tw - p2p_tile_start (tx + 1, nx, W, tw) : 0;
            const int cc = rr.cc, nc = rr.net_ch;
            g_autoptr(P2pImage) out_tile = NULL;

            for (int x = 0; x < tw; x++)
              xmap[x] = p2p_reflect_index (x0 + x, W);
            for (int y = 0; y < th; y++)
              {
                const float *in = band + (gsize) y * W * cc;
                float *o = in_tile->data + (gsize) y * tw * cc;

                for (int x = 0; x < tw; x++)
                  for (int c = 0; c < cc; c++)
                    o[x * cc + c] = in[xmap[x] * cc + c];
              }

            tp.base = (double) (1 + ty * nx + tx) / (nx * ny + 1);
            out_tile = p2p_rows_run_net (&rr, in_tile, &net, error);
            if (!out_tile)
              return FALSE;

            for (int y = MAX (0, -y0); y < th && y0 + y < H; y++)
              {
                const float wy = MIN (p2p_tile_ramp (y, top_ramp), p2p_tile_ramp (th - 1 - y, bottom_ramp));
                const gsize slot = (gsize) ((y0 + y) % th);
                const float *src = out_tile->data + (gsize) y * tw * nc;
                float *dst = acc + slot * W * nc;
                float *ws = wacc + slot * W;

                for (int x = MAX (0, -x0); x < tw && x0 + x < W; x++)
                  {
                    const float w = wy * MIN (p2p_tile_ramp (x, left_ramp),
                                              p2p_tile_ramp (tw - 1 - x, right_ramp));
                    for (int c = 0; c < nc; c++)
                      dst[(gsize) (x0 + x) * nc + c] += w * src[(gsize) x * nc + c];
                    ws[x0 + x] += w;
                  }
              }
          }

        /* Rows above the next tile row are final. */
        if (!p2p_rows_flush (&rr, acc, wacc, th, flushed, limit - flushed, error))
          return FALSE;
        flushed = limit;
      }
  }
  return TRUE;
}

/* The size the net runs at in resize and whole mode, for a @width x
 * @height image (whole mode: the image padded to what the net takes). */
static void
p2p_pipeline_net_size (const P2pModel *model, const P2pPipelineOptions *options,
                       int width, int height, int *nw, int *nh)
{
  if (options->size_mode == P2P_SIZE_MODE_RESIZE && options->net_size == 0)
    *nw = *nh = p2p_model_resize_side (model, width, height);
  else if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    /* A size the net cannot take would fail in p2p_net_run; the nearest
     * size it can take is the friendlier answer. */
    *nw = *nh = p2p_model_fit_side (model, options->net_size);
  else
    {
      *nw = p2p_model_fit_side (model, width);
      *nh = p2p_model_fit_side (model, height);
    }
}

/* Runs the net on @plane (any size) and returns its output: at the size
 * the net ran at in resize and whole mode (native size, or @plane's size
 * padded; in whole mode *@left, *@top give @plane's place in the result,
 * for the caller to crop; in resize mode the caller resamples the result
 * back).  Tile mode goes through p2p_pipeline_tiled_rows(). */
static P2pImage *
p2p_pipeline_infer (const P2pModel           *model,
                    const P2pTaskSpec        *task,
                    const P2pImage           *plane,
                    const P2pPipelineOptions *options,
                    int                      *left_out,
                    int                      *top_out,
                    GError                  **error)
{
  const int multiple = MAX (p2p_model_size_multiple (model), 1);
  g_autoptr(P2pImage) net_in = NULL;
  g_autoptr(P2pImage) net_out = NULL;
  int nw, nh, left = 0, top = 0;

  *left_out = *top_out = 0;
  g_return_val_if_fail (options->size_mode != P2P_SIZE_MODE_TILE, NULL);

  if (options->size_mode == P2P_SIZE_MODE_WHOLE &&
      (plane->width > G_MAXINT - multiple || plane->height > G_MAXINT - multiple))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT, _("The image is too large"));
      return NULL;
    }
  p2p_pipeline_net_size (model, options, plane->width, plane->height, &nw, &nh);
  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    net_in = p2p_task_resize_plane (task, plane, nw, nh, error);
  else
    {
      /* Whole: pad evenly on both sides so that the borders the net sees
       * are alike; reflection keeps the image statistics near the edge. */
      left = (nw - plane->width) / 2;
      top = (nh - plane->height) / 2;
      net_in = p2p_image_pad_reflect (plane, left, top, nw, nh, error);
    }
  if (!net_in)
    return NULL;
  if (!p2p_pipeline_check (options, 0.0, error))
    return NULL;

  net_out = task->run_net (model, net_in, &options->net, error);
  if (!net_out)
    return NULL;
  g_clear_pointer (&net_in, p2p_image_free);
  if (!p2p_pipeline_check (options, 1.0, error))
    return NULL;

  *left_out = left;
  *top_out = top;
  return g_steal_pointer (&net_out);
}

/* Resize and whole mode on a whole image: the task's plane, the net, the
 * output back at full resolution, finished by the task; alpha carried
 * where the task keeps it. */
static P2pImage *
p2p_pipeline_run_image (const P2pModel           *model,
                        const P2pTaskSpec        *task,
                        const P2pImage           *input,
                        const P2pImage           *hints,
                        const P2pPipelineOptions *options,
                        double                    gain_cap,
                        GError                  **error)
{
  g_autoptr(P2pImage) plane = NULL;
  g_autoptr(P2pImage) net_out = NULL;
  g_autoptr(P2pImage) full = NULL;
  g_autoptr(P2pImage) out = NULL;
  int left = 0, top = 0;
  double chroma = options->chroma;

  plane = p2p_task_make_plane (task, input, hints, error);
  if (!plane)
    return NULL;
  net_out = p2p_pipeline_infer (model, task, plane, options, &left, &top, error);
  if (!net_out)
    return NULL;
  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    full = task->upsample (net_out, plane, error);
  else
    full = p2p_image_crop (net_out, left, top, input->width, input->height, error);
  if (!full)
    return NULL;
  g_clear_pointer (&net_out, p2p_image_free);
  if (!p2p_pipeline_check (options, 1.0, error))
    return NULL;
  if (gain_cap > 0.0)
    /* The prediction as it will be finished, at full resolution. */
    chroma *= p2p_task_unhinted_gain (p2p_task_mean_chroma (full, 0, 0, full->width, full->height),
                                      p2p_model_get_info (model)->unhinted_chroma_target, gain_cap);

  out = p2p_image_new (input->width, input->height,
                       p2p_task_out_channels (task, input->channels), error);
  if (!out || !task->finish (full, plane, input, chroma, out, error))
    return NULL;
  if (out->channels == 4)
    p2p_copy_alpha (input, out);
  return g_steal_pointer (&out);
}

/* ---- the estimate ----------------------------------------------------- */

/* Floats one net pass at @nw x @nh holds: the input tensor, the arena (the
 * architecture's tensors and the scratch; an arena that keeps @keep times
 * its peak, as tile mode's does, may hold that much) and the output as an
 * image beside the output tensor. */
static guint64
p2p_estimate_pass_floats (const P2pModel *model, const P2pTaskSpec *task, int nw, int nh,
                          guint keep)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  const P2pArchSpec *arch = p2p_model_get_arch (model);
  const guint64 px = (guint64) nw * (guint64) nh;
  const guint64 scratch = MIN (arch->scratch_floats (info, nh, nw),
                               (guint64) (P2P_SCRATCH_MAX_BYTES / sizeof (float)));

  return px * (guint64) info->input_nc + keep * (arch->peak_floats (info, nh, nw) + scratch) +
         px * (guint64) task->out_channels;
}

/* The estimate of a run whose arguments p2p_pipeline_validate() accepted.
 * Every count is in 64 bits: the byte count of a large image overflows 32
 * bits long before it reaches any limit.  The buffers follow the code above:
 *  - resize and whole mode (and p2p_pipeline_run() in any mode but tile):
 *    the input as floats (over rows; p2p_pipeline_run() has the caller's),
 *    the task's plane at full size, then either the net's input plane and
 *    the pass, or after it the net's output, the task's work to bring it to
 *    full size (resize mode), the output at full size and the result (Lab:
 *    and the lightness again);
 *  - tile mode: the bands and chunks, one tile, and either the statistics
 *    pass (its own arena, released before the tiles) or a tile's pass
 *    (an arena that keeps twice its peak), and p2p_pipeline_run()'s result. */
static void
p2p_estimate (const P2pModel *model, const P2pTaskSpec *task, int W, int H, int channels,
              const P2pPipelineOptions *options, gboolean streamed, P2pRunEstimate *est)
{
  const guint64 px = (guint64) W * (guint64) H;
  const int cc = p2p_task_plane_channels (task, channels);
  const int nc = task->out_channels;
  const int oc = p2p_task_out_channels (task, channels);
  guint64 floats;

  memset (est, 0, sizeof *est);
  if (options->size_mode == P2P_SIZE_MODE_TILE)
    {
      const guint64 plane_ch = MAX ((guint64) cc, (guint64) (nc + oc));
      TileGrid g;
      int sw, sh, cw, ch;
      guint64 bufs, stats, tiles;

      p2p_tile_grid (model, W, H, options, &g);
      p2p_tile_stats_size (model, &g, W, H, &sw, &sh, &cw, &ch);
      bufs = (guint64) P2P_ROW_CHUNK * W * (channels + P2P_HINT_IMAGE_CHANNELS + plane_ch) +
             (guint64) g.th * W * (cc + nc + 1) + (guint64) g.tw * g.th * cc;
      if (!streamed)
        bufs += px * oc;
      /* the downscaled copy and its padded version, with the pass */
      stats = (guint64) sw * sh * cc + (guint64) cw * ch * cc +
              p2p_estimate_pass_floats (model, task, cw, ch, 1);
      tiles = p2p_estimate_pass_floats (model, task, g.tw, g.th, 2) +
              (guint64) g.tw * g.th * nc;
      floats = bufs + MAX (stats, tiles);
      est->macs = p2p_model_macs (model, ch, cw) +
                  (guint64) g.nx * g.ny * p2p_model_macs (model, g.th, g.tw);
      est->passes = 1 + g.nx * g.ny;
      est->net_width = MAX (cw, g.tw);
      est->net_height = cw >= g.tw ? ch : g.th;
    }
  else
    {
      int nw, nh;
      guint64 base, during, after;

      p2p_pipeline_net_size (model, options, W, H, &nw, &nh);
      base = px * cc;
      if (streamed)
        base += px * channels + (options->read_hints ? px * P2P_HINT_IMAGE_CHANNELS : 0);
      during = (guint64) nw * nh * cc + p2p_estimate_pass_floats (model, task, nw, nh, 1);
      after = (guint64) nw * nh * nc + px * (nc + oc) + (task->finish_reads_image ? px : 0);
      if (options->size_mode == P2P_SIZE_MODE_RESIZE)
        after += (guint64) nw * nh * task->upsample_work;
      floats = base + MAX (during, after);
      est->macs = p2p_model_macs (model, nh, nw);
      est->passes = 1;
      est->net_width = nw;
      est->net_height = nh;
    }
  est->peak_bytes = floats * sizeof (float);
  est->limit_bytes = options->max_memory > 0 ? options->max_memory : p2p_available_memory ();
  est->fits = est->peak_bytes <= est->limit_bytes;
  {
    const int threads = options->net.threads > 0 ? options->net.threads
                                                 : (int) g_get_num_processors ();

    est->seconds = est->macs / (P2P_ESTIMATE_MACS_PER_CORE_SECOND * CLAMP (threads, 1, 8));
  }
}

gboolean
p2p_pipeline_estimate (const P2pModel           *model,
                       int                       width,
                       int                       height,
                       int                       channels,
                       const P2pPipelineOptions *options,
                       gboolean                  streamed,
                       P2pRunEstimate           *estimate,
                       GError                  **error)
{
  const P2pTaskSpec *task = NULL;
  P2pPipelineOptions defaults;

  g_return_val_if_fail (model != NULL && estimate != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!options)
    {
      p2p_pipeline_options_init (&defaults);
      options = &defaults;
    }
  if (!p2p_pipeline_validate (p2p_model_get_info (model), &task, width, height, channels, TRUE,
                              options, error))
    return FALSE;
  p2p_estimate (model, task, width, height, channels, options, streamed, estimate);
  return TRUE;
}

/* Before anything is allocated: a run that would not fit in the memory
 * available is refused now, not after swapping or a failed allocation
 * halfway. */
static gboolean
p2p_pipeline_check_memory (const P2pModel           *model,
                           const P2pTaskSpec        *task,
                           int                       width,
                           int                       height,
                           int                       channels,
                           const P2pPipelineOptions *options,
                           gboolean                  streamed,
                           GError                  **error)
{
  P2pRunEstimate est;

  p2p_estimate (model, task, width, height, channels, options, streamed, &est);
  if (!est.fits)
    {
      g_autofree char *need_s = g_format_size (est.peak_bytes);
      g_autofree char *have_s = g_format_size (est.limit_bytes);

      if (options->size_mode == P2P_SIZE_MODE_RESIZE && options->net_size > 0)
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Processing this %d x %d image at a network size of %d needs about %s "
                       "of memory; only %s is available. Choose a smaller network size."),
                     width, height, options->net_size, need_s, have_s);
      else
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("Processing this %d x %d image needs about %s of memory; "
                       "only %s is available"),
                     width, height, need_s, have_s);
      return FALSE;
    }
  return TRUE;
}

/* p2p_pipeline_run() in tile mode: rows of images. */
typedef struct {
  const P2pImage *in;
  const P2pImage *hints;
  P2pImage       *out;
} ImageRows;

static gboolean
p2p_image_reader (P2pInput input, int y, int n_rows, float *rows, gpointer data, GError **error)
{
  const ImageRows *images = data;
  const P2pImage *in = input == P2P_INPUT_HINTS ? images->hints : images->in;
  const gsize len = (gsize) in->width * in->channels;

  memcpy (rows, in->data + (gsize) y * len, (gsize) n_rows * len * sizeof (float));
  return TRUE;
}

static gboolean
p2p_image_writer (int y, int n_rows, const float *rows, int channels, gpointer data,
                  GError **error)
{
  P2pImage *out = ((ImageRows *) data)->out;
  const gsize len = (gsize) out->width * out->channels;

  g_return_val_if_fail (channels == out->channels, FALSE);
  memcpy (out->data + (gsize) y * len, rows, (gsize) n_rows * len * sizeof (float));
  return TRUE;
}

/* Whether the run's hints hold a hint (a transparent hints layer is none):
 * the image's, or for rows (@read set) the reader's, read once ahead. */
static gboolean
p2p_pipeline_hinted (const P2pPipelineOptions *options,
                     int                       width,
                     int                       height,
                     P2pRowReader              read,
                     gpointer                  data,
                     gboolean                 *hinted,
                     GError                  **error)
{
  g_autoptr(P2pImage) chunk = NULL;
  RowRun rr = { 0 };

  *hinted = FALSE;
  if (!read)
    {
      if (options->hints)
        *hinted = p2p_task_hints_any (options->hints->data, (gsize) width * height);
      return TRUE;
    }
  if (!options->read_hints)
    return TRUE;
  rr.read = read;
  rr.data = data;
  chunk = p2p_image_new (width, P2P_ROW_CHUNK, P2P_HINT_IMAGE_CHANNELS, error);
  if (!chunk)
    return FALSE;
  for (int y = 0; y < height && !*hinted; y += P2P_ROW_CHUNK)
    {
      const int n = MIN (P2P_ROW_CHUNK, height - y);

      if (!p2p_rows_read (&rr, P2P_INPUT_HINTS, y, n, chunk->data, error))
        return FALSE;
      *hinted = p2p_task_hints_any (chunk->data, (gsize) width * n);
    }
  return TRUE;
}

/* What both entry points do first: the checks of the task, sizes, options
 * and memory, and the first progress report.  @rows: called by
 * p2p_pipeline_run_rows() with its reader @read and @data, where hints come
 * through the reader, not as an image.  Returns the options to use,
 * @options or the defaults when NULL, resolved into @resolved (a run
 * without a hint gets the model's unhinted_chroma_percent on its chroma),
 * or NULL with @error set.  *@gain_cap: 0, or for a run without a hint of
 * a model with an unhinted_chroma_target the most its gain may be, the
 * gain itself to be found from the prediction (p2p_task_unhinted_gain()). */
static const P2pPipelineOptions *
p2p_pipeline_begin (const P2pModel           *model,
                    int                       width,
                    int                       height,
                    int                       channels,
                    gboolean                  has_data,
                    gboolean                  rows,
                    P2pRowReader              read,
                    gpointer                  data,
                    const P2pPipelineOptions *options,
                    P2pPipelineOptions       *resolved,
                    const P2pTaskSpec       **task,
                    double                   *gain_cap,
                    GError                  **error)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  gboolean hinted = FALSE;

  *gain_cap = 0.0;
  if (!options)
    {
      p2p_pipeline_options_init (resolved);
      options = resolved;
    }
  if (rows ? options->hints != NULL : options->read_hints)
    {
      /* A programming error, not a user's: untranslated. */
      g_set_error_literal (error, P2P_ERROR, P2P_ERROR_BAD_INPUT, rows
                           ? "p2p_pipeline_run_rows(): hints come through the reader (read_hints)"
                           : "p2p_pipeline_run(): read_hints is for p2p_pipeline_run_rows()");
      return NULL;
    }
  if (!p2p_pipeline_validate (info, task, width, height, channels, has_data, options, error) ||
      !p2p_pipeline_check_memory (model, *task, width, height, channels, options, rows, error) ||
      !p2p_pipeline_check (options, 0.0, error))
    return NULL;
  if (options != resolved)
    *resolved = *options;
  /* Only a model with a gain needs to know (rows: one more read of the hints). */
  if (info->unhinted_chroma_percent != 100)
    {
      if (!p2p_pipeline_hinted (options, width, height, rows ? read : NULL, data, &hinted, error))
        return NULL;
      /* (A model file may declare a target for a task without colour
       * planes: there, as the fixed gain, it changes nothing.) */
      if (!hinted && info->unhinted_chroma_target > 0 && (*task)->out_channels == 2)
        *gain_cap = info->unhinted_chroma_percent / 100.0;
      else if (!hinted)
        resolved->chroma *= info->unhinted_chroma_percent / 100.0;
    }
  return resolved;
}

P2pImage *
p2p_pipeline_run (const P2pModel           *model,
                  const P2pImage           *input,
                  const P2pPipelineOptions *options,
                  GError                  **error)
{
  const P2pTaskSpec *task = NULL;
  P2pPipelineOptions resolved;
  double gain_cap = 0.0;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  options = p2p_pipeline_begin (model, input->width, input->height, input->channels,
                                input->data != NULL, FALSE, NULL, NULL, options, &resolved, &task,
                                &gain_cap, error);
  if (!options)
    return NULL;

  if (options->size_mode == P2P_SIZE_MODE_TILE)
    {
      /* The same code as pix2pix-cli's rows, over images. */
      g_autoptr(P2pImage) out = p2p_image_new (input->width, input->height,
                                               p2p_task_out_channels (task, input->channels),
                                               error);
      ImageRows images = { input, options->hints, out };
      P2pPipelineOptions rows_options = *options;

      rows_options.read_hints = options->hints != NULL;
      if (!out ||
          !p2p_pipeline_tiled_rows (model, task, input->width, input->height, input->channels,
                                    p2p_image_reader, p2p_image_writer, &images, &rows_options,
                                    gain_cap, error) ||
          !p2p_pipeline_check (options, 1.0, error))
        return NULL;
      return g_steal_pointer (&out);
    }
  return p2p_pipeline_run_image (model, task, input, options->hints, options, gain_cap, error);
}

int
p2p_pipeline_result_channels (const P2pModel *model, int channels)
{
  const P2pTaskSpec *task;

  g_return_val_if_fail (model != NULL, 3);
  /* A model the pipeline cannot run fails in the run itself. */
  task = p2p_task_for_model (p2p_model_get_info (model), NULL);
  return task ? p2p_task_out_channels (task, channels)
              : (channels == 2 || channels == 4 ? 4 : 3);
}

gboolean
p2p_pipeline_run_rows (const P2pModel           *model,
                       int                       width,
                       int                       height,
                       int                       channels,
                       P2pRowReader              read,
                       P2pRowWriter              write,
                       gpointer                  data,
                       const P2pPipelineOptions *options,
                       GError                  **error)
{
  const P2pTaskSpec *task = NULL;
  P2pPipelineOptions resolved;
  double gain_cap = 0.0;

  g_return_val_if_fail (model != NULL, FALSE);
  g_return_val_if_fail (read != NULL && write != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  options = p2p_pipeline_begin (model, width, height, channels, TRUE, TRUE, read, data, options,
                                &resolved, &task, &gain_cap, error);
  if (!options)
    return FALSE;

  if (options->size_mode == P2P_SIZE_MODE_TILE)
    return p2p_pipeline_tiled_rows (model, task, width, height, channels, read, write, data,
                                    options, gain_cap, error) &&
           p2p_pipeline_check (options, 1.0, error);

  /* Resize and whole mode need the whole image anyway. */
  {
    g_autoptr(P2pImage) input = p2p_image_new (width, height, channels, error);
    g_autoptr(P2pImage) hints = NULL;
    g_autoptr(P2pImage) out = NULL;
    RowRun rr = { model, options, read, write, data, width, height, channels, task };

    if (!input || !p2p_rows_read (&rr, P2P_INPUT_IMAGE, 0, height, input->data, error))
      return FALSE;
    if (options->read_hints)
      {
        hints = p2p_image_new (width, height, P2P_HINT_IMAGE_CHANNELS, error);
        if (!hints || !p2p_rows_read (&rr, P2P_INPUT_HINTS, 0, height, hints->data, error))
          return FALSE;
      }
    out = p2p_pipeline_run_image (model, task, input, hints, options, gain_cap, error);
    if (!out)
      return FALSE;
    g_clear_pointer (&input, p2p_image_free);
    rr.out_ch = out->channels;
    return p2p_rows_write (&rr, 0, height, out->data, error);
  }
}
