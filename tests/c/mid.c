/* libmid.so: a shared library that NEEDs libbase.so. */
extern int base_value(int x);

int mid_value(int x) { return base_value(x) + 100; }
