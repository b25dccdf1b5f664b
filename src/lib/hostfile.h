/* Writing the generated host file /etc/qemu-p2p.d/host.conf: its text from
 * a conf_file, and an atomic replace (temporary file, fsync, rename). */
#ifndef QP2P_HOSTFILE_H
#define QP2P_HOSTFILE_H

#include "config.h"
#include "util.h"

#define HOSTFILE_ADDRS_PER_LINE 4
#define HOSTFILE_C8_PER_LINE 3 /* ADDRESS/ID: 3 fit in 200 characters */

/* The file's text (owned). Lines stay below the 200-character limit: at
 * most four addresses (three c8_free entries) a line, continued on
 * indented lines. */
int hostfile_format(const struct conf_file *h, char **out);

/* A copy of the host keys of a host file already read (facts, plan's mode,
 * level, map, hotplug_global_ok), to change some and write it back. An
 * invalid old file yields an empty copy. */
int hostfile_clone(const struct conf_file *old, struct conf_file *out);

/* Replaces path with text atomically, mode 0644. Its directory must exist
 * (-ENOENT, said in e, when it does not: nothing is created). Returns 0 or
 * -errno; e says which step failed. */
int hostfile_write_atomic(const char *path, const char *text, struct err *e);

#endif
