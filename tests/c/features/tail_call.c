// return_call with -mtail-call
int step(int n, int acc);
int run(int n, int acc) { __attribute__((musttail)) return step(n - 1, acc + n); }
