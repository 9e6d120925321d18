; pix2pix-batch.scm - batch processing with the pix2pix filters (GIMP 3.0).
;
; From a shell (GIMP 3.0 in batch mode, no display needed):
;   gimp-console-3.0 -i --quit --batch-interpreter=plug-in-script-fu-eval \
;     -b '(pix2pix-batch "in/*.jpg" "out" "colorize" "" "resize" "official" 0 1.0)'
; Arguments: glob pattern, output folder (must exist), filter
; ("sketch-to-photo" or "colorize"), model ("" = the filter's default, a
; model name or a .safetensors path), size mode ("resize" or "whole"),
; normalisation ("official", "running" or "stochastic"), seed, colour
; strength (colorize only), and optionally the network size (resize mode,
; 0 = the model's own).  Each input "name.ext" gives "out/name.png"
; holding the filter's result layer.  Also in the menu as
; File > Batch > pix2pix Batch...

; "dir/name.ext" -> "name"
(define (pix2pix-batch--stem path)
  (let* ((n (string-length path))
         (start (let loop ((i (- n 1)))
                  (cond ((< i 0) 0)
                        ((char=? (string-ref path i) #\/) (+ i 1))
                        (else (loop (- i 1))))))
         (end (let loop ((i (- n 1)))
                (cond ((< i start) n)
                      ((char=? (string-ref path i) #\.) i)
                      (else (loop (- i 1)))))))
    (substring path start end)))

(define (pix2pix-batch--as-list x)
  (if (vector? x) (vector->list x) x))

; (pix2pix-batch--with-image img thunk): the value of (thunk), deleting
; img afterwards whether thunk succeeds or fails; a failure is raised again
; with its own message once img is gone (no stray images left in GIMP).
(define (pix2pix-batch--with-image img thunk)
  (let* ((hook *error-hook*)
         (result (call/cc
                   (lambda (k)
                     (set! *error-hook* (lambda args (k (cons 'failed args))))
                     (cons 'ok (thunk))))))
    (set! *error-hook* hook)
    (gimp-image-delete img)
    (if (eq? (car result) 'failed)
        (apply error (cdr result))
        (cdr result))))

; Saves one layer alone, at its own size, in the format the file name says.
(define (pix2pix-batch--save-layer layer file)
  (let* ((w (car (gimp-drawable-get-width layer)))
         (h (car (gimp-drawable-get-height layer)))
         (tmp (car (gimp-image-new w h RGB))))
    (pix2pix-batch--with-image tmp
      (lambda ()
        (let ((copy (car (gimp-layer-new-from-drawable layer tmp))))
          (gimp-image-insert-layer tmp copy 0 0)
          (gimp-layer-set-offsets copy 0 0)
          (gimp-file-save RUN-NONINTERACTIVE tmp file -1))))))

; An optional last argument gives the network size (resize mode; 0 or
; left out: the model's own size).
(define (pix2pix-batch pattern out-dir filter model size-mode norm-mode seed chroma . opt)
  (let ((net-size (if (null? opt) 0 (car opt)))
        (files (pix2pix-batch--as-list (car (file-glob #:pattern pattern #:filename-encoding TRUE))))
        (count 0))
    (if (not (or (equal? filter "sketch-to-photo") (equal? filter "colorize")))
        (error (string-append "pix2pix-batch: unknown filter \"" filter
                              "\" (use \"sketch-to-photo\" or \"colorize\")")))
    (for-each
      (lambda (file)
        (let ((img (car (gimp-file-load RUN-NONINTERACTIVE file)))
              (out (string-append out-dir "/" (pix2pix-batch--stem file) ".png")))
          (pix2pix-batch--with-image img
            (lambda ()
              (let* ((src (vector-ref (car (gimp-image-get-selected-layers img)) 0))
                     (layer (car (if (equal? filter "colorize")
                                     (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE
                                       #:image img #:drawables (vector src) #:model model
                                       #:size-mode size-mode #:norm-mode norm-mode #:seed seed
                                       #:chroma chroma #:net-size net-size)
                                     (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE
                                       #:image img #:drawables (vector src) #:model model
                                       #:size-mode size-mode #:norm-mode norm-mode #:seed seed
                                       #:net-size net-size)))))
                (pix2pix-batch--save-layer layer out))))
          (set! count (+ count 1))))
      files)
    (gimp-message (string-append "pix2pix-batch: " (number->string count) " file(s) written to "
                                 out-dir))
    count))

(define (script-fu-pix2pix-batch pattern out-dir filter model size-mode norm-mode seed chroma)
  (pix2pix-batch pattern out-dir
                 (list-ref '("sketch-to-photo" "colorize") filter)
                 model
                 (list-ref '("resize" "whole") size-mode)
                 (list-ref '("official" "running" "stochastic") norm-mode)
                 seed chroma))

(script-fu-register "script-fu-pix2pix-batch"
  "pix2pix _Batch..."
  "Run Sketch to Photo or Auto Colorize on every file matching a pattern"
  "gimp-pix2pix authors"
  "gimp-pix2pix authors"
  "2026"
  ""
  SF-STRING     "Input files (pattern)"  "/path/to/input/*.png"
  SF-DIRNAME    "Output folder"          ""
  SF-OPTION     "Filter"                 '("Sketch to Photo" "Auto Colorize")
  SF-STRING     "Model (empty: default)" ""
  SF-OPTION     "Size"                   '("Resize to the model's size (as trained)" "Whole image at full resolution")
  SF-OPTION     "Normalization"          '("Per-image statistics (reference)" "Running statistics" "Random variation (dropout, seeded)")
  SF-ADJUSTMENT "Seed"                   '(0 0 2147483647 1 10 0 1)
  SF-ADJUSTMENT "Color strength"        '(1.0 0.0 4.0 0.05 0.25 2 0))

(script-fu-menu-register "script-fu-pix2pix-batch" "<Image>/File/Batch")
