// hidden symbols reached through the GOT from another object (hidden_data_user.c): wasm-ld
// gives them internal GOT globals, initialized with __memory_base + offset when
// extended-const is enabled (i32.add in a constant expression)
__attribute__((visibility("hidden"))) int hidden_values[4] = {1, 2, 3, 4};
__attribute__((visibility("hidden"))) int hidden_value = 7;
