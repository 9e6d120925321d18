/* p2p-arch.c - the table of generator architectures. */
#include "p2p-arch.h"

#include <string.h>

/* Indexed by P2pArch (each spec's id is its index); the loader tries the
 * names and the .pth import the keys in this order. */
const P2pArchSpec *const p2p_arch_specs[] = {
  &p2p_arch_unet,     /* P2P_ARCH_UNET */
  &p2p_arch_resnet,   /* P2P_ARCH_RESNET */
  &p2p_arch_unet_rc,  /* P2P_ARCH_UNET_RC */
  NULL,
};

gboolean
p2p_arch_parse_name (const P2pArchSpec *spec, const char *name, int *depth)
{
  const gsize np = strlen (spec->name_prefix), ns = strlen (spec->name_suffix);
  g_autofree char *num = NULL;
  guint64 v;

  if (!name || strlen (name) < np + ns || !g_str_has_prefix (name, spec->name_prefix) ||
      !g_str_has_suffix (name, spec->name_suffix))
    return FALSE;
  num = g_strndup (name + np, strlen (name) - np - ns);
  if (!g_ascii_string_to_unsigned (num, 10, spec->name_min, spec->name_max, &v, NULL))
    return FALSE;
  if (!spec->name_pow2)
    *depth = (int) v;
  else if ((v & (v - 1)) == 0)
    *depth = g_bit_nth_lsf (v, -1);
  else
    return FALSE;
  return TRUE;
}

void
p2p_arch_format_name (const P2pArchSpec *spec, int depth, char *buf, gsize size)
{
  g_snprintf (buf, size, "%s%d%s", spec->name_prefix, spec->name_pow2 ? 1 << depth : depth,
              spec->name_suffix);
}

P2pArchDetect
p2p_arch_detected (P2pArchDetected   *det,
                   int                depth,
                   int                output_nc,
                   const P2pKeyShape *first_conv,
                   const P2pKeyShape *first_bias,
                   const P2pKeyShape *norm_weight)
{
  if (norm_weight && norm_weight->ndim == 1)
    det->norm = P2P_NORM_BATCH;
  else if (first_bias)
    det->norm = P2P_NORM_INSTANCE;
  else
    det->norm = P2P_NORM_NONE;
  det->depth = depth;
  det->ngf = (int) first_conv->shape[0];
  det->input_nc = (int) first_conv->shape[1];
  det->output_nc = output_nc;
  return P2P_ARCH_DETECT_YES;
}
