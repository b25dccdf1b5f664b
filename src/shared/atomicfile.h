/* Replacing a file so that readers see the old or the new one, never a
 * part: a temporary file beside it, fsync, rename, fsync of the directory. */
#ifndef QP2P_ATOMICFILE_H
#define QP2P_ATOMICFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* Writes data as path with mode, creating the parent directory (0755) when
 * missing. Returns 0 or -errno; e says which step failed. */
int atomic_write(const char *path, const void *data, size_t len, mode_t mode, struct err *e);

/* A symlink at path pointing to target, replacing what is there. */
int atomic_symlink(const char *target, const char *path, struct err *e);

/* True when path exists and holds exactly these len bytes: nothing to
 * write. */
bool file_holds(const char *path, const char *data, size_t len);

/* mkdir -p (0755). */
int mkdir_parents(const char *path);

#endif
