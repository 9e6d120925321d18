; test-plugin-gimp2.scm - headless tests of the pix2pix procedures in GIMP 2.10.
;
; Loaded by run-gimp-tests.sh inside one -b expression, after it defined
;   p2p-out   the folder for the PNGs the shell compares with pix2pix-cli
;   p2p-source  the 48x40 RGB PNG used as source layer (data/source.png)
;   p2p-colorize-model, p2p-bad-model  a model path and a corrupt model file
;   p2p-pth, p2p-pth-name  a PyTorch checkpoint (generic model) and its name
; Results are reported with gimp-message (stderr in batch mode):
;   TEST-OK <name> / TEST-FAIL <name>: <why>       checks done here
;   CLI-CHECK <case> <filter> <size> <norm> <seed> <tol> <rect|-> <net-size>
;                                                   comparisons the shell does:
;     <case>-before.png  source layer before the call (8-bit)
;     <case>-after.png   source layer after the call (must equal before)
;     <case>-result.png  the new layer (must equal pix2pix-cli on before.png)
; The shell also fails the run when GIMP reports a batch error, so an
; unexpected Scheme error cannot pass silently.

(define p2p-sizes (list "resize" "whole" "tile"))
(define p2p-norms (list "official" "running" "stochastic"))

(define (p2p-ok name) (gimp-message (string-append "TEST-OK " name)))
(define (p2p-fail name why) (gimp-message (string-append "TEST-FAIL " name ": " why)))
(define (p2p-check name ok why) (if ok (p2p-ok name) (p2p-fail name why)))

(define (p2p-path case what) (string-append p2p-out "/" case "-" what ".png"))

(define (p2p-save img drawable file)
  (file-png-save RUN-NONINTERACTIVE img drawable file file 0 9 0 0 0 0 0))

; An RGB 8-bit image (64x56) over white with the layer "Source" (48x40 at
; 5,7) loaded from p2p-source; then alpha, mode and group as asked.
(define (p2p-make-image base alpha group)
  (let* ((img (car (gimp-image-new 64 56 RGB)))
         (bg (car (gimp-layer-new img 64 56 RGB-IMAGE "Paper" 100 LAYER-MODE-NORMAL)))
         (layer (car (gimp-file-load-layer RUN-NONINTERACTIVE img p2p-source)))
         (parent 0))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-drawable-fill bg FILL-WHITE)
    (if group
        (let ((g (car (gimp-layer-group-new img))))
          (gimp-item-set-name g "Group")
          (gimp-image-insert-layer img g 0 0)
          (set! parent g)))
    (gimp-image-insert-layer img layer parent 0)
    (gimp-item-set-name layer "Source")
    (gimp-layer-set-offsets layer 5 7)
    (if alpha
        (begin
          ; Black before clearing: PNG export drops the colour of fully
          ; transparent pixels, the plug-in sees it; keep both the same.
          (gimp-layer-add-alpha layer)
          (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 5 7 12 10)
          (gimp-context-set-foreground '(0 0 0))
          (gimp-edit-fill layer FILL-FOREGROUND)
          (gimp-edit-clear layer)
          (gimp-selection-none img)))
    (cond ((= base GRAY) (gimp-image-convert-grayscale img))
          ((= base INDEXED) (gimp-image-convert-indexed img 0 0 32 FALSE FALSE "")))
    (list img layer)))

; Gives @layer a black mask with a white rectangle (layer 10,10 20x16).
(define (p2p-add-mask img layer)
  (let ((mask (car (gimp-layer-create-mask layer ADD-MASK-BLACK))))
    (gimp-layer-add-mask layer mask)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 15 17 20 16)
    (gimp-context-set-foreground '(255 255 255))
    (gimp-edit-fill mask FILL-FOREGROUND)
    (gimp-selection-none img)))

; The new layer must carry a copy of the source's mask.
(define (p2p-check-mask case layer)
  (let ((mask (car (gimp-layer-get-mask layer))))
    (p2p-check (string-append case " layer mask copied")
               (and (> mask 0)
                    (= (vector-ref (cadr (gimp-drawable-get-pixel mask 15 15)) 0) 255)
                    (= (vector-ref (cadr (gimp-drawable-get-pixel mask 2 2)) 0) 0))
               "no mask, or not the source's")))

(define (p2p-siblings img parent)
  (if (<= parent 0)
      (car (gimp-image-get-layers img))
      (car (gimp-item-get-children parent))))

(define (p2p-layer-position img layer)
  (car (gimp-image-get-item-position img layer)))

; Runs one filter on a fresh image and checks what can be checked in GIMP.
; filter: "sketch" or "colorize"; precision: a PRECISION-* value the image
; is converted to just for the call; select: #f, "rect" or "feather".
(define (p2p-case case filter base alpha precision select group size norm seed . opt)
  (let* ((made (p2p-make-image base alpha group))
         (img (car made))
         (src (cadr made))
         (src-parent (car (gimp-item-get-parent src)))
         (src-pos (p2p-layer-position img src))
         (n-before (p2p-siblings img src-parent))
         (net (if (null? opt) 0 (car opt)))   ; network size (resize mode)
         (expected-name (string-append (if (equal? filter "sketch") "Sketch to Photo" "Auto Colorize")
                                       " (Source)"))
         (layer -1))
    (p2p-save img src (p2p-path case "before"))
    (if (equal? select "mask") (p2p-add-mask img src))
    (if (not (= precision PRECISION-U8-GAMMA))
        (gimp-image-convert-precision img precision))
    (cond ((equal? select "rect")
           (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 15 17 20 16))
          ((equal? select "feather")
           (gimp-context-set-feather TRUE)
           (gimp-context-set-feather-radius 8 8)
           (gimp-image-select-ellipse img CHANNEL-OP-REPLACE 9 11 40 32)
           (gimp-context-set-feather FALSE)))
    (set! layer
          (car (if (equal? filter "sketch")
                   (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "" size norm seed net)
                   (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" size norm seed 1.0 net -1))))
    (p2p-check (string-append case " new layer")
               (and (= (car (gimp-item-is-layer layer)) TRUE)
                    (= (p2p-siblings img src-parent) (+ n-before 1)))
               "no new layer")
    (p2p-check (string-append case " name")
               (equal? (car (gimp-item-get-name layer)) expected-name)
               (car (gimp-item-get-name layer)))
    (p2p-check (string-append case " size and offsets")
               (and (= (car (gimp-drawable-width layer)) 48)
                    (= (car (gimp-drawable-height layer)) 40)
                    (equal? (gimp-drawable-offsets layer) (list 5 7)))
               (string-append (number->string (car (gimp-drawable-width layer))) "x"
                              (number->string (car (gimp-drawable-height layer)))))
    (p2p-check (string-append case " above the source, same parent")
               (and (= (car (gimp-item-get-parent layer)) src-parent)
                    (= (p2p-layer-position img layer) src-pos)
                    (= (p2p-layer-position img src) (+ src-pos 1)))
               "wrong place in the layer stack")
    (p2p-check (string-append case " image mode")
               (= (car (gimp-image-base-type img))
                  ; both filters convert grey and indexed images (#16: colour sketches)
                  (if (or (= base INDEXED) (= base GRAY)) RGB base))
               "image mode not as expected")
    (if (equal? select "mask") (p2p-check-mask case layer))
    (if (equal? select "feather")
        (let ((centre (vector-ref (cadr (gimp-drawable-get-pixel layer 24 20)) 3))
              (corner (vector-ref (cadr (gimp-drawable-get-pixel layer 0 0)) 3))
              (edge (vector-ref (cadr (gimp-drawable-get-pixel layer 6 20)) 3)))
          (p2p-check (string-append case " feathered selection")
                     (and (= centre 255) (= corner 0) (> edge 0) (< edge 255))
                     (string-append "alpha centre " (number->string centre)
                                    " corner " (number->string corner)
                                    " edge " (number->string edge)))))
    (gimp-selection-none img)
    (if (not (= precision PRECISION-U8-GAMMA))
        (gimp-image-convert-precision img PRECISION-U8-GAMMA))
    (p2p-save img src (p2p-path case "after"))
    (p2p-save img layer (p2p-path case "result"))
    (gimp-message (string-append "CLI-CHECK " case " " filter " "
                                 (list-ref p2p-sizes size) " " (list-ref p2p-norms norm) " "
                                 (number->string seed) " "
                                 (cond ((= precision PRECISION-U8-GAMMA) "1")
                                       (else "2")) " "
                                 (cond ((equal? select "rect") "10,10,20,16")
                                       ((equal? select "feather") "feather")
                                       (else "-")) " "
                                 (number->string net)))
    (gimp-image-delete img)))

; The size modes a filter does not offer (models/README.md, "Size modes":
; Auto Colorize resize only, Sketch to Photo no tiles): a script passing
; one gets the resize result, with a note in the message console; the
; shell compares it with pix2pix-cli in resize mode.
(define (p2p-mapped-mode filter size)
  (let* ((case (string-append "mapped-" filter (number->string size)))
         (made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (layer -1))
    (p2p-save img src (p2p-path case "before"))
    (set! layer (car (if (equal? filter "sketch")
                         (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "" size 0 0 0)
                         (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" size 0 0 1.0 0 -1))))
    (p2p-check (string-append case " runs as resize") (= (car (gimp-item-is-layer layer)) TRUE)
               "no layer")
    (p2p-save img src (p2p-path case "after"))
    (p2p-save img layer (p2p-path case "result"))
    (gimp-message (string-append "CLI-CHECK " case " " filter " resize official 0 1 - 0"))
    (gimp-image-delete img)))

; A call that must fail with a PDB error (and not hang or crash).
(define (p2p-expect-error name thunk)
  (p2p-check name (equal? (catch 'p2p-failed (thunk)) 'p2p-failed) "no error raised"))

(define (p2p-bad-args)
  (let* ((made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (n (car (gimp-image-get-layers img))))
    (p2p-expect-error "bad size mode"
      (lambda () (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "" 7 0 0 0)))
    (p2p-expect-error "bad norm mode"
      (lambda () (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "" 0 -1 0 0)))
    (p2p-expect-error "bad chroma"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" 0 0 0 9.5 0 -1)))
    (p2p-expect-error "bad network size"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" 0 0 0 1.0 -5 -1)))
    ; net-size and hints were added last; GIMP 2.10's Script-Fu wants every argument
    (p2p-expect-error "call without net-size (older scripts)"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" 0 0 0 1.0)))
    (p2p-expect-error "call without hints (older scripts)"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" 0 0 0 1.0 0)))
    (p2p-expect-error "hints layer that is no layer"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "" 0 0 0 1.0 0 987654)))
    (p2p-expect-error "missing model"
      (lambda () (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "no-such-model" 0 0 0 0)))
    (p2p-expect-error "model for the other task"
      (lambda () (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src "sketch-to-photo" 0 0 0 1.0 0 -1)))
    (p2p-expect-error "not a model file"
      (lambda () (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src p2p-bad-model 0 0 0 0)))
    (p2p-expect-error "Apply pix2pix Model without a model"
      (lambda () (plug-in-pix2pix-apply-model RUN-NONINTERACTIVE img src "" 0 0 0 0)))
    (p2p-check "failed calls leave no layer" (= (car (gimp-image-get-layers img)) n) "layer added")
    (gimp-image-delete img)))

; Colour strength 0 must give a neutral (grey) result.
(define (p2p-chroma-zero)
  (let* ((made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (layer (car (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src
                                                p2p-colorize-model 0 0 0 0.0 0 -1)))
         (px (cadr (gimp-drawable-get-pixel layer 20 20))))
    (p2p-check "chroma 0 gives grey"
               (and (<= (abs (- (vector-ref px 0) (vector-ref px 1))) 1)
                    (<= (abs (- (vector-ref px 1) (vector-ref px 2))) 1))
               "colour left")
    (gimp-image-delete img)))

; #16: a line drawing on a transparent layer whose transparent pixels hide
; black (as Tux Paint's pages): Sketch to Photo must see it on white paper
; and give an opaque result.  paper-flat.png is the same drawing flattened
; on white by GIMP (the shell runs pix2pix-cli on it), paper-result.png the
; filter's layer.
(define (p2p-paper-test)
  (let* ((img (car (gimp-image-new 48 40 RGB)))
         (src (car (gimp-layer-new img 48 40 RGBA-IMAGE "Drawing" 100 LAYER-MODE-NORMAL)))
         (flat-img -1)
         (layer -1))
    (gimp-image-insert-layer img src 0 0)
    (gimp-drawable-fill src FILL-TRANSPARENT)
    (gimp-context-set-foreground '(30 40 60))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 4 4 40 2)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 4 4 2 32)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 20 10 3 26)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 30 20 14 3)
    (gimp-edit-fill src FILL-FOREGROUND)
    (gimp-selection-none img)
    (set! flat-img (car (gimp-image-duplicate img)))
    (gimp-context-set-background '(255 255 255))
    (p2p-save flat-img (car (gimp-image-flatten flat-img)) (p2p-path "paper" "flat"))
    (gimp-image-delete flat-img)
    (set! layer (car (plug-in-pix2pix-sketch-to-photo RUN-NONINTERACTIVE img src "" 0 0 0 0)))
    (p2p-check "paper: the result is opaque where the drawing is transparent"
               (and (= (vector-ref (cadr (gimp-drawable-get-pixel layer 30 30)) 3) 255)
                    (= (vector-ref (cadr (gimp-drawable-get-pixel layer 0 0)) 3) 255))
               "transparent pixels in the result")
    (p2p-save img layer (p2p-path "paper" "result"))
    (gimp-image-delete img)))

; #16: Apply pix2pix Model with a PyTorch checkpoint (@pth, a generic
; model) on an RGBA layer: the result layer is named after the model and
; (the shell checks) equals pix2pix-cli's; a colorize model runs too.
(define (p2p-apply-test pth name)
  (let* ((made (p2p-make-image RGB #t #f))
         (img (car made))
         (src (cadr made))
         (layer -1)
         (tint -1))
    (p2p-save img src (p2p-path "apply" "before"))
    (set! layer (car (plug-in-pix2pix-apply-model RUN-NONINTERACTIVE img src pth 0 0 0 0)))
    (p2p-check "apply: the result layer is named after the model"
               (equal? (car (gimp-item-get-name layer)) (string-append name " (Source)"))
               (car (gimp-item-get-name layer)))
    (p2p-check "apply: size and offsets"
               (and (= (car (gimp-drawable-width layer)) 48)
                    (equal? (gimp-drawable-offsets layer) (list 5 7)))
               "wrong size or place")
    (p2p-save img src (p2p-path "apply" "after"))
    (p2p-save img layer (p2p-path "apply" "result"))
    (gimp-message "CLI-CHECK apply apply resize official 0 1 - 0")
    (set! tint (car (plug-in-pix2pix-apply-model RUN-NONINTERACTIVE img src p2p-colorize-model
                                                 0 0 0 0)))
    (p2p-check "apply: a colorize model runs too, named after it"
               (equal? (car (gimp-item-get-name tint)) "Test colorize model (Source)")
               (car (gimp-item-get-name tint)))
    (gimp-image-delete img)))

(define (p2p-run-tests)
  ; case filter base alpha precision select group size norm seed [net-size]
  (p2p-case "rgb"      "sketch"   RGB     #f PRECISION-U8-GAMMA     #f        #f 0 0 0)
  (p2p-case "rgba"     "sketch"   RGB     #t PRECISION-U8-GAMMA     #f        #f 1 0 0)
  (p2p-case "grey"     "colorize" GRAY    #f PRECISION-U8-GAMMA     #f        #f 0 0 0)
  (p2p-case "greyskt"  "sketch"   GRAY    #t PRECISION-U8-GAMMA     #f        #f 0 1 0)
  (p2p-case "indexed"  "sketch"   INDEXED #f PRECISION-U8-GAMMA     #f        #f 0 0 0)
  (p2p-case "u16"      "colorize" RGB     #f PRECISION-U16-GAMMA    #f        #f 0 0 0)
  (p2p-case "float"    "sketch"   RGB     #t PRECISION-FLOAT-LINEAR #f        #f 0 1 0)
  (p2p-case "select"   "sketch"   RGB     #f PRECISION-U8-GAMMA     "rect"    #f 0 0 0)
  (p2p-case "feather"  "colorize" RGB     #f PRECISION-U8-GAMMA     "feather" #f 0 0 0)
  (p2p-case "group"    "colorize" RGB     #t PRECISION-U8-GAMMA     #f        #t 0 2 7)
  (p2p-case "mask"     "sketch"   RGB     #t PRECISION-U8-GAMMA     "mask"    #t 1 0 0)
  (p2p-case "wholeskt" "sketch"   GRAY    #f PRECISION-U8-GAMMA     #f        #f 1 0 0)
  (p2p-mapped-mode "colorize" 1)
  (p2p-mapped-mode "colorize" 2)
  (p2p-mapped-mode "sketch" 2)
  ; a network size other than the model's (32): the result keeps the layer's size
  (p2p-case "netsize"  "colorize" RGB     #f PRECISION-U8-GAMMA     #f        #f 0 0 0 96)
  (p2p-case "netskt"   "sketch"   RGB     #t PRECISION-U8-GAMMA     #f        #f 0 0 0 64)
  (p2p-chroma-zero)
  (p2p-paper-test)
  (p2p-apply-test p2p-pth p2p-pth-name)
  (gimp-message "TEST-DONE"))

; Run in a GIMP run of its own: GIMP 2.10's Script-Fu (TinyScheme) has been
; seen to crash after many caught errors in one long session.
(define (p2p-run-error-tests)
  (p2p-bad-args)
  (gimp-message "TEST-DONE-ERRORS"))

; Color hints: a grey photo layer (80x64 at 7,5 in a 100x90 image) and a
; hidden RGBA hints layer of another size and place (30x30 at 40,30) with a
; red 4x4 dot at image position 50,40, i.e. at 43,35 of the photo layer.
; Results with and without the hints, the hints layer before and after,
; the photo, and the same dot as a photo-sized image for pix2pix-cli go to
; p2p-out as hints-*.png; run-gimp-tests.sh checks the pixels.
(define (p2p-hints-test model)
  (let* ((img (car (gimp-image-new 100 90 RGB)))
         (src (car (gimp-layer-new img 80 64 RGB-IMAGE "Photo" 100 LAYER-MODE-NORMAL)))
         (hints (car (gimp-layer-new img 30 30 RGBA-IMAGE "My hints" 100 LAYER-MODE-NORMAL)))
         (full (car (gimp-image-new 80 64 RGB)))
         (full-layer (car (gimp-layer-new full 80 64 RGBA-IMAGE "Hints" 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img src 0 0)
    (gimp-layer-set-offsets src 7 5)
    (gimp-context-set-foreground '(128 128 128))
    (gimp-edit-fill src FILL-FOREGROUND)
    (gimp-image-insert-layer img hints 0 0)
    (gimp-layer-set-offsets hints 40 30)
    (gimp-drawable-fill hints FILL-TRANSPARENT)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 50 40 4 4)
    (gimp-context-set-foreground '(220 30 30))
    (gimp-edit-fill hints FILL-FOREGROUND)
    (gimp-selection-none img)
    (gimp-item-set-visible hints FALSE)
    (gimp-image-set-active-layer img src)
    (p2p-save img hints (p2p-path "hints" "layer-before"))
    (p2p-save img src (p2p-path "hints" "photo"))
    (let ((with (car (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src model 0 0 0 1.0 0 hints)))
          (without (car (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src model 0 0 0 1.0 0 -1))))
      (p2p-save img with (p2p-path "hints" "with"))
      (p2p-save img without (p2p-path "hints" "without"))
      (p2p-save img hints (p2p-path "hints" "layer-after"))
      (p2p-check "hints: the hints layer stays hidden" (= (car (gimp-item-get-visible hints)) FALSE)
                 "made visible")
      (p2p-check "hints: the result layers are the photo's size and place"
                 (and (equal? (gimp-drawable-offsets with) (list 7 5))
                      (= (car (gimp-drawable-width with)) 80))
                 "wrong size or offsets"))
    ; A hints layer without transparency is refused.
    (let ((opaque (car (gimp-layer-new img 10 10 RGB-IMAGE "Opaque hints" 100 LAYER-MODE-NORMAL))))
      (gimp-image-insert-layer img opaque 0 0)
      (p2p-check "hints: a layer without transparency is refused"
                 (equal? (catch 'p2p-failed
                           (plug-in-pix2pix-colorize RUN-NONINTERACTIVE img src model 0 0 0 1.0 0 opaque))
                         'p2p-failed)
                 "accepted"))
    (gimp-image-insert-layer full full-layer 0 0)
    (gimp-drawable-fill full-layer FILL-TRANSPARENT)
    (gimp-image-select-rectangle full CHANNEL-OP-REPLACE 43 35 4 4)
    (gimp-context-set-foreground '(220 30 30))
    (gimp-edit-fill full-layer FILL-FOREGROUND)
    (gimp-selection-none full)
    (p2p-save full full-layer (p2p-path "hints" "full"))
    (gimp-image-delete full)
    (gimp-image-delete img)
    (gimp-message "TEST-DONE-HINTS")))
