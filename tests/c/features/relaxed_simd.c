// f32x4.relaxed_madd with -mrelaxed-simd
typedef float f32x4 __attribute__((vector_size(16)));
f32x4 madd(f32x4 a, f32x4 b, f32x4 c) { return __builtin_wasm_relaxed_madd_f32x4(a, b, c); }
