/* Where install, uninstall and status put and find things, under a root
 * directory (--root, as dpkg --root): the wrapper's place for each mode and
 * distribution family, the state file, and the libvirt domains that name
 * an emulator path. */
#ifndef QP2P_LAYOUT_H
#define QP2P_LAYOUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

enum install_mode { INSTALL_NONE, INSTALL_SHADOW, INSTALL_DIVERT };

struct layout {
	char root[PATH_MAX]; /* "" for / */
	char arch[32];
	bool dpkg, rpm;             /* distribution family found under root */
	char packaged[256];         /* the distribution's QEMU (in-root path) */
	char shadow[256];           /* the wrapper's place in shadow mode */
	char state[256];            /* our record of what install did */
	char wrapper_src[PATH_MAX]; /* the qemu-p2p-wrap to install (host path) */
};

/* What install creates there for itself, removed when empty again. */
#define INSTALL_STATE_DIR "/var/lib/qemu-p2p"

/* Fills the layout; wrapper may be NULL (the installed one, else the one
 * beside this program in a build tree). */
int layout_init(struct layout *l, const char *root, const char *arch, const char *wrapper);

/* A path under the root: room for root + an in-root path. */
struct rpath {
	char s[PATH_MAX + 256];
};

/* root + path, written into buf; returns buf->s. */
const char *layout_path(const struct layout *l, const char *path, struct rpath *buf);

/* The mode the state file records and the wrapper's path (in-root). */
enum install_mode layout_state(const struct layout *l, char *path, size_t size);

/* Defined domains (/etc/libvirt/qemu/NAME.xml) and their <emulator>. */
struct domain {
	char name[128];
	char emulator[256];
};
int domains_list(const struct layout *l, struct domain **out, size_t *n);

#endif
