/* test-ops.c - every op against a deliberately naive reference written here.
 *
 * The references are direct loops over the textbook formulas (no im2col, no
 * GEMM, no banding), run on random shapes including odd sizes, one channel
 * and 1-pixel edges.
 */
#include <math.h>
#include <string.h>

#include "p2p-error.h"
#include "p2p-ops.h"
#include "p2p-tensor.h"

static GRand *rng;

static P2pTensor *
random_tensor (int c, int h, int w)
{
  P2pTensor *t = p2p_tensor_new (c, h, w, NULL);
  for (gsize i = 0; i < p2p_tensor_numel (t); i++)
    t->data[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return t;
}

static float *
random_floats (gsize n)
{
  float *p = g_new (float, n);
  for (gsize i = 0; i < n; i++)
    p[i] = (float) g_rand_double_range (rng, -1.0, 1.0);
  return p;
}

#define AT(t, c, y, x) ((t)->data[((gsize) (c) * (t)->h + (y)) * (t)->w + (x)])

static void
assert_close (const P2pTensor *a, const P2pTensor *b, double tol)
{
  double max_err = 0.0;
  g_assert_cmpint (a->c, ==, b->c);
  g_assert_cmpint (a->h, ==, b->h);
  g_assert_cmpint (a->w, ==, b->w);
  for (gsize i = 0; i < p2p_tensor_numel (a); i++)
    {
      double e = fabs ((double) a->data[i] - b->data[i]);
      g_assert_false (isnan (a->data[i]));
      if (e > max_err)
        max_err = e;
    }
  if (max_err > tol)
    g_error ("max abs error %g > %g", max_err, tol);
}

/* ---- convolution ----------------------------------------------------- */

static void
naive_conv2d (const P2pTensor *in, const float *w, const float *b, const P2pConvParams *p, P2pTensor *out)
{
  const int k = p->kernel;
  for (int co = 0; co < out->c; co++)
    for (int y = 0; y < out->h; y++)
      for (int x = 0; x < out->w; x++)
        {
          double acc = b ? b[co] : 0.0;
          for (int ci = 0; ci < in->c; ci++)
            for (int ky = 0; ky < k; ky++)
              for (int kx = 0; kx < k; kx++)
                {
                  int iy = y * p->stride - p->pad + ky, ix = x * p->stride - p->pad + kx;
                  if (iy >= 0 && iy < in->h && ix >= 0 && ix < in->w)
                    acc += (double) w[((co * in->c + ci) * k + ky) * k + kx] * AT (in, ci, iy, ix);
                }
          AT (out, co, y, x) = (float) acc;
        }
}

typedef struct { int cin, cout, h, w, k, s, p; } ConvCase;

static const ConvCase conv_cases[] = {
  { 3, 8, 16, 16, 4, 2, 1 },   /* U-Net down */
  { 1, 4, 2, 2, 4, 2, 1 },     /* to a 1x1 bottleneck */
  { 5, 3, 7, 9, 3, 2, 1 },     /* odd sizes, ResNet down */
  { 4, 4, 6, 5, 3, 1, 0 },     /* ResNet block after reflection padding */
  { 2, 3, 13, 11, 7, 1, 0 },   /* 7x7 stem */
  { 1, 1, 1, 1, 1, 1, 0 },     /* 1x1 everything */
  { 6, 2, 1, 9, 3, 1, 1 },     /* one row */
  { 3, 5, 9, 1, 3, 1, 1 },     /* one column */
};

static void
test_conv2d (gconstpointer data)
{
  const ConvCase *cs = data;
  P2pConvParams p = { cs->k, cs->s, cs->p, 0 };
  g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
  g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * cs->k * cs->k);
  g_autofree float *b = random_floats (cs->cout);
  int oh = p2p_conv2d_out_size (cs->h, &p), ow = p2p_conv2d_out_size (cs->w, &p);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_conv2d (in, w, b, &p, got, &scratch, NULL));
  naive_conv2d (in, w, b, &p, want);
  assert_close (got, want, 1e-5);

  /* without bias */
  g_assert_true (p2p_conv2d (in, w, NULL, &p, got, &scratch, NULL));
  naive_conv2d (in, w, NULL, &p, want);
  assert_close (got, want, 1e-5);
  p2p_scratch_clear (&scratch);
}

/* Many bands: a wide layer at a size where the columns buffer exceeds the
 * scratch limit, so banding must give the same result as one pass. */
static void
test_conv2d_banded (void)
{
  P2pConvParams p = { 4, 2, 1, 0 };
  const int cin = 64, cout = 2, h = 520, w = 520;  /* K*W_out*H_out*4 = 1024*260*260*4 > 64 MB */
  g_autoptr(P2pTensor) in = random_tensor (cin, h, w);
  g_autofree float *wt = random_floats ((gsize) cout * cin * 16);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cout, 260, 260, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cout, 260, 260, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_conv2d (in, wt, NULL, &p, got, &scratch, NULL));
  g_assert_cmpuint (scratch.n * sizeof (float), <=, P2P_SCRATCH_MAX_BYTES);
  naive_conv2d (in, wt, NULL, &p, want);
  assert_close (got, want, 1e-4);
  p2p_scratch_clear (&scratch);
}

/* ---- transposed convolution ------------------------------------------ */

static void
naive_conv_t (const P2pTensor *in, const float *w, const float *b, const P2pConvParams *p, P2pTensor *out)
{
  const int k = p->kernel;
  g_autofree double *acc = g_new0 (double, p2p_tensor_numel (out));
  for (int ci = 0; ci < in->c; ci++)
    for (int i = 0; i < in->h; i++)
      for (int j = 0; j < in->w; j++)
        for (int co = 0; co < out->c; co++)
          for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
              {
                int oy = i * p->stride - p->pad + ky, ox = j * p->stride - p->pad + kx;
                if (oy >= 0 && oy < out->h && ox >= 0 && ox < out->w)
                  acc[((gsize) co * out->h + oy) * out->w + ox] +=
                    (double) AT (in, ci, i, j) * w[((ci * out->c + co) * k + ky) * k + kx];
              }
  for (int co = 0; co < out->c; co++)
    for (gsize q = 0; q < (gsize) out->h * out->w; q++)
      out->data[(gsize) co * out->h * out->w + q] =
        (float) (acc[(gsize) co * out->h * out->w + q] + (b ? b[co] : 0.0));
}

typedef struct { int cin, cout, h, w, k, s, p, op; } ConvTCase;

static const ConvTCase convt_cases[] = {
  { 8, 3, 8, 8, 4, 2, 1, 0 },    /* U-Net up */
  { 4, 4, 1, 1, 4, 2, 1, 0 },    /* from the 1x1 bottleneck */
  { 6, 5, 3, 7, 4, 2, 1, 0 },    /* non-square */
  { 5, 3, 4, 4, 3, 2, 1, 1 },    /* ResNet up with output_padding */
  { 3, 2, 5, 3, 3, 2, 1, 1 },    /* odd, output_padding */
  { 1, 1, 1, 6, 3, 2, 1, 1 },    /* one row */
  { 3, 4, 5, 7, 4, 2, 1, 0 },    /* odd, non-square, k4 s2 */
  { 2, 3, 6, 5, 3, 1, 1, 0 },    /* stride 1 */
  { 3, 2, 4, 5, 5, 3, 2, 2 },    /* stride 3, output_padding 2 */
  { 2, 2, 3, 3, 2, 3, 0, 0 },    /* k < s: outputs without taps (bias only) */
  { 4, 3, 9, 2, 3, 2, 0, 1 },    /* no padding, output_padding */
  { 3, 2, 7, 1, 4, 2, 1, 0 },    /* one column */
  { 2, 3, 5, 6, 6, 2, 2, 1 },    /* k6: three taps per axis */
  { 3, 2, 17, 16, 4, 2, 1, 0 },  /* > 256 input pixels: W^T * in (up to 256: in^T * W) */
  { 3, 2, 16, 16, 4, 2, 1, 0 },  /* exactly 256: in^T * W */
  { 2, 3, 16, 17, 3, 2, 1, 1 },  /* the same, output_padding */
  { 5, 4, 15, 17, 4, 2, 1, 0 },  /* 255 pixels: the last with in^T * W */
};

static void
test_conv_transpose2d (gconstpointer data)
{
  const ConvTCase *cs = data;
  P2pConvParams p = { cs->k, cs->s, cs->p, cs->op };
  g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
  g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * cs->k * cs->k);
  g_autofree float *b = random_floats (cs->cout);
  int oh = p2p_conv_transpose2d_out_size (cs->h, &p), ow = p2p_conv_transpose2d_out_size (cs->w, &p);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_conv_transpose2d (in, w, b, &p, got, &scratch, NULL));
  naive_conv_t (in, w, b, &p, want);
  assert_close (got, want, 1e-5);
  g_assert_true (p2p_conv_transpose2d (in, w, NULL, &p, got, &scratch, NULL));
  naive_conv_t (in, w, NULL, &p, want);
  assert_close (got, want, 1e-5);
  /* both ways explicitly (Winograd where it applies), whatever the runner
   * would choose; garbage in the output first (neither may rely on a
   * cleared output) */
  naive_conv_t (in, w, b, &p, want);
  if (p2p_winograd_conv_transpose2d_supported (&p))
    {
      for (gsize i = 0; i < p2p_tensor_numel (got); i++)
        got->data[i] = NAN;
      g_assert_true (p2p_conv_transpose2d_winograd (in, w, b, &p, got, &scratch, NULL));
      assert_close (got, want, 1e-5);
    }
  for (gsize i = 0; i < p2p_tensor_numel (got); i++)
    got->data[i] = NAN;
  g_assert_true (p2p_conv_transpose2d (in, w, b, &p, got, &scratch, NULL));
  assert_close (got, want, 1e-5);
  p2p_scratch_clear (&scratch);
}

static void
test_conv_transpose2d_banded (void)
{
  P2pConvParams p = { 4, 2, 1, 0 };
  const int cin = 3, cout = 64, h = 140, w = 140;  /* M*W*H*4 = 1024*140*140*4 > 64 MB */
  g_autoptr(P2pTensor) in = random_tensor (cin, h, w);
  g_autofree float *wt = random_floats ((gsize) cout * cin * 16);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cout, 280, 280, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cout, 280, 280, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_conv_transpose2d (in, wt, NULL, &p, got, &scratch, NULL));
  g_assert_cmpuint (scratch.n * sizeof (float), <=, P2P_SCRATCH_MAX_BYTES);
  naive_conv_t (in, wt, NULL, &p, want);
  assert_close (got, want, 1e-5);
  p2p_scratch_clear (&scratch);
}

/* ---- Winograd convolutions ------------------------------------------- */

/* Max |got - want| over max |want|: the Winograd transforms add and
 * subtract up to 16 terms per element before and after the GEMM, so their
 * rounding error scales with the magnitude of the outputs, not with each
 * output (a near-zero output keeps the error of its neighbours). */
static double
rel_error (const P2pTensor *got, const P2pTensor *want)
{
  double max_err = 0.0, max_ref = 0.0;
  g_assert_cmpint (got->c, ==, want->c);
  g_assert_cmpint (got->h, ==, want->h);
  g_assert_cmpint (got->w, ==, want->w);
  for (gsize i = 0; i < p2p_tensor_numel (got); i++)
    {
      g_assert_true (isfinite (got->data[i]));
      max_err = MAX (max_err, fabs ((double) got->data[i] - want->data[i]));
      max_ref = MAX (max_ref, fabs ((double) want->data[i]));
    }
  return max_ref > 0 ? max_err / max_ref : max_err;
}

/* Relative bound for the Winograd tests: fp32 has a unit roundoff of
 * 6e-8; each output is a GEMM sum over cin * 16 (or 9) terms plus the
 * transforms' 4 + 4 levels of additions, whose errors grow about as the
 * square root of the term count for random data: sqrt(70 * 16) * 6e-8 * a
 * few = ~1e-5 worst case at our largest cin; measured errors stay at
 * 1e-7..1e-6 (printed with --verbose). */
#define WINOGRAD_REL_TOL 1e-5

/* The cases: k, s, p as the networks use them and around them; odd sizes,
 * 1- and 2-pixel images, channel counts 1..70. */
static const ConvCase winograd_conv_cases[] = {
  { 4, 5, 6, 6, 3, 1, 0 },      /* ResNet block after reflection padding */
  { 7, 3, 9, 11, 3, 1, 0 },     /* odd output (7x9) */
  { 3, 4, 5, 8, 3, 1, 1 },      /* zero pad 1, odd height */
  { 70, 33, 13, 10, 3, 1, 0 },  /* many channels */
  { 1, 1, 3, 3, 3, 1, 0 },      /* 1x1 output */
  { 2, 3, 3, 4, 3, 1, 0 },      /* 1x2 output */
  { 5, 2, 1, 1, 3, 1, 1 },      /* 1-pixel image, pad 1 */
  { 3, 6, 2, 2, 3, 1, 1 },      /* 2-pixel image */
  { 4, 3, 7, 5, 2, 1, 0 },      /* 2x2 stride 1 */
  { 3, 8, 16, 16, 4, 2, 1 },    /* U-Net down */
  { 6, 70, 9, 13, 4, 2, 1 },    /* odd input, many outputs */
  { 1, 4, 2, 2, 4, 2, 1 },      /* to a 1x1 bottleneck */
  { 65, 7, 2, 4, 4, 2, 1 },     /* 1x2 output */
  { 2, 2, 1, 1, 4, 2, 1 },      /* 1-pixel image */
  { 5, 3, 7, 9, 3, 2, 1 },      /* ResNet down (3x3 s2) */
  { 3, 4, 8, 7, 4, 2, 0 },      /* no padding */
  { 3, 5, 8, 8, 2, 2, 0 },      /* 2x2 s2 */
};

static void
test_conv2d_winograd (gconstpointer data)
{
  const ConvCase *cs = data;
  P2pConvParams p = { cs->k, cs->s, cs->p, 0 };
  g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
  g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * cs->k * cs->k);
  g_autofree float *b = random_floats (cs->cout);
  int oh = p2p_conv2d_out_size (cs->h, &p), ow = p2p_conv2d_out_size (cs->w, &p);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_winograd_conv2d_supported (&p));
  for (int with_bias = 0; with_bias < 2; with_bias++)
    {
      double err;
      for (gsize i = 0; i < p2p_tensor_numel (got); i++)
        got->data[i] = NAN;   /* every output must be written */
      g_assert_true (p2p_conv2d_winograd (in, w, with_bias ? b : NULL, &p, got, &scratch, NULL));
      naive_conv2d (in, w, with_bias ? b : NULL, &p, want);
      err = rel_error (got, want);
      g_test_message ("relative error %g", err);
      g_assert_cmpfloat (err, <=, WINOGRAD_REL_TOL);
    }
  p2p_scratch_clear (&scratch);
}

static const ConvTCase winograd_convt_cases[] = {
  { 8, 3, 8, 8, 4, 2, 1, 0 },     /* U-Net up */
  { 4, 4, 1, 1, 4, 2, 1, 0 },     /* from the 1x1 bottleneck */
  { 6, 5, 3, 7, 4, 2, 1, 0 },     /* odd, non-square */
  { 70, 9, 5, 4, 4, 2, 1, 0 },    /* many input channels */
  { 3, 66, 2, 1, 4, 2, 1, 0 },    /* many outputs, 2-pixel image */
  { 1, 1, 1, 6, 4, 2, 1, 0 },     /* one row */
  { 5, 3, 4, 4, 3, 2, 1, 1 },     /* ResNet up with output_padding */
  { 3, 2, 5, 3, 3, 2, 1, 1 },     /* odd, output_padding */
  { 2, 3, 1, 1, 3, 2, 1, 1 },     /* 1 pixel */
  { 3, 4, 5, 3, 4, 2, 1, 1 },     /* k4 with output_padding */
  { 4, 3, 3, 5, 3, 2, 1, 0 },     /* k3 without: odd output */
};

static void
test_conv_transpose2d_winograd (gconstpointer data)
{
  const ConvTCase *cs = data;
  P2pConvParams p = { cs->k, cs->s, cs->p, cs->op };
  g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
  g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * cs->k * cs->k);
  g_autofree float *b = random_floats (cs->cout);
  int oh = p2p_conv_transpose2d_out_size (cs->h, &p), ow = p2p_conv_transpose2d_out_size (cs->w, &p);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);
  P2pScratch scratch = { 0 };

  g_assert_true (p2p_winograd_conv_transpose2d_supported (&p));
  for (int with_bias = 0; with_bias < 2; with_bias++)
    {
      double err;
      for (gsize i = 0; i < p2p_tensor_numel (got); i++)
        got->data[i] = NAN;
      g_assert_true (p2p_conv_transpose2d_winograd (in, w, with_bias ? b : NULL, &p, got,
                                                    &scratch, NULL));
      naive_conv_t (in, w, with_bias ? b : NULL, &p, want);
      err = rel_error (got, want);
      g_test_message ("relative error %g", err);
      g_assert_cmpfloat (err, <=, WINOGRAD_REL_TOL);
    }
  p2p_scratch_clear (&scratch);
}

/* Many bands (a small scratch limit) on odd sizes, every kind, with bias;
 * and the limit holds once it leaves room for the weights and one band. */
static void
test_winograd_banded (void)
{
  const ConvCase convs[] = {
    { 6, 5, 37, 23, 3, 1, 0 },
    { 5, 7, 41, 27, 4, 2, 1 },
    { 4, 3, 19, 33, 3, 1, 1 },
  };
  const ConvTCase convts[] = {
    { 5, 6, 19, 13, 4, 2, 1, 0 },
    { 4, 5, 15, 9, 3, 2, 1, 1 },
  };

  for (guint c = 0; c < G_N_ELEMENTS (convs) + G_N_ELEMENTS (convts); c++)
    {
      const gboolean transposed = c >= G_N_ELEMENTS (convs);
      const ConvTCase *ct = transposed ? &convts[c - G_N_ELEMENTS (convs)] : NULL;
      const ConvCase *cv = transposed ? NULL : &convs[c];
      const int cin = transposed ? ct->cin : cv->cin, cout = transposed ? ct->cout : cv->cout;
      const int h = transposed ? ct->h : cv->h, w = transposed ? ct->w : cv->w;
      const int k = transposed ? ct->k : cv->k;
      P2pConvParams p = { k, transposed ? ct->s : cv->s, transposed ? ct->p : cv->p,
                          transposed ? ct->op : 0 };
      const int oh = transposed ? p2p_conv_transpose2d_out_size (h, &p) : p2p_conv2d_out_size (h, &p);
      const int ow = transposed ? p2p_conv_transpose2d_out_size (w, &p) : p2p_conv2d_out_size (w, &p);
      /* virtual channels, GEMM rows, tile elements, tile columns */
      const int vc = !transposed && p.stride == 2 ? 4 * cin : cin;
      const int rows = transposed ? 4 * cout : cout;
      const int T = !transposed && p.stride == 1 && k == 3 ? 16 : 9;
      const int tw = transposed ? (w + 2) / 2 : (ow + 1) / 2;
      const gsize usize = (gsize) T * rows * vc, per_row = (gsize) T * (vc + rows) * tw;
      g_autoptr(P2pTensor) in = random_tensor (cin, h, w);
      g_autofree float *wt = random_floats ((gsize) cout * cin * k * k);
      g_autofree float *b = random_floats (cout);
      g_autoptr(P2pTensor) got = p2p_tensor_new (cout, oh, ow, NULL);
      g_autoptr(P2pTensor) want = p2p_tensor_new (cout, oh, ow, NULL);
      P2pScratch scratch = { 0 };
      double err;

      /* slack: the planes' padding (< 4 cache lines each) */
      const gsize slack = (gsize) T * 3 * 64;
      const int th = transposed ? (h + 2) / 2 : (oh + 1) / 2;

      scratch.max_bytes = sizeof (float) * (usize + 3 * per_row + slack);   /* ~3 tile rows a band */
      for (gsize i = 0; i < p2p_tensor_numel (got); i++)
        got->data[i] = NAN;
      if (transposed)
        {
          g_assert_true (p2p_conv_transpose2d_winograd (in, wt, b, &p, got, &scratch, NULL));
          naive_conv_t (in, wt, b, &p, want);
        }
      else
        {
          g_assert_true (p2p_conv2d_winograd (in, wt, b, &p, got, &scratch, NULL));
          naive_conv2d (in, wt, b, &p, want);
        }
      g_assert_cmpuint (scratch.n * sizeof (float), <=, scratch.max_bytes);
      g_assert_cmpuint (scratch.n, <=, usize + (gsize) th / 2 * per_row);   /* >= 2 bands */
      err = rel_error (got, want);
      g_test_message ("relative error %g", err);
      g_assert_cmpfloat (err, <=, WINOGRAD_REL_TOL);

      /* a limit below the weights alone: one tile row a band, still right */
      scratch.max_bytes = sizeof (float);
      p2p_scratch_clear (&scratch);
      if (transposed)
        g_assert_true (p2p_conv_transpose2d_winograd (in, wt, b, &p, got, &scratch, NULL));
      else
        g_assert_true (p2p_conv2d_winograd (in, wt, b, &p, got, &scratch, NULL));
      g_assert_cmpuint (scratch.n, <=, usize + per_row + slack);
      g_assert_cmpfloat (rel_error (got, want), <=, WINOGRAD_REL_TOL);
      p2p_scratch_clear (&scratch);
    }
}

/* F(4x4, 3x3): shapes around the 4x4 output tiles (1..9 outputs a side,
 * partial last tiles, zero pads 0..2, channel counts 1..70), every output
 * written, against the naive loop; then with a scratch limit that forces
 * one tile row a band.  Its larger transform coefficients allow a little
 * more error than F(2x2, 3x3) (measured: printed with --verbose). */
#define WINOGRAD4_REL_TOL 3e-5

/* One F(4x4, 3x3) case against the naive loop, with the default scratch
 * and with a limit below the weights alone (one tile row a band); every
 * output must be written. */
static void
check_winograd4 (const ConvCase *cs)
{
  P2pConvParams p = { 3, 1, cs->p, 0 };
  g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
  g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * 9);
  g_autofree float *b = random_floats (cs->cout);
  const int oh = p2p_conv2d_out_size (cs->h, &p), ow = p2p_conv2d_out_size (cs->w, &p);
  g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);

  g_assert_true (p2p_winograd4_supported (&p));
  naive_conv2d (in, w, b, &p, want);
  for (int limit = 0; limit < 2; limit++)
    {
      P2pScratch scratch = { 0 };
      double err;

      scratch.max_bytes = limit ? sizeof (float) : 0;
      for (gsize k = 0; k < p2p_tensor_numel (got); k++)
        got->data[k] = NAN;
      g_assert_true (p2p_conv2d_winograd4 (in, w, b, &p, got, &scratch, NULL));
      err = rel_error (got, want);
      g_test_message ("%d -> %d, %dx%d pad %d: relative error %g",
                      cs->cin, cs->cout, cs->h, cs->w, cs->p, err);
      if (err > WINOGRAD4_REL_TOL)
        g_error ("F(4x4,3x3) %d -> %d, %dx%d pad %d: relative error %g",
                 cs->cin, cs->cout, cs->h, cs->w, cs->p, err);
      p2p_scratch_clear (&scratch);
    }
}

static void
test_conv2d_winograd4 (void)
{
  static const ConvCase cases[] = {
    { 4, 5, 6, 6, 3, 1, 0 },      /* exactly one tile */
    { 7, 3, 9, 11, 3, 1, 0 },     /* 7x9 outputs: partial tiles both ways */
    { 3, 4, 5, 8, 3, 1, 1 },
    { 70, 33, 13, 10, 3, 1, 0 },
    { 1, 1, 3, 3, 3, 1, 0 },      /* 1x1 output */
    { 5, 2, 1, 1, 3, 1, 1 },      /* 1-pixel image, pad 1 */
    { 3, 6, 2, 2, 3, 1, 2 },      /* pad 2 */
    { 16, 17, 66, 35, 3, 1, 0 },  /* ResNet-like after reflection padding */
    { 2, 3, 11, 4, 3, 1, 1 },
  };
  P2pConvParams bad = { 3, 2, 1, 0 };

  g_assert_false (p2p_winograd4_supported (&bad));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    check_winograd4 (&cases[i]);
  /* random shapes: channels 1..70, sizes up to 21, pads 0..2 */
  for (int iter = 0; iter < 40; iter++)
    {
      ConvCase cs = { g_rand_int_range (rng, 1, 71), g_rand_int_range (rng, 1, 71), 0, 0,
                      3, 1, g_rand_int_range (rng, 0, 3) };
      cs.h = g_rand_int_range (rng, MAX (1, 3 - 2 * cs.p), 22);
      cs.w = g_rand_int_range (rng, MAX (1, 3 - 2 * cs.p), 22);
      check_winograd4 (&cs);
    }
}

/* Random shapes: kind, size (1..21), channels (1..70). */
static void
test_winograd_random (void)
{
  for (int iter = 0; iter < 60; iter++)
    {
      const int kind = iter % 4;   /* 3x3 s1, 4x4 s2 p1, convT 4x4, convT 3x3 op1 */
      const int cin = g_rand_int_range (rng, 1, 71), cout = g_rand_int_range (rng, 1, 71);
      const int h = g_rand_int_range (rng, kind == 0 ? 3 : 1, 22);
      const int w = g_rand_int_range (rng, kind == 0 ? 3 : 1, 22);
      const gboolean transposed = kind >= 2;
      P2pConvParams p = { kind == 0 || kind == 3 ? 3 : 4, kind == 0 ? 1 : 2,
                          kind == 0 ? g_rand_int_range (rng, 0, 2) : 1, kind == 3 };
      const int oh = transposed ? p2p_conv_transpose2d_out_size (h, &p) : p2p_conv2d_out_size (h, &p);
      const int ow = transposed ? p2p_conv_transpose2d_out_size (w, &p) : p2p_conv2d_out_size (w, &p);
      g_autoptr(P2pTensor) in = random_tensor (cin, h, w);
      g_autofree float *wt = random_floats ((gsize) cout * cin * p.kernel * p.kernel);
      g_autofree float *b = random_floats (cout);
      g_autoptr(P2pTensor) got = p2p_tensor_new (cout, oh, ow, NULL);
      g_autoptr(P2pTensor) want = p2p_tensor_new (cout, oh, ow, NULL);
      P2pScratch scratch = { 0 };
      double err;

      for (gsize i = 0; i < p2p_tensor_numel (got); i++)
        got->data[i] = NAN;
      if (transposed)
        {
          g_assert_true (p2p_conv_transpose2d_winograd (in, wt, b, &p, got, &scratch, NULL));
          naive_conv_t (in, wt, b, &p, want);
        }
      else
        {
          g_assert_true (p2p_conv2d_winograd (in, wt, b, &p, got, &scratch, NULL));
          naive_conv2d (in, wt, b, &p, want);
        }
      err = rel_error (got, want);
      if (err > WINOGRAD_REL_TOL)
        g_error ("kind %d, %d -> %d channels, %dx%d: relative error %g", kind, cin, cout, h, w, err);
      p2p_scratch_clear (&scratch);
    }
}

/* The runner's choice: the networks' big layers yes, their first and last
 * (3 channels), the small inner levels, the 3x3 stride-2 layers (no fewer
 * multiplications) and rows too wide for the scratch no. */
static void
test_winograd_choice (void)
{
  const P2pConvParams c3 = { 3, 1, 0, 0 }, c3s2 = { 3, 2, 1, 0 }, down = { 4, 2, 1, 0 };
  const P2pConvParams up = { 4, 2, 1, 0 }, up3 = { 3, 2, 1, 1 };

  if (p2p_winograd_disabled () != 0)
    {
      g_test_skip ("P2P_NO_WINOGRAD or P2P_WINOGRAD_ALWAYS is set");
      return;
    }
  g_assert_true (p2p_winograd_pays (&c3, FALSE, 256, 256, 64, 64));
  g_assert_true (p2p_winograd4_pays (&c3, 256, 256, 64, 64, 66));          /* the ResNet blocks */
  g_assert_false (p2p_winograd4_pays (&c3, 256, 256, 64, 100000, 100002)); /* too wide */
  g_assert_false (p2p_winograd4_pays (&c3, 3, 64, 256, 256, 258));        /* 3 channels */
  g_assert_false (p2p_winograd4_pays (&c3, 256, 256, 16, 16, 18));        /* 16 tiles */
  g_assert_false (p2p_winograd4_pays (&c3s2, 64, 128, 128, 128, 256));
  g_assert_false (p2p_winograd_pays (&c3, FALSE, 256, 256, 64, 100000));   /* too wide */
  g_assert_false (p2p_winograd_pays (&c3s2, FALSE, 64, 128, 128, 128));
  g_assert_true (p2p_winograd_pays (&down, FALSE, 64, 128, 64, 64));
  g_assert_false (p2p_winograd_pays (&down, FALSE, 3, 64, 128, 128));
  g_assert_false (p2p_winograd_pays (&down, FALSE, 512, 512, 8, 8));
  g_assert_true (p2p_winograd_pays (&up, TRUE, 256, 64, 128, 128));
  g_assert_false (p2p_winograd_pays (&up, TRUE, 128, 3, 256, 256));
  g_assert_false (p2p_winograd_pays (&up, TRUE, 1024, 512, 16, 16));
  g_assert_false (p2p_winograd_pays (&up3, TRUE, 256, 128, 128, 128));
}

/* ---- direct convolution (few output channels) ------------------------ */

static void
test_conv2d_direct (void)
{
  const ConvCase cases[] = {
    { 64, 3, 15, 13, 7, 1, 0 },   /* the ResNet's last layer, small */
    { 5, 4, 9, 11, 3, 1, 1 },     /* zero padding, 4 channels: one full group */
    { 7, 1, 6, 5, 3, 1, 2 },      /* padding wider than a side of the output's reach */
    { 3, 2, 1, 1, 3, 1, 1 },      /* 1-pixel image */
    { 2, 3, 1, 9, 1, 1, 0 },      /* 1x1 kernel, one row */
    { 4, 4, 2, 2, 2, 1, 0 },      /* 2x2 kernel, 1x1 output */
    /* rows wide enough for the AVX2 strips (4 x 8 columns and single
     * vectors) with edges and remainders, each channel count */
    { 64, 3, 9, 80, 7, 1, 0 },
    { 5, 4, 6, 45, 3, 1, 1 },
    { 3, 2, 4, 70, 3, 1, 2 },
    { 6, 1, 3, 41, 3, 1, 0 },
  };
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      const ConvCase *cs = &cases[c];
      P2pConvParams p = { cs->k, cs->s, cs->p, 0 };
      g_autoptr(P2pTensor) in = random_tensor (cs->cin, cs->h, cs->w);
      g_autofree float *w = random_floats ((gsize) cs->cout * cs->cin * cs->k * cs->k);
      g_autofree float *b = random_floats (cs->cout);
      int oh = p2p_conv2d_out_size (cs->h, &p), ow = p2p_conv2d_out_size (cs->w, &p);
      g_autoptr(P2pTensor) got = p2p_tensor_new (cs->cout, oh, ow, NULL);
      g_autoptr(P2pTensor) want = p2p_tensor_new (cs->cout, oh, ow, NULL);
      P2pScratch scratch = { 0 };

      g_assert_true (p2p_conv2d_direct_supported (&p, cs->cout));
      for (int with_bias = 0; with_bias < 2; with_bias++)
        {
          for (gsize i = 0; i < p2p_tensor_numel (got); i++)
            got->data[i] = NAN;
          g_assert_true (p2p_conv2d_direct (in, w, with_bias ? b : NULL, &p, got, &scratch, NULL));
          naive_conv2d (in, w, with_bias ? b : NULL, &p, want);
          /* float sums of up to 64*49 terms, as the GEMM's */
          g_assert_cmpfloat (rel_error (got, want), <=, 1e-5);
        }
    }
  {
    const P2pConvParams s2 = { 3, 2, 1, 0 }, s1 = { 7, 1, 0, 0 };
    g_assert_false (p2p_conv2d_direct_supported (&s2, 3));
    g_assert_false (p2p_conv2d_direct_supported (&s1, 5));
  }
}

/* ---- skinny GEMM -------------------------------------------------------- */

/* One product through p2p_gemm_skinny against a naive double loop, with
 * leading dimensions larger than the shapes and both accumulate modes.
 * Returns FALSE when the kernel declined (no AVX2/FMA, or shape). */
static gboolean
check_skinny (gboolean trans_a, int M, int N, int K, gboolean accumulate)
{
  const int lda = (trans_a ? M : K) + 3, ldb = N + 5, ldc = N + 2;
  g_autofree float *A = random_floats ((gsize) (trans_a ? K : M) * lda);
  g_autofree float *B = random_floats ((gsize) K * ldb);
  g_autofree float *C = random_floats ((gsize) M * ldc);
  g_autofree float *C0 = g_memdup2 (C, sizeof (float) * M * ldc);

  if (!p2p_gemm_skinny (trans_a, M, N, K, A, lda, B, ldb, accumulate, C, ldc))
    return FALSE;
  for (int m = 0; m < M; m++)
    {
      for (int n = 0; n < N; n++)
        {
          double want = accumulate ? C0[(gsize) m * ldc + n] : 0.0, mag = fabs (want);
          for (int k = 0; k < K; k++)
            {
              const double a = trans_a ? A[(gsize) k * lda + m] : A[(gsize) m * lda + k];
              want += a * B[(gsize) k * ldb + n];
              mag += fabs (a * B[(gsize) k * ldb + n]);
            }
          if (fabs (C[(gsize) m * ldc + n] - want) > 1e-6 * mag + 1e-6)
            g_error ("skinny gemm trans_a=%d %dx%dx%d acc=%d: C[%d][%d] = %g, want %g",
                     trans_a, M, N, K, accumulate, m, n, C[(gsize) m * ldc + n], want);
        }
      /* the padding between rows of C is left alone */
      for (int n = N; n < ldc; n++)
        g_assert_cmpfloat (C[(gsize) m * ldc + n], ==, C0[(gsize) m * ldc + n]);
    }
  return TRUE;
}

static void
test_gemm_skinny (void)
{
  /* A not transposed, few columns: rows in and out of blocks of 4, k in
   * and across the 256-chunks and the 8 lanes. */
  const int nt_m[] = { 4, 5, 7, 37, 512 };
  const int nt_k[] = { 1, 7, 8, 9, 255, 257, 1000 };
  /* A transposed, few rows: columns in and across the 1024-blocks, tails
   * of 8 lanes, k in and across steps of 4. */
  const int tn_n[] = { 8, 9, 23, 1064, 2100 };
  const int tn_k[] = { 1, 3, 4, 5, 17, 300 };
  int ran = 0;

  for (guint i = 0; i < G_N_ELEMENTS (nt_m); i++)
    for (int n = 1; n <= 4; n++)
      for (guint j = 0; j < G_N_ELEMENTS (nt_k); j++)
        ran += check_skinny (FALSE, nt_m[i], n, nt_k[j], (i + j) % 2);
  for (int m = 1; m <= 4; m++)
    for (guint i = 0; i < G_N_ELEMENTS (tn_n); i++)
      for (guint j = 0; j < G_N_ELEMENTS (tn_k); j++)
        ran += check_skinny (TRUE, m, tn_n[i], tn_k[j], (i + j + m) % 2);
  if (ran == 0)
    {
      g_test_skip ("no AVX2+FMA here (or P2P_NO_SKINNY_GEMM=1): OpenBLAS does these");
      return;
    }
  g_assert_cmpint (ran, ==, 5 * 4 * 7 + 4 * 5 * 6);
  /* Shapes it must leave to BLAS. */
  g_assert_false (p2p_gemm_skinny (FALSE, 64, 5, 64, NULL, 64, NULL, 5, FALSE, NULL, 5));
  g_assert_false (p2p_gemm_skinny (TRUE, 5, 64, 64, NULL, 5, NULL, 64, FALSE, NULL, 64));
  g_assert_false (p2p_gemm_skinny (FALSE, 3, 2, 64, NULL, 64, NULL, 2, FALSE, NULL, 2));
}

/* ---- norms ------------------------------------------------------------ */

static void
test_norm_instance (void)
{
  const int shapes[][3] = { { 3, 5, 7 }, { 1, 1, 2 }, { 4, 2, 2 }, { 2, 33, 1 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    for (int affine = 0; affine < 2; affine++)
      {
        g_autoptr(P2pTensor) t = random_tensor (shapes[s][0], shapes[s][1], shapes[s][2]);
        g_autoptr(P2pTensor) want = p2p_tensor_new (t->c, t->h, t->w, NULL);
        g_autofree float *gamma = random_floats (t->c);
        g_autofree float *beta = random_floats (t->c);
        const int n = t->h * t->w;
        for (int c = 0; c < t->c; c++)
          {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++)
              mean += t->data[c * n + i] / (double) n;
            for (int i = 0; i < n; i++)
              var += pow (t->data[c * n + i] - mean, 2) / n;
            for (int i = 0; i < n; i++)
              {
                double y = (t->data[c * n + i] - mean) / sqrt (var + 1e-5);
                want->data[c * n + i] = (float) (affine ? y * gamma[c] + beta[c] : y);
              }
          }
        {
          double m[8], v[8];
          g_assert_cmpint (t->c, <=, 8);
          p2p_norm_statistics (t, m, v);
          p2p_norm_apply_act (t, m, v, affine ? gamma : NULL, affine ? beta : NULL, 1e-5f, 1.0f);
        }
        assert_close (t, want, 1e-5);
      }
}

static void
test_norm_running (void)
{
  g_autoptr(P2pTensor) t = random_tensor (4, 3, 5);
  g_autoptr(P2pTensor) want = p2p_tensor_new (4, 3, 5, NULL);
  float mean[4], var[4], gamma[4], beta[4];
  for (int c = 0; c < 4; c++)
    {
      mean[c] = (float) g_rand_double_range (rng, -1, 1);
      var[c] = (float) g_rand_double_range (rng, 0.1, 2);
      gamma[c] = (float) g_rand_double_range (rng, -2, 2);
      beta[c] = (float) g_rand_double_range (rng, -1, 1);
      for (int i = 0; i < 15; i++)
        want->data[c * 15 + i] =
          (float) ((t->data[c * 15 + i] - mean[c]) / sqrt (var[c] + 1e-5) * gamma[c] + beta[c]);
    }
  p2p_norm_running_act (t, mean, var, gamma, beta, 1e-5f, 1.0f);
  assert_close (t, want, 1e-5);
}

/* Statistics of channels far from zero (mean 1000, spread 0.01), of odd
 * sizes across several summation blocks: the blocked float sums must keep
 * double-like accuracy against a naive double loop. */
static void
test_norm_statistics_offset (void)
{
  const int shapes[][3] = { { 3, 301, 299 }, { 2, 1, 1 }, { 2, 1, 17 }, { 1, 40, 1025 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autoptr(P2pTensor) t = p2p_tensor_new (shapes[s][0], shapes[s][1], shapes[s][2], NULL);
      const gsize n = (gsize) t->h * t->w;
      double m[3], v[3];
      for (gsize i = 0; i < p2p_tensor_numel (t); i++)
        t->data[i] = (float) (1000.0 + 0.01 * g_rand_double_range (rng, -1, 1) + (i % 7) * 1e-3);
      p2p_norm_statistics (t, m, v);
      for (int c = 0; c < t->c; c++)
        {
          const float *x = t->data + c * n;
          double mean = 0, var = 0;
          for (gsize i = 0; i < n; i++)
            mean += x[i];
          mean /= (double) n;
          for (gsize i = 0; i < n; i++)
            var += (x[i] - mean) * (x[i] - mean);
          var /= (double) n;
          g_assert_cmpfloat_with_epsilon (m[c], mean, 1e-9 * fabs (mean));
          g_assert_cmpfloat_with_epsilon (v[c], var, 1e-4 * var + 1e-12);
        }
    }
}

/* The vectorised tanh against double tanh over [-20, 20] (every 1e-4,
 * an odd count so the tail is used), and its special values. */
static void
test_tanh_range (void)
{
  const gsize n = 400001;
  g_autoptr(P2pTensor) t = p2p_tensor_new (1, 1, (int) n + 5, NULL);
  double worst = 0;
  for (gsize i = 0; i < n; i++)
    t->data[i] = (float) (-20.0 + 1e-4 * i);
  t->data[n] = NAN;
  t->data[n + 1] = INFINITY;
  t->data[n + 2] = -INFINITY;
  t->data[n + 3] = -0.0f;
  t->data[n + 4] = 1e-30f;
  g_autofree float *in = g_memdup2 (t->data, (n + 5) * sizeof (float));
  p2p_tanh (t);
  for (gsize i = 0; i < n; i++)
    worst = MAX (worst, fabs (t->data[i] - tanh ((double) in[i])));
  g_test_message ("tanh: largest absolute error %.3g", worst);
  g_assert_cmpfloat (worst, <, 3e-7);
  g_assert_true (isnan (t->data[n]));
  g_assert_cmpfloat (t->data[n + 1], ==, 1.0f);
  g_assert_cmpfloat (t->data[n + 2], ==, -1.0f);
  g_assert_true (t->data[n + 3] == 0.0f && signbit (t->data[n + 3]));
  g_assert_cmpfloat (fabsf (t->data[n + 4]), <, 1e-6f);
}

/* Leaky ReLU at a size that runs threaded and vectorised, signed zeros and
 * NaN as the plain definition gives them, and a slope above 1. */
static void
test_leaky_relu_large (void)
{
  const float slopes[] = { 0.2f, 0.01f, 1.5f, 0.0f };
  for (guint si = 0; si < G_N_ELEMENTS (slopes); si++)
    {
      g_autoptr(P2pTensor) t = random_tensor (4, 130, 257);
      const gsize n = p2p_tensor_numel (t);
      g_autofree float *want = g_new (float, n);
      t->data[0] = -0.0f;
      t->data[1] = 0.0f;
      t->data[2] = NAN;
      for (gsize i = 0; i < n; i++)
        want[i] = t->data[i] > 0.0f ? t->data[i] : t->data[i] * slopes[si];
      p2p_leaky_relu (t, slopes[si]);
      for (gsize i = 0; i < n; i++)
        {
          if (isnan (want[i]))
            g_assert_true (isnan (t->data[i]));
          else
            g_assert_cmpfloat (t->data[i], ==, want[i]);
          g_assert_cmpint (!!signbit (t->data[i]), ==, !!signbit (want[i]));
        }
    }
}

/* Norm with the activation fused into it: per-image statistics (large
 * enough to run threaded) and running statistics, slopes 1, 0 and 0.2. */
static void
test_norm_act (void)
{
  const float slopes[] = { 1.0f, 0.0f, 0.2f };
  for (guint si = 0; si < G_N_ELEMENTS (slopes); si++)
    for (int running = 0; running < 2; running++)
      {
        const float slope = slopes[si];
        g_autoptr(P2pTensor) t = random_tensor (5, 70, 211);
        g_autoptr(P2pTensor) want = p2p_tensor_new (t->c, t->h, t->w, NULL);
        g_autofree float *gamma = random_floats (t->c);
        g_autofree float *beta = random_floats (t->c);
        float rmean[5], rvar[5];
        const int n = t->h * t->w;
        for (int c = 0; c < t->c; c++)
          {
            double mean = 0, var = 0;
            for (int i = 0; i < n; i++)
              mean += t->data[c * n + i] / (double) n;
            for (int i = 0; i < n; i++)
              var += pow (t->data[c * n + i] - mean, 2) / n;
            rmean[c] = (float) g_rand_double_range (rng, -1, 1);
            rvar[c] = (float) g_rand_double_range (rng, 0.1, 2);
            if (running)
              {
                mean = rmean[c];
                var = rvar[c];
              }
            for (int i = 0; i < n; i++)
              {
                double y = (t->data[c * n + i] - mean) / sqrt (var + 1e-5) * gamma[c] + beta[c];
                want->data[c * n + i] = (float) (y > 0 ? y : y * slope);
              }
          }
        if (running)
          p2p_norm_running_act (t, rmean, rvar, gamma, beta, 1e-5f, slope);
        else
          {
            double mean[5], var[5];
            p2p_norm_statistics (t, mean, var);
            p2p_norm_apply_act (t, mean, var, gamma, beta, 1e-5f, slope);
          }
        assert_close (t, want, 1e-5);
        if (slope == 0.0f)
          for (gsize i = 0; i < p2p_tensor_numel (t); i++)
            g_assert_false (signbit (t->data[i]));   /* ReLU gives +0, never -0 */
      }
}

/* ---- element-wise ------------------------------------------------------ */

static void
test_activations (void)
{
  g_autoptr(P2pTensor) a = random_tensor (3, 4, 5);
  g_autoptr(P2pTensor) b = p2p_tensor_new (3, 4, 5, NULL);
  g_autoptr(P2pTensor) c = p2p_tensor_new (3, 4, 5, NULL);
  g_autoptr(P2pTensor) want = p2p_tensor_new (3, 4, 5, NULL);
  const gsize n = p2p_tensor_numel (a);

  memcpy (b->data, a->data, n * sizeof (float));
  memcpy (c->data, a->data, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    want->data[i] = a->data[i] < 0 ? 0.0f : a->data[i];
  p2p_relu (b);
  assert_close (b, want, 0);

  memcpy (b->data, a->data, n * sizeof (float));
  for (gsize i = 0; i < n; i++)
    want->data[i] = a->data[i] < 0 ? 0.2f * a->data[i] : a->data[i];
  p2p_leaky_relu (b, 0.2f);
  assert_close (b, want, 1e-7);

  for (gsize i = 0; i < n; i++)
    want->data[i] = (float) tanh (a->data[i]);
  p2p_tanh (c);
  assert_close (c, want, 1e-6);
}

static void
test_dropout (void)
{
  g_autoptr(P2pTensor) a = p2p_tensor_new (8, 32, 32, NULL);
  g_autoptr(P2pTensor) b = p2p_tensor_new (8, 32, 32, NULL);
  const gsize n = p2p_tensor_numel (a);
  guint64 s1 = 42, s2 = 42, s3 = 43;
  gsize kept = 0, same = 0;

  for (gsize i = 0; i < n; i++)
    a->data[i] = b->data[i] = 1.0f;
  p2p_dropout (a, &s1);
  p2p_dropout (b, &s2);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (a->data[i] == 0.0f || a->data[i] == 2.0f);
      g_assert_cmpfloat (a->data[i], ==, b->data[i]);   /* same seed, same mask */
      kept += a->data[i] != 0.0f;
    }
  /* p = 0.5 within 5 sigma (sigma = sqrt(n)/2 = 45) */
  g_assert_cmpint (ABS ((gssize) kept - (gssize) n / 2), <, 230);

  for (gsize i = 0; i < n; i++)
    b->data[i] = 1.0f;
  p2p_dropout (b, &s3);
  for (gsize i = 0; i < n; i++)
    same += a->data[i] == b->data[i];
  g_assert_cmpint (same, <, n * 3 / 4);   /* another seed, another mask */
}

static void
test_pad_reflect (void)
{
  const int shapes[][4] = { { 2, 5, 6, 3 }, { 1, 2, 2, 1 }, { 3, 4, 9, 3 }, { 1, 8, 2, 1 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      const int pad = shapes[s][3];
      g_autoptr(P2pTensor) in = random_tensor (shapes[s][0], shapes[s][1], shapes[s][2]);
      g_autoptr(P2pTensor) out = p2p_tensor_new (in->c, in->h + 2 * pad, in->w + 2 * pad, NULL);
      p2p_pad_reflect (in, pad, out);
      for (int c = 0; c < in->c; c++)
        for (int y = 0; y < out->h; y++)
          for (int x = 0; x < out->w; x++)
            {
              /* mirror about the edge pixel: -1 -> 1, h -> h-2 */
              int iy = y - pad, ix = x - pad;
              iy = iy < 0 ? -iy : iy >= in->h ? 2 * in->h - 2 - iy : iy;
              ix = ix < 0 ? -ix : ix >= in->w ? 2 * in->w - 2 - ix : ix;
              g_assert_cmpfloat (AT (out, c, y, x), ==, AT (in, c, iy, ix));
            }
    }
}

/* Against the definition: every output pixel is the input pixel at half
 * its coordinates (rounded down), including odd input sizes. */
static void
test_upsample_nearest2x (void)
{
  const int shapes[][3] = { { 2, 5, 6 }, { 1, 1, 1 }, { 3, 4, 9 }, { 1, 7, 2 } };
  for (guint s = 0; s < G_N_ELEMENTS (shapes); s++)
    {
      g_autoptr(P2pTensor) in = random_tensor (shapes[s][0], shapes[s][1], shapes[s][2]);
      g_autoptr(P2pTensor) out = p2p_tensor_new (in->c, 2 * in->h, 2 * in->w, NULL);
      p2p_upsample_nearest2x (in, out);
      for (int c = 0; c < out->c; c++)
        for (int y = 0; y < out->h; y++)
          for (int x = 0; x < out->w; x++)
            g_assert_cmpfloat (AT (out, c, y, x), ==, AT (in, c, y / 2, x / 2));
    }
}

static void
test_add (void)
{
  g_autoptr(P2pTensor) a = random_tensor (2, 3, 4);
  g_autoptr(P2pTensor) c = random_tensor (2, 3, 4);
  g_autoptr(P2pTensor) a_copy = p2p_tensor_new (2, 3, 4, NULL);

  memcpy (a_copy->data, a->data, p2p_tensor_numel (a) * sizeof (float));
  p2p_add_inplace (a, c);
  for (gsize i = 0; i < p2p_tensor_numel (a); i++)
    g_assert_cmpfloat (a->data[i], ==, a_copy->data[i] + c->data[i]);
}

static void
test_tensor_overflow (void)
{
  g_autoptr(GError) error = NULL;
  P2pTensor *t = p2p_tensor_new (G_MAXINT, G_MAXINT, G_MAXINT, &error);
  g_assert_null (t);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
}

/* The arena hands a released block to the next request that fits it, never
 * one over twice the request's size, lets scratch buffers go through it,
 * and lets a tensor outlive it once detached. */
static void
test_arena (void)
{
  g_autoptr(P2pArena) arena = p2p_arena_new ();
  P2pScratch scratch = { 0 };
  P2pTensor *a, *b, *c, *d;
  float *first;

  a = p2p_tensor_new_in (arena, 64, 64, 64, NULL);   /* 256 Ki floats */
  g_assert_nonnull (a);
  g_assert_true (a->arena == arena);
  first = a->data;
  memset (a->data, 0, sizeof (float) * p2p_tensor_numel (a));
  p2p_tensor_free (a);
  g_assert_cmpuint (p2p_arena_cached_bytes (arena), ==, sizeof (float) * 64 * 64 * 64);

  b = p2p_tensor_new_in (arena, 32, 64, 64, NULL);   /* half: reuses the block */
  g_assert_true (b->data == first);
  g_assert_cmpuint (b->cap, ==, 64 * 64 * 64);
  g_assert_cmpuint (p2p_arena_cached_bytes (arena), ==, 0);
  p2p_tensor_free (b);

  c = p2p_tensor_new_in (arena, 16, 64, 64, NULL);   /* a quarter: a block of its own */
  g_assert_true (c->data != first);
  g_assert_cmpuint (c->cap, ==, 16 * 64 * 64);
  c->data[p2p_tensor_numel (c) - 1] = 1.0f;          /* ASan: the whole block is there */

  scratch.arena = arena;
  g_assert_true (p2p_scratch_ensure (&scratch, 200000, NULL));
  g_assert_true (scratch.data == first);             /* the cached 256 Ki block */
  g_assert_cmpuint (scratch.n, ==, 64 * 64 * 64);
  p2p_scratch_clear (&scratch);

  d = p2p_tensor_new_in (arena, 3, 5, 7, NULL);      /* small: plain malloc, not cached */
  p2p_tensor_free (d);
  g_assert_cmpuint (p2p_arena_cached_bytes (arena), ==, sizeof (float) * 64 * 64 * 64);

  p2p_tensor_detach (c);
  g_clear_pointer (&arena, p2p_arena_free);
  c->data[0] = 2.0f;                                 /* still valid: valgrind/ASan check */
  p2p_tensor_free (c);

  a = p2p_tensor_new_in (NULL, 2, 3, 4, NULL);       /* no arena: as p2p_tensor_new */
  g_assert_null (a->arena);
  p2p_tensor_free (a);

  /* keep 2 holds a block that a larger request cannot use, keep 1 (one
   * pass) lets it go rather than exceed the largest live total */
  for (guint keep = 1; keep <= 2; keep++)
    {
      arena = p2p_arena_new_full (keep);
      a = p2p_tensor_new_in (arena, 64, 64, 64, NULL);
      p2p_tensor_free (a);
      b = p2p_tensor_new_in (arena, 3 * 64, 64, 64, NULL);
      g_assert_cmpuint (p2p_arena_cached_bytes (arena), ==,
                        keep == 1 ? 0 : sizeof (float) * 64 * 64 * 64);
      p2p_tensor_free (b);
      g_clear_pointer (&arena, p2p_arena_free);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  rng = g_rand_new_with_seed (1234);

  for (guint i = 0; i < G_N_ELEMENTS (conv_cases); i++)
    {
      const ConvCase *c = &conv_cases[i];
      g_autofree char *path = g_strdup_printf ("/conv2d/%dx%d/k%d-s%d-p%d/%d-to-%d",
                                               c->h, c->w, c->k, c->s, c->p, c->cin, c->cout);
      g_test_add_data_func (path, c, test_conv2d);
    }
  g_test_add_func ("/conv2d/banded", test_conv2d_banded);
  for (guint i = 0; i < G_N_ELEMENTS (convt_cases); i++)
    {
      const ConvTCase *c = &convt_cases[i];
      g_autofree char *path = g_strdup_printf ("/conv-transpose2d/%dx%d/k%d-s%d-p%d-op%d/%d-to-%d",
                                               c->h, c->w, c->k, c->s, c->p, c->op, c->cin, c->cout);
      g_test_add_data_func (path, c, test_conv_transpose2d);
    }
  g_test_add_func ("/conv-transpose2d/banded", test_conv_transpose2d_banded);
  for (guint i = 0; i < G_N_ELEMENTS (winograd_conv_cases); i++)
    {
      const ConvCase *c = &winograd_conv_cases[i];
      g_autofree char *path = g_strdup_printf ("/winograd/conv2d/%dx%d/k%d-s%d-p%d/%d-to-%d",
                                               c->h, c->w, c->k, c->s, c->p, c->cin, c->cout);
      g_test_add_data_func (path, c, test_conv2d_winograd);
    }
  for (guint i = 0; i < G_N_ELEMENTS (winograd_convt_cases); i++)
    {
      const ConvTCase *c = &winograd_convt_cases[i];
      g_autofree char *path = g_strdup_printf ("/winograd/conv-transpose2d/%dx%d/k%d-s%d-p%d-op%d/%d-to-%d",
                                               c->h, c->w, c->k, c->s, c->p, c->op, c->cin, c->cout);
      g_test_add_data_func (path, c, test_conv_transpose2d_winograd);
    }
  g_test_add_func ("/winograd/banded", test_winograd_banded);
  g_test_add_func ("/winograd/random", test_winograd_random);
  g_test_add_func ("/winograd/f4x4-3x3", test_conv2d_winograd4);
  g_test_add_func ("/winograd/choice", test_winograd_choice);
  g_test_add_func ("/conv2d/direct", test_conv2d_direct);
  g_test_add_func ("/gemm/skinny", test_gemm_skinny);
  g_test_add_func ("/norm/instance", test_norm_instance);
  g_test_add_func ("/norm/running", test_norm_running);
  g_test_add_func ("/norm/with-activation", test_norm_act);
  g_test_add_func ("/norm/statistics-offset", test_norm_statistics_offset);
  g_test_add_func ("/activation/leaky-relu-large", test_leaky_relu_large);
  g_test_add_func ("/activation/tanh-range", test_tanh_range);
  g_test_add_func ("/activation/relu-leaky-tanh", test_activations);
  g_test_add_func ("/activation/dropout", test_dropout);
  g_test_add_func ("/pad/reflect", test_pad_reflect);
  g_test_add_func ("/upsample/nearest2x", test_upsample_nearest2x);
  g_test_add_func ("/add/residual", test_add);
  g_test_add_func ("/tensor/overflow", test_tensor_overflow);
  g_test_add_func ("/tensor/arena", test_arena);

  int ret = g_test_run ();
  g_rand_free (rng);
  return ret;
}
