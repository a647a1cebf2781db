// i32.trunc_sat_f32_s with -mnontrapping-fptoint; a guarded i32.trunc_f32_s without it
int float_to_int(float x) { return (int)x; }
