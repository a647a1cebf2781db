/* libmany.so: the library every module of the generated benchmark wheel NEEDs. */
int many_factor = 7;

int many_value(int index) { return index * many_factor + 3; }
