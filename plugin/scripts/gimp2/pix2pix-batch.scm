; pix2pix-batch.scm - batch processing with the pix2pix filters (GIMP 2.10).
;
; From a shell (GIMP 2.10 in batch mode, no display needed):
;   gimp -i -b '(pix2pix-batch "in/*.jpg" "out" "colorize" "" "resize" "official" 0 1.0)' \
;        -b '(gimp-quit 0)'
; Arguments: glob pattern, output folder (must exist), filter
; ("sketch-to-photo" or "colorize"), model ("" = the filter's default, a
; model name or a .safetensors path), size mode ("resize" or "whole"),
; normalisation ("official", "running" or "stochastic"), seed, colour
; strength (colorize only), and optionally the network size (resize mode,
; 0 = the model's own).  Each input "name.ext" gives "out/name.png"
; holding the filter's result layer.  Also in the menu as
; File > Batch > pix2pix Batch...
; Called from Script-Fu, pix2pix-batch takes no run-mode argument.

(define (pix2pix-batch--index item items)
  (let loop ((l items) (i 0))
    (cond ((null? l) -1)
          ((equal? (car l) item) i)
          (else (loop (cdr l) (+ i 1))))))

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

; An optional last argument gives the network size (resize mode; 0 or
; left out: the model's own size).
(define (pix2pix-batch pattern out-dir filter model size-mode norm-mode seed chroma . opt)
  (let ((net-size (if (null? opt) 0 (car opt)))
        (size (pix2pix-batch--index size-mode '("resize" "whole")))
        (norm (pix2pix-batch--index norm-mode '("official" "running" "stochastic")))
        (files (cadr (file-glob pattern 1)))
        (count 0))
    (if (not (or (equal? filter "sketch-to-photo") (equal? filter "colorize")))
        (error (string-append "pix2pix-batch: unknown filter \"" filter
                              "\" (use \"sketch-to-photo\" or \"colorize\")")))
    (if (< size 0)
        (error (string-append "pix2pix-batch: unknown size mode \"" size-mode "\"")))
    (if (< norm 0)
        (error (string-append "pix2pix-batch: unknown normalisation \"" norm-mode "\"")))
    (for-each
      (lambda (file)
        (let* ((img (car (gimp-file-load RUN-NONINTERACTIVE file file)))
               (src (car (gimp-image-get-active-layer img)))
               (out (string-append out-dir "/" (pix2pix-batch--stem file) ".png"))
               (layer (car (if (equal? filter "colorize")
                               (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src model
                                                         size norm seed chroma net-size)
                               (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src model
                                                                size norm seed net-size)))))
          ; GIMP 2.10 exporters write only the drawable given: the new layer.
          (gimp-file-save RUN-NONINTERACTIVE img layer out out)
          (gimp-image-delete img)
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
  _"pix2pix _Batch..."
  _"Run Sketch to Photo or Auto Colorize on every file matching a pattern"
  "gimp-pix2pix authors"
  "gimp-pix2pix authors"
  "2026"
  ""
  SF-STRING     _"Input files (pattern)" "/path/to/input/*.png"
  SF-DIRNAME    _"Output folder"         ""
  SF-OPTION     _"Filter"                '(_"Sketch to Photo" _"Auto Colorize")
  SF-STRING     _"Model (empty: default)" ""
  SF-OPTION     _"Size"                  '(_"Resize to the model's size (as trained)" _"Whole image at full resolution")
  SF-OPTION     _"Normalization"         '(_"Per-image statistics (reference)" _"Running statistics" _"Random variation (dropout, seeded)")
  SF-ADJUSTMENT _"Seed"                  '(0 0 2147483647 1 10 0 1)
  SF-ADJUSTMENT _"Color strength"       '(1.0 0.0 4.0 0.05 0.25 2 0))

(script-fu-menu-register "script-fu-pix2pix-batch" "<Image>/File/Batch")
