/* test-guided.c - edge-aware upsampling of colour planes.
 *
 * A full-resolution guide with a sharp vertical edge, and a colour plane
 * known only at 1/8 of the resolution (so its edge is smeared over a
 * low-resolution pixel): the guided upsampling must put the colour edge
 * where the guide's edge is, where plain bicubic upsampling bleeds colour
 * across it; flat colour must stay flat; values never leave the range of
 * the low-resolution neighbours.
 */
#include <math.h>
#include <glib.h>

#include "p2p.h"
#include "p2p-imgproc.h"

#define W 256
#define H 64
#define EDGE 131          /* not on a low-resolution pixel boundary */

static float
truth (int x, int c)
{
  return (float) ((x < EDGE ? 40.0 : -30.0) * (c == 0 ? 1.0 : -0.5));
}

static void
test_edge (void)
{
  g_autoptr(P2pImage) guide = p2p_image_new (W, H, 1, NULL);
  g_autoptr(P2pImage) ab_full = p2p_image_new (W, H, 2, NULL);
  g_autoptr(P2pImage) guide_low = NULL, ab_low = NULL, guided = NULL, bicubic = NULL;
  g_autoptr(GError) error = NULL;
  double err_guided = 0, err_bicubic = 0;

  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      {
        guide->data[y * W + x] = x < EDGE ? 25.0f : 75.0f;
        for (int c = 0; c < 2; c++)
          ab_full->data[(y * W + x) * 2 + c] = truth (x, c);
      }
  guide_low = p2p_image_resize_bicubic (guide, W / 8, H / 8, &error);
  g_assert_no_error (error);
  ab_low = p2p_image_resize_bicubic (ab_full, W / 8, H / 8, &error);
  g_assert_no_error (error);

  guided = p2p_guided_upsample (ab_low, guide_low, guide, 100.0, 2, 1e-3, &error);
  g_assert_no_error (error);
  bicubic = p2p_image_resize_bicubic (ab_low, W, H, &error);
  g_assert_no_error (error);
  g_assert_cmpint (guided->width, ==, W);
  g_assert_cmpint (guided->height, ==, H);
  g_assert_cmpint (guided->channels, ==, 2);

  /* Error within 8 pixels of the edge (away from it both are exact). */
  for (int y = 0; y < H; y++)
    for (int x = EDGE - 8; x < EDGE + 8; x++)
      for (int c = 0; c < 2; c++)
        {
          err_guided = MAX (err_guided, fabs (guided->data[(y * W + x) * 2 + c] - truth (x, c)));
          err_bicubic = MAX (err_bicubic, fabs (bicubic->data[(y * W + x) * 2 + c] - truth (x, c)));
        }
  g_test_message ("max colour error near the edge: guided %.2f, bicubic %.2f", err_guided, err_bicubic);
  g_assert_cmpfloat (err_bicubic, >, 20.0);   /* the test image does show bleeding ... */
  g_assert_cmpfloat (err_guided, <, 3.0);     /* ... which the guide removes */

  /* Far from the edge: the flat colours exactly (within float rounding). */
  for (int y = 0; y < H; y++)
    for (int c = 0; c < 2; c++)
      {
        g_assert_cmpfloat_with_epsilon (guided->data[(y * W + 20) * 2 + c], truth (20, c), 1e-3);
        g_assert_cmpfloat_with_epsilon (guided->data[(y * W + 230) * 2 + c], truth (230, c), 1e-3);
      }
}

/* A guide with texture but colour that is constant: stays constant. */
static void
test_flat_colour (void)
{
  g_autoptr(P2pImage) guide = p2p_image_new (97, 61, 1, NULL);
  g_autoptr(P2pImage) guide_low = NULL, out = NULL;
  g_autoptr(P2pImage) ab_low = p2p_image_new (13, 9, 2, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);

  for (int i = 0; i < 97 * 61; i++)
    guide->data[i] = (float) g_rand_double_range (rand, 0, 100);
  for (int i = 0; i < 13 * 9; i++)
    {
      ab_low->data[2 * i] = 12.5f;
      ab_low->data[2 * i + 1] = -7.0f;
    }
  guide_low = p2p_image_resize_bicubic (guide, 13, 9, NULL);
  out = p2p_guided_upsample (ab_low, guide_low, guide, 100.0, 2, 1e-3, NULL);
  for (int i = 0; i < 97 * 61; i++)
    {
      g_assert_cmpfloat_with_epsilon (out->data[2 * i], 12.5f, 1e-4);
      g_assert_cmpfloat_with_epsilon (out->data[2 * i + 1], -7.0f, 1e-4);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/guided/edge", test_edge);
  g_test_add_func ("/guided/flat-colour", test_flat_colour);
  return g_test_run ();
}
