/* p2p.h - the pix2pix inference core: umbrella header.
 *
 * Plain C11 + GLib + OpenBLAS; no GIMP, GTK or GEGL.
 *
 * Memory model: a P2pModel owns its mapped file and widened weights; a
 * P2pTensor or P2pImage owns its data.  Functions that return a new object
 * say (transfer full): free it with the matching _free(), or use g_autoptr.
 *
 * Typical use:
 *   g_autoptr(P2pModel) model = p2p_model_load ("colorize.safetensors", &error);
 *   P2pPipelineOptions opts;
 *   p2p_pipeline_options_init (&opts);
 *   g_autoptr(P2pImage) out = p2p_pipeline_run (model, in, &opts, &error);
 *
 * Activations are float32 CHW, batch 1 (p2p-tensor.h); images are
 * interleaved float sRGB (p2p-image.h).
 */
#pragma once

#include "p2p-error.h"
#include "p2p-tensor.h"
#include "p2p-model.h"
#include "p2p-model-path.h"
#include "p2p-net.h"
#include "p2p-image.h"
#include "p2p-pipeline.h"
#include "p2p-blas.h"
