/* p2p-arch.c - the table of generator architectures. */
#include "p2p-arch.h"

/* Indexed by P2pArch (each spec's id is its index); the loader tries the
 * names and the .pth import the keys in this order. */
const P2pArchSpec *const p2p_arch_specs[] = {
  &p2p_arch_unet,     /* P2P_ARCH_UNET */
  &p2p_arch_resnet,   /* P2P_ARCH_RESNET */
  &p2p_arch_unet_rc,  /* P2P_ARCH_UNET_RC */
  NULL,
};
