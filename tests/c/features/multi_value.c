// a function type with two results under the experimental multivalue ABI
struct pair { int first, second; };
struct pair swap(int a, int b) { struct pair p = {b, a}; return p; }
