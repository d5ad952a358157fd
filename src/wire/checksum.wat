;; The Internet checksum of packet-sized buffers with 128-bit vectors:
;; src/wire/checksum.ts embeds its binary encoding as SIMD_WASM, and
;; test/wire/checksum-wasm.test.ts checks that the two agree.
(module
  (memory (export "m") 1)
  ;; folded sum of the little-endian 16-bit words of n bytes at p
  ;; (an odd last byte is the low byte of a word); n <= 65536
  (func (export "s") (param $p i32) (param $n i32) (result i32)
    (local $e i32) (local $a v128) (local $b v128) (local $s i32)
    ;; 64 bytes a step into two accumulators, then 16 bytes a step
    (local.set $e (i32.add (local.get $p) (i32.and (local.get $n) (i32.const -64))))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $p) (local.get $e)))
      (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
      (local.set $b (i32x4.add (local.get $b) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=16 (local.get $p)))))
      (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=32 (local.get $p)))))
      (local.set $b (i32x4.add (local.get $b) (i32x4.extadd_pairwise_i16x8_u (v128.load offset=48 (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 64)))
      (br $l)))
    (local.set $e (i32.add (local.get $p) (i32.and (local.get $n) (i32.const 48))))
    (block $d2 (loop $l2
      (br_if $d2 (i32.ge_u (local.get $p) (local.get $e)))
      (local.set $a (i32x4.add (local.get $a) (i32x4.extadd_pairwise_i16x8_u (v128.load (local.get $p)))))
      (local.set $p (i32.add (local.get $p) (i32.const 16)))
      (br $l2)))
    ;; the four lanes, then the last words two bytes a step, then an odd byte
    (local.set $a (i32x4.add (local.get $a) (local.get $b)))
    (local.set $s (i32.add
      (i32.add (i32x4.extract_lane 0 (local.get $a)) (i32x4.extract_lane 1 (local.get $a)))
      (i32.add (i32x4.extract_lane 2 (local.get $a)) (i32x4.extract_lane 3 (local.get $a)))))
    (local.set $e (i32.add (local.get $p) (i32.and (local.get $n) (i32.const 14))))
    (block $d3 (loop $l3
      (br_if $d3 (i32.ge_u (local.get $p) (local.get $e)))
      (local.set $s (i32.add (local.get $s) (i32.load16_u (local.get $p))))
      (local.set $p (i32.add (local.get $p) (i32.const 2)))
      (br $l3)))
    (if (i32.and (local.get $n) (i32.const 1))
      (then (local.set $s (i32.add (local.get $s) (i32.load8_u (local.get $p))))))
    ;; fold twice: 16 bits
    (local.set $s (i32.add (i32.and (local.get $s) (i32.const 0xffff)) (i32.shr_u (local.get $s) (i32.const 16))))
    (i32.add (i32.and (local.get $s) (i32.const 0xffff)) (i32.shr_u (local.get $s) (i32.const 16)))))
