extern int hidden_value;
extern int hidden_values[4];
int *address(void) { return &hidden_value; }
int *addresses(void) { return hidden_values; }
