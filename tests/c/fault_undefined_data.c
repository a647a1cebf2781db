/* libnodata.so: a shared library that uses the address of data nobody defines: it cannot
 * be instantiated ("undefined symbol: fault_missing_data"). */
extern int fault_missing_data;

int fault_value(int x) { return x + fault_missing_data; }
