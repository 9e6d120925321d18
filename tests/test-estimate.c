/* test-estimate.c - p2p_pipeline_estimate() against real runs.
 *
 * The estimate decides whether a run is refused for memory and what the
 * plug-in's dialog shows, so it is checked against the peak memory real
 * runs reach: the process's peak resident set (VmHWM, reset through
 * /proc/self/clear_refs just before the run) minus what it held before.
 * The estimate must lie within a factor of the measurement: at least
 * MIN_RATIO of it (an estimate far below the truth lets runs through that
 * swap or fail) and at most MAX_RATIO (one far above refuses runs that would
 * fit).  The cases are large enough (50-700 MB) that the allocator's own
 * slack is small beside them.  Left out under valgrind and ASan, whose
 * memory is not the program's.
 *
 * Also: the multiply-adds are the architecture's formula summed over the
 * passes; refusal by options->max_memory happens before the reader is
 * called, with a message naming both sizes; the estimate follows the
 * network size (the issue's 8192 on a 512 x 512 photo).
 */
#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <math.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <glib.h>

#include "p2p.h"
#include "tiny-model.h"

#if defined(__SANITIZE_ADDRESS__)
#define P2P_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define P2P_UNDER_ASAN 1
#endif
#endif

/* Seen: 1.00-1.17 in resize and whole mode; tile mode 1.19 and 1.43 (its
 * estimate lets the tile arena keep twice its peak, which the runs here
 * did not need) - stable on Debian 12 and 13, and 1.10 once on 13.  The
 * upper bound leaves tile mode room on CPUs whose convolution scratch
 * differs.  Still able to fail: without the convolution scratch term
 * whole mode comes to 0.81. */
#define MIN_RATIO 0.9
#define MAX_RATIO 1.6

static P2pModel *
load_tiny (const char *arch, int ngf, const char *task, int in_nc, int out_nc, int native)
{
  TinyModelSpec spec = { arch, ngf, in_nc, out_nc, task, native, 7, "instance" };
  g_autoptr(GBytes) bytes = tiny_model_build (&spec);
  g_autoptr(GError) error = NULL;
  P2pModel *model = p2p_model_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return model;
}

/* kB from a "Name:   1234 kB" line of /proc/self/status. */
static guint64
status_kb (const char *name)
{
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents ("/proc/self/status", &text, NULL, NULL) ||
      !(line = strstr (text, name)))
    return 0;
  return g_ascii_strtoull (line + strlen (name) + 1, NULL, 10);
}

/* (g_file_set_contents would write a new file and rename it) */
static gboolean
reset_peak (void)
{
  FILE *f = fopen ("/proc/self/clear_refs", "w");
  gboolean ok;

  if (!f)
    return FALSE;
  ok = fputs ("5", f) >= 0;
  return fclose (f) == 0 && ok;
}

typedef struct {
  const float *in;
  int          width, channels;
} Rows;

static gboolean
read_rows (P2pInput input, int y, int n_rows, float *rows, gpointer data, GError **error)
{
  const Rows *r = data;

  memcpy (rows, r->in + (gsize) y * r->width * r->channels,
          (gsize) n_rows * r->width * r->channels * sizeof (float));
  return TRUE;
}

static gboolean
write_rows (int y, int n_rows, const float *rows, int channels, gpointer data, GError **error)
{
  return TRUE;   /* the caller's buffer is not the run's memory */
}

typedef struct {
  const char *name;
  const char *arch;
  int         ngf;
  const char *task;
  int         in_nc, out_nc, native;
  int         width, height, channels;
  P2pSizeMode mode;
  int         net_size;   /* resize; tile mode: the tile size */
  gboolean    streamed;   /* p2p_pipeline_run_rows(), else p2p_pipeline_run() */
} PeakCase;

static const PeakCase peak_cases[] = {
  /* the issue's case: a small photo at a large network size */
  { "unet-resize-2048-rows", "unet_128", 8, "sketch-to-photo", 3, 3, 128, 512, 512, 3,
    P2P_SIZE_MODE_RESIZE, 2048, TRUE },
  { "unet-colorize-resize-2048-rows", "unet_128", 8, "colorize", 1, 2, 128, 300, 200, 3,
    P2P_SIZE_MODE_RESIZE, 2048, TRUE },
  { "unet-whole-1536x1280-rows", "unet_128", 8, "sketch-to-photo", 3, 3, 128, 1500, 1250, 4,
    P2P_SIZE_MODE_WHOLE, 0, TRUE },
  { "unet-colorize-whole-1800x1400", "unet_128", 8, "colorize", 1, 2, 128, 1800, 1400, 3,
    P2P_SIZE_MODE_WHOLE, 0, FALSE },
  { "unet-tile-2400x1600-rows", "unet_128", 8, "sketch-to-photo", 3, 3, 128, 2400, 1600, 3,
    P2P_SIZE_MODE_TILE, 768, TRUE },
  { "unet-colorize-tile-2000x1500", "unet_128", 8, "colorize", 1, 2, 128, 2000, 1500, 4,
    P2P_SIZE_MODE_TILE, 512, FALSE },
  { "resnet-whole-1024", "resnet_2blocks", 8, "generic", 3, 3, 256, 1024, 1024, 3,
    P2P_SIZE_MODE_WHOLE, 0, TRUE },
  { "resnet-resize-1536", "resnet_2blocks", 8, "generic", 3, 3, 256, 400, 300, 3,
    P2P_SIZE_MODE_RESIZE, 1536, FALSE },
};

static void
measure_peak (const PeakCase *pc)
{
  g_autoptr(P2pModel) model = NULL;
  g_autoptr(P2pImage) input = NULL;
  g_autoptr(P2pImage) out = NULL;
  g_autoptr(GError) error = NULL;
  P2pPipelineOptions options;
  P2pRunEstimate est;
  guint64 before_kb = 0, peak_kb;
  double measured, ratio;

  model = load_tiny (pc->arch, pc->ngf, pc->task, pc->in_nc, pc->out_nc, pc->native);
  input = p2p_image_new (pc->width, pc->height, pc->channels, &error);
  g_assert_no_error (error);
  for (gsize i = 0; i < (gsize) pc->width * pc->height * pc->channels; i++)
    input->data[i] = (float) ((i * 2654435761u) % 1000) / 1000.0f;   /* touched */

  p2p_pipeline_options_init (&options);
  options.size_mode = pc->mode;
  if (pc->mode == P2P_SIZE_MODE_TILE)
    options.tile_size = pc->net_size;
  else
    options.net_size = pc->net_size;
  g_assert_true (p2p_pipeline_estimate (model, pc->width, pc->height, pc->channels, &options,
                                        pc->streamed, &est, &error));
  g_assert_no_error (error);

  /* The case's own run first, unmeasured: the BLAS and thread pools make
   * their buffers (per thread, sized by the CPU's blocking and the shapes
   * they see) on first use and keep them; they are no part of what the
   * estimate covers.  A small warm-up run was not enough: Debian 13's CI
   * stage still failed the first case, on a CPU whose blocking differs
   * from this machine's.  With glibc's mmap threshold fixed (it otherwise
   * rises to the largest block freed, and the warm-up's freed blocks would
   * then stay resident and be reused unseen), every large block of the
   * measured run is mapped fresh and counted. */
#ifdef __GLIBC__
  g_assert_cmpint (mallopt (M_MMAP_THRESHOLD, 64 * 1024), ==, 1);
  g_assert_cmpint (mallopt (M_TRIM_THRESHOLD, 64 * 1024), ==, 1);
#endif
  for (int pass = 0; pass < 2; pass++)
    {
      g_clear_pointer (&out, p2p_image_free);   /* (the first run's result) */
      if (pass == 1)
        {
          g_assert_true (reset_peak ());
          before_kb = status_kb ("VmRSS:");
        }
      if (pc->streamed)
        {
          Rows r = { input->data, pc->width, pc->channels };
          g_assert_true (p2p_pipeline_run_rows (model, pc->width, pc->height, pc->channels,
                                                read_rows, write_rows, &r, &options, &error));
        }
      else
        out = p2p_pipeline_run (model, input, &options, &error);
      g_assert_no_error (error);
    }
  peak_kb = status_kb ("VmHWM:");

  measured = (double) (peak_kb - MIN (peak_kb, before_kb)) * 1024.0;
  ratio = est.peak_bytes / MAX (measured, 1.0);
  /* (on stderr: a subprocess's g_test_message goes nowhere) */
  g_printerr ("# %s: net %d x %d, %d passes, %.2f G MACs; estimate %.1f MB, measured "
                  "%.1f MB (before %.1f MB): ratio %.2f\n", pc->name, est.net_width,
                  est.net_height, est.passes, est.macs / 1e9, est.peak_bytes / 1e6,
                  measured / 1e6, before_kb / 1e3, ratio);
  g_assert_cmpfloat (ratio, >=, MIN_RATIO);
  g_assert_cmpfloat (ratio, <=, MAX_RATIO);
}

/* Each case in a fresh process: memory an earlier case freed may stay with
 * the allocator and be reused unseen. */
static void
test_peak (gconstpointer data)
{
  if (!g_test_subprocess ())
    {
#ifdef P2P_UNDER_ASAN
      g_test_skip ("ASan's allocator is not the program's memory");
      return;
#endif
      if (g_getenv ("P2P_UNDER_VALGRIND"))
        {
          g_test_skip ("valgrind's memory is not the program's");
          return;
        }
      if (!reset_peak () || status_kb ("VmHWM:") == 0)
        {
          g_test_skip ("this system cannot reset or read the peak resident set");
          return;
        }
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT |
                                       G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
#ifdef __linux__
  /* GLib (2.78 on) makes a test subprocess non-dumpable so that an expected
   * crash leaves no core; Linux then gives its /proc/self files to root,
   * and clear_refs is refused to any other user (the Debian 13 CI stage
   * runs the tests as one: its only failure).  This child needs them. */
  g_assert_cmpint (prctl (PR_SET_DUMPABLE, 1, 0, 0, 0), ==, 0);
#endif
  measure_peak (data);
}

/* The multiply-adds are the architecture's cost formula (p2p_model_macs)
 * over the passes the mode makes. */
static void
test_macs (void)
{
  g_autoptr(P2pModel) model = load_tiny ("unet_128", 8, "sketch-to-photo", 3, 3, 128);
  g_autoptr(GError) error = NULL;
  P2pPipelineOptions options;
  P2pRunEstimate est;

  p2p_pipeline_options_init (&options);
  g_assert_true (p2p_pipeline_estimate (model, 512, 512, 3, &options, TRUE, &est, &error));
  g_assert_cmpuint (est.macs, ==, p2p_model_macs (model, 128, 128));
  g_assert_cmpint (est.passes, ==, 1);
  g_assert_cmpint (est.net_width, ==, 128);

  options.net_size = 8192;
  g_assert_true (p2p_pipeline_estimate (model, 512, 512, 3, &options, TRUE, &est, &error));
  g_assert_cmpuint (est.macs, ==, p2p_model_macs (model, 8192, 8192));
  g_assert_cmpint (est.net_width, ==, 8192);
  g_assert_cmpfloat (est.seconds, >, 0.0);

  options.size_mode = P2P_SIZE_MODE_WHOLE;
  g_assert_true (p2p_pipeline_estimate (model, 300, 200, 3, &options, TRUE, &est, &error));
  g_assert_cmpuint (est.macs, ==, p2p_model_macs (model, 256, 384));
  g_assert_cmpint (est.net_width, ==, 384);
  g_assert_cmpint (est.net_height, ==, 256);

  /* tile: 2 x 2 tiles of 256 (the default for a 128 model) and the
   * statistics pass on the image itself (it fits in 2 x 2 tiles) */
  options.size_mode = P2P_SIZE_MODE_TILE;
  g_assert_true (p2p_pipeline_estimate (model, 400, 400, 3, &options, TRUE, &est, &error));
  g_assert_cmpint (est.passes, ==, 5);
  g_assert_cmpuint (est.macs, ==, p2p_model_macs (model, 512, 512) +
                                  4 * p2p_model_macs (model, 256, 256));

  /* the run's own refusals */
  options.net_size = -1;
  options.size_mode = P2P_SIZE_MODE_RESIZE;
  g_assert_false (p2p_pipeline_estimate (model, 300, 200, 3, &options, TRUE, &est, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_BAD_INPUT);
}

/* The issue's case: the colorize model's shape (unet_128, ngf 32) at 8192 on
 * a 512 x 512 photo took 8.7 GB; the estimate says so before running. */
static void
test_issue_case (void)
{
  g_autoptr(P2pModel) model = load_tiny ("unet_128", 32, "colorize", 1, 2, 128);
  g_autoptr(GError) error = NULL;
  P2pPipelineOptions options;
  P2pRunEstimate est;

  p2p_pipeline_options_init (&options);
  options.net_size = 8192;
  g_assert_true (p2p_pipeline_estimate (model, 512, 512, 3, &options, TRUE, &est, &error));
  g_test_message ("unet_128 ngf 32 at 8192: %.2f GB, %.0f s", est.peak_bytes / 1e9, est.seconds);
  g_assert_cmpfloat (est.peak_bytes / 1e9, >=, 8.7 * MIN_RATIO);
  g_assert_cmpfloat (est.peak_bytes / 1e9, <=, 8.7 * MAX_RATIO);
}

static gboolean
never_read (P2pInput input, int y, int n_rows, float *rows, gpointer data, GError **error)
{
  g_assert_not_reached ();
  return FALSE;
}

/* A run over the limit is refused before the first row is read, with
 * P2P_ERROR_NO_MEMORY and a message naming both sizes; at the limit it
 * runs. */
static void
test_refuse (void)
{
  g_autoptr(P2pModel) model = load_tiny ("unet_32", 4, "sketch-to-photo", 3, 3, 32);
  g_autoptr(GError) error = NULL;
  g_autoptr(P2pImage) input = p2p_image_new (64, 64, 3, NULL);
  g_autoptr(P2pImage) out = NULL;
  g_autofree char *need = NULL;
  P2pPipelineOptions options;
  P2pRunEstimate est;
  guint64 available;

  p2p_pipeline_options_init (&options);
  options.net_size = 1024;
  g_assert_true (p2p_pipeline_estimate (model, 64, 64, 3, &options, TRUE, &est, &error));
  g_assert_true (est.fits);
  /* The default limit is the memory available now; MemAvailable moves
   * between two reads on a busy machine (CI saw 1 MB), so allow 5 %. */
  available = p2p_available_memory ();
  g_assert_cmpfloat (fabs ((double) est.limit_bytes - (double) available), <=, 0.05 * available);

  options.max_memory = est.peak_bytes - 1;
  g_assert_true (p2p_pipeline_estimate (model, 64, 64, 3, &options, TRUE, &est, &error));
  g_assert_false (est.fits);
  g_assert_false (p2p_pipeline_run_rows (model, 64, 64, 3, never_read, write_rows, NULL,
                                         &options, &error));
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
  g_test_message ("%s", error->message);
  need = g_format_size (est.peak_bytes);
  g_assert_nonnull (strstr (error->message, need));
  g_assert_nonnull (strstr (error->message, "network size"));
  g_clear_error (&error);

  /* p2p_pipeline_run() refuses its own (unstreamed) estimate */
  g_assert_true (p2p_pipeline_estimate (model, 64, 64, 3, &options, FALSE, &est, &error));
  options.max_memory = est.peak_bytes - 1;
  memset (input->data, 0, 64 * 64 * 3 * sizeof (float));
  out = p2p_pipeline_run (model, input, &options, &error);
  g_assert_null (out);
  g_assert_error (error, P2P_ERROR, P2P_ERROR_NO_MEMORY);
  g_clear_error (&error);
  options.max_memory = est.peak_bytes;
  out = p2p_pipeline_run (model, input, &options, &error);
  g_assert_no_error (error);
  g_assert_nonnull (out);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);


  g_test_add_func ("/estimate/macs", test_macs);
  g_test_add_func ("/estimate/issue-case", test_issue_case);
  g_test_add_func ("/estimate/refuse", test_refuse);
  for (guint i = 0; i < G_N_ELEMENTS (peak_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/estimate/peak/%s", peak_cases[i].name);
      g_test_add_data_func (path, &peak_cases[i], test_peak);
    }
  return g_test_run ();
}
