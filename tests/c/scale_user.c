/* libscale.so: reads base_scale (data defined in libbase.so) without NEEDing libbase.so.
 * Data imports are bound when the library is loaded, so it loads only if libbase.so was
 * loaded globally before it. */
extern int base_scale;

int scaled(int x) { return x * base_scale; }
