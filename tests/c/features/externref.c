// an externref parameter and result with -mreference-types
__externref_t pass_through(__externref_t x) { return x; }
