/* p2p-arch.c - the table of generator architectures. */
#include "p2p-arch.h"

const P2pArchSpec *const p2p_arch_specs[] = {
  &p2p_arch_unet,     /* P2P_ARCH_UNET */
  &p2p_arch_resnet,   /* P2P_ARCH_RESNET */
  NULL,
};

const P2pArchSpec *
p2p_arch_spec (P2pArch arch)
{
  g_return_val_if_fail ((guint) arch < G_N_ELEMENTS (p2p_arch_specs) - 1, NULL);
  g_assert (p2p_arch_specs[arch]->id == arch);
  return p2p_arch_specs[arch];
}

const P2pKeyShape *
p2p_keys_find (GHashTable *keys, const char *name)
{
  return g_hash_table_lookup (keys, name);
}

const P2pKeyShape *
p2p_keys_findf (GHashTable *keys, const char *fmt, ...)
{
  va_list ap;
  g_autofree char *name = NULL;

  va_start (ap, fmt);
  name = g_strdup_vprintf (fmt, ap);
  va_end (ap);
  return p2p_keys_find (keys, name);
}

gboolean
p2p_key_is4d (const P2pKeyShape *k)
{
  return k && k->ndim == 4;
}
