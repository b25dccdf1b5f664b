/* Files below a root directory (--root, default /) that qemu-p2p-guest
 * writes as root at boot: NCCL's topology file, /etc/nccl.conf, its status
 * file. Paths are walked one component at a time from a descriptor of the
 * root, so a test tree stands for /. A symbolic link on the way is followed
 * only where no unprivileged user could have planted it: the link and the
 * directory holding it owned by root or by us, that directory writable by
 * its owner alone (/var/run -> /run passes; a link in /tmp does not); an
 * absolute target is resolved below the root again. A file is replaced
 * whole (a temporary file beside it, fsync, rename), so a reader sees the
 * old one or the new one, and a link at its name is replaced, never
 * followed. */
#ifndef QP2P_ROOTFS_H
#define QP2P_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

/* Opens directory path (relative to root: "var/run/nvidia-topologyd") as
 * *out (owned); create: makes missing directories (0755). e names the
 * component and why. */
int rootfs_dir(int root, const char *path, bool create, int *out, struct err *e);

/* Replaces name in dir with len bytes of data, with mode and owner
 * ((uid_t)-1 and (gid_t)-1 keep ours). 0 or -errno; nothing is left
 * behind on failure. */
int rootfs_replace(int dir, const char *name, const char *data, size_t len, mode_t mode, uid_t uid, gid_t gid);

/* Removes file name from dir: 1 removed, 0 absent, -errno (-EISDIR for a
 * directory, which is never removed). */
int rootfs_remove(int dir, const char *name);

/* "ROOT/path" for messages ("/path" when root is "/"). */
const char *rootfs_show(const char *root, const char *path, char *buf, size_t size);

#endif
