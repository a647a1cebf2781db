/* libbase.so: a shared library with no dependencies. */
int base_scale = 3;

int base_value(int x) { return x * base_scale + 1; }
