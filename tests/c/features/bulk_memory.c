// memory.copy and memory.fill with -mbulk-memory; calls to memcpy and memset without it
void copy_bytes(char *dst, const char *src, unsigned long n) { __builtin_memcpy(dst, src, n); }
void fill_bytes(char *dst, int c, unsigned long n) { __builtin_memset(dst, c, n); }
