/* p2p-resize.c - Pillow-compatible bicubic resampling (whole images and
 * streamed rows).  Padding, cropping and the conversions between images and
 * network tensors are in p2p-image.c.
 *
 * The reference pix2pix code resizes with PIL's Image.resize(BICUBIC), so to
 * give a model the input it was trained on we reproduce Pillow's resampler
 * (libImaging/Resample.c semantics, re-derived here): a separable
 * convolution with the Keys cubic (a = -0.5), widened by the scale factor
 * when shrinking, centred at (j + 0.5) * scale, cut at the borders and
 * renormalised.
 */
#include <math.h>
#include <string.h>
#include <glib/gi18n-lib.h>

#include "p2p-error.h"
#include "p2p-imgproc.h"

/* Keys' cubic convolution kernel with a = -0.5 (Pillow's BICUBIC). */
static inline double
p2p_bicubic_kernel (double x)
{
  const double a = -0.5;

  if (x < 0.0)
    x = -x;
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

/* Weights of one axis: output pixel j reads count[j] input pixels from
 * first[j], with weights k[j * ksize ...]. */
typedef struct {
  int     ksize;
  int    *first;
  int    *count;
  double *k;
} P2pResampleAxis;

static void
p2p_resample_axis_clear (P2pResampleAxis *axis)
{
  g_free (axis->first);
  g_free (axis->count);
  g_free (axis->k);
  memset (axis, 0, sizeof *axis);
}

static gboolean
p2p_resample_axis_init (P2pResampleAxis *axis,
                        int              in_size,
                        int              out_size,
                        GError         **error)
{
  double scale = (double) in_size / (double) out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  double support = 2.0 * filterscale;
  double inv = 1.0 / filterscale;
  gsize ksize = (gsize) ceil (support) * 2 + 1;
  gsize n;

  memset (axis, 0, sizeof *axis);

  /* ksize grows like 4 * in / out, so ksize * out stays near 4 * in; the
   * check is for pathological callers only. */
  if (!g_size_checked_mul (&n, ksize, (gsize) out_size) || n > G_MAXSIZE / sizeof (double))
    goto no_memory;

  axis->ksize = (int) ksize;
  axis->first = g_try_new (int, out_size);
  axis->count = g_try_new (int, out_size);
  axis->k = g_try_new0 (double, n);
  if (!axis->first || !axis->count || !axis->k)
    goto no_memory;

  for (int j = 0; j < out_size; j++)
    {
      double center = (j + 0.5) * scale;
      double *k = axis->k + (gsize) j * ksize;
      double sum = 0.0;
      int lo, hi;

      /* Pillow rounds the window ends with a truncating cast of x + 0.5;
       * the same expression gives the same window. */
      lo = (int) (center - support + 0.5);
      if (lo < 0)
        lo = 0;
      hi = (int) (center + support + 0.5);
      if (hi > in_size)
        hi = in_size;

      axis->first[j] = lo;
      axis->count[j] = hi - lo;
      for (int i = 0; i < hi - lo; i++)
        {
          k[i] = p2p_bicubic_kernel ((i + lo - center + 0.5) * inv);
          sum += k[i];
        }
      if (sum != 0.0)
        for (int i = 0; i < hi - lo; i++)
          k[i] /= sum;
    }
  return TRUE;

no_memory:
  p2p_resample_axis_clear (axis);
  g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
               _("Not enough memory to resize the image"));
  return FALSE;
}

/* src (w_in x h) -> dst (w_out x h). */
/* One row of the horizontal pass: @row (axis in-size pixels of @ch
 * channels) -> @out (axis out-size pixels).  The full resize and the
 * streaming one (P2pResizeStream) share it, so they agree bit for bit. */
static void
p2p_resample_row_horizontal (const float           *row,
                             float                 *out,
                             int                    out_width,
                             int                    ch,
                             const P2pResampleAxis *axis,
                             gboolean               clamp)
{
  for (int x = 0; x < out_width; x++)
    {
      const double *k = axis->k + (gsize) x * axis->ksize;
      const float *in = row + (gsize) axis->first[x] * ch;
      double acc[4] = { 0.0, 0.0, 0.0, 0.0 };

      for (int i = 0; i < axis->count[x]; i++)
        for (int c = 0; c < ch; c++)
          acc[c] += in[i * ch + c] * k[i];
      for (int c = 0; c < ch; c++)
        out[x * ch + c] = clamp ? p2p_clamp01 (acc[c]) : (float) acc[c];
    }
}

static void
p2p_resample_horizontal (const P2pImage        *src,
                         P2pImage              *dst,
                         const P2pResampleAxis *axis,
                         gboolean               clamp)
{
  const int ch = src->channels;
  const gboolean big = (gsize) dst->width * dst->height * ch > P2P_PARALLEL_MIN;

#pragma omp parallel for schedule(static) if (big)
  for (int y = 0; y < src->height; y++)
    p2p_resample_row_horizontal (src->data + (gsize) y * src->width * ch,
                                 dst->data + (gsize) y * dst->width * ch,
                                 dst->width, ch, axis, clamp);
}

/* One output row of the vertical pass: @rows[i] is input row first + i
 * (i < count), @k its weight.  Each output value sums its taps in index
 * order, as Pillow does. */
static void
p2p_resample_row_vertical (const float *const *rows,
                           const double       *k,
                           int                 count,
                           gsize               row_len,
                           float              *out,
                           gboolean            clamp)
{
  for (gsize e = 0; e < row_len; e++)
    {
      double acc = 0.0;

      for (int i = 0; i < count; i++)
        acc += rows[i][e] * k[i];
      out[e] = clamp ? p2p_clamp01 (acc) : (float) acc;
    }
}

/* src (w x h_in) -> dst (w x h_out).  The taps of one output row are a
 * few whole input rows read side by side, so memory access stays
 * sequential. */
static void
p2p_resample_vertical (const P2pImage        *src,
                       P2pImage              *dst,
                       const P2pResampleAxis *axis,
                       gboolean               clamp)
{
  const gsize row_len = (gsize) src->width * src->channels;
  const gboolean big = row_len * dst->height > P2P_PARALLEL_MIN;

#pragma omp parallel if (big)
  {
    /* ksize is about 4 x the shrink factor: the heap, not the stack. */
    const float **rows = g_new (const float *, axis->ksize);

#pragma omp for schedule(static)
    for (int y = 0; y < dst->height; y++)
      {
        for (int i = 0; i < axis->count[y]; i++)
          rows[i] = src->data + (gsize) (axis->first[y] + i) * row_len;
        p2p_resample_row_vertical (rows, axis->k + (gsize) y * axis->ksize, axis->count[y],
                                   row_len, dst->data + (gsize) y * row_len, clamp);
      }
    g_free (rows);
  }
}

static P2pImage *
p2p_image_resize_bicubic_full (const P2pImage *src,
                               int             width,
                               int             height,
                               gboolean        clamp,
                               GError        **error)
{
  g_autoptr(P2pImage) tmp = NULL;
  g_autoptr(P2pImage) dst = NULL;
  const P2pImage *cur = src;

  g_return_val_if_fail (src != NULL, NULL);

  if (width <= 0 || height <= 0 || width > P2P_IMAGE_MAX_BUFFER_SIDE || height > P2P_IMAGE_MAX_BUFFER_SIDE)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Cannot resize an image to %d x %d pixels"), width, height);
      return NULL;
    }

  if (width == src->width && height == src->height)
    return p2p_image_copy (src, error);

  /* Horizontal first, as Pillow does: the intermediate rounding to float
   * then happens at the same place. */
  if (width != src->width)
    {
      P2pResampleAxis axis;

      if (!p2p_resample_axis_init (&axis, src->width, width, error))
        return NULL;
      tmp = p2p_image_new (width, src->height, src->channels, error);
      if (!tmp)
        {
          p2p_resample_axis_clear (&axis);
          return NULL;
        }
      p2p_resample_horizontal (src, tmp, &axis, clamp);
      p2p_resample_axis_clear (&axis);
      cur = tmp;
    }

  if (height == src->height)
    return g_steal_pointer (&tmp);

  {
    P2pResampleAxis axis;

    if (!p2p_resample_axis_init (&axis, src->height, height, error))
      return NULL;
    dst = p2p_image_new (width, height, src->channels, error);
    if (!dst)
      {
        p2p_resample_axis_clear (&axis);
        return NULL;
      }
    p2p_resample_vertical (cur, dst, &axis, clamp);
    p2p_resample_axis_clear (&axis);
  }
  return g_steal_pointer (&dst);
}

P2pImage *
p2p_image_resize_bicubic (const P2pImage *src,
                          int             width,
                          int             height,
                          GError        **error)
{
  return p2p_image_resize_bicubic_full (src, width, height, FALSE, error);
}

P2pImage *
p2p_image_resize_bicubic_clamped (const P2pImage *src,
                                  int             width,
                                  int             height,
                                  GError        **error)
{
  return p2p_image_resize_bicubic_full (src, width, height, TRUE, error);
}

/* ---- streaming resize -------------------------------------------------- */

struct _P2pResizeStream {
  int             src_width, src_height, channels, width, height;
  gboolean        clamp;
  gboolean        hpass, vpass;   /* the passes that change a size */
  P2pResampleAxis hax, vax;
  float          *ring;           /* vpass: the last ring_rows horizontal rows */
  int             ring_rows;
  const float   **taps;           /* vpass: row pointers of one output row */
  int             next_in;        /* source rows pushed so far */
  int             next_out;       /* result rows done so far */
  P2pImage       *dst;
};

void
p2p_resize_stream_free (P2pResizeStream *stream)
{
  if (!stream)
    return;
  p2p_resample_axis_clear (&stream->hax);
  p2p_resample_axis_clear (&stream->vax);
  g_free (stream->ring);
  g_free (stream->taps);
  p2p_image_free (stream->dst);
  g_free (stream);
}

P2pResizeStream *
p2p_resize_stream_new (int        src_width,
                       int        src_height,
                       int        channels,
                       int        width,
                       int        height,
                       gboolean   clamp,
                       GError   **error)
{
  g_autoptr(P2pResizeStream) stream = NULL;

  g_return_val_if_fail (src_width > 0 && src_height > 0, NULL);
  g_return_val_if_fail (channels >= 1 && channels <= 4, NULL);

  if (width <= 0 || height <= 0 || width > P2P_IMAGE_MAX_BUFFER_SIDE || height > P2P_IMAGE_MAX_BUFFER_SIDE)
    {
      g_set_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT,
                   _("Cannot resize an image to %d x %d pixels"), width, height);
      return NULL;
    }

  stream = g_new0 (P2pResizeStream, 1);
  stream->src_width = src_width;
  stream->src_height = src_height;
  stream->channels = channels;
  stream->width = width;
  stream->height = height;
  stream->clamp = clamp;
  stream->hpass = width != src_width;
  stream->vpass = height != src_height;
  if (stream->hpass && !p2p_resample_axis_init (&stream->hax, src_width, width, error))
    return NULL;
  if (stream->vpass)
    {
      gsize n;

      if (!p2p_resample_axis_init (&stream->vax, src_height, height, error))
        return NULL;
      /* Output row j reads rows first[j] .. first[j] + count[j] - 1, and
       * both ends only grow with j: the last ksize rows are all it needs. */
      stream->ring_rows = stream->vax.ksize;
      stream->taps = g_try_new (const float *, stream->ring_rows);
      if (!g_size_checked_mul (&n, (gsize) stream->ring_rows, (gsize) width) ||
          !g_size_checked_mul (&n, n, (gsize) channels) ||
          !stream->taps || !(stream->ring = g_try_new (float, n)))
        {
          g_set_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY,
                       _("Not enough memory to resize the image"));
          return NULL;
        }
    }
  stream->dst = p2p_image_new (width, height, channels, error);
  if (!stream->dst)
    return NULL;
  return g_steal_pointer (&stream);
}

void
p2p_resize_stream_push (P2pResizeStream *stream,
                        const float     *rows,
                        int              n_rows)
{
  const int ch = stream->channels;
  const gsize in_len = (gsize) stream->src_width * ch;
  const gsize out_len = (gsize) stream->width * ch;

  g_return_if_fail (n_rows >= 0 && stream->next_in + n_rows <= stream->src_height);

  for (int r = 0; r < n_rows; r++)
    {
      const int y = stream->next_in++;
      const float *row = rows + (gsize) r * in_len;
      float *h = stream->vpass ? stream->ring + (gsize) (y % stream->ring_rows) * out_len
                               : stream->dst->data + (gsize) y * out_len;

      /* A pass that keeps its size is a plain copy (no clamping), as in
       * p2p_image_resize_bicubic_full(). */
      if (stream->hpass)
        p2p_resample_row_horizontal (row, h, stream->width, ch, &stream->hax, stream->clamp);
      else
        memcpy (h, row, out_len * sizeof (float));
      if (!stream->vpass)
        continue;

      while (stream->next_out < stream->height)
        {
          const int j = stream->next_out;
          const int first = stream->vax.first[j], count = stream->vax.count[j];

          if (first + count > y + 1)
            break;
          for (int i = 0; i < count; i++)
            stream->taps[i] = stream->ring + (gsize) ((first + i) % stream->ring_rows) * out_len;
          p2p_resample_row_vertical (stream->taps, stream->vax.k + (gsize) j * stream->vax.ksize,
                                     count, out_len, stream->dst->data + (gsize) j * out_len,
                                     stream->clamp);
          stream->next_out++;
        }
    }
}

P2pImage *
p2p_resize_stream_finish (P2pResizeStream *stream)
{
  P2pImage *dst;

  g_return_val_if_fail (stream->next_in == stream->src_height, NULL);
  dst = g_steal_pointer (&stream->dst);
  p2p_resize_stream_free (stream);
  return dst;
}
