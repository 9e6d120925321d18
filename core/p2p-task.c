/* p2p-task.c - the task table: how each kind of model's input is made and
 * its output finished (see p2p-task.h). */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"
#include "p2p-task.h"

/* Guided upsampling of ab: window radius at the net's resolution, and the
 * regularisation for L / 100 (edges of less than about 3 L units count as
 * flat). */
#define P2P_GUIDED_RADIUS 2
#define P2P_GUIDED_EPS 1e-3

/* Network value mappings of the Lab spaces (models/FORMAT.md): L / 50 - 1
 * in, hint a, b / 110, the hint mask as it is; ab = y * 110 out. */
#define P2P_LAB_L_SCALE (1.0 / 50.0)
#define P2P_LAB_L_OFFSET (-1.0)
#define P2P_LAB_AB_RANGE 110.0

/* The network on @tin; checks that it kept the size. */
static P2pTensor *
p2p_task_net (const P2pModel *model, const P2pImage *net_in, P2pTensor *tin,
              const P2pNetOptions *net_options, GError **error)
{
  g_autoptr(P2pTensor) tout = p2p_net_run (model, net_options, tin, error);

  if (!tout)
    return NULL;
  if (tout->w != net_in->width || tout->h != net_in->height)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("The network returned %d x %d pixels for a %d x %d input"),
                   tout->w, tout->h, net_in->width, net_in->height);
      return NULL;
    }
  return g_steal_pointer (&tout);
}

/* One channel of @src as an image of its own. */
static P2pImage *
p2p_task_channel (const P2pImage *src, int c, GError **error)
{
  const gsize n = (gsize) src->width * src->height;
  P2pImage *dst = p2p_image_new (src->width, src->height, 1, error);

  if (!dst)
    return NULL;
  for (gsize p = 0; p < n; p++)
    dst->data[p] = src->data[p * src->channels + c];
  return dst;
}

/* ---- RGB ---------------------------------------------------------------- */

static int
p2p_rgb_plane_channels (int channels)
{
  return channels <= 2 ? 1 : 3;
}

/* The colour channels, without alpha (as p2p_image_strip_alpha). */
static gboolean
p2p_rgb_to_plane (const P2pImage *rows, float *plane, int stride, GError **error)
{
  const gsize n = (gsize) rows->width * rows->height;
  const int ch = rows->channels, cc = p2p_rgb_plane_channels (ch);

  for (gsize p = 0; p < n; p++)
    for (int c = 0; c < cc; c++)
      plane[p * stride + c] = rows->data[p * ch + c];
  return TRUE;
}

/* A drawing on white paper: colour * alpha + white * (1 - alpha), in the
 * gamma-encoded values (as GIMP's Flatten Image and Pillow composite an
 * 8-bit drawing).  A fully transparent pixel is paper whatever it holds
 * (Tux Paint and others leave black there; NaN or Inf too); alpha NaN
 * counts as 0 and +-Inf as 1 and 0, as p2p_copy_alpha carries them. */
static gboolean
p2p_rgb_paper_to_plane (const P2pImage *rows, float *plane, int stride, GError **error)
{
  const gsize n = (gsize) rows->width * rows->height;
  const int ch = rows->channels, cc = p2p_rgb_plane_channels (ch);

  if (ch != 2 && ch != 4)
    return p2p_rgb_to_plane (rows, plane, stride, error);
  for (gsize p = 0; p < n; p++)
    {
      const float a_in = rows->data[p * ch + ch - 1];
      const float a = isfinite (a_in) ? CLAMP (a_in, 0.0f, 1.0f) : a_in > 0.0f ? 1.0f : 0.0f;

      for (int c = 0; c < cc; c++)
        plane[p * stride + c] = a > 0.0f ? rows->data[p * ch + c] * a + (1.0f - a) : 1.0f;
    }
  return TRUE;
}

static P2pImage *
p2p_rgb_run_net (const P2pModel *model, const P2pImage *net_in,
                 const P2pNetOptions *net_options, GError **error)
{
  g_autoptr(P2pTensor) tin = p2p_image_to_tensor (net_in, p2p_model_get_info (model)->input_nc,
                                                  error);
  g_autoptr(P2pTensor) tout = NULL;

  if (!tin)
    return NULL;
  tout = p2p_task_net (model, net_in, tin, net_options, error);
  if (!tout)
    return NULL;
  return p2p_tensor_to_rgb_image (tout, error);
}

static P2pImage *
p2p_rgb_upsample (const P2pImage *out_low, const P2pImage *plane_full, GError **error)
{
  return p2p_image_resize_bicubic_clamped (out_low, plane_full->width, plane_full->height, error);
}

/* Clamped after resampling: bicubic overshoots, as does a net without Tanh. */
static gboolean
p2p_rgb_finish (const P2pImage *out, const P2pImage *plane, const P2pImage *image,
                double chroma, P2pImage *dst, GError **error)
{
  const gsize n = (gsize) dst->width * dst->height;
  const int dc = dst->channels;

  for (gsize p = 0; p < n; p++)
    memcpy (dst->data + p * dc, out->data + p * 3, 3 * sizeof (float));
  p2p_image_clamp (dst, 0, 3);
  return TRUE;
}

/* ---- Lab (colorize) ----------------------------------------------------- */

static int
p2p_lab_plane_channels (int channels)
{
  return 1;
}

static gboolean
p2p_lab_to_plane (const P2pImage *rows, float *plane, int stride, GError **error)
{
  g_autoptr(P2pImage) l = p2p_image_lab_lightness (rows, error);
  const gsize n = (gsize) rows->width * rows->height;

  if (!l)
    return FALSE;
  if (stride == 1)
    memcpy (plane, l->data, n * sizeof (float));
  else
    for (gsize p = 0; p < n; p++)
      plane[p * stride] = l->data[p];
  return TRUE;
}

static P2pImage *
p2p_lab_run_net (const P2pModel *model, const P2pImage *net_in,
                 const P2pNetOptions *net_options, GError **error)
{
  g_autoptr(P2pTensor) tin = NULL;
  g_autoptr(P2pTensor) tout = NULL;

  if (net_in->channels == 1)
    tin = p2p_image_to_tensor_affine (net_in, P2P_LAB_L_SCALE, P2P_LAB_L_OFFSET, error);
  else
    {
      /* L, hint a, hint b, mask */
      const double scale[4] = { P2P_LAB_L_SCALE, 1.0 / P2P_LAB_AB_RANGE, 1.0 / P2P_LAB_AB_RANGE, 1.0 };
      const double offset[4] = { P2P_LAB_L_OFFSET, 0.0, 0.0, 0.0 };
      const gsize n = (gsize) net_in->width * net_in->height;
      const int ch = net_in->channels;

      g_return_val_if_fail (ch == 1 + P2P_HINT_CHANNELS, NULL);
      tin = p2p_tensor_new (ch, net_in->height, net_in->width, error);
      if (tin)
        for (int c = 0; c < ch; c++)
          for (gsize p = 0; p < n; p++)
            tin->data[c * n + p] = (float) (net_in->data[p * ch + c] * scale[c] + offset[c]);
    }
  if (!tin)
    return NULL;
  tout = p2p_task_net (model, net_in, tin, net_options, error);
  if (!tout)
    return NULL;
  return p2p_tensor_to_image (tout, P2P_LAB_AB_RANGE, 0.0, error);
}

/* Brings the model's ab planes to full resolution, edge-aware: a guided
 * filter with the full-resolution L as guide, so that colours stop at the
 * edges of the image's own lightness instead of bleeding across them. */
static P2pImage *
p2p_lab_upsample (const P2pImage *ab, const P2pImage *plane_full, GError **error)
{
  g_autoptr(P2pImage) l_own = NULL;
  g_autoptr(P2pImage) l_low = NULL;
  const P2pImage *l_full = plane_full;

  if (ab->width == plane_full->width && ab->height == plane_full->height)
    return p2p_image_crop (ab, 0, 0, ab->width, ab->height, error);
  if (plane_full->channels != 1)
    {
      l_own = p2p_task_channel (plane_full, 0, error);
      if (!l_own)
        return NULL;
      l_full = l_own;
    }
  /* The guide at the net's resolution: L as the net saw it. */
  l_low = p2p_image_resize_bicubic (l_full, ab->width, ab->height, error);
  if (!l_low)
    return NULL;
  return p2p_guided_upsample (ab, l_low, l_full, 100.0, P2P_GUIDED_RADIUS, P2P_GUIDED_EPS, error);
}

/* The full-resolution L with the predicted ab, times @chroma, to sRGB. */
static gboolean
p2p_lab_finish (const P2pImage *ab, const P2pImage *plane, const P2pImage *image,
                double chroma, P2pImage *dst, GError **error)
{
  g_autoptr(P2pImage) l_own = NULL;
  const P2pImage *l = plane;

  if (!plane)
    l_own = p2p_image_lab_lightness (image, error);
  else if (plane->channels != 1)
    l_own = p2p_task_channel (plane, 0, error);
  if (l_own)
    l = l_own;
  else if (!plane || plane->channels != 1)
    return FALSE;
  p2p_lab_planes_to_srgb (l, ab, chroma, dst);
  return TRUE;
}

/* ---- the table ---------------------------------------------------------- */

static const P2pTaskSpec p2p_task_rgb = {
  "RGB", 0, 3, TRUE, FALSE, FALSE, 0,
  p2p_rgb_plane_channels, p2p_rgb_to_plane, p2p_rgb_run_net, p2p_rgb_upsample, p2p_rgb_finish,
};

static const P2pTaskSpec p2p_task_rgb_paper = {
  "RGB on paper", 0, 3, TRUE, FALSE, TRUE, 0,
  p2p_rgb_plane_channels, p2p_rgb_paper_to_plane, p2p_rgb_run_net, p2p_rgb_upsample,
  p2p_rgb_finish,
};

static const P2pTaskSpec p2p_task_lab = {
  "Lab", 0, 2, FALSE, TRUE, FALSE, 1 + 7 + 4 * 2,
  p2p_lab_plane_channels, p2p_lab_to_plane, p2p_lab_run_net, p2p_lab_upsample, p2p_lab_finish,
};

static const P2pTaskSpec p2p_task_lab_hints = {
  "Lab with hints", P2P_HINT_CHANNELS, 2, FALSE, TRUE, FALSE, 1 + 7 + 4 * 2,
  p2p_lab_plane_channels, p2p_lab_to_plane, p2p_lab_run_net, p2p_lab_upsample, p2p_lab_finish,
};

const P2pTaskSpec *
p2p_task_for_model (const P2pModelInfo *info, GError **error)
{
  /* The loader checks these too; the pipeline's own assumptions are
   * re-checked here so a model built by other means cannot crash it. */
  if (info->task == P2P_TASK_COLORIZE)
    {
      if (info->output_space == P2P_SPACE_LAB_AB && info->output_nc == 2)
        {
          if (info->input_space == P2P_SPACE_LAB_L && info->input_nc == 1)
            return &p2p_task_lab;
          if (info->input_space == P2P_SPACE_LAB_L_HINTS && info->input_nc == 1 + P2P_HINT_CHANNELS)
            return &p2p_task_lab_hints;
        }
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("This colorize model does not map L to ab"));
      return NULL;
    }
  if (info->input_space != P2P_SPACE_RGB || info->output_space != P2P_SPACE_RGB ||
      (info->input_nc != 1 && info->input_nc != 3) ||
      (info->output_nc != 1 && info->output_nc != 3))
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_UNSUPPORTED,
                   _("This model's input or output is not a 1- or 3-channel RGB image"));
      return NULL;
    }
  /* Sketches are drawings: their transparent parts are paper. */
  return info->task == P2P_TASK_SKETCH_TO_PHOTO ? &p2p_task_rgb_paper : &p2p_task_rgb;
}

int
p2p_task_out_channels (const P2pTaskSpec *task, int channels)
{
  return (channels == 2 || channels == 4) && !task->opaque ? 4 : 3;
}

int
p2p_task_plane_channels (const P2pTaskSpec *task, int channels)
{
  return task->image_plane_channels (channels) + task->hint_channels;
}

/* NaN fails the test: not a hint. */
static inline gboolean
is_hint (const float *px)
{
  return px[3] >= P2P_HINT_ALPHA_MIN && isfinite (px[0]) && isfinite (px[1]) && isfinite (px[2]);
}

gboolean
p2p_task_hints_any (const float *rgba, gsize n_pixels)
{
  for (gsize p = 0; p < n_pixels; p++)
    if (is_hint (rgba + p * P2P_HINT_IMAGE_CHANNELS))
      return TRUE;
  return FALSE;
}

void
p2p_task_hints_to_plane (const P2pImage *hints, float *plane, int stride, int first)
{
  const gsize n = (gsize) hints->width * hints->height;

  g_return_if_fail (hints->channels == P2P_HINT_IMAGE_CHANNELS);

  for (gsize p = 0; p < n; p++)
    {
      const float *px = hints->data + p * P2P_HINT_IMAGE_CHANNELS;
      float *o = plane + p * stride + first;
      const gboolean hint = is_hint (px);

      o[0] = o[1] = o[2] = 0.0f;
      if (hint)
        {
          double rgb[3], lab[3];

          for (int c = 0; c < 3; c++)
            rgb[c] = CLAMP (px[c], 0.0f, 1.0f);
          p2p_srgb_to_lab (rgb, lab);
          o[0] = (float) lab[1];
          o[1] = (float) lab[2];
          o[2] = 1.0f;
        }
    }
}

P2pImage *
p2p_task_make_plane (const P2pTaskSpec *task, const P2pImage *image, const P2pImage *hints,
                     GError **error)
{
  const int ic = task->image_plane_channels (image->channels);
  const int pc = ic + task->hint_channels;
  g_autoptr(P2pImage) plane = p2p_image_new (image->width, image->height, pc, error);

  if (!plane || !task->image_to_plane (image, plane->data, pc, error))
    return NULL;
  /* Without hints the hint channels stay 0: no hint anywhere. */
  if (task->hint_channels > 0 && hints)
    p2p_task_hints_to_plane (hints, plane->data, pc, ic);
  return g_steal_pointer (&plane);
}

/* First source index of output index @i of @n over @len source pixels,
 * and one past the last (at least one pixel). */
static void
p2p_task_box (int i, int n, int len, int *lo, int *hi)
{
  *lo = (int) ((gint64) i * len / n);
  *hi = (int) (((gint64) (i + 1) * len + n - 1) / n);
  *hi = MAX (*hi, *lo + 1);
  *hi = MIN (*hi, len);
}

P2pImage *
p2p_task_resize_plane (const P2pTaskSpec *task, const P2pImage *plane, int width, int height,
                       GError **error)
{
  const int pc = plane->channels, hc = task->hint_channels, ic = pc - hc;
  g_autoptr(P2pImage) colour = NULL;
  g_autoptr(P2pImage) small = NULL;
  g_autoptr(P2pImage) out = NULL;

  if (hc == 0)
    return task->clamp_resize ? p2p_image_resize_bicubic_clamped (plane, width, height, error)
                              : p2p_image_resize_bicubic (plane, width, height, error);

  /* The image channels on their own, bicubic as without hints. */
  colour = p2p_image_new (plane->width, plane->height, ic, error);
  if (!colour)
    return NULL;
  for (gsize p = 0; p < (gsize) plane->width * plane->height; p++)
    memcpy (colour->data + p * ic, plane->data + p * pc, ic * sizeof (float));
  small = task->clamp_resize ? p2p_image_resize_bicubic_clamped (colour, width, height, error)
                             : p2p_image_resize_bicubic (colour, width, height, error);
  if (!small)
    return NULL;
  g_clear_pointer (&colour, p2p_image_free);
  out = p2p_image_new (width, height, pc, error);
  if (!out)
    return NULL;

  /* Hints: every output pixel covers a box of source pixels; its hint is
   * the mean of the hints in the box (weighted by the mask), and it is a
   * hint if any source pixel in the box is. */
  for (int y = 0; y < height; y++)
    {
      int y0, y1;

      p2p_task_box (y, height, plane->height, &y0, &y1);
      for (int x = 0; x < width; x++)
        {
          float *o = out->data + ((gsize) y * width + x) * pc;
          double sa = 0.0, sb = 0.0, sm = 0.0;
          int x0, x1;

          memcpy (o, small->data + ((gsize) y * width + x) * ic, ic * sizeof (float));
          p2p_task_box (x, width, plane->width, &x0, &x1);
          for (int sy = y0; sy < y1; sy++)
            for (int sx = x0; sx < x1; sx++)
              {
                const float *h = plane->data + ((gsize) sy * plane->width + sx) * pc + ic;

                sa += (double) h[0] * h[2];
                sb += (double) h[1] * h[2];
                sm += h[2];
              }
          o[ic] = sm > 0.0 ? (float) (sa / sm) : 0.0f;
          o[ic + 1] = sm > 0.0 ? (float) (sb / sm) : 0.0f;
          o[ic + 2] = sm > 0.0 ? 1.0f : 0.0f;
        }
    }
  return g_steal_pointer (&out);
}

double
p2p_task_mean_chroma (const P2pImage *ab, int x, int y, int w, int h)
{
  double sum = 0.0;

  g_return_val_if_fail (ab != NULL && ab->channels == 2, 0.0);
  g_return_val_if_fail (x >= 0 && y >= 0 && w >= 0 && h >= 0, 0.0);
  g_return_val_if_fail (x + w <= ab->width && y + h <= ab->height, 0.0);
  if (w == 0 || h == 0)
    return 0.0;
  for (int r = y; r < y + h; r++)
    {
      const float *p = ab->data + ((gsize) r * ab->width + x) * 2;

      for (int c = 0; c < w; c++, p += 2)
        sum += sqrt ((double) p[0] * p[0] + (double) p[1] * p[1]);
    }
  return sum / ((double) w * h);
}

double
p2p_task_unhinted_gain (double mean_chroma, double target, double cap)
{
  if (!(mean_chroma > 0.0) || target >= cap * mean_chroma)
    return cap;
  return MAX (1.0, target / mean_chroma);
}
