; test-i18n-gimp2.scm - run by run-gimp-tests.sh with LANGUAGE=de: prints
; the menu entries GIMP 2.10 shows for our procedures (GIMP translates the
; labels with the plug-in's text domain) and provokes two error messages,
; which the shell looks for in German: one of the plug-in's own (no such
; model) and one of the core library's (TRUNCATED-MODEL, a model file cut
; short, reported by the loader through the plug-in).
(define (p2p-as-list x) (if (vector? x) (vector->list x) x))

(define (p2p-i18n-test truncated-model)
  (let* ((q (gimp-plugins-query ""))
         (paths (p2p-as-list (list-ref q 1)))
         (names (p2p-as-list (list-ref q 11)))
         (img (car (gimp-image-new 8 8 RGB)))
         (layer (car (gimp-layer-new img 8 8 RGB-IMAGE "L" 100 LAYER-MODE-NORMAL))))
    (for-each (lambda (p n)
                (if (or (equal? n "plug-in-pix2pix-sketch-to-photo")
                        (equal? n "plug-in-pix2pix-colorize"))
                    (gimp-message (string-append "LABEL: " p))))
              paths names)
    (gimp-image-insert-layer img layer 0 0)
    (catch #f (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img layer "no-such-model" 0 0 0 0))
    (catch #f (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img layer truncated-model 0 0 0 0))
    (gimp-image-delete img)))
