/* Our line in NCCL's own configuration file, /etc/nccl.conf: NCCL reads it
 * at init, each KEY=VALUE line as an environment variable that is not set
 * yet (setenv without overwrite: the first line of a key wins; the
 * environment and ~/.nccl.conf win over it). Lines without '=' are skipped,
 * so our mark is a comment line without '=' right above our line; a later
 * boot removes exactly those two lines and keeps every other byte, and the
 * file's owner and mode. A file that is not a regular file (a directory, a
 * symbolic link, a FIFO) or is read-only (no owner write bit: the
 * operator's lock) is left alone. */
#ifndef QP2P_NCCLCONF_H
#define QP2P_NCCLCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "strbuf.h"

#define NCCLCONF_PATH "etc/nccl.conf"
#define NCCLCONF_MARK                                                                                               \
	"# qemu-p2p-guest boot: GPU P2P failed its test at boot (qemu-p2p-guest status says which pair); the next " \
	"boot that passes removes this line and the next"
#define NCCLCONF_LINE "NCCL_P2P_DISABLE=1"

/* Our two lines are in text. */
bool ncclconf_has_ours(const char *text);

/* text with our two lines first, so they win over a later
 * NCCL_P2P_DISABLE line (text unchanged when they are there already). */
void ncclconf_add(const char *text, struct strbuf *out);

/* text without our two lines (every other byte kept). */
void ncclconf_remove(const char *text, struct strbuf *out);

/* The value NCCL takes for key from text (its first KEY=VALUE line), in
 * buf; NULL when none. */
const char *ncclconf_value(const char *text, const char *key, char *buf, size_t size);

struct ncclconf_file {
	int dir;        /* ROOT/etc, owned; -1 when it does not exist */
	bool exists;    /* nccl.conf is there */
	struct stat st; /* its owner and mode, when it exists */
	char *text;     /* owned; "" when absent */
};

/* Reads ROOT/etc/nccl.conf (absent: empty text); create_dir makes ROOT/etc
 * when missing. -errno with e saying why (not a regular file, ...). */
int ncclconf_open(int root, bool create_dir, struct ncclconf_file *f, struct err *e);

/* Replaces it with text, keeping its owner and mode (new: root's, 0644). */
int ncclconf_save(struct ncclconf_file *f, const char *text, size_t len, struct err *e);
void ncclconf_close(struct ncclconf_file *f);

#endif
