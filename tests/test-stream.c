/* test-stream.c - p2p_pipeline_run_rows(): the pipeline over rows.
 *
 * 1. The streamed resize (P2pResizeStream) equals p2p_image_resize_bicubic
 *    and _clamped of the whole image bit for bit, whatever the chunks.
 * 2. Tile mode over rows equals, bit for bit, a reference written here the
 *    way tile mode was before it streamed: the whole image as a float
 *    plane, the statistics copy from p2p_image_resize_bicubic(_clamped),
 *    windows from p2p_image_window_reflect, a full-size accumulator and
 *    weight plane, then the RGB clamp or Lab -> sRGB, alpha carried.
 *    RGB, RGBA, grey, grey+alpha, colorize; several tile rows and
 *    columns, thin strips, out-of-range and non-finite input values.
 *    p2p_pipeline_run() gives the same.
 * 3. The writer gets every row once, top to bottom.
 * 4. Errors: a reader or writer that fails stops the run with its error;
 *    one that forgets the GError still gives one; cancellation.
 */
#include <math.h>
#include <string.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"
#include "p2p-pipeline-private.h"
#include "tiny-model.h"


static P2pModel *
model_new (const char *arch, int in_nc, int out_nc, const char *task)
{
  TinyModelSpec spec = { arch, 4, in_nc, out_nc, task, 32, 9, NULL };
  g_autoptr(GBytes) bytes = tiny_model_build (&spec);
  g_autoptr(GError) error = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return model;
}

/* Smooth ramps, discs and noise; with @odd, a few values out of [0, 1],
 * NaN and infinities in colour and alpha. */
static P2pImage *
scene (int w, int h, int ch, guint32 seed, gboolean odd)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);
  P2pImage *im = p2p_image_new (w, h, ch, NULL);
  double cx[5], cy[5], r[5], v[5];

  for (int i = 0; i < 5; i++)
    {
      cx[i] = g_rand_double (rand) * w;
      cy[i] = g_rand_double (rand) * h;
      r[i] = (0.1 + 0.3 * g_rand_double (rand)) * MAX (MIN (w, h), 8);
      v[i] = g_rand_double (rand);
    }
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < ch; c++)
        {
          double val = 0.2 + 0.6 * (c % 2 ? (double) x / w : (double) y / h);
          for (int i = 0; i < 5; i++)
            if ((x - cx[i]) * (x - cx[i]) + (y - cy[i]) * (y - cy[i]) < r[i] * r[i])
              val = v[i] * (c + 1) / ch;
          val += 0.05 * (g_rand_double (rand) - 0.5);
          im->data[((gsize) y * w + x) * ch + c] = (float) CLAMP (val, 0.0, 1.0);
        }
  if (odd)
    {
      const float specials[] = { NAN, INFINITY, -INFINITY, -0.5f, 1.7f, 3.0f };
      for (guint i = 0; i < 40; i++)
        im->data[g_rand_int_range (rand, 0, w * h * ch)] = specials[i % G_N_ELEMENTS (specials)];
    }
  return im;
}

static void
assert_same (const P2pImage *a, const P2pImage *b, const char *what)
{
  const gsize n = (gsize) a->width * a->height * a->channels;
  gsize diff = 0, first = 0;

  g_assert_cmpint (a->width, ==, b->width);
  g_assert_cmpint (a->height, ==, b->height);
  g_assert_cmpint (a->channels, ==, b->channels);
  for (gsize i = n; i-- > 0; )
    if (memcmp (&a->data[i], &b->data[i], sizeof (float)) != 0)
      {
        diff++;
        first = i;
      }
  if (diff)
    g_test_message ("%s: %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " values differ, first at %"
                    G_GSIZE_FORMAT " (%.9g vs %.9g)", what, diff, n, first,
                    a->data[first], b->data[first]);
  g_assert_cmpuint (diff, ==, 0);
}

/* ---- 1. streamed resize ------------------------------------------------ */

static void
test_resize_stream (void)
{
  const int cases[][4] = {
    { 150, 100, 40, 27 }, { 300, 17, 64, 5 }, { 17, 300, 5, 64 }, { 1, 200, 1, 13 },
    { 200, 1, 13, 1 }, { 64, 64, 64, 20 }, { 64, 64, 20, 64 }, { 33, 29, 70, 90 },
  };
  const int chunks[] = { 1, 3, 16, 1000 };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (int ch = 1; ch <= 4; ch += 2)
      for (int clamp = 0; clamp < 2; clamp++)
        for (guint k = 0; k < G_N_ELEMENTS (chunks); k++)
          {
            const int w = cases[i][0], h = cases[i][1], sw = cases[i][2], sh = cases[i][3];
            g_autoptr(GError) error = NULL;
            g_autoptr(P2pImage) in = scene (w, h, ch, 5 + i, TRUE);
            g_autoptr(P2pImage) ref = clamp ? p2p_image_resize_bicubic_clamped (in, sw, sh, &error)
                                            : p2p_image_resize_bicubic (in, sw, sh, &error);
            P2pResizeStream *rs = p2p_resize_stream_new (w, h, ch, sw, sh, clamp, &error);
            g_autoptr(P2pImage) out = NULL;

            g_assert_no_error (error);
            for (int y = 0; y < h; y += chunks[k])
              p2p_resize_stream_push (rs, in->data + (gsize) y * w * ch, MIN (chunks[k], h - y));
            out = p2p_resize_stream_finish (rs);
            assert_same (out, ref, "streamed resize");
          }

  /* An unfinished stream frees what it holds. */
  {
    g_autoptr(P2pImage) in = scene (50, 40, 3, 1, FALSE);
    g_autoptr(P2pResizeStream) rs = p2p_resize_stream_new (50, 40, 3, 10, 8, TRUE, NULL);

    p2p_resize_stream_push (rs, in->data, 20);
  }
}

/* ---- 2. reference: tile mode on a whole float image ------------------- */

static int
round_up (int v, int m)
{
  return (v + m - 1) / m * m;
}

static int
tile_start (int i, int n, int length, int tile)
{
  return n <= 1 ? 0 : (int) (((gint64) i * (length - tile) + (n - 1) / 2) / (n - 1));
}

static float
ramp (int d, int r)
{
  return r <= 0 || d >= r ? 1.0f : (float) (0.5 - 0.5 * cos (G_PI * (d + 0.5) / r));
}

/* One pass of the net on @in (plane), in image form, as the pipeline maps
 * values: RGB v * 2 - 1 and (y + 1) / 2; L / 50 - 1 and ab * 110. */
static P2pImage *
net_pass (const P2pModel *model, const P2pImage *in, gboolean colorize,
          P2pNormStats *record, const P2pNormStats *use)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pTensor) t = NULL;
  g_autoptr(P2pTensor) o = NULL;
  P2pNetOptions n;
  P2pImage *r;

  p2p_net_options_init (&n);
  n.threads = 1;
  n.record_stats = record;
  n.use_stats = use;
  t = colorize ? p2p_image_to_tensor_affine (in, 1.0 / 50.0, -1.0, &error)
               : p2p_image_to_tensor (in, p2p_model_get_info (model)->input_nc, &error);
  g_assert_no_error (error);
  o = p2p_net_run (model, &n, t, &error);
  g_assert_no_error (error);
  r = colorize ? p2p_tensor_to_image (o, 110.0, 0.0, &error) : p2p_tensor_to_rgb_image (o, &error);
  g_assert_no_error (error);
  return r;
}

static P2pImage *
reference_tiled (const P2pModel *model, const P2pImage *input, int tile, int overlap)
{
  const gboolean colorize = p2p_model_get_info (model)->task == P2P_TASK_COLORIZE;
  const gboolean alpha = input->channels == 2 || input->channels == 4;
  const int multiple = MAX (p2p_model_size_multiple (model), 1);
  const int min_size = round_up (MAX (p2p_model_min_size (model), 1), multiple);
  const int W = input->width, H = input->height;
  g_autoptr(P2pImage) plane = colorize ? p2p_image_lab_lightness (input, NULL)
                                       : p2p_image_strip_alpha (input, NULL);
  g_autoptr(P2pNormStats) stats = p2p_norm_stats_new ();
  g_autoptr(P2pImage) acc = NULL;
  g_autofree float *wsum = g_new0 (float, (gsize) W * H);
  P2pImage *out;
  int tw, th, nx, ny, nc;

  tile = MAX (round_up (tile, multiple), min_size);
  overlap = MIN (overlap, tile / 2);
  tw = MIN (tile, MAX (round_up (W, multiple), min_size));
  th = MIN (tile, MAX (round_up (H, multiple), min_size));
  nx = W <= tw ? 1 : 1 + (W - overlap - 1) / (tw - overlap);
  ny = H <= th ? 1 : 1 + (H - overlap - 1) / (th - overlap);

  {
    const double scale = MIN (1.0, (double) P2P_TILE_STATS_TILES * MAX (tw, th) / MAX (W, H));
    const int sw = MAX (1, (int) lround (W * scale)), sh = MAX (1, (int) lround (H * scale));
    const int cw = MAX (round_up (sw, multiple), min_size), ch = MAX (round_up (sh, multiple), min_size);
    g_autoptr(P2pImage) small = scale < 1.0 ? (colorize ? p2p_image_resize_bicubic (plane, sw, sh, NULL)
                                                       : p2p_image_resize_bicubic_clamped (plane, sw, sh, NULL))
                                            : p2p_image_crop (plane, 0, 0, W, H, NULL);
    g_autoptr(P2pImage) ctx = p2p_image_pad_reflect (small, (cw - sw) / 2, (ch - sh) / 2, cw, ch, NULL);
    g_autoptr(P2pImage) ignored = net_pass (model, ctx, colorize, stats, NULL);

    g_assert_nonnull (ignored);
  }

  nc = colorize ? 2 : 3;
  acc = p2p_image_new (W, H, nc, NULL);
  for (int ty = 0; ty < ny; ty++)
    for (int tx = 0; tx < nx; tx++)
      {
        const int x0 = nx == 1 ? -(tw - W) / 2 : tile_start (tx, nx, W, tw);
        const int y0 = ny == 1 ? -(th - H) / 2 : tile_start (ty, ny, H, th);
        const int lr = tx > 0 ? tile_start (tx - 1, nx, W, tw) + tw - x0 : 0;
        const int rr = tx < nx - 1 ? x0 + tw - tile_start (tx + 1, nx, W, tw) : 0;
        const int tr = ty > 0 ? tile_start (ty - 1, ny, H, th) + th - y0 : 0;
        const int br = ty < ny - 1 ? y0 + th - tile_start (ty + 1, ny, H, th) : 0;
        g_autoptr(P2pImage) in_tile = p2p_image_window_reflect (plane, x0, y0, tw, th, NULL);
        g_autoptr(P2pImage) o = net_pass (model, in_tile, colorize, NULL, stats);

        for (int y = 0; y < th; y++)
          for (int x = 0; x < tw; x++)
            {
              const int X = x0 + x, Y = y0 + y;
              float w;

              if (X < 0 || X >= W || Y < 0 || Y >= H)
                continue;
              w = MIN (ramp (y, tr), ramp (th - 1 - y, br)) * MIN (ramp (x, lr), ramp (tw - 1 - x, rr));
              for (int c = 0; c < nc; c++)
                acc->data[((gsize) Y * W + X) * nc + c] += w * o->data[((gsize) y * tw + x) * nc + c];
              wsum[(gsize) Y * W + X] += w;
            }
      }
  for (gsize p = 0; p < (gsize) W * H; p++)
    for (int c = 0; c < nc; c++)
      acc->data[p * nc + c] /= wsum[p];

  out = p2p_image_new (W, H, alpha ? 4 : 3, NULL);
  if (colorize)
    p2p_lab_planes_to_srgb (plane, acc, 1.0, out);
  else
    {
      p2p_image_clamp (acc, 0, 3);
      for (gsize p = 0; p < (gsize) W * H; p++)
        memcpy (out->data + p * out->channels, acc->data + p * 3, 3 * sizeof (float));
    }
  if (alpha)
    for (gsize p = 0; p < (gsize) W * H; p++)
      {
        const float a = input->data[p * input->channels + input->channels - 1];
        out->data[p * 4 + 3] = isfinite (a) ? a : a > 0.0f ? 1.0f : 0.0f;
      }
  return out;
}

/* ---- rows over images --------------------------------------------------- */

typedef struct {
  const P2pImage *in;
  P2pImage       *out;
  int             next_row;     /* the writer's next row */
  int             reads, writes;
  int             fail_read_at, fail_write_at;  /* 1-based call, 0: never */
  gboolean        fail_quietly;                 /* fail without a GError */
} Rows;

static gboolean
read_rows (P2pInput input, int y, int n, float *rows, gpointer data, GError **error)
{
  Rows *r = data;
  const gsize len = (gsize) r->in->width * r->in->channels;

  g_assert_cmpint (y, >=, 0);
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (y + n, <=, r->in->height);
  if (++r->reads == r->fail_read_at)
    {
      if (!r->fail_quietly)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "reader failed at row %d", y);
      return FALSE;
    }
  memcpy (rows, r->in->data + (gsize) y * len, (gsize) n * len * sizeof (float));
  return TRUE;
}

static gboolean
write_rows (int y, int n, const float *rows, int channels, gpointer data, GError **error)
{
  Rows *r = data;

  g_assert_cmpint (y, ==, r->next_row);   /* top to bottom, each row once */
  g_assert_cmpint (n, >, 0);
  g_assert_cmpint (y + n, <=, r->in->height);
  if (++r->writes == r->fail_write_at)
    {
      if (!r->fail_quietly)
        g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_IO, "writer failed at row %d", y);
      return FALSE;
    }
  if (!r->out)
    r->out = p2p_image_new (r->in->width, r->in->height, channels, NULL);
  g_assert_cmpint (channels, ==, r->out->channels);
  memcpy (r->out->data + (gsize) y * r->in->width * channels, rows,
          (gsize) n * r->in->width * channels * sizeof (float));
  r->next_row = y + n;
  return TRUE;
}

static void
options_init (P2pPipelineOptions *o, P2pSizeMode mode, int tile, int overlap)
{
  p2p_pipeline_options_init (o);
  o->size_mode = mode;
  o->tile_size = tile;
  o->tile_overlap = overlap;
  o->net.threads = 1;
}

static P2pImage *
run_rows (const P2pModel *model, const P2pImage *in, const P2pPipelineOptions *o)
{
  g_autoptr(GError) error = NULL;
  Rows r = { in };

  g_assert_true (p2p_pipeline_run_rows (model, in->width, in->height, in->channels,
                                        read_rows, write_rows, &r, o, &error));
  g_assert_no_error (error);
  g_assert_cmpint (r.next_row, ==, in->height);
  return r.out;
}

static void
test_tiles_match_reference (void)
{
  struct {
    const char *arch;
    int in_nc, out_nc;
    const char *task;
    int w, h, ch, tile, overlap;
    gboolean odd;
  } cases[] = {
    { "unet_32", 3, 3, "generic", 150, 100, 3, 32, 8, FALSE },    /* 7 x 5 tiles, stats downscaled */
    { "unet_32", 3, 3, "generic", 150, 100, 4, 32, 8, TRUE },     /* RGBA, odd values */
    { "unet_32", 3, 3, "generic", 97, 70, 2, 32, 12, TRUE },      /* grey + alpha */
    { "unet_32", 1, 1, "generic", 90, 75, 1, 32, 8, FALSE },      /* grey model, grey image */
    { "unet_32", 3, 3, "generic", 60, 50, 3, 32, 8, FALSE },      /* 2 x 2 tiles, stats unscaled */
    { "unet_32", 1, 2, "colorize", 130, 90, 4, 32, 8, TRUE },     /* colorize RGBA */
    { "unet_32", 1, 2, "colorize", 77, 120, 1, 32, 10, FALSE },   /* colorize grey */
    { "resnet_1blocks", 3, 3, "generic", 100, 90, 3, 32, 8, FALSE },
    { "unet_32", 3, 3, "generic", 1, 300, 3, 32, 8, FALSE },      /* 1 x N strips */
    { "unet_32", 3, 3, "generic", 300, 1, 4, 32, 8, FALSE },
    { "unet_32", 1, 2, "colorize", 2, 200, 3, 64, 16, FALSE },
    { "unet_32", 3, 3, "generic", 64, 64, 3, 64, 16, FALSE },     /* one tile */
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(P2pModel) model = model_new (cases[i].arch, cases[i].in_nc, cases[i].out_nc,
                                             cases[i].task);
      g_autoptr(P2pImage) in = scene (cases[i].w, cases[i].h, cases[i].ch, 20 + i, cases[i].odd);
      g_autoptr(P2pImage) ref = reference_tiled (model, in, cases[i].tile, cases[i].overlap);
      g_autoptr(P2pImage) rows = NULL;
      g_autoptr(P2pImage) whole = NULL;
      g_autoptr(GError) error = NULL;
      P2pPipelineOptions o;

      g_test_message ("case %u: %s %s %dx%dx%d tile %d/%d", i, cases[i].arch, cases[i].task,
                      cases[i].w, cases[i].h, cases[i].ch, cases[i].tile, cases[i].overlap);
      options_init (&o, P2P_SIZE_MODE_TILE, cases[i].tile, cases[i].overlap);
      rows = run_rows (model, in, &o);
      assert_same (rows, ref, "rows vs reference");
      whole = p2p_pipeline_run (model, in, &o, &error);
      g_assert_no_error (error);
      assert_same (whole, ref, "p2p_pipeline_run vs reference");
    }
}

/* Resize and whole mode: the rows give what p2p_pipeline_run gives. */
static void
test_other_modes (void)
{
  g_autoptr(P2pModel) rgb = model_new ("unet_32", 3, 3, "generic");
  g_autoptr(P2pModel) col = model_new ("unet_32", 1, 2, "colorize");
  const P2pSizeMode modes[] = { P2P_SIZE_MODE_RESIZE, P2P_SIZE_MODE_WHOLE };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (int ch = 1; ch <= 4; ch++)
      {
        g_autoptr(P2pImage) in = scene (45, 38, ch, ch, TRUE);
        const P2pModel *models[] = { rgb, col };

        for (guint k = 0; k < 2; k++)
          {
            g_autoptr(GError) error = NULL;
            g_autoptr(P2pImage) a = NULL;
            g_autoptr(P2pImage) b = NULL;
            P2pPipelineOptions o;

            options_init (&o, modes[m], 0, 0);
            a = run_rows (models[k], in, &o);
            b = p2p_pipeline_run (models[k], in, &o, &error);
            g_assert_no_error (error);
            assert_same (a, b, "rows vs p2p_pipeline_run");
          }
      }
}

/* ---- 4. errors ---------------------------------------------------------- */

static void
test_errors (void)
{
  g_autoptr(P2pModel) rgb = model_new ("unet_32", 3, 3, "generic");
  g_autoptr(P2pModel) col = model_new ("unet_32", 1, 2, "colorize");
  g_autoptr(P2pImage) in = scene (100, 80, 4, 3, FALSE);
  const P2pSizeMode modes[] = { P2P_SIZE_MODE_TILE, P2P_SIZE_MODE_WHOLE, P2P_SIZE_MODE_RESIZE };
  /* tile 32 on 100 x 80: the statistics pass reads 5 chunks, the 3 tile
   * rows read their bands (2 chunks each) and flush (2 each): fail at
   * several places, the last at the last of those 17 reads */
  const int fail_reads[] = { 1, 3, 6, 9, 17 };
  const int fail_writes[] = { 1, 2, 4 };

  for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
    for (int k = 0; k < 2; k++)
      for (int quiet = 0; quiet < 2; quiet++)
        {
          const P2pModel *model = k ? col : rgb;
          P2pPipelineOptions o;

          options_init (&o, modes[m], 32, 8);
          for (guint f = 0; f < G_N_ELEMENTS (fail_reads); f++)
            {
              g_autoptr(GError) error = NULL;
              Rows r = { in, .fail_read_at = fail_reads[f], .fail_quietly = quiet };
              gboolean ok = p2p_pipeline_run_rows (model, in->width, in->height, in->channels,
                                                   read_rows, write_rows, &r, &o, &error);

              g_clear_pointer (&r.out, p2p_image_free);
              if (r.reads < fail_reads[f])
                {
                  /* that many reads were not needed (resize/whole read once);
                   * tile mode reaches every one of them */
                  g_assert_true (modes[m] != P2P_SIZE_MODE_TILE);
                  g_assert_true (ok);
                  g_assert_no_error (error);
                  continue;
                }
              g_assert_false (ok);
              if (quiet)
                g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
              else
                g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_IO);
              g_assert_cmpint (r.reads, ==, fail_reads[f]);   /* stops at once */
            }
          for (guint f = 0; f < G_N_ELEMENTS (fail_writes); f++)
            {
              g_autoptr(GError) error = NULL;
              Rows r = { in, .fail_write_at = fail_writes[f], .fail_quietly = quiet };
              gboolean ok = p2p_pipeline_run_rows (model, in->width, in->height, in->channels,
                                                   read_rows, write_rows, &r, &o, &error);

              g_clear_pointer (&r.out, p2p_image_free);
              if (r.writes < fail_writes[f])
                {
                  g_assert_true (modes[m] != P2P_SIZE_MODE_TILE);
                  g_assert_true (ok);
                  continue;
                }
              g_assert_false (ok);
              if (quiet)
                g_assert_error (error, P2P_ERROR, P2P_ERROR_IO);
              else
                g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_IO);
              g_assert_cmpint (r.writes, ==, fail_writes[f]);
            }
        }
}

static gboolean
cancel_after (double fraction, gpointer data)
{
  int *calls = data;
  return --(*calls) > 0;
}

static void
test_cancel (void)
{
  g_autoptr(P2pModel) model = model_new ("unet_32", 3, 3, "generic");
  g_autoptr(P2pImage) in = scene (150, 100, 3, 2, FALSE);
  int total = 0;

  /* Count the progress calls of a whole run, then cancel at several of them. */
  {
    P2pPipelineOptions o;
    g_autoptr(P2pImage) out = NULL;
    int calls = G_MAXINT;

    options_init (&o, P2P_SIZE_MODE_TILE, 32, 8);
    o.net.progress = cancel_after;
    o.net.progress_data = &calls;
    out = run_rows (model, in, &o);
    total = G_MAXINT - calls;
    g_assert_cmpint (total, >, 100);
  }
  /* from the first call to the last, after the last rows are written */
  for (int k = 0; k <= 7; k++)
    {
      const int at = 1 + k * (total - 1) / 7;
      g_autoptr(GError) error = NULL;
      P2pPipelineOptions o;
      Rows r = { in };
      int calls = at;

      options_init (&o, P2P_SIZE_MODE_TILE, 32, 8);
      o.net.progress = cancel_after;
      o.net.progress_data = &calls;
      g_assert_false (p2p_pipeline_run_rows (model, in->width, in->height, in->channels,
                                             read_rows, write_rows, &r, &o, &error));
      g_assert_error (error, P2P_ERROR, P2P_ERROR_CANCELLED);
      if (at < total)
        g_assert_cmpint (r.next_row, <, in->height);
      g_clear_pointer (&r.out, p2p_image_free);
    }
}

static void
test_bad_input (void)
{
  g_autoptr(P2pModel) model = model_new ("unet_32", 3, 3, "generic");
  g_autoptr(GError) error = NULL;
  P2pPipelineOptions o;
  Rows r = { NULL };

  options_init (&o, P2P_SIZE_MODE_TILE, 0, 0);
  g_assert_false (p2p_pipeline_run_rows (model, 0, 10, 3, read_rows, write_rows, &r, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  g_assert_false (p2p_pipeline_run_rows (model, 10, 10, 5, read_rows, write_rows, &r, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_clear_error (&error);
  g_assert_false (p2p_pipeline_run_rows (model, 70000, 10, 3, read_rows, write_rows, &r, &o, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
  g_assert_cmpint (r.reads + r.writes, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/stream/resize", test_resize_stream);
  g_test_add_func ("/stream/tiles-match-reference", test_tiles_match_reference);
  g_test_add_func ("/stream/other-modes", test_other_modes);
  g_test_add_func ("/stream/errors", test_errors);
  g_test_add_func ("/stream/cancel", test_cancel);
  g_test_add_func ("/stream/bad-input", test_bad_input);
  return g_test_run ();
}
