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
  if (!isfinite (options->chroma) || options->chroma < 0.0)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("The colour strength must be a number of 0 or more"));
      return FALSE;
    }
  if (options->size_mode != P2P_SIZE_MODE_RESIZE && options->size_mode != P2P_SIZE_MODE_WHOLE)
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

/* Runs the net on @plane (any size) and returns its output at the size the
 * net ran at (native size, or @plane's size padded), mapped by
 * v * out_scale + out_offset (RGB: (y + 1) / 2).  @in_scale / @in_offset map
 * the plane to the net's input values (RGB: v * 2 - 1 with channel
 * conversion).  In whole mode *@left, *@top give @plane's place in the
 * result, for the caller to crop; in resize mode the caller resamples the
 * result back.  This is the step a tiled mode would replace. */
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
  g_autoptr(P2pTensor) tin = NULL;
  g_autoptr(P2pTensor) tout = NULL;
  g_autoptr(P2pImage) net_out = NULL;
  int nw, nh, left = 0, top = 0;

  if (multiple <= 0)
    multiple = 1;
  /* A ResNet needs more than its multiple (its reflection pads need 2
   * pixels at 1/4 scale), so small images are padded further. */
  min_size = p2p_round_up (MAX (min_size, 1), multiple);

  if (options->size_mode == P2P_SIZE_MODE_RESIZE)
    {
      /* A native size the net cannot take would fail in p2p_net_run; the
       * nearest size it can take is the friendlier answer. */
      int native = info->native_size > 0 ? info->native_size : 256;

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

  if (rgb_input)
    tin = p2p_image_to_tensor (net_in, info->input_nc, error);
  else
    tin = p2p_image_to_tensor_affine (net_in, in_scale, in_offset, error);
  if (!tin)
    return NULL;
  g_clear_pointer (&net_in, p2p_image_free);

  tout = p2p_net_run (model, &options->net, tin, error);
  if (!tout)
    return NULL;
  g_clear_pointer (&tin, p2p_tensor_free);
  if (tout->w != nw || tout->h != nh)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("The network returned %d x %d pixels for a %d x %d input"),
                   tout->w, tout->h, nw, nh);
      return NULL;
    }

  if (rgb_input)
    net_out = p2p_tensor_to_rgb_image (tout, error);
  else
    net_out = p2p_tensor_to_image (tout, out_scale, out_offset, error);
  if (!net_out)
    return NULL;
  g_clear_pointer (&tout, p2p_tensor_free);
  if (!p2p_pipeline_check (options, 1.0, error))
    return NULL;

  *left_out = left;
  *top_out = top;
  return g_steal_pointer (&net_out);
}

/* Brings the model's ab planes to full resolution.  One function on
 * purpose: an edge-aware (guided by the full-resolution L) upsampler is
 * planned to replace the plain bicubic here.  @l_full is unused for now. */
static P2pImage *
p2p_colorize_upsample_ab (const P2pImage *ab,
                          const P2pImage *l_full,
                          GError        **error)
{
  return p2p_image_resize_bicubic (ab, l_full->width, l_full->height, error);
}

static void
p2p_copy_alpha (const P2pImage *src, P2pImage *dst)
{
  const gsize n = (gsize) src->width * src->height;
  const int sc = src->channels, dc = dst->channels;

  for (gsize p = 0; p < n; p++)
    dst->data[p * dc + dc - 1] = src->data[p * sc + sc - 1];
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
