// i32.extend8_s with -msign-ext; shifts without it
int widen_byte(int x) { return (signed char)x; }
