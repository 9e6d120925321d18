; test-plugin-gimp3.scm - headless tests of the pix2pix procedures in GIMP 3.0.
;
; Same cases and report format as test-plugin-gimp2.scm (read that header);
; the differences are GIMP 3's PDB: named plug-in arguments (#:size-mode
; "whole"), drawables as a vector, item lists as vectors, choice arguments
; as strings, and PNG export of a whole image (so single layers are copied
; into a fresh 8-bit RGB image before saving).
; Defined by run-gimp-tests.sh: p2p-out, p2p-source, p2p-colorize-model,
; p2p-bad-model.

(define (p2p-ok name) (gimp-message (string-append "TEST-OK " name)))
(define (p2p-fail name why) (gimp-message (string-append "TEST-FAIL " name ": " why)))
(define (p2p-check name ok why) (if ok (p2p-ok name) (p2p-fail name why)))

(define (p2p-path case what) (string-append p2p-out "/" case "-" what ".png"))

; Saves one layer as an 8-bit PNG of the layer's own size.
(define (p2p-save img drawable file)
  (let* ((w (car (gimp-drawable-get-width drawable)))
         (h (car (gimp-drawable-get-height drawable)))
         (tmp (car (gimp-image-new w h RGB)))
         (copy (car (gimp-layer-new-from-drawable drawable tmp))))
    (gimp-image-insert-layer tmp copy 0 0)
    (gimp-layer-set-offsets copy 0 0)
    ; The layer's own pixels, as GIMP 2.10's exporters write them.
    (if (> (car (gimp-layer-get-mask copy)) 0)
        (gimp-layer-remove-mask copy MASK-DISCARD))
    (gimp-file-save RUN-NONINTERACTIVE tmp file -1)
    (gimp-image-delete tmp)))

(define (p2p-make-image base alpha group)
  (let* ((img (car (gimp-image-new 64 56 RGB)))
         (bg (car (gimp-layer-new img "Paper" 64 56 RGB-IMAGE 100 LAYER-MODE-NORMAL)))
         (layer (car (gimp-file-load-layer RUN-NONINTERACTIVE img p2p-source)))
         (parent 0))
    (gimp-image-insert-layer img bg 0 0)
    (gimp-drawable-fill bg FILL-WHITE)
    (if group
        (let ((g (car (gimp-group-layer-new img "Group"))))
          (gimp-image-insert-layer img g 0 0)
          (set! parent g)))
    (gimp-image-insert-layer img layer parent 0)
    (gimp-item-set-name layer "Source")
    (gimp-layer-set-offsets layer 5 7)
    (if alpha
        (begin
          (gimp-layer-add-alpha layer)
          (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 5 7 12 10)
          (gimp-context-set-foreground '(0 0 0))
          (gimp-drawable-edit-fill layer FILL-FOREGROUND)
          (gimp-drawable-edit-clear layer)
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
    (gimp-drawable-edit-fill mask FILL-FOREGROUND)
    (gimp-selection-none img)))

; The new layer must carry a copy of the source's mask.
(define (p2p-check-mask case layer)
  (let ((mask (car (gimp-layer-get-mask layer))))
    (p2p-check (string-append case " layer mask copied")
               (and (> mask 0)
                    (= (car (car (gimp-drawable-get-pixel mask 15 15))) 255)
                    (= (car (car (gimp-drawable-get-pixel mask 2 2))) 0))
               "no mask, or not the source's")))

(define (p2p-siblings img parent)
  (if (or (= parent 0) (= parent -1))
      (vector-length (car (gimp-image-get-layers img)))
      (vector-length (car (gimp-item-get-children parent)))))

(define (p2p-layer-position img layer)
  (car (gimp-image-get-item-position img layer)))

(define (p2p-alpha-at layer x y)
  (list-ref (car (gimp-drawable-get-pixel layer x y)) 3))

; opt: the network size (#:net-size), left out when not given.
(define (p2p-run-filter filter img src model size norm seed chroma . opt)
  (car (cond ((and (equal? filter "sketch") (null? opt))
              (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE #:image img
                                               #:drawables (vector src) #:model model
                                               #:size-mode size #:norm-mode norm #:seed seed))
             ((equal? filter "sketch")
              (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE #:image img
                                               #:drawables (vector src) #:model model
                                               #:size-mode size #:norm-mode norm #:seed seed
                                               #:net-size (car opt)))
             ((null? opt)
              (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img
                                        #:drawables (vector src) #:model model
                                        #:size-mode size #:norm-mode norm #:seed seed
                                        #:chroma chroma))
             (else
              (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img
                                        #:drawables (vector src) #:model model
                                        #:size-mode size #:norm-mode norm #:seed seed
                                        #:chroma chroma #:net-size (car opt))))))

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
    (if (not (= precision PRECISION-U8-NON-LINEAR))
        (gimp-image-convert-precision img precision))
    (cond ((equal? select "rect")
           (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 15 17 20 16))
          ((equal? select "feather")
           (gimp-context-set-feather TRUE)
           (gimp-context-set-feather-radius 8 8)
           (gimp-image-select-ellipse img CHANNEL-OP-REPLACE 9 11 40 32)
           (gimp-context-set-feather FALSE)))
    (set! layer (if (null? opt)
                    (p2p-run-filter filter img src "" size norm seed 1.0)
                    (p2p-run-filter filter img src "" size norm seed 1.0 net)))
    (p2p-check (string-append case " new layer")
               (and (= (car (gimp-item-id-is-layer layer)) TRUE)
                    (= (p2p-siblings img src-parent) (+ n-before 1)))
               "no new layer")
    (p2p-check (string-append case " name")
               (equal? (car (gimp-item-get-name layer)) expected-name)
               (car (gimp-item-get-name layer)))
    (p2p-check (string-append case " size and offsets")
               (and (= (car (gimp-drawable-get-width layer)) 48)
                    (= (car (gimp-drawable-get-height layer)) 40)
                    (equal? (gimp-drawable-get-offsets layer) (list 5 7)))
               (string-append (number->string (car (gimp-drawable-get-width layer))) "x"
                              (number->string (car (gimp-drawable-get-height layer)))))
    (p2p-check (string-append case " above the source, same parent")
               (and (equal? (car (gimp-item-get-parent layer)) src-parent)
                    (= (p2p-layer-position img layer) src-pos)
                    (= (p2p-layer-position img src) (+ src-pos 1)))
               "wrong place in the layer stack")
    (p2p-check (string-append case " image mode")
               (= (car (gimp-image-get-base-type img))
                  ; both filters convert grey and indexed images (#16: colour sketches)
                  (if (or (= base INDEXED) (= base GRAY)) RGB base))
               "image mode not as expected")
    (if (equal? select "mask") (p2p-check-mask case layer))
    (if (equal? select "feather")
        (let ((centre (p2p-alpha-at layer 24 20))
              (corner (p2p-alpha-at layer 0 0))
              (edge (p2p-alpha-at layer 6 20)))
          (p2p-check (string-append case " feathered selection")
                     (and (= centre 255) (= corner 0) (> edge 0) (< edge 255))
                     (string-append "alpha centre " (number->string centre)
                                    " corner " (number->string corner)
                                    " edge " (number->string edge)))))
    (gimp-selection-none img)
    (p2p-save img src (p2p-path case "after"))
    (p2p-save img layer (p2p-path case "result"))
    (gimp-message (string-append "CLI-CHECK " case " " filter " " size " " norm " "
                                 (number->string seed) " "
                                 (cond ((= precision PRECISION-U8-NON-LINEAR) "1")
                                       (else "2")) " "
                                 (cond ((equal? select "rect") "10,10,20,16")
                                       ((equal? select "feather") "feather")
                                       (else "-")) " "
                                 (number->string net)))
    (gimp-image-delete img)))

; The size modes a filter does not offer (models/README.md, "Size modes":
; Auto Colorize resize only, Sketch to Photo no tiles) are not in its
; procedure's size-mode choice, so GIMP 3 logs a script's value as out of
; range and runs the default, resize (the shell compares the result with
; pix2pix-cli in resize mode and finds GIMP's lines in the log).
(define (p2p-mapped-mode filter size)
  (let* ((case (string-append "mapped-" filter "-" size))
         (made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (layer -1))
    (p2p-save img src (p2p-path case "before"))
    (set! layer (p2p-run-filter filter img src "" size "official" 0 1.0))
    (p2p-check (string-append case " runs as resize")
               (= (car (gimp-item-id-is-layer layer)) TRUE) "no layer")
    (p2p-save img src (p2p-path case "after"))
    (p2p-save img layer (p2p-path case "result"))
    (gimp-message (string-append "CLI-CHECK " case " " filter " resize official 0 1 - 0"))
    (gimp-image-delete img)))

(define (p2p-expect-error name thunk)
  (p2p-check name (equal? (catch 'p2p-failed (thunk)) 'p2p-failed) "no error raised"))

(define (p2p-bad-args)
  (let* ((made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (n (p2p-siblings img 0)))
    ; GIMP 3 checks choice arguments itself: an unknown choice is refused by
    ; GIMP with a CRITICAL naming the argument (the shell checks the log)
    ; and the default is used, so these calls succeed.
    (catch #f (p2p-run-filter "sketch" img src "" "sideways" "official" 0 1.0))
    (catch #f (p2p-run-filter "sketch" img src "" "resize" "nonsense" 0 1.0))
    (set! n (p2p-siblings img 0))
    (p2p-expect-error "bad chroma"
      (lambda () (p2p-run-filter "colorize" img src "" "resize" "official" 0 9.5)))
    (p2p-expect-error "bad network size"
      (lambda () (p2p-run-filter "colorize" img src "" "resize" "official" 0 1.0 -5)))
    (p2p-expect-error "missing model"
      (lambda () (p2p-run-filter "sketch" img src "no-such-model" "resize" "official" 0 1.0)))
    (p2p-expect-error "model for the other task"
      (lambda () (p2p-run-filter "colorize" img src "sketch-to-photo" "resize" "official" 0 1.0)))
    (p2p-expect-error "not a model file"
      (lambda () (p2p-run-filter "sketch" img src p2p-bad-model "resize" "official" 0 1.0)))
    (p2p-expect-error "Apply pix2pix Model without a model"
      (lambda () (plug-in-pix2pix-apply-model #:run-mode RUN-NONINTERACTIVE #:image img
                                              #:drawables (vector src) #:model "")))
    (p2p-expect-error "no drawable"
      (lambda () (plug-in-pix2pix-sketch-to-photo #:run-mode RUN-NONINTERACTIVE #:image img
                                                  #:drawables (vector))))
    (p2p-check "failed calls leave no layer" (= (p2p-siblings img 0) n) "layer added")
    (gimp-image-delete img)))

(define (p2p-chroma-zero)
  (let* ((made (p2p-make-image RGB #f #f))
         (img (car made))
         (src (cadr made))
         (layer (p2p-run-filter "colorize" img src p2p-colorize-model "resize" "official" 0 0.0))
         (px (car (gimp-drawable-get-pixel layer 20 20))))
    (p2p-check "chroma 0 gives grey"
               (and (<= (abs (- (list-ref px 0) (list-ref px 1))) 1)
                    (<= (abs (- (list-ref px 1) (list-ref px 2))) 1))
               "colour left")
    (gimp-image-delete img)))

; #16: as test-plugin-gimp2.scm's p2p-paper-test (read there).
(define (p2p-paper-test)
  (let* ((img (car (gimp-image-new 48 40 RGB)))
         (src (car (gimp-layer-new img "Drawing" 48 40 RGBA-IMAGE 100 LAYER-MODE-NORMAL)))
         (flat-img -1)
         (layer -1))
    (gimp-image-insert-layer img src 0 0)
    (gimp-drawable-fill src FILL-TRANSPARENT)
    (gimp-context-set-foreground '(30 40 60))
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 4 4 40 2)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 4 4 2 32)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 20 10 3 26)
    (gimp-image-select-rectangle img CHANNEL-OP-ADD 30 20 14 3)
    (gimp-drawable-edit-fill src FILL-FOREGROUND)
    (gimp-selection-none img)
    (set! flat-img (car (gimp-image-duplicate img)))
    (gimp-context-set-background '(255 255 255))
    (p2p-save flat-img (car (gimp-image-flatten flat-img)) (p2p-path "paper" "flat"))
    (gimp-image-delete flat-img)
    (set! layer (p2p-run-filter "sketch" img src "" "resize" "official" 0 1.0))
    (p2p-check "paper: the result is opaque where the drawing is transparent"
               (and (= (p2p-alpha-at layer 30 30) 255) (= (p2p-alpha-at layer 0 0) 255))
               "transparent pixels in the result")
    (p2p-save img layer (p2p-path "paper" "result"))
    (gimp-image-delete img)))

; #16: as test-plugin-gimp2.scm's p2p-apply-test (read there).
(define (p2p-apply-test pth name)
  (let* ((made (p2p-make-image RGB #t #f))
         (img (car made))
         (src (cadr made))
         (layer -1)
         (tint -1))
    (p2p-save img src (p2p-path "apply" "before"))
    (set! layer (car (plug-in-pix2pix-apply-model #:run-mode RUN-NONINTERACTIVE #:image img
                                                  #:drawables (vector src) #:model pth)))
    (p2p-check "apply: the result layer is named after the model"
               (equal? (car (gimp-item-get-name layer)) (string-append name " (Source)"))
               (car (gimp-item-get-name layer)))
    (p2p-check "apply: size and offsets"
               (and (= (car (gimp-drawable-get-width layer)) 48)
                    (equal? (gimp-drawable-get-offsets layer) (list 5 7)))
               "wrong size or place")
    (p2p-save img src (p2p-path "apply" "after"))
    (p2p-save img layer (p2p-path "apply" "result"))
    (gimp-message "CLI-CHECK apply apply resize official 0 1 - 0")
    (set! tint (car (plug-in-pix2pix-apply-model #:run-mode RUN-NONINTERACTIVE #:image img
                                                 #:drawables (vector src)
                                                 #:model p2p-colorize-model)))
    (p2p-check "apply: a colorize model runs too, named after it"
               (equal? (car (gimp-item-get-name tint)) "Test colorize model (Source)")
               (car (gimp-item-get-name tint)))
    (gimp-image-delete img)))

(define (p2p-run-tests)
  ; case filter base alpha precision select group size norm seed [net-size]
  (p2p-case "rgb"      "sketch"   RGB     #f PRECISION-U8-NON-LINEAR  #f        #f "resize" "official" 0)
  (p2p-case "rgba"     "sketch"   RGB     #t PRECISION-U8-NON-LINEAR  #f        #f "whole"  "official" 0)
  (p2p-case "grey"     "colorize" GRAY    #f PRECISION-U8-NON-LINEAR  #f        #f "resize" "official" 0)
  (p2p-case "greyskt"  "sketch"   GRAY    #t PRECISION-U8-NON-LINEAR  #f        #f "resize" "running" 0)
  (p2p-case "indexed"  "sketch"   INDEXED #f PRECISION-U8-NON-LINEAR  #f        #f "resize" "official" 0)
  (p2p-case "u16"      "colorize" RGB     #f PRECISION-U16-NON-LINEAR #f        #f "resize" "official" 0)
  (p2p-case "float"    "sketch"   RGB     #t PRECISION-FLOAT-LINEAR   #f        #f "resize" "running" 0)
  (p2p-case "select"   "sketch"   RGB     #f PRECISION-U8-NON-LINEAR  "rect"    #f "resize" "official" 0)
  (p2p-case "feather"  "colorize" RGB     #f PRECISION-U8-NON-LINEAR  "feather" #f "resize" "official" 0)
  (p2p-case "group"    "colorize" RGB     #t PRECISION-U8-NON-LINEAR  #f        #t "resize" "stochastic" 7)
  (p2p-case "mask"     "sketch"   RGB     #t PRECISION-U8-NON-LINEAR  "mask"    #t "whole"  "official" 0)
  (p2p-mapped-mode "colorize" "whole")
  (p2p-mapped-mode "colorize" "tile")
  (p2p-mapped-mode "sketch" "tile")
  ; a network size other than the model's (32): the result keeps the layer's size
  (p2p-case "netsize"  "colorize" RGB     #f PRECISION-U8-NON-LINEAR  #f        #f "resize" "official" 0 96)
  (p2p-case "netskt"   "sketch"   RGB     #t PRECISION-U8-NON-LINEAR  #f        #f "resize" "official" 0 64)
  (p2p-chroma-zero)
  (p2p-paper-test)
  (p2p-apply-test p2p-pth p2p-pth-name)
  (gimp-message "TEST-DONE"))

; Run in a GIMP run of its own: GIMP 2.10's Script-Fu (TinyScheme) has been
; seen to crash after many caught errors in one long session.
(define (p2p-run-error-tests)
  (p2p-bad-args)
  (gimp-message "TEST-DONE-ERRORS"))

; Color hints: as test-plugin-gimp2.scm's p2p-hints-test (read there), with
; GIMP 3's PDB: #:hints takes the layer, and leaving it out means none.
(define (p2p-hints-test model)
  (let* ((img (car (gimp-image-new 100 90 RGB)))
         (src (car (gimp-layer-new img "Photo" 80 64 RGB-IMAGE 100 LAYER-MODE-NORMAL)))
         (hints (car (gimp-layer-new img "My hints" 30 30 RGBA-IMAGE 100 LAYER-MODE-NORMAL)))
         (full (car (gimp-image-new 80 64 RGB)))
         (full-layer (car (gimp-layer-new full "Hints" 80 64 RGBA-IMAGE 100 LAYER-MODE-NORMAL))))
    (gimp-image-insert-layer img src 0 0)
    (gimp-layer-set-offsets src 7 5)
    (gimp-context-set-foreground '(128 128 128))
    (gimp-drawable-edit-fill src FILL-FOREGROUND)
    (gimp-image-insert-layer img hints 0 0)
    (gimp-layer-set-offsets hints 40 30)
    (gimp-drawable-fill hints FILL-TRANSPARENT)
    (gimp-image-select-rectangle img CHANNEL-OP-REPLACE 50 40 4 4)
    (gimp-context-set-foreground '(220 30 30))
    (gimp-drawable-edit-fill hints FILL-FOREGROUND)
    (gimp-selection-none img)
    (gimp-item-set-visible hints FALSE)
    (p2p-save img hints (p2p-path "hints" "layer-before"))
    (p2p-save img src (p2p-path "hints" "photo"))
    (let ((with (car (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img
                                               #:drawables (vector src) #:model model
                                               #:hints hints)))
          (without (car (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img
                                                  #:drawables (vector src) #:model model))))
      (p2p-save img with (p2p-path "hints" "with"))
      (p2p-save img without (p2p-path "hints" "without"))
      (p2p-save img hints (p2p-path "hints" "layer-after"))
      (p2p-check "hints: the hints layer stays hidden" (= (car (gimp-item-get-visible hints)) FALSE)
                 "made visible")
      (p2p-check "hints: the result layers are the photo's size and place"
                 (and (equal? (gimp-drawable-get-offsets with) (list 7 5))
                      (= (car (gimp-drawable-get-width with)) 80))
                 "wrong size or offsets"))
    ; A hints layer without transparency is refused.
    (let ((opaque (car (gimp-layer-new img "Opaque hints" 10 10 RGB-IMAGE 100 LAYER-MODE-NORMAL))))
      (gimp-image-insert-layer img opaque 0 0)
      (p2p-check "hints: a layer without transparency is refused"
                 (equal? (catch 'p2p-failed
                           (plug-in-pix2pix-colorize #:run-mode RUN-NONINTERACTIVE #:image img
                                                     #:drawables (vector src) #:model model
                                                     #:hints opaque))
                         'p2p-failed)
                 "accepted"))
    (gimp-image-insert-layer full full-layer 0 0)
    (gimp-drawable-fill full-layer FILL-TRANSPARENT)
    (gimp-image-select-rectangle full CHANNEL-OP-REPLACE 43 35 4 4)
    (gimp-context-set-foreground '(220 30 30))
    (gimp-drawable-edit-fill full-layer FILL-FOREGROUND)
    (gimp-selection-none full)
    (p2p-save full full-layer (p2p-path "hints" "full"))
    (gimp-image-delete full)
    (gimp-image-delete img)
    (gimp-message "TEST-DONE-HINTS")))
