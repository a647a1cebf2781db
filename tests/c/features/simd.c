// v128.load, f32x4.add, v128.store with -msimd128
typedef float f32x4 __attribute__((vector_size(16)));
void add4(f32x4 *out, const f32x4 *a, const f32x4 *b) { *out = *a + *b; }
