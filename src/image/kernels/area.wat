;; OpenCV's INTER_AREA resize of an 8-bit RGB image (`ResizeArea_Invoker<uchar, float>`), with
;; the result written straight as normalized float32 network input; and the same for a
;; zero-padded window of the image resized in double precision (`ResizeArea_Invoker<double,
;; double>` on the CV_64F patch the reference builds for R-Net and O-Net: `cropToInput`). One pixel's three
;; channels travel in lanes 0-2 of an f32x4; every sum is accumulated in float32 in the same
;; order as OpenCV's (and as src/image/resize-area.ts's JavaScript, which this must equal bit
;; for bit: the tests compare them).
;;
;; Memory is laid out by the caller (src/image/area-wasm.ts):
;;   source image: rows of `rowBytes` bytes, 3 per pixel, readable 1 byte past the end
;;                 (a pixel is loaded as 4 bytes; lane 3 is ignored);
;;   x terms: per output column, `counts[d]` (i32) terms of (byte offset i32, weight f32);
;;   y terms: per entry (source row i32, output row i32, weight f32), in OpenCV's order;
;;   buf, sum: one f32x4 per output column;
;;   out: float32 network input.
(module
  (memory (export "memory") 1)

  ;; Horizontal pass of one source row into `buf`.
  (func $hrow (param $row i32) (param $counts i32) (param $terms i32) (param $cols i32) (param $buf i32)
    (local $d i32) (local $t i32) (local $end i32) (local $acc v128)
    (local.set $t (local.get $terms))
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $d) (local.get $cols)))
        (local.set $acc (v128.const f32x4 0 0 0 0))
        (local.set $end
          (i32.add (local.get $t)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $d) (i32.const 2)))) (i32.const 3))))
        (block $tdone
          (loop $term
            (br_if $tdone (i32.ge_u (local.get $t) (local.get $end)))
            (local.set $acc
              (f32x4.add (local.get $acc)
                (f32x4.mul
                  (f32x4.convert_i32x4_u
                    (i32x4.extend_low_i16x8_u
                      (i16x8.extend_low_i8x16_u
                        (v128.load32_zero (i32.add (local.get $row) (i32.load (local.get $t)))))))
                  (f32x4.splat (f32.load offset=4 (local.get $t))))))
            (local.set $t (i32.add (local.get $t) (i32.const 8)))
            (br $term)))
        (v128.store (i32.add (local.get $buf) (i32.shl (local.get $d) (i32.const 4))) (local.get $acc))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $col))))

  ;; Round `sum`'s row half to even, saturate to 0…255 (OpenCV's saturate_cast<uchar>), then
  ;; `(v - mean) * scale` into output row `dy` (or column `dy` when transposed; R and B
  ;; swapped when `swap`).
  (func $emit (param $sum i32) (param $cols i32) (param $dy i32) (param $rows i32)
              (param $out i32) (param $transpose i32) (param $swap i32) (param $mean f32) (param $scale f32)
    (local $x i32) (local $v v128) (local $p i32)
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $x) (local.get $cols)))
        (local.set $v
          (f32x4.mul
            (f32x4.sub
              (f32x4.min
                (f32x4.max
                  (f32x4.nearest (v128.load (i32.add (local.get $sum) (i32.shl (local.get $x) (i32.const 4)))))
                  (v128.const f32x4 0 0 0 0))
                (v128.const f32x4 255 255 255 255))
              (f32x4.splat (local.get $mean)))
            (f32x4.splat (local.get $scale))))
        (local.set $p
          (i32.add (local.get $out)
            (i32.mul (i32.const 12)
              (if (result i32) (local.get $transpose)
                (then (i32.add (i32.mul (local.get $x) (local.get $rows)) (local.get $dy)))
                (else (i32.add (i32.mul (local.get $dy) (local.get $cols)) (local.get $x)))))))
        (if (local.get $swap)
          (then
            (f32.store (local.get $p) (f32x4.extract_lane 2 (local.get $v)))
            (f32.store offset=8 (local.get $p) (f32x4.extract_lane 0 (local.get $v))))
          (else
            (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $v)))
            (f32.store offset=8 (local.get $p) (f32x4.extract_lane 2 (local.get $v)))))
        (f32.store offset=4 (local.get $p) (f32x4.extract_lane 1 (local.get $v)))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $col))))

  ;; The whole resize: y terms in order; each new source row is reduced horizontally once,
  ;; rows of the same output row are accumulated as `sum += beta * buf`, a finished output
  ;; row is emitted.
  (func (export "areaToInput")
    (param $src i32) (param $rowBytes i32)
    (param $counts i32) (param $xterms i32) (param $cols i32)
    (param $yterms i32) (param $ny i32) (param $rows i32)
    (param $buf i32) (param $sum i32)
    (param $out i32) (param $transpose i32) (param $swap i32) (param $mean f32) (param $scale f32)
    (local $j i32) (local $e i32) (local $sy i32) (local $dy i32) (local $beta v128)
    (local $bufRow i32) (local $prevDy i32) (local $x i32) (local $a i32) (local $first i32)
    (local.set $bufRow (i32.const -1))
    (local.set $prevDy (i32.load offset=4 (local.get $yterms)))
    ;; sum = 0
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $x) (local.get $cols)))
      (v128.store (i32.add (local.get $sum) (i32.shl (local.get $x) (i32.const 4))) (v128.const f32x4 0 0 0 0))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $zl)))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $j) (local.get $ny)))
        (local.set $e (i32.add (local.get $yterms) (i32.mul (local.get $j) (i32.const 12))))
        (local.set $sy (i32.load (local.get $e)))
        (local.set $dy (i32.load offset=4 (local.get $e)))
        (local.set $beta (f32x4.splat (f32.load offset=8 (local.get $e))))
        (if (i32.ne (local.get $sy) (local.get $bufRow))
          (then
            (call $hrow (i32.add (local.get $src) (i32.mul (local.get $sy) (local.get $rowBytes)))
                        (local.get $counts) (local.get $xterms) (local.get $cols) (local.get $buf))
            (local.set $bufRow (local.get $sy))))
        (local.set $first (i32.ne (local.get $dy) (local.get $prevDy)))
        (if (local.get $first)
          (then
            (call $emit (local.get $sum) (local.get $cols) (local.get $prevDy) (local.get $rows)
                        (local.get $out) (local.get $transpose) (local.get $swap) (local.get $mean) (local.get $scale))
            (local.set $prevDy (local.get $dy))))
        (local.set $x (i32.const 0))
        (block $vd
          (loop $v
            (br_if $vd (i32.ge_u (local.get $x) (local.get $cols)))
            (local.set $a (i32.shl (local.get $x) (i32.const 4)))
            (v128.store (i32.add (local.get $sum) (local.get $a))
              (if (result v128) (local.get $first)
                (then (f32x4.mul (local.get $beta) (v128.load (i32.add (local.get $buf) (local.get $a)))))
                (else
                  (f32x4.add (v128.load (i32.add (local.get $sum) (local.get $a)))
                    (f32x4.mul (local.get $beta) (v128.load (i32.add (local.get $buf) (local.get $a))))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $v)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $entry)))
    (call $emit (local.get $sum) (local.get $cols) (local.get $prevDy) (local.get $rows)
                (local.get $out) (local.get $transpose) (local.get $swap) (local.get $mean) (local.get $scale)))

  ;; ---------------------------------------------------------------- double precision crops
  ;; x terms: per output column `counts[d]` terms (byte offset in the image row i32, weight
  ;; f32), only those inside the window and the image (the rest multiply zeros); y terms:
  ;; 16 bytes each (byte offset of the image row i32, or -1 outside; output row i32; weight
  ;; f32; 1 when the row differs from the previous entry's i32). buf, sum: two f64x2 per
  ;; output column ((r, g), (b, -)).

  (func $hrow64 (param $row i32) (param $counts i32) (param $terms i32) (param $cols i32) (param $buf i32)
    (local $d i32) (local $t i32) (local $end i32) (local $rg v128) (local $b v128) (local $px v128) (local $a v128)
    (local.set $t (local.get $terms))
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $d) (local.get $cols)))
        (local.set $rg (v128.const f64x2 0 0))
        (local.set $b (v128.const f64x2 0 0))
        (local.set $end
          (i32.add (local.get $t)
            (i32.shl (i32.load (i32.add (local.get $counts) (i32.shl (local.get $d) (i32.const 2)))) (i32.const 3))))
        (block $tdone
          (loop $term
            (br_if $tdone (i32.ge_u (local.get $t) (local.get $end)))
            (local.set $px
              (i32x4.extend_low_i16x8_u
                (i16x8.extend_low_i8x16_u
                  (v128.load32_zero (i32.add (local.get $row) (i32.load (local.get $t)))))))
            (local.set $a (f64x2.splat (f64.promote_f32 (f32.load offset=4 (local.get $t)))))
            (local.set $rg (f64x2.add (local.get $rg) (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $px)) (local.get $a))))
            (local.set $b
              (f64x2.add (local.get $b)
                (f64x2.mul
                  (f64x2.convert_low_i32x4_u
                    (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $px) (local.get $px)))
                  (local.get $a))))
            (local.set $t (i32.add (local.get $t) (i32.const 8)))
            (br $term)))
        (v128.store (i32.add (local.get $buf) (i32.shl (local.get $d) (i32.const 5))) (local.get $rg))
        (v128.store offset=16 (i32.add (local.get $buf) (i32.shl (local.get $d) (i32.const 5))) (local.get $b))
        (local.set $d (i32.add (local.get $d) (i32.const 1)))
        (br $col))))

  ;; `(v - mean) * scale` in double, rounded to float32, into output row (column) `dy`.
  (func $emit64 (param $sum i32) (param $cols i32) (param $dy i32) (param $rows i32)
                (param $out i32) (param $transpose i32) (param $swap i32) (param $mean f64) (param $scale f64)
    (local $x i32) (local $rg v128) (local $b v128) (local $p i32) (local $s i32)
    (block $done
      (loop $col
        (br_if $done (i32.ge_u (local.get $x) (local.get $cols)))
        (local.set $s (i32.add (local.get $sum) (i32.shl (local.get $x) (i32.const 5))))
        (local.set $rg (f64x2.mul (f64x2.sub (v128.load (local.get $s)) (f64x2.splat (local.get $mean))) (f64x2.splat (local.get $scale))))
        (local.set $b (f64x2.mul (f64x2.sub (v128.load offset=16 (local.get $s)) (f64x2.splat (local.get $mean))) (f64x2.splat (local.get $scale))))
        (local.set $p
          (i32.add (local.get $out)
            (i32.mul (i32.const 12)
              (if (result i32) (local.get $transpose)
                (then (i32.add (i32.mul (local.get $x) (local.get $rows)) (local.get $dy)))
                (else (i32.add (i32.mul (local.get $dy) (local.get $cols)) (local.get $x)))))))
        (if (local.get $swap)
          (then
            (f32.store (local.get $p) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $b))))
            (f32.store offset=8 (local.get $p) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $rg)))))
          (else
            (f32.store (local.get $p) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $rg))))
            (f32.store offset=8 (local.get $p) (f32.demote_f64 (f64x2.extract_lane 0 (local.get $b))))))
        (f32.store offset=4 (local.get $p) (f32.demote_f64 (f64x2.extract_lane 1 (local.get $rg))))
        (local.set $x (i32.add (local.get $x) (i32.const 1)))
        (br $col))))

  (func (export "cropToInput")
    (param $counts i32) (param $xterms i32) (param $cols i32)
    (param $yterms i32) (param $ny i32) (param $rows i32)
    (param $buf i32) (param $sum i32)
    (param $out i32) (param $transpose i32) (param $swap i32) (param $mean f64) (param $scale f64)
    (local $j i32) (local $e i32) (local $row i32) (local $dy i32) (local $beta v128)
    (local $prevDy i32) (local $x i32) (local $a i32) (local $first i32) (local $n i32)
    (local.set $prevDy (i32.load offset=4 (local.get $yterms)))
    (local.set $n (i32.shl (local.get $cols) (i32.const 1)))
    ;; sum = 0 (two f64x2 per column)
    (block $z (loop $zl
      (br_if $z (i32.ge_u (local.get $x) (local.get $n)))
      (v128.store (i32.add (local.get $sum) (i32.shl (local.get $x) (i32.const 4))) (v128.const f64x2 0 0))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $zl)))
    (block $done
      (loop $entry
        (br_if $done (i32.ge_u (local.get $j) (local.get $ny)))
        (local.set $e (i32.add (local.get $yterms) (i32.shl (local.get $j) (i32.const 4))))
        (local.set $row (i32.load (local.get $e)))
        (local.set $dy (i32.load offset=4 (local.get $e)))
        (local.set $beta (f64x2.splat (f64.promote_f32 (f32.load offset=8 (local.get $e)))))
        (if (i32.load offset=12 (local.get $e))
          (then
            (if (i32.ge_s (local.get $row) (i32.const 0))
              (then (call $hrow64 (local.get $row) (local.get $counts) (local.get $xterms) (local.get $cols) (local.get $buf)))
              (else
                (local.set $x (i32.const 0))
                (block $bz (loop $bzl
                  (br_if $bz (i32.ge_u (local.get $x) (local.get $n)))
                  (v128.store (i32.add (local.get $buf) (i32.shl (local.get $x) (i32.const 4))) (v128.const f64x2 0 0))
                  (local.set $x (i32.add (local.get $x) (i32.const 1)))
                  (br $bzl)))))))
        (local.set $first (i32.ne (local.get $dy) (local.get $prevDy)))
        (if (local.get $first)
          (then
            (call $emit64 (local.get $sum) (local.get $cols) (local.get $prevDy) (local.get $rows)
                          (local.get $out) (local.get $transpose) (local.get $swap) (local.get $mean) (local.get $scale))
            (local.set $prevDy (local.get $dy))))
        (local.set $x (i32.const 0))
        (block $vd
          (loop $v
            (br_if $vd (i32.ge_u (local.get $x) (local.get $n)))
            (local.set $a (i32.shl (local.get $x) (i32.const 4)))
            (v128.store (i32.add (local.get $sum) (local.get $a))
              (if (result v128) (local.get $first)
                (then (f64x2.mul (local.get $beta) (v128.load (i32.add (local.get $buf) (local.get $a)))))
                (else
                  (f64x2.add (v128.load (i32.add (local.get $sum) (local.get $a)))
                    (f64x2.mul (local.get $beta) (v128.load (i32.add (local.get $buf) (local.get $a))))))))
            (local.set $x (i32.add (local.get $x) (i32.const 1)))
            (br $v)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $entry)))
    (call $emit64 (local.get $sum) (local.get $cols) (local.get $prevDy) (local.get $rows)
                  (local.get $out) (local.get $transpose) (local.get $swap) (local.get $mean) (local.get $scale)))

  ;; ---------------------------------------------------------------- enlarging crops
  ;; OpenCV's INTER_AREA when a side grows: bilinear with "area" coefficients, in double
  ;; (`resizeGeneric_` with HResizeLinear / VResizeLinear on the CV_64F patch). x table: per
  ;; output column 16 bytes (byte offset of source column 0 and 1 in an image row, -1 for a
  ;; padding zero; weights a0, a1 f32); y table likewise per output row (byte offsets of the
  ;; two image rows, -1 for padding; b0, b1). Each value: (p00 a0 + p01 a1) b0 + (p10 a0 + p11 a1) b1.

  ;; A padding pixel (an offset of -1) is read from `zero`, 4 zero bytes the caller provides.
  (func (export "cropEnlargeToInput")
    (param $xtab i32) (param $cols i32) (param $ytab i32) (param $rows i32) (param $sum i32) (param $zero i32)
    (param $out i32) (param $transpose i32) (param $swap i32) (param $mean f64) (param $scale f64)
    (local $dy i32) (local $dx i32) (local $y i32) (local $x i32)
    (local $r0 i32) (local $r1 i32) (local $c0 i32) (local $c1 i32)
    (local $a0 v128) (local $a1 v128) (local $b0 v128) (local $b1 v128)
    (local $p v128) (local $q v128) (local $s i32)
    (block $rdone
      (loop $row
        (br_if $rdone (i32.ge_u (local.get $dy) (local.get $rows)))
        (local.set $y (i32.add (local.get $ytab) (i32.shl (local.get $dy) (i32.const 4))))
        (local.set $r0 (i32.load (local.get $y)))
        (local.set $r1 (i32.load offset=4 (local.get $y)))
        (local.set $b0 (f64x2.splat (f64.promote_f32 (f32.load offset=8 (local.get $y)))))
        (local.set $b1 (f64x2.splat (f64.promote_f32 (f32.load offset=12 (local.get $y)))))
        (local.set $dx (i32.const 0))
        (block $cdone
          (loop $col
            (br_if $cdone (i32.ge_u (local.get $dx) (local.get $cols)))
            (local.set $x (i32.add (local.get $xtab) (i32.shl (local.get $dx) (i32.const 4))))
            (local.set $c0 (i32.load (local.get $x)))
            (local.set $c1 (i32.load offset=4 (local.get $x)))
            (local.set $a0 (f64x2.splat (f64.promote_f32 (f32.load offset=8 (local.get $x)))))
            (local.set $a1 (f64x2.splat (f64.promote_f32 (f32.load offset=12 (local.get $x)))))
            (local.set $s (i32.add (local.get $sum) (i32.shl (local.get $dx) (i32.const 5))))
            ;; the upper source row blended horizontally: (r, g) and (b, -)
            (local.set $p
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero
                (select (local.get $zero) (i32.add (local.get $r0) (local.get $c0))
                  (i32.lt_s (i32.or (local.get $r0) (local.get $c0)) (i32.const 0)))))))
            (local.set $q
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero
                (select (local.get $zero) (i32.add (local.get $r0) (local.get $c1))
                  (i32.lt_s (i32.or (local.get $r0) (local.get $c1)) (i32.const 0)))))))
            (v128.store (local.get $s) (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $p)) (local.get $a0)) (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $q)) (local.get $a1))))
            (v128.store offset=16 (local.get $s) (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p) (local.get $p))) (local.get $a0)) (f64x2.mul (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q))) (local.get $a1))))
            ;; the lower row, then the vertical blend
            (local.set $p
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero
                (select (local.get $zero) (i32.add (local.get $r1) (local.get $c0))
                  (i32.lt_s (i32.or (local.get $r1) (local.get $c0)) (i32.const 0)))))))
            (local.set $q
              (i32x4.extend_low_i16x8_u (i16x8.extend_low_i8x16_u (v128.load32_zero
                (select (local.get $zero) (i32.add (local.get $r1) (local.get $c1))
                  (i32.lt_s (i32.or (local.get $r1) (local.get $c1)) (i32.const 0)))))))
            (v128.store (local.get $s)
              (f64x2.add (f64x2.mul (v128.load (local.get $s)) (local.get $b0)) (f64x2.mul (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $p)) (local.get $a0)) (f64x2.mul (f64x2.convert_low_i32x4_u (local.get $q)) (local.get $a1))) (local.get $b1))))
            (v128.store offset=16 (local.get $s)
              (f64x2.add (f64x2.mul (v128.load offset=16 (local.get $s)) (local.get $b0)) (f64x2.mul (f64x2.add (f64x2.mul (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $p) (local.get $p))) (local.get $a0)) (f64x2.mul (f64x2.convert_low_i32x4_u (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $q) (local.get $q))) (local.get $a1))) (local.get $b1))))
            (local.set $dx (i32.add (local.get $dx) (i32.const 1)))
            (br $col)))
        (call $emit64 (local.get $sum) (local.get $cols) (local.get $dy) (local.get $rows)
                      (local.get $out) (local.get $transpose) (local.get $swap) (local.get $mean) (local.get $scale))
        (local.set $dy (i32.add (local.get $dy) (i32.const 1)))
        (br $row))))
)
