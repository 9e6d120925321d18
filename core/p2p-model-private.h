/* p2p-model-private.h - the resolved layers of a loaded model, for p2p-net.c. */
#pragma once

#include "p2p-model.h"

G_BEGIN_DECLS

#define P2P_UNET_MAX_DEPTH 10
#define P2P_RESNET_MAX_BLOCKS 32

typedef struct {
  const float *weight;   /* conv: [cout, cin, k, k]; conv-transpose: [cin, cout, k, k] */
  const float *bias;     /* [cout] or NULL */
  int cin, cout, k;
} P2pConvW;

/* A norm layer's parameters.  For batch norm all four are set; for
 * instance norm (affine = False) and for norm = none all are NULL. */
typedef struct {
  const float *gamma, *beta, *mean, *var;
} P2pNormW;

/* U-Net level k (index k-1), outermost first. */
typedef struct {
  P2pConvW down;       /* 4x4 s2 p1 conv */
  P2pNormW down_norm;  /* levels 2 .. depth-1 only */
  P2pConvW up;         /* 4x4 s2 p1 conv-transpose */
  P2pNormW up_norm;    /* all levels but the outermost */
  gboolean dropout;    /* middle levels when the model has dropout */
} P2pUnetLevel;

typedef struct {
  P2pConvW conv1, conv2;
  P2pNormW norm1, norm2;
} P2pResBlock;

typedef struct {
  P2pConvW stem;           /* 7x7 after reflect pad 3 */
  P2pNormW stem_norm;
  P2pConvW down[2];        /* 3x3 s2 p1 */
  P2pNormW down_norm[2];
  P2pResBlock blocks[P2P_RESNET_MAX_BLOCKS];
  P2pConvW up[2];          /* 3x3 s2 p1 op1 conv-transpose */
  P2pNormW up_norm[2];
  P2pConvW head;           /* 7x7 after reflect pad 3, then tanh */
} P2pResnet;

const P2pUnetLevel *p2p_model_get_unet   (const P2pModel *model);
const P2pResnet    *p2p_model_get_resnet (const P2pModel *model);

G_END_DECLS
