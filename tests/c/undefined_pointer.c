/* libundefinedptr.so: takes the address of a function nobody provides. The address goes
 * through the GOT, which Pyodide resolves when the library is loaded: the load fails. */
extern int nobody_has_this(int x);

int (*hook)(int) = nobody_has_this;

int call_hook(int x) { return hook(x); }
