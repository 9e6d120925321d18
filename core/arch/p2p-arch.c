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
