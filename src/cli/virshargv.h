/* The QEMU command line that `virsh domxml-to-native qemu-argv` prints, read
 * back as an argv for qemu-p2p rewrite --virsh. */
#ifndef QP2P_VIRSHARGV_H
#define QP2P_VIRSHARGV_H

#include "util.h"

/* Splits text as the shell would (quote removal, backslash-newline
 * continuations; no expansions), then drops the leading NAME=value
 * environment settings: argv[0] is the QEMU binary. *argv is owned,
 * NULL-terminated, freed with virsh_argv_free. -EINVAL with e saying why
 * (bad quoting, nothing after the environment). */
int virsh_argv_parse(const char *text, int *argc, char ***argv, struct err *e);

/* virsh_argv_parse on the contents of path ("-": standard input). */
int virsh_argv_read(const char *path, int *argc, char ***argv, struct err *e);

void virsh_argv_free(char **argv);

#endif
