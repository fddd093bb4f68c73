#!/bin/sh
# Writes the small C project built by the make-j2 sample into DIR (default /tmp/mmr/build).
set -e
d=${1:-/tmp/mmr/build}
mkdir -p "$d"
for i in 1 2 3 4 5 6; do
	printf '#include <stdio.h>\n#include <string.h>\nint f%d(const char *s);\nint f%d(const char *s) { char b[64]; snprintf(b, sizeof b, "%%s-%d", s); return (int)strlen(b); }\n' $i $i $i >"$d/f$i.c"
done
printf '#include <stdio.h>\nint f1(const char *);\nint main(void) { printf("%%d\\n", f1("x")); return 0; }\n' >"$d/main.c"
printf 'OBJS = main.o f1.o f2.o f3.o f4.o f5.o f6.o\nprog: $(OBJS)\n\tcc -o $@ $(OBJS)\n%%.o: %%.c\n\tcc -O2 -c $< -o $@\nclean:\n\trm -f *.o prog\n' >"$d/Makefile"
