/* p2p-model.h - generator model files (safetensors, see models/FORMAT.md).
 *
 * A P2pModel is loaded from an untrusted file: every header field, shape,
 * dtype and offset is validated before use, and every failure becomes a
 * GError in P2P_ERROR.  The file is memory mapped; F32 weights are used in
 * place, F16/BF16 weights are widened to F32 once at load time.
 * A loaded model is immutable and may be shared between threads.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum { P2P_ARCH_UNET, P2P_ARCH_RESNET } P2pArch;
typedef enum { P2P_NORM_BATCH, P2P_NORM_INSTANCE, P2P_NORM_NONE } P2pNorm;
typedef enum {
  P2P_TASK_GENERIC,
  P2P_TASK_SKETCH_TO_PHOTO,
  P2P_TASK_COLORIZE,
} P2pTask;
typedef enum {
  P2P_SPACE_RGB,     /* 3 (or input_nc) channels, gamma-encoded sRGB mapped to [-1, 1] */
  P2P_SPACE_LAB_L,   /* 1 channel, L / 50 - 1 */
  P2P_SPACE_LAB_AB,  /* 2 channels, (a, b) / 110 */
} P2pSpace;

typedef struct {
  P2pArch     arch;
  const char *arch_name;     /* "unet_256", "unet_128", "resnet_9blocks", ... */
  int         depth;         /* U-Net: number of downsamplings (8 for unet_256);
                                ResNet: number of residual blocks */
  int         ngf;
  int         input_nc;
  int         output_nc;
  P2pNorm     norm;
  gboolean    use_dropout;   /* dropout layers present */
  P2pTask     task;
  P2pSpace    input_space;
  P2pSpace    output_space;
  int         native_size;   /* training resolution, e.g. 256 */
  const char *name;          /* display name (UTF-8) */
  const char *license;
  const char *description;
  guint64     n_params;      /* learnable parameters */
} P2pModelInfo;

typedef struct _P2pModel P2pModel;

/* Loads a model file.  (transfer full) */
P2pModel *p2p_model_load       (const char *path, GError **error);
/* Same from bytes already in memory (used by tests and fuzzers); the model
 * keeps a reference to @bytes. */
P2pModel *p2p_model_new_from_bytes (GBytes *bytes, GError **error);
void      p2p_model_free       (P2pModel *model);

/* (transfer none), valid as long as the model. */
const P2pModelInfo *p2p_model_get_info (const P2pModel *model);

/* Height and width given to the network must be multiples of this
 * (2^depth for a U-Net, 4 for a ResNet). */
int       p2p_model_size_multiple (const P2pModel *model);
/* ... and at least this large (2^depth for a U-Net; 8 for a ResNet, whose
 * reflection padding at 1/4 resolution needs 2 pixels). */
int       p2p_model_min_size      (const P2pModel *model);

/* Multiply-adds of one pass at h x w (dense count, see the reference doc). */
guint64   p2p_model_macs       (const P2pModel *model, int h, int w);

/* Name tables for the enums above (e.g. for `pix2pix-cli info`). */
const char *p2p_task_to_string  (P2pTask task);
const char *p2p_norm_to_string  (P2pNorm norm);
const char *p2p_space_to_string (P2pSpace space);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pModel, p2p_model_free)

G_END_DECLS
