; test-i18n-gimp3.scm - run by run-gimp-tests.sh under a German locale:
; provokes two errors, whose German texts the shell looks for: one of the
; plug-in's own (no such model) and one of the core library's
; (TRUNCATED-MODEL, a model file cut short, reported by the loader through
; the plug-in).  (The German menu label is checked in pluginrc, where GIMP 3
; keeps the labels the plug-in gave when it was queried in that language.)
(define (p2p-i18n-test truncated-model)
  (let* ((img (car (gimp-image-new 8 8 RGB)))
         (layer (car (gimp-layer-new img "L" 8 8 RGB-IMAGE 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img layer 0 0)
    (catch #f (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE #:image img
                                               #:drawables (vector layer)
                                               #:model "no-such-model"))
    (catch #f (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE #:image img
                                               #:drawables (vector layer)
                                               #:model truncated-model))
    (gimp-image-delete img)))
