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

typedef enum { P2P_ARCH_UNET, P2P_ARCH_RESNET, P2P_ARCH_UNET_RC } P2pArch;
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
  P2P_SPACE_LAB_L_HINTS, /* 4 channels: L / 50 - 1, colour hints' a / 110 and b / 110 (0
                            where there is none), and their mask (1 at a hint, else 0) */
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
  int         resize_max_size; /* resize mode at the default network size: larger
                                  images run at their longer side up to this
                                  (metadata "resize_max_size"); 0 = always
                                  native_size.  See p2p_model_resize_side(). */
  int         unhinted_chroma_percent; /* colorize: the colour strength of a run
                                  without hints, in percent of the predicted
                                  (a, b) (metadata "unhinted_chroma_percent";
                                  100 when absent); the user's chroma
                                  multiplies it.  See P2pPipelineOptions. */
  int         unhinted_chroma_target; /* colorize: when not 0, a run without hints
                                  gets a gain per image instead: what brings the
                                  mean chroma (Lab) of the prediction up to this,
                                  from 1 to unhinted_chroma_percent / 100 (metadata
                                  "unhinted_chroma_target"; 0 when absent). */
  const char *name;          /* display name (UTF-8) */
  const char *license;
  const char *description;
  guint64     n_params;      /* learnable parameters */
} P2pModelInfo;

typedef struct _P2pModel P2pModel;

/* Loads a model file (or a PyTorch checkpoint, see below).  (transfer full) */
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

/* The smallest side of at least @side that the net takes: a multiple of
 * p2p_model_size_multiple(), at least p2p_model_min_size(). */
int       p2p_model_fit_side      (const P2pModel *model, int side);

/* The largest "resize_max_size" a model may declare. */
#define P2P_RESIZE_MAX_SIZE_LIMIT 4096
/* The range of "unhinted_chroma_percent". */
#define P2P_UNHINTED_CHROMA_PERCENT_MIN 100
#define P2P_UNHINTED_CHROMA_PERCENT_MAX 400
/* The range of "unhinted_chroma_target" (mean Lab chroma). */
#define P2P_UNHINTED_CHROMA_TARGET_MIN 1
#define P2P_UNHINTED_CHROMA_TARGET_MAX 100

/* Resize mode with no network size given: the side of the square the net
 * runs at for a @width x @height image.  The native size, rounded up to
 * what the net takes; for a model with resize_max_size, an image whose
 * longer side is larger runs at that side, rounded down to the size
 * multiple, up to resize_max_size: a large drawing is seen with more of
 * its detail, an image no larger than the native size runs at it. */
int       p2p_model_resize_side   (const P2pModel *model, int width, int height);

/* Multiply-adds of one pass at h x w (dense count, see the reference doc). */
guint64   p2p_model_macs       (const P2pModel *model, int h, int w);

/* Name tables for the enums above (e.g. for `pix2pix-cli info`). */
const char *p2p_task_to_string  (P2pTask task);
const char *p2p_norm_to_string  (P2pNorm norm);
const char *p2p_space_to_string (P2pSpace space);

/* ---- PyTorch checkpoints (p2p-pth.c) ----------------------------------
 *
 * An official pix2pix / CycleGAN generator checkpoint (latest_net_G.pth: a
 * bare state_dict written by torch.save, in the zip format of PyTorch >= 1.6
 * or the legacy pickle sequence) is read without Python: only the pickle
 * subset that state_dicts use is understood, nothing named in the file is
 * ever executed.  The architecture, ngf, channel counts, norm and (ResNet)
 * dropout are detected from the keys; what the keys cannot tell comes from
 * the options.  p2p_model_load() also accepts such files, with the default
 * options. */

typedef enum {
  P2P_IMPORT_DTYPE_KEEP,   /* the checkpoint's own type (F64 becomes F32) */
  P2P_IMPORT_DTYPE_F32,
  P2P_IMPORT_DTYPE_F16,
  P2P_IMPORT_DTYPE_BF16,
} P2pImportDtype;

typedef struct {
  int            task;        /* a P2pTask, or -1 (default): colorize for a
                                 1 -> 2 channel generator, else generic */
  const char    *name;        /* NULL: from the file name */
  const char    *license;     /* NULL: "unknown (see the model's source)" */
  const char    *description; /* optional */
  const char    *source;      /* optional, e.g. where the weights came from */
  int            native_size; /* 0: 2^depth for a U-Net, 256 for a ResNet */
  int            dropout;     /* U-Net only (its keys do not show it): -1
                                 (default) = yes with batch norm, as pix2pix
                                 trains; 0 or 1 to say */
  P2pImportDtype dtype;
} P2pImportOptions;

void      p2p_import_options_init (P2pImportOptions *opts);

/* Reads @path and returns the model in our safetensors format (transfer
 * full), e.g. for writing with g_file_set_contents().  @opts may be NULL.
 * The bytes have not been through the loader yet: p2p_model_new_from_bytes()
 * validates them. */
GBytes   *p2p_model_convert_pth   (const char              *path,
                                   const P2pImportOptions  *opts,
                                   GError                 **error);
/* Same, loaded as a model.  (transfer full) */
P2pModel *p2p_model_import_pth    (const char              *path,
                                   const P2pImportOptions  *opts,
                                   GError                 **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (P2pModel, p2p_model_free)

G_END_DECLS
