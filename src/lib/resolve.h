/* Finding the real QEMU binary without needing any file of ours, and never
 * the wrapper itself (DESIGN "The wrapper's path"). */
#ifndef QP2P_RESOLVE_H
#define QP2P_RESOLVE_H

#include "util.h"

/* libvirt's standard PATH, in its order. */
#define RESOLVE_STD_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define RESOLVE_RHEL_QEMU "/usr/libexec/qemu-kvm"
#define RESOLVE_DEFAULT_ARCH "x86_64"

/* A string the wrapper binary carries (what(1) style) so that install,
 * doctor and status can tell it from a real QEMU by content, not by name. */
#define WRAPPER_MARKER "@(#)qemu-p2p-wrap marker 1"

struct resolve_in {
	const char *config_binary; /* [qemu] binary, or NULL */
	const char *self;          /* the wrapper's own path (/proc/self/exe) */
	const char *arch;          /* from the wrapper's name */
	const char *search_path;   /* RESOLVE_STD_PATH; a parameter for tests */
	const char *fallback;      /* RESOLVE_RHEL_QEMU; a parameter for tests */
};

/* The first runnable candidate whose inode is not the wrapper's, in order:
 * config binary, <self>.real, qemu-system-<arch> in search_path after the
 * wrapper's own directory, fallback; written into out (size bytes). It
 * allocates nothing, so memory never stops a VM start. -ENOENT when none. */
int resolve_qemu(const struct resolve_in *in, char *out, size_t size, struct err *e);

/* The first regular executable qemu-system-<arch> in the directories of
 * search_path (':'-separated), written into out (size bytes); what a caller
 * with that PATH runs. -ENOENT when none. Allocates nothing. */
int resolve_on_path(const char *search_path, const char *arch, char *out, size_t size);

/* "x86_64" from ".../qemu-system-x86_64"; NULL when the name has none. */
const char *resolve_arch_from_name(const char *path);

#endif
