/* p2p-plugin-batch.h - what the Script-Fu batch script (pix2pix-batch.scm)
 * asks of the plug-in, GIMP-version-neutral.
 *
 * Two small PDB procedures in each front-end serve the script:
 *  - P2P_PROC_BATCH_CHECK: whether an image file decodes whole.  GIMP 2.10
 *    loads a PNG cut short without an error (the missing rows black; the
 *    loader's "Error loading PNG file" goes to stderr only), so the script
 *    would write a black result and count it as done.
 *  - P2P_PROC_BATCH_TEXT: the script's own messages, translated: Script-Fu
 *    scripts cannot use a plug-in's catalogue in either GIMP.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define P2P_PROC_BATCH_CHECK "plug-in-pix2pix-batch-check-image"
#define P2P_PROC_BATCH_TEXT  "plug-in-pix2pix-batch-text"

/* "" when the image file at @path can be read whole, or when its format is
 * one gdk-pixbuf does not know (GIMP's loader is then the only judge);
 * else why not, translated (transfer full). */
char *p2p_batch_check_image (const char *path);

/* pix2pix-batch's message @key with its arguments (strings; "" for none),
 * translated (transfer full), or NULL for an unknown key or bad
 * arguments:
 *   "no-output-folder"                   -
 *   "output-folder-missing"  folder      -
 *   "no-input"               pattern     -
 *   "summary"                written     failed   folder   (counts in decimal) */
char *p2p_batch_text        (const char *key,
                             const char *arg1,
                             const char *arg2,
                             const char *arg3);

G_END_DECLS
