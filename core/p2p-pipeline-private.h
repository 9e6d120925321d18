/* p2p-pipeline-private.h - constants of the pipeline that its tests need
 * (private to the core and its tests). */
#pragma once

#ifndef P2P_COMPILATION
#error "p2p-pipeline-private.h is private to the core (core/ and tests/); include p2p.h"
#endif

/* Tile mode's statistics copy: at most this many tiles a side.  Its pass
 * (1024 x 1024 for the default 512 tiles of a 256 model) sets tile mode's
 * peak memory: 4096 x 4096, unet_256 ngf 64, pix2pix-cli: 623 MB peak RSS
 * with 2, 597 MB with 1 (issue 5's target for 8-bit buffers: 725 MB).  2
 * measures the statistics on four times the pixels for 26 MB. */
#define P2P_TILE_STATS_TILES 2
