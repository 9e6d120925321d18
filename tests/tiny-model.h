/* tiny-model.h - small random-weight models built in memory for tests.
 *
 * Writes a gimp-pix2pix safetensors file (models/FORMAT.md) for a U-Net or
 * ResNet generator with instance norm (conv biases everywhere, no norm
 * tensors) or no norm (biases only on the last layer), and no dropout,
 * weights drawn from a seeded generator.  Note that instance norm after the
 * first conv makes a net blind to an affine change of its input; tests of
 * the input mapping need norm "none".  Tensor
 * names follow the PyTorch state_dict keys of the reference generators
 * (pix2pix-reference.md §4).  The numbers are meaningless; the point is a
 * model the engine accepts, fast enough to run many times in a test.
 */
#pragma once

#include <glib.h>

typedef struct {
  const char *arch;        /* "resnet_1blocks", "unet_32", "unet_rc_32", ... */
  int         ngf;
  int         input_nc;
  int         output_nc;
  const char *task;        /* "generic", "sketch-to-photo", "colorize" */
  int         native_size;
  guint32     seed;
  const char *norm;        /* "instance" (NULL) or "none" */
  int         resize_max_size; /* metadata "resize_max_size", 0: not given */
  int         unhinted_chroma_percent; /* metadata "unhinted_chroma_percent", 0: not given */
  int         unhinted_chroma_target;  /* metadata "unhinted_chroma_target", 0: not given */
} TinyModelSpec;

/* Returns the whole file. */
GBytes  *tiny_model_build (const TinyModelSpec *spec);

gboolean tiny_model_write (const TinyModelSpec *spec, const char *path, GError **error);
