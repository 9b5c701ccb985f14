;; The polyphase resampler's inner loop in WebAssembly SIMD (f32x4): one dot product of a phase's
;; coefficients with the input window per output sample. Source of src/audio/fir_kernel_bytes.ts, which
;; holds the assembled module; regenerate with `npm run build:wasm` (a test checks the two agree).
;;
;; The caller (src/audio/fir_kernel.ts) owns the memory layout: every pointer is a byte offset into the
;; exported memory, 16-byte aligned, and each phase's taps are zero-padded to a multiple of 8 floats, so
;; the window reads up to 7 floats past the last real tap (the caller keeps them readable and finite).
;; The summation order is fixed (two vector accumulators, then lanes (0+1)+(2+3)), so the result does not
;; depend on how a stream is chunked.
(module
  (memory (export "memory") 1)

  ;; Writes `count` outputs to `out`. Output k reads the input window starting at float index `start`
  ;; with phase `phase`'s taps; between outputs the window advances by baseStep floats and the phase by
  ;; phaseStep (carrying one more float when it reaches upFactor), the resampler's rational stepping.
  (func (export "resample")
    (param $coefficients i32) (param $paddedTaps i32) (param $upFactor i32)
    (param $baseStep i32) (param $phaseStep i32)
    (param $input i32) (param $start i32) (param $phase i32)
    (param $out i32) (param $count i32)
    (local $tap i32) (local $window i32) (local $tapsEnd i32) (local $phaseBytes i32)
    (local $acc0 v128) (local $acc1 v128)
    (local.set $phaseBytes (i32.shl (local.get $paddedTaps) (i32.const 2)))
    (block $done
      (br_if $done (i32.eqz (local.get $count)))
      (loop $outputs
        (local.set $tap (i32.add (local.get $coefficients) (i32.mul (local.get $phase) (local.get $phaseBytes))))
        (local.set $tapsEnd (i32.add (local.get $tap) (local.get $phaseBytes)))
        (local.set $window (i32.add (local.get $input) (i32.shl (local.get $start) (i32.const 2))))
        (local.set $acc0 (v128.const f32x4 0 0 0 0))
        (local.set $acc1 (v128.const f32x4 0 0 0 0))
        (loop $taps
          (local.set $acc0 (f32x4.add (local.get $acc0)
            (f32x4.mul (v128.load (local.get $tap)) (v128.load align=4 (local.get $window)))))
          (local.set $acc1 (f32x4.add (local.get $acc1)
            (f32x4.mul (v128.load offset=16 (local.get $tap)) (v128.load offset=16 align=4 (local.get $window)))))
          (local.set $tap (i32.add (local.get $tap) (i32.const 32)))
          (local.set $window (i32.add (local.get $window) (i32.const 32)))
          (br_if $taps (i32.lt_u (local.get $tap) (local.get $tapsEnd))))
        (local.set $acc0 (f32x4.add (local.get $acc0) (local.get $acc1)))
        (f32.store (local.get $out)
          (f32.add
            (f32.add (f32x4.extract_lane 0 (local.get $acc0)) (f32x4.extract_lane 1 (local.get $acc0)))
            (f32.add (f32x4.extract_lane 2 (local.get $acc0)) (f32x4.extract_lane 3 (local.get $acc0)))))
        (local.set $out (i32.add (local.get $out) (i32.const 4)))
        (local.set $start (i32.add (local.get $start) (local.get $baseStep)))
        (local.set $phase (i32.add (local.get $phase) (local.get $phaseStep)))
        (if (i32.ge_u (local.get $phase) (local.get $upFactor))
          (then
            (local.set $phase (i32.sub (local.get $phase) (local.get $upFactor)))
            (local.set $start (i32.add (local.get $start) (i32.const 1)))))
        (local.set $count (i32.sub (local.get $count) (i32.const 1)))
        (br_if $outputs (local.get $count))))))
