/* libundefined.so: calls a function that no library provides. */
extern int nobody_defines_this(int x);

int calls_undefined(int x) { return nobody_defines_this(x) + 1; }
