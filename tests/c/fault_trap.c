/* libtrap.so: NEEDs libbase.so and traps in its constructor, which Emscripten runs when it
 * loads the library: an install that stops with an exception in the middle of its loads,
 * after libbase.so is loaded. */
extern int base_value(int x);

__attribute__((constructor)) static void trap_at_load(void) { __builtin_trap(); }

int fault_value(int x) { return base_value(x); }
