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
 *                full-resolution L), alpha re-attached unchanged.
 */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"
#include "p2p-pipeline.h"

/* Guided upsampling of ab: window radius at the net's resolution, and the
 * regularisation for L / 100 (edges of less than about 3 L units count as
 * flat). */
#define P2P_GUIDED_RADIUS 2
#define P2P_GUIDED_EPS 1e-3

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

static gboolean
p2p_pipeline_validate (const P2pModelInfo       *info,
                       const P2pImage           *input,
                       const P2pPipelineOptions *options,
                       GError                  **error)
{
  if (input->channels < 1 || input->channels > 4)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Images must have 1 to 4 channels, not %d"), input->channels);
      return FALSE;
    }
  if (input->width <= 0 || input->height <= 0 || !input->data)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is empty (%d x %d pixels)"), input->width, input->height);
      return FALSE;
    }
  if (input->width > P2P_IMAGE_MAX_SIDE || input->height > P2P_IMAGE_MAX_SIDE)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The image is too large (%d x %d pixels; at most %d on a side)"),
                   input->width, input->height, P2P_IMAGE_MAX_SIDE);
      return FALSE;
    }
  /* Before anything is allocated: whatever the size mode, a run holds the
   * colour planes of the input and of the result at full size at once
   * (and more besides), so an image for which even those exceed the
   * physical memory is refused now, not after swapping or a failed
   * allocation halfway.  In 64 bits: the byte count of a large image
   * overflows 32 bits long before that. */
  {
    const int colour = info->task == P2P_TASK_COLORIZE ? 3 : input->channels >= 3 ? 3 : 1;
    const guint64 need = (guint64) input->width * (guint64) input->height *
                         (guint64) (colour + 3) * sizeof (float);
    const guint64 have = p2p_physical_memory ();

    if (need > have)
      {
        g_autofree char *need_s = g_format_size (need);
        g_autofree char *have_s = g_format_size (have);
        g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                     _("A %d x %d image needs more than %s of memory to process; "
                       "this computer has %s"),
                     input->width, input->height, need_s, have_s);
        return FALSE;
      }
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

  /* The loader checks these too; the pipeline's own assumptions are
   * re-checked here so a model built by other means cannot crash it. */
  if (info->task == P2P_TASK_COLORIZE)
    {
      if (info->input_space != P2P_SPACE_LAB_L || info->output_space != P2P_SPACE_LAB_AB ||
          info->input_nc != 1 || info->output_nc != 2)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                       _("This colorize model does not map L to ab"));
          return FALSE;
        }
    }
  else if (info->input_space != P2P_SPACE_RGB || info->output_space != P2P_SPACE_RGB ||
           (info->input_nc != 1 && info->input_nc != 3) ||
           (info->output_nc != 1 && info->output_nc != 3))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("This model's input or output is not a 1- or 3-channel RGB image"));
      return FALSE;
    }
  return TRUE;
}

static int
p2p_round_up (int v, int multiple)
{
  return (v + multiple - 1) / multiple * multiple;
}

/* One pass of the net on @net_in (a size the net takes), in image form:
 * @in_scale / @in_offset map the plane to the net's input values (RGB:
 * v * 2 - 1 with channel conversion), v * @out_scale + @out_offset maps
 * its output back (RGB: (y + 1) / 2). */
static P2pImage *
p2p_pipeline_run_net (const P2pModel      *model,
                      const P2pImage      *net_in,
                      gboolean             rgb_input,
                      double               in_scale,
                      double               in_offset,
                      double               out_scale,
                      double               out_offset,
                      const P2pNetOptions *net_options,
                      GError             **error)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  g_autoptr(P2pTensor) tin = NULL;
  g_autoptr(P2pTensor) tout = NULL;

  if (rgb_input)
    tin = p2p_image_to_tensor (net_in, info->input_nc, error);
  else
    tin = p2p_image_to_tensor_affine (net_in, in_scale, in_offset, error);
  if (!tin)
    return NULL;

  tout = p2p_net_run (model, net_options, tin, error);
  if (!tout)
    return NULL;
  g_clear_pointer (&tin, p2p_tensor_free);
  if (tout->w != net_in->width || tout->h != net_in->height)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("The network returned %d x %d pixels for a %d x %d input"),
                   tout->w, tout->h, net_in->width, net_in->height);
      return NULL;
    }
  if (rgb_input)
    return p2p_tensor_to_rgb_image (tout, error);
  return p2p_tensor_to_image (tout, out_scale, out_offset, error);
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

/* Net output at @plane's own size, computed tile by tile (see
 * P2P_SIZE_MODE_TILE).  Memory: the output and weight planes plus one tile
 * pass, whatever the image size. */
static P2pImage *
p2p_pipeline_infer_tiled (const P2pModel           *model,
                          const P2pImage           *plane,
                          gboolean                  rgb_input,
                          double                    in_scale,
                          double                    in_offset,
                          double                    out_scale,
                          double                    out_offset,
                          const P2pPipelineOptions *options,
                          GError                  **error)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  const int multiple = MAX (p2p_model_size_multiple (model), 1);
  const int min_size = p2p_round_up (MAX (p2p_model_min_size (model), 1), multiple);
  const int W = plane->width, H = plane->height;
  g_autoptr(P2pNormStats) stats = p2p_norm_stats_new ();
  g_autoptr(P2pImage) out = NULL;
  g_autofree float *wsum = NULL;
  P2pNetOptions net = options->net;
  /* One arena for all the passes (unless the caller keeps one): every tile
   * needs the same blocks, which a pass of its own would map afresh each
   * time (keep 1: no more memory than one pass's largest live total). */
  g_autoptr(P2pArena) arena = net.arena ? NULL : p2p_arena_new_full (1);
  TileProgress tp = { &options->net, 0, 0 };
  int tile, overlap, tw, th, nx, ny, ctx_w, ctx_h, out_ch = 0;

  if (arena)
    net.arena = arena;

  tile = options->tile_size > 0 ? options->tile_size : MAX (2 * info->native_size, 256);
  tile = MAX (p2p_round_up (MIN (tile, 16384), multiple), min_size);
  overlap = options->tile_overlap > 0 ? options->tile_overlap : tile / 4;
  overlap = MIN (overlap, tile / 2);
  /* Tiles never exceed the (padded) image: a small image is one tile. */
  tw = MIN (tile, MAX (p2p_round_up (W, multiple), min_size));
  th = MIN (tile, MAX (p2p_round_up (H, multiple), min_size));
  nx = p2p_tile_count (W, tw, overlap);
  ny = p2p_tile_count (H, th, overlap);

  /* 1. Statistics of the whole image, on a copy no larger than two tiles
   *    a side.  An image that fits is used as it is, so that a one-tile
   *    image gives exactly the whole-mode result. */
  {
    const double scale = MIN (1.0, (2.0 * MAX (tw, th)) / MAX (W, H));
    g_autoptr(P2pImage) small = NULL;
    g_autoptr(P2pImage) ctx = NULL;
    g_autoptr(P2pImage) ignored = NULL;
    int sw = MAX (1, (int) lround (W * scale)), sh = MAX (1, (int) lround (H * scale));

    if (scale < 1.0)
      small = rgb_input ? p2p_image_resize_bicubic_clamped (plane, sw, sh, error)
                        : p2p_image_resize_bicubic (plane, sw, sh, error);
    else
      small = p2p_image_crop (plane, 0, 0, W, H, error);
    if (!small)
      return NULL;
    ctx_w = MAX (p2p_round_up (sw, multiple), min_size);
    ctx_h = MAX (p2p_round_up (sh, multiple), min_size);
    ctx = p2p_image_pad_reflect (small, (ctx_w - sw) / 2, (ctx_h - sh) / 2, ctx_w, ctx_h, error);
    if (!ctx)
      return NULL;
    g_clear_pointer (&small, p2p_image_free);

    net.record_stats = stats;
    net.use_stats = NULL;
    if (options->net.progress)
      {
        tp.span = 1.0 / (nx * ny + 1);
        net.progress = p2p_tile_progress;
        net.progress_data = &tp;
      }
    ignored = p2p_pipeline_run_net (model, ctx, rgb_input, in_scale, in_offset,
                                    out_scale, out_offset, &net, error);
    if (!ignored)
      return NULL;
  }

  /* 2. The tiles, each normalised with those statistics, blended. */
  net.record_stats = NULL;
  net.use_stats = stats;
  for (int ty = 0; ty < ny; ty++)
    for (int tx = 0; tx < nx; tx++)
      {
        /* Single-tile axes are centred like whole mode; others lie inside. */
        const int x0 = nx == 1 ? -(tw - W) / 2 : p2p_tile_start (tx, nx, W, tw);
        const int y0 = ny == 1 ? -(th - H) / 2 : p2p_tile_start (ty, ny, H, th);
        const int left_ramp = tx > 0 ? p2p_tile_start (tx - 1, nx, W, tw) + tw - x0 : 0;
        const int right_ramp = tx < nx - 1 ? x0 + tw - p2p_tile_start (tx + 1, nx, W, tw) : 0;
        const int top_ramp = ty > 0 ? p2p_tile_start (ty - 1, ny, H, th) + th - y0 : 0;
        const int bottom_ramp = ty < ny - 1 ? y0 + th - p2p_tile_start (ty + 1, ny, H, th) : 0;
        g_autoptr(P2pImage) in_tile = NULL;
        g_autoptr(P2pImage) out_tile = NULL;

        tp.base = (double) (1 + ty * nx + tx) / (nx * ny + 1);
        in_tile = p2p_image_window_reflect (plane, x0, y0, tw, th, error);
        if (!in_tile)
          return NULL;
        out_tile = p2p_pipeline_run_net (model, in_tile, rgb_input, in_scale, in_offset,
                                         out_scale, out_offset, &net, error);
        if (!out_tile)
          return NULL;

        if (!out)
          {
            out_ch = out_tile->channels;
            out = p2p_image_new (W, H, out_ch, error);
            wsum = g_try_new0 (float, (gsize) W * H);
            if (!out || !wsum)
              {
                if (out)
                  g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                               _("Not enough memory for a %d x %d result"), W, H);
                return NULL;
              }
          }
        for (int y = MAX (0, -y0); y < th && y0 + y < H; y++)
          {
            const float wy = MIN (p2p_tile_ramp (y, top_ramp), p2p_tile_ramp (th - 1 - y, bottom_ramp));
            const float *src = out_tile->data + (gsize) y * tw * out_ch;
            float *dst = out->data + ((gsize) (y0 + y) * W) * out_ch;
            float *ws = wsum + (gsize) (y0 + y) * W;
            for (int x = MAX (0, -x0); x < tw && x0 + x < W; x++)
              {
                const float w = wy * MIN (p2p_tile_ramp (x, left_ramp),
                                          p2p_tile_ramp (tw - 1 - x, right_ramp));
                for (int c = 0; c < out_ch; c++)
                  dst[(gsize) (x0 + x) * out_ch + c] += w * src[(gsize) x * out_ch + c];
                ws[x0 + x] += w;
              }
          }
      }

  for (gsize p = 0; p < (gsize) W * H; p++)
    for (int c = 0; c < out_ch; c++)
      out->data[p * out_ch + c] /= wsum[p];
  return g_steal_pointer (&out);
}

/* Runs the net on @plane (any size) and returns its output: at the size
 * the net ran at in resize and whole mode (native size, or @plane's size
 * padded; in whole mode *@left, *@top give @plane's place in the result,
 * for the caller to crop; in resize mode the caller resamples the result
 * back), at @plane's own size in tile mode.  Value mappings as in
 * p2p_pipeline_run_net(). */
static P2pImage *
p2p_pipeline_infer (const P2pModel           *model,
                    const P2pImage           *plane,
                    gboolean                  rgb_input,
                    double                    in_scale,
                    double                    in_offset,
                    double                    out_scale,
                    double                    out_offset,
                    const P2pPipelineOptions *options,
                    int                      *left_out,
                    int                      *top_out,
                    GError                  **error)
{
  const P2pModelInfo *info = p2p_model_get_info (model);
  int multiple = p2p_model_size_multiple (model);
  int min_size = p2p_model_min_size (model);
  g_autoptr(P2pImage) net_in = NULL;
  g_autoptr(P2pImage) net_out = NULL;
  int nw, nh, left = 0, top = 0;

  *left_out = *top_out = 0;
  if (options->size_mode == P2P_SIZE_MODE_TILE)
    {
      if (!p2p_pipeline_check (options, 0.0, error))
        return NULL;
      net_out = p2p_pipeline_infer_tiled (model, plane, rgb_input, in_scale, in_offset,
                                          out_scale, out_offset, options, error);
      if (!net_out || !p2p_pipeline_check (options, 1.0, error))
        return NULL;
      return g_steal_pointer (&net_out);
    }

  if (multiple <= 0)
    multiple = 1;
  /* A ResNet needs more than its multiple (its reflection pads need 2
   * pixels at 1/4 scale), so small images are padded further. */
  min_size = p2p_round_up (MAX (min_size, 1), multiple);

  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    {
      /* A native size the net cannot take would fail in p2p_net_run; the
       * nearest size it can take is the friendlier answer. */
      int native = options->net_size > 0 ? options->net_size
                   : info->native_size > 0 ? info->native_size : 256;

      nw = nh = MAX (p2p_round_up (native, multiple), min_size);
      /* RGB as Pillow resizes 8-bit images (clamped between passes). */
      if (rgb_input)
        net_in = p2p_image_resize_bicubic_clamped (plane, nw, nh, error);
      else
        net_in = p2p_image_resize_bicubic (plane, nw, nh, error);
    }
  else
    {
      /* Whole: pad evenly on both sides so that the borders the net sees
       * are alike; reflection keeps the image statistics near the edge. */
      if (plane->width > G_MAXINT - multiple || plane->height > G_MAXINT - multiple)
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT, _("The image is too large"));
          return NULL;
        }
      nw = MAX (p2p_round_up (plane->width, multiple), min_size);
      nh = MAX (p2p_round_up (plane->height, multiple), min_size);
      left = (nw - plane->width) / 2;
      top = (nh - plane->height) / 2;
      net_in = p2p_image_pad_reflect (plane, left, top, nw, nh, error);
    }
  if (!net_in)
    return NULL;
  if (!p2p_pipeline_check (options, 0.0, error))
    return NULL;

  net_out = p2p_pipeline_run_net (model, net_in, rgb_input, in_scale, in_offset,
                                  out_scale, out_offset, &options->net, error);
  if (!net_out)
    return NULL;
  g_clear_pointer (&net_in, p2p_image_free);
  if (!p2p_pipeline_check (options, 1.0, error))
    return NULL;

  *left_out = left;
  *top_out = top;
  return g_steal_pointer (&net_out);
}

/* Brings the model's ab planes to full resolution, edge-aware: a guided
 * filter with the full-resolution L as guide, so that colours stop at the
 * edges of the image's own lightness instead of bleeding across them. */
static P2pImage *
p2p_colorize_upsample_ab (const P2pImage *ab,
                          const P2pImage *l_full,
                          GError        **error)
{
  g_autoptr(P2pImage) l_low = NULL;

  if (ab->width == l_full->width && ab->height == l_full->height)
    return p2p_image_crop (ab, 0, 0, ab->width, ab->height, error);
  /* The guide at the net's resolution: L as the net saw it. */
  l_low = p2p_image_resize_bicubic (l_full, ab->width, ab->height, error);
  if (!l_low)
    return NULL;
  return p2p_guided_upsample (ab, l_low, l_full, 100.0, P2P_GUIDED_RADIUS, P2P_GUIDED_EPS, error);
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

static P2pImage *
p2p_pipeline_run_rgb (const P2pModel           *model,
                      const P2pImage           *input,
                      const P2pPipelineOptions *options,
                      GError                  **error)
{
  gboolean alpha = p2p_image_has_alpha (input);
  g_autoptr(P2pImage) colour = NULL;
  g_autoptr(P2pImage) net_out = NULL;
  g_autoptr(P2pImage) rgb = NULL;
  int left = 0, top = 0;
  g_autoptr(P2pImage) out = NULL;
  const gsize n = (gsize) input->width * input->height;

  colour = p2p_image_strip_alpha (input, error);
  if (!colour)
    return NULL;
  net_out = p2p_pipeline_infer (model, colour, TRUE, 0, 0, 0, 0, options, &left, &top, error);
  if (!net_out)
    return NULL;
  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    rgb = p2p_image_resize_bicubic_clamped (net_out, input->width, input->height, error);
  else if (options->size_mode == P2P_SIZE_MODE_TILE)
    rgb = g_steal_pointer (&net_out);   /* already the input's size */
  else
    rgb = p2p_image_crop (net_out, left, top, input->width, input->height, error);
  if (!rgb)
    return NULL;
  g_clear_pointer (&colour, p2p_image_free);
  g_clear_pointer (&net_out, p2p_image_free);
  /* After resampling: bicubic overshoots, as does a net without Tanh. */
  p2p_image_clamp (rgb, 0, 3);
  if (!alpha)
    return g_steal_pointer (&rgb);

  out = p2p_image_new (input->width, input->height, 4, error);
  if (!out)
    return NULL;
  for (gsize p = 0; p < n; p++)
    memcpy (out->data + p * 4, rgb->data + p * 3, 3 * sizeof (float));
  p2p_copy_alpha (input, out);
  return g_steal_pointer (&out);
}

static P2pImage *
p2p_pipeline_run_colorize (const P2pModel           *model,
                           const P2pImage           *input,
                           const P2pPipelineOptions *options,
                           GError                  **error)
{
  g_autoptr(P2pImage) l_full = NULL;
  g_autoptr(P2pImage) ab_net = NULL;
  g_autoptr(P2pImage) ab = NULL;
  int left = 0, top = 0;
  g_autoptr(P2pImage) out = NULL;

  l_full = p2p_image_lab_lightness (input, error);
  if (!l_full)
    return NULL;

  /* Net input L / 50 - 1, output ab / 110 (models/FORMAT.md spaces). */
  ab_net = p2p_pipeline_infer (model, l_full, FALSE, 1.0 / 50.0, -1.0, 110.0, 0.0, options,
                               &left, &top, error);
  if (!ab_net)
    return NULL;
  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    ab = p2p_colorize_upsample_ab (ab_net, l_full, error);
  else if (options->size_mode == P2P_SIZE_MODE_TILE)
    ab = g_steal_pointer (&ab_net);     /* already the input's size */
  else
    ab = p2p_image_crop (ab_net, left, top, input->width, input->height, error);
  if (!ab)
    return NULL;
  g_clear_pointer (&ab_net, p2p_image_free);
  if (!p2p_pipeline_check (options, 1.0, error))
    return NULL;

  out = p2p_image_new (input->width, input->height, p2p_image_has_alpha (input) ? 4 : 3, error);
  if (!out)
    return NULL;
  p2p_lab_planes_to_srgb (l_full, ab, options->chroma, out);
  if (out->channels == 4)
    p2p_copy_alpha (input, out);
  return g_steal_pointer (&out);
}

P2pImage *
p2p_pipeline_run (const P2pModel           *model,
                  const P2pImage           *input,
                  const P2pPipelineOptions *options,
                  GError                  **error)
{
  const P2pModelInfo *info;
  P2pPipelineOptions defaults;

  g_return_val_if_fail (model != NULL, NULL);
  g_return_val_if_fail (input != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!options)
    {
      p2p_pipeline_options_init (&defaults);
      options = &defaults;
    }
  info = p2p_model_get_info (model);
  if (!p2p_pipeline_validate (info, input, options, error))
    return NULL;
  if (!p2p_pipeline_check (options, 0.0, error))
    return NULL;

  if (info->task == P2P_TASK_COLORIZE)
    return p2p_pipeline_run_colorize (model, input, options, error);
  return p2p_pipeline_run_rgb (model, input, options, error);
}
