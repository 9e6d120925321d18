; pix2pix-batch.scm - batch processing with the pix2pix filters (GIMP 2.10).
;
; From a shell (GIMP 2.10 in batch mode, no display needed):
;   gimp -i -b '(pix2pix-batch "in/*.jpg" "out" "colorize" "" "resize" "official" 0 1.0)' \
;        -b '(gimp-quit 0)'
; Arguments: glob pattern, output folder (must exist), filter
; ("sketch-to-photo" or "colorize"), model ("" = the filter's default, a
; model name or a model file's path), size mode ("resize", "whole" or
; "tile"; a mode the filter does not offer runs as "resize": Auto Colorize
; offers resize only, Sketch to Photo resize and whole), normalisation ("official", "running" or "stochastic"), seed,
; colour strength (colorize only), and optionally the network size (resize
; mode, 0 = the model's own) and a folder of color hints (colorize only: for
; "in/name.jpg" the transparent image "hints/name.png", when there is one,
; is the hints layer).  Each input "name.ext" gives "out/name.png"
; holding the filter's result layer.  Also in the menu as
; File > Batch > pix2pix Batch...
; Called from Script-Fu, pix2pix-batch takes no run-mode argument.
;
; A file that cannot be read (also one cut short, which GIMP 2.10 would load
; in part without an error: the plug-in's check finds it), or that the
; filter or the export fails on, is reported and skipped; the others are
; written.  The summary (written, failed, and why for each failure) is a
; message when all went well, else the script's error: GIMP then prints
; "batch command experienced an execution error" with it.  GIMP 2.10 itself
; still exits with status 0 (it has no way to pass on a batch command's
; failure); GIMP 3.0 exits non-zero.

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

; The hints layer for @file from @hints-dir ("" for none): the image
; hints-dir/<stem>.png loaded as a layer of @img, or -1 when there is none.
(define (pix2pix-batch--hints img file hints-dir)
  (if (equal? hints-dir "")
      -1
      (let ((path (string-append hints-dir "/" (pix2pix-batch--stem file) ".png")))
        (if (= (car (file-glob path 1)) 0)
            -1
            (let ((layer (car (gimp-file-load-layer RUN-NONINTERACTIVE img path))))
              (gimp-image-insert-layer img layer 0 -1)
              (gimp-item-set-visible layer FALSE)
              layer)))))

; "out/" -> "out" (file-glob finds no folder with a trailing slash), "/" stays.
(define (pix2pix-batch--folder path)
  (let loop ((n (string-length path)))
    (if (and (> n 1) (char=? (string-ref path (- n 1)) #\/))
        (loop (- n 1))
        (substring path 0 n))))

; The plug-in's translation of one of the script's messages
; (plug-in-pix2pix-batch-text: Script-Fu cannot use the plug-in's catalogue).
(define (pix2pix-batch--text key . args)
  (let ((a (append args '("" "" ""))))
    (car (plug-in-pix2pix-batch-text RUN-NONINTERACTIVE key (car a) (cadr a) (caddr a)))))

; The text of an error caught by pix2pix-batch--try (its message and
; irritants, as Script-Fu prints them).
(define (pix2pix-batch--error-text args)
  (let loop ((l args) (acc ""))
    (if (null? l)
        acc
        (loop (cdr l)
              (string-append acc (if (equal? acc "") "" " ")
                             (let ((x (car l)))
                               (cond ((string? x) x)
                                     ((number? x) (number->string x))
                                     ((symbol? x) (symbol->string x))
                                     (else "?"))))))))

; (pix2pix-batch--try thunk): (ok . value) or (failed . "message") when
; thunk raises an error (a failed PDB call included), so that one file's
; failure does not stop the others.
(define (pix2pix-batch--try thunk)
  (let* ((hook *error-hook*)
         (result (call/cc
                   (lambda (k)
                     (set! *error-hook*
                           (lambda args (k (cons 'failed (pix2pix-batch--error-text args)))))
                     (cons 'ok (thunk))))))
    (set! *error-hook* hook)
    result))

; One file: (ok . output) or (failed . "why").
(define (pix2pix-batch--file file out-dir filter model size norm seed chroma net-size hints-dir)
  (let ((problem (car (plug-in-pix2pix-batch-check-image RUN-NONINTERACTIVE file)))
        (out (string-append out-dir "/" (pix2pix-batch--stem file) ".png")))
    (if (not (equal? problem ""))
        (cons 'failed problem)
        (let ((loaded (pix2pix-batch--try
                        (lambda () (car (gimp-file-load RUN-NONINTERACTIVE file file))))))
          (if (eq? (car loaded) 'failed)
              loaded
              (let* ((img (cdr loaded))
                     (result
                       (pix2pix-batch--try
                         (lambda ()
                           (let* ((src (car (gimp-image-get-active-layer img)))
                                  (hints (if (equal? filter "colorize")
                                             (pix2pix-batch--hints img file hints-dir) -1))
                                  (layer (car (if (equal? filter "colorize")
                                                  (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src model
                                                                            size norm seed chroma net-size hints)
                                                  (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src model
                                                                                   size norm seed net-size)))))
                             ; GIMP 2.10 exporters write only the drawable given: the new layer.
                             (gimp-file-save RUN-NONINTERACTIVE img layer out out)
                             out)))))
                (gimp-image-delete img)
                result))))))

; Optional last arguments: the network size (resize mode; 0 or left out:
; the model's own size) and the hints folder ("" or left out: none).
(define (pix2pix-batch pattern out-dir filter model size-mode norm-mode seed chroma . opt)
  (let ((net-size (if (null? opt) 0 (car opt)))
        (hints-dir (if (or (null? opt) (null? (cdr opt))) "" (cadr opt)))
        (size (pix2pix-batch--index size-mode '("resize" "whole" "tile")))
        (norm (pix2pix-batch--index norm-mode '("official" "running" "stochastic")))
        (written 0)
        (failures '()))
    (if (not (or (equal? filter "sketch-to-photo") (equal? filter "colorize")))
        (error (string-append "pix2pix-batch: unknown filter \"" filter
                              "\" (use \"sketch-to-photo\" or \"colorize\")")))
    (if (< size 0)
        (error (string-append "pix2pix-batch: unknown size mode \"" size-mode
                              "\" (use \"resize\", \"whole\" or \"tile\")")))
    (if (< norm 0)
        (error (string-append "pix2pix-batch: unknown normalisation \"" norm-mode "\"")))
    ; Before anything runs: an empty folder name would write into "/".
    (if (equal? out-dir "")
        (error (string-append "pix2pix-batch: " (pix2pix-batch--text "no-output-folder"))))
    (set! out-dir (pix2pix-batch--folder out-dir))
    ; file-glob finds files as well: a file of that name makes each export fail.
    (if (= (car (file-glob out-dir 1)) 0)
        (error (string-append "pix2pix-batch: "
                              (pix2pix-batch--text "output-folder-missing" out-dir))))
    (let ((files (cadr (file-glob pattern 1))))
      (if (null? files)
          (error (string-append "pix2pix-batch: " (pix2pix-batch--text "no-input" pattern))))
      (for-each
        (lambda (file)
          (let ((result (pix2pix-batch--file file out-dir filter model size norm seed chroma
                                             net-size hints-dir)))
            (if (eq? (car result) 'ok)
                (set! written (+ written 1))
                (set! failures (cons (string-append file ": " (cdr result)) failures)))))
        files))
    (let ((summary (string-append
                     "pix2pix-batch: "
                     (pix2pix-batch--text "summary" (number->string written)
                                          (number->string (length failures)) out-dir)
                     (apply string-append
                            (map (lambda (f) (string-append "\n  " f)) (reverse failures))))))
      (if (null? failures)
          (begin (gimp-message summary) written)
          (error summary)))))

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
