/* conv-method.c - which way each convolution is computed, in one place:
 * the Winograd rules (measured thresholds), the direct loops for few output
 * channels, im2col + GEMM otherwise, and the environment switches that
 * turn the Winograd paths off or on (P2P_NO_WINOGRAD, P2P_WINOGRAD_ALWAYS).
 * The convolution kernels (winograd.c, winograd4.c, conv2d-direct.c,
 * conv2d.c, conv-transpose2d.c) do not decide and do not read the
 * environment.  One level down, the GEMM's own choice (gemm-skinny.c or
 * OpenBLAS, P2P_NO_SKINNY_GEMM) stays with the GEMM: reading it here would
 * make gemm -> conv-method -> conv -> gemm.
 */
#include "p2p-ops.h"

/* ---- Winograd rules -------------------------------------------------------- */

#define WINOGRAD_ALWAYS (1u << 8)

guint
p2p_winograd_disabled (void)
{
  static gsize once = 0;
  static guint mask;

  if (g_once_init_enter (&once))
    {
      const char *env = g_getenv ("P2P_NO_WINOGRAD");
      guint m = 0;

      if (env && *env && g_strcmp0 (env, "0") != 0)
        {
          g_auto(GStrv) parts = g_strsplit (env, ",", -1);
          for (int i = 0; parts[i]; i++)
            {
              const char *t = g_strstrip (parts[i]);
              if (g_str_equal (t, "3x3"))
                m |= P2P_WINOGRAD_3X3;
              else if (g_str_equal (t, "4x4"))
                m |= P2P_WINOGRAD_4X4;
              else if (g_str_equal (t, "down"))
                m |= P2P_WINOGRAD_DOWN;
              else if (g_str_equal (t, "up"))
                m |= P2P_WINOGRAD_UP;
              else
                m |= P2P_WINOGRAD_ALL;   /* "1", "all", anything else */
            }
        }
      /* P2P_WINOGRAD_ALWAYS=1: every supported layer, whatever its size
       * (tests: the golden networks are too small for the thresholds). */
      if (g_strcmp0 (g_getenv ("P2P_WINOGRAD_ALWAYS"), "1") == 0)
        m |= WINOGRAD_ALWAYS;
      mask = m;
      g_once_init_leave (&once, 1);
    }
  return mask;
}

/* Whether U and one band of one tile row fit in the scratch limit (the
 * engine takes at least one tile row a band, whatever the limit; past it,
 * on very wide images, the direct way keeps its smaller minimum). */
static gboolean
fits_scratch (gint64 T, gint64 cin, gint64 rows, gint64 tw)
{
  return T * (rows * cin + (cin + rows) * tw) <= (gint64) (P2P_SCRATCH_MAX_BYTES / sizeof (float));
}

gboolean
p2p_winograd_pays (const P2pConvParams *p, gboolean transposed,
                   int cin, int cout, int out_h, int out_w)
{
  const guint off = p2p_winograd_disabled ();
  const gint64 tiles = (gint64) ((out_h + 1) / 2) * ((out_w + 1) / 2);

  /* The thresholds, from timing each network layer both ways (one and two
   * threads, best of 5, Zen 3 with OpenBLAS; figures in the commit
   * messages): a few input or output channels (the networks' first and
   * last layers) leave the GEMMs too small to gain from, and few tiles
   * against many channels make U (T x rows x cin floats, bigger than the
   * weights) cost more to make and to stream than the GEMMs save. */
  if (transposed)
    {
      if ((off & P2P_WINOGRAD_UP) || !p2p_winograd_conv_transpose2d_supported (p) ||
          p->kernel != 4 || !fits_scratch (9, cin, 4 * (gint64) cout, (out_w / 2 + 2) / 2))
        return FALSE;
      if (off & WINOGRAD_ALWAYS)
        return TRUE;
      /* grid tiles of each phase: ~ out_h/4 x out_w/4 */
      return cout >= 16 && cin >= 16 &&
             (gint64) ((out_h / 2 + 2) / 2) * ((out_w / 2 + 2) / 2) >= MAX (cin / 2, 64);
    }
  if (p->stride == 1)
    {
      if ((off & P2P_WINOGRAD_3X3) || p->kernel != 3 || !p2p_winograd_conv2d_supported (p) ||
          !fits_scratch (16, cin, cout, (out_w + 1) / 2))
        return FALSE;
    }
  else if ((off & P2P_WINOGRAD_DOWN) || p->kernel != 4 || !p2p_winograd_conv2d_supported (p) ||
           !fits_scratch (9, 4 * (gint64) cin, cout, (out_w + 1) / 2))
    return FALSE;
  if (off & WINOGRAD_ALWAYS)
    return TRUE;
  return cin >= 16 && cout >= 16 && tiles >= 64;
}

gboolean
p2p_winograd4_pays (const P2pConvParams *p, int cin, int cout, int out_h, int out_w, int in_w)
{
  const guint off = p2p_winograd_disabled ();
  const gint64 tiles = (gint64) ((out_h + 3) / 4) * ((out_w + 3) / 4);

  if ((off & (P2P_WINOGRAD_3X3 | P2P_WINOGRAD_4X4)) || !p2p_winograd4_supported (p) ||
      !p2p_winograd4_fits (cin, cout, out_w, in_w))
    return FALSE;
  if (off & WINOGRAD_ALWAYS)
    return TRUE;
  return cin >= 16 && cout >= 16 && tiles >= 64;
}

/* ---- the choice ------------------------------------------------------------ */

/* Winograd (winograd4.c, winograd.c) where it is on and measured faster
 * for the layer, direct loops for stride-1 convs with up to 4 output
 * channels (the ResNet's last layer: ~4x faster than im2col + a 3-row
 * GEMM), else im2col / col2im + GEMM. */
gboolean
p2p_conv2d_best (const P2pTensor *in, const float *weight, const float *bias,
                 const P2pConvParams *p, P2pTensor *out, P2pScratch *scratch, GError **error)
{
  if (p2p_winograd4_pays (p, in->c, out->c, out->h, out->w, in->w))
    return p2p_conv2d_winograd4 (in, weight, bias, p, out, scratch, error);
  if (p2p_winograd_pays (p, FALSE, in->c, out->c, out->h, out->w))
    return p2p_conv2d_winograd (in, weight, bias, p, out, scratch, error);
  if (p2p_conv2d_direct_supported (p, out->c))
    return p2p_conv2d_direct (in, weight, bias, p, out, scratch, error);
  return p2p_conv2d (in, weight, bias, p, out, scratch, error);
}

gboolean
p2p_conv_transpose2d_best (const P2pTensor *in, const float *weight, const float *bias,
                           const P2pConvParams *p, P2pTensor *out, P2pScratch *scratch,
                           GError **error)
{
  if (p2p_winograd_pays (p, TRUE, in->c, out->c, out->h, out->w))
    return p2p_conv_transpose2d_winograd (in, weight, bias, p, out, scratch, error);
  return p2p_conv_transpose2d (in, weight, bias, p, out, scratch, error);
}
