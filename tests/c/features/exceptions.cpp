// try / catch / rethrow (the legacy encoding, clang 19's only one) with -fwasm-exceptions;
// the C++ runtime functions and the __cpp_exception tag are left as imports
void may_throw(int);
extern "C" int guarded(int x) {
    try {
        may_throw(x);
    } catch (int e) {
        return e;
    }
    return 0;
}
