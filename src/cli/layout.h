/* Where install, uninstall and status put and find things, under a root
 * directory (--root, as dpkg --root): the wrapper's place for each mode and
 * distribution family, the state file, and the libvirt domains that name
 * an emulator path (their files read with libxml2, libvirt's own parser). */
#ifndef QP2P_LAYOUT_H
#define QP2P_LAYOUT_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "util.h"

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

/* A defined domain (/etc/libvirt/qemu/NAME.xml), read with libxml2 as
 * libvirt reads it: the <emulator> libvirt execs, or why the file could
 * not be read or parsed. Such a file may name any emulator path. */
struct domain {
	char name[256];
	char emulator[PATH_MAX]; /* "" when the domain names none */
	char error[256];         /* "" when the file was read and parsed */
};

/* The defined domains (owned array). A directory that cannot be listed is
 * an error (-errno; the caller must then assume any path is in use). */
int domains_list(const struct layout *l, struct domain **out, size_t *n);

/* True when libvirt may exec path for d: it names path, or its file could
 * not be read (never taken as naming nothing). */
bool domain_may_use(const struct domain *d, const char *path);

/* The domain XML xml with its <emulator> from replaced by to, as an owned
 * string for virsh define. -EINVAL with e said when xml does not parse or
 * names another emulator. */
int domain_xml_set_emulator(const char *xml, const char *from, const char *to, char **out, struct err *e);

#endif
