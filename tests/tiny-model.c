/* tiny-model.c - small random-weight models for tests (see tiny-model.h). */
#include <math.h>
#include <string.h>
#include "tiny-model.h"
#include "arch/p2p-arch.h"

typedef struct {
  GString *json;      /* tensor entries, comma-separated */
  GByteArray *data;
  GRand *rand;
  gboolean bias;     /* conv biases (instance norm); the last layer always has one */
} TinyWriter;

static void
tiny_add (TinyWriter *w, const char *name, int d0, int d1, int d2, int d3, double scale)
{
  int dims[4] = { d0, d1, d2, d3 };
  int nd = 0;
  gsize n = 1, begin = w->data->len;
  GString *shape = g_string_new (NULL);

  for (int i = 0; i < 4 && dims[i] > 0; i++, nd++)
    {
      g_string_append_printf (shape, "%s%d", i ? ", " : "", dims[i]);
      n *= (gsize) dims[i];
    }
  for (gsize i = 0; i < n; i++)
    {
      float v = (float) g_rand_double_range (w->rand, -scale, scale);
      guint32 bits;

      memcpy (&bits, &v, 4);
      bits = GUINT32_TO_LE (bits);
      g_byte_array_append (w->data, (const guint8 *) &bits, 4);
    }
  g_string_append_printf (w->json, "%s\"%s\": {\"dtype\": \"F32\", \"shape\": [%s], "
                          "\"data_offsets\": [%" G_GSIZE_FORMAT ", %" G_GSIZE_FORMAT "]}",
                          w->json->len ? ", " : "", name, shape->str, begin, (gsize) w->data->len);
  g_string_free (shape, TRUE);
}

/* Conv2d [out, in, k, k] (ConvTranspose2d is [in, out, k, k]) + bias
 * [bias_n]; a negative bias_n forces the bias (last layers). */
static void
tiny_conv (TinyWriter *w, const char *prefix, int a, int b, int k, int bias_n)
{
  g_autofree char *wn = g_strconcat (prefix, "weight", NULL);
  g_autofree char *bn = g_strconcat (prefix, "bias", NULL);

  /* Roughly unit-variance activations: scale by 1 / sqrt(fan-in). */
  tiny_add (w, wn, a, b, k, k, 1.7 / sqrt ((double) MIN (a, b) * k * k + 1.0));
  if (bias_n < 0)
    tiny_add (w, bn, -bias_n, 0, 0, 0, 0.1);
  else if (w->bias)
    tiny_add (w, bn, bias_n, 0, 0, 0, 0.1);
}

static void
tiny_resnet (TinyWriter *w, const TinyModelSpec *s, int blocks)
{
  int c = s->ngf;
  char p[64];

  tiny_conv (w, "model.1.", c, s->input_nc, 7, c);
  tiny_conv (w, "model.4.", 2 * c, c, 3, 2 * c);
  tiny_conv (w, "model.7.", 4 * c, 2 * c, 3, 4 * c);
  for (int b = 0; b < blocks; b++)
    {
      g_snprintf (p, sizeof p, "model.%d.conv_block.1.", 10 + b);
      tiny_conv (w, p, 4 * c, 4 * c, 3, 4 * c);
      g_snprintf (p, sizeof p, "model.%d.conv_block.5.", 10 + b);
      tiny_conv (w, p, 4 * c, 4 * c, 3, 4 * c);
    }
  g_snprintf (p, sizeof p, "model.%d.", 10 + blocks);
  tiny_conv (w, p, 4 * c, 2 * c, 3, 2 * c);
  g_snprintf (p, sizeof p, "model.%d.", 13 + blocks);
  tiny_conv (w, p, 2 * c, c, 3, c);
  g_snprintf (p, sizeof p, "model.%d.", 17 + blocks);
  tiny_conv (w, p, s->output_nc, c, 7, -s->output_nc);
}

/* resize_conv: unet_rc_N, whose up layers are 3x3 convolutions [out, in, 3, 3]. */
static void
tiny_unet (TinyWriter *w, const TinyModelSpec *s, int depth, gboolean resize_conv)
{
  int ngf = s->ngf;

  tiny_conv (w, "model.model.0.", ngf, s->input_nc, 4, ngf);
  for (int k = 2; k <= depth; k++)
    {
      g_autofree char *p = p2p_unet_key_prefix (k);
      int outer = ngf * MIN (1 << (k - 2), 8);
      int inner = ngf * MIN (1 << (k - 1), 8);
      g_autofree char *down = NULL;
      g_autofree char *up = NULL;

      down = g_strconcat (p, "1.", NULL);
      tiny_conv (w, down, inner, outer, 4, inner);
      if (k == depth)
        {
          up = g_strconcat (p, "3.", NULL);
          if (resize_conv)
            tiny_conv (w, up, outer, inner, 3, outer);
          else
            tiny_conv (w, up, inner, outer, 4, outer);
        }
      else
        {
          up = g_strconcat (p, "5.", NULL);
          if (resize_conv)
            tiny_conv (w, up, outer, 2 * inner, 3, outer);
          else
            tiny_conv (w, up, 2 * inner, outer, 4, outer);
        }
    }
  if (resize_conv)
    tiny_conv (w, "model.model.3.", s->output_nc, 2 * ngf, 3, -s->output_nc);
  else
    tiny_conv (w, "model.model.3.", 2 * ngf, s->output_nc, 4, -s->output_nc);
}

/* An optional metadata entry: inside the metadata object, before its
 * closing brace (the header ends in "}, " there). */
static void
append_meta_int (GString *header, const char *key, int value)
{
  g_string_truncate (header, header->len - 3);
  g_string_append_printf (header, ", \"%s\": \"%d\"}, ", key, value);
}

GBytes *
tiny_model_build (const TinyModelSpec *spec)
{
  TinyWriter w;
  gboolean colorize = g_strcmp0 (spec->task, "colorize") == 0;
  g_autoptr(GString) header = g_string_new ("{\"__metadata__\": {");
  guint64 len;
  GByteArray *file;
  guint64 v;

  w.json = g_string_new (NULL);
  w.data = g_byte_array_new ();
  w.rand = g_rand_new_with_seed (spec->seed);
  w.bias = g_strcmp0 (spec->norm, "none") != 0;

  if (g_str_has_prefix (spec->arch, "unet_rc_"))
    {
      v = g_ascii_strtoull (spec->arch + 8, NULL, 10);
      tiny_unet (&w, spec, g_bit_nth_msf (v, -1), TRUE);
    }
  else if (g_str_has_prefix (spec->arch, "unet_"))
    {
      v = g_ascii_strtoull (spec->arch + 5, NULL, 10);
      tiny_unet (&w, spec, g_bit_nth_msf (v, -1), FALSE);
    }
  else
    {
      v = g_ascii_strtoull (spec->arch + 7, NULL, 10);
      tiny_resnet (&w, spec, (int) v);
    }

  g_string_append_printf (header,
                          "\"format\": \"gimp-pix2pix\", \"format_version\": \"1\", "
                          "\"arch\": \"%s\", \"ngf\": \"%d\", \"input_nc\": \"%d\", "
                          "\"output_nc\": \"%d\", \"norm\": \"%s\", \"dropout\": \"false\", "
                          "\"task\": \"%s\", \"input_space\": \"%s\", \"output_space\": \"%s\", "
                          "\"native_size\": \"%d\", \"name\": \"Tiny test model\", "
                          "\"license\": \"CC0-1.0\", \"description\": \"Random weights, for tests\"}, ",
                          spec->arch, spec->ngf, spec->input_nc, spec->output_nc,
                          w.bias ? "instance" : "none", spec->task,
                          colorize ? (spec->input_nc == 4 ? "lab_l_hints" : "lab_l") : "rgb",
                          colorize ? "lab_ab" : "rgb",
                          spec->native_size);
  if (spec->resize_max_size > 0)
    append_meta_int (header, "resize_max_size", spec->resize_max_size);
  if (spec->unhinted_chroma_percent > 0)
    append_meta_int (header, "unhinted_chroma_percent", spec->unhinted_chroma_percent);
  if (spec->unhinted_chroma_target > 0)
    append_meta_int (header, "unhinted_chroma_target", spec->unhinted_chroma_target);
  g_string_append (header, w.json->str);
  g_string_append (header, "}");
  /* Pad the header to 8 bytes, as the safetensors writers do. */
  while (header->len % 8)
    g_string_append_c (header, ' ');

  file = g_byte_array_new ();
  len = GUINT64_TO_LE ((guint64) header->len);
  g_byte_array_append (file, (const guint8 *) &len, 8);
  g_byte_array_append (file, (const guint8 *) header->str, header->len);
  g_byte_array_append (file, w.data->data, w.data->len);

  g_string_free (w.json, TRUE);
  g_byte_array_unref (w.data);
  g_rand_free (w.rand);
  return g_byte_array_free_to_bytes (file);
}

gboolean
tiny_model_write (const TinyModelSpec *spec, const char *path, GError **error)
{
  g_autoptr(GBytes) bytes = tiny_model_build (spec);
  gsize n;
  const char *data = g_bytes_get_data (bytes, &n);

  return g_file_set_contents (path, data, n, error);
}
