// i32.atomic.rmw.add with -matomics
int counter;
int bump(void) { return __atomic_fetch_add(&counter, 1, __ATOMIC_SEQ_CST); }
