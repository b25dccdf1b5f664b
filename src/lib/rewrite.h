/* The wrapper's decision, shared by qemu-p2p-wrap and `qemu-p2p rewrite`:
 * given the configuration, the host's sysfs and a QEMU argv, the argv to
 * exec and one line saying what was decided and why. */
#ifndef QP2P_REWRITE_H
#define QP2P_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "pci.h"

/* `qemu-p2p rewrite --fd N=ADDRESS`: stands in for an inherited descriptor. */
struct fd_addr {
	int fd;
	struct pci_addr addr;
};

struct rewrite_env {
	int sysfs;                 /* sysfs root directory descriptor */
	int proc;                  /* proc root directory descriptor, -1 if none */
	const char *proc_root;     /* when proc is -1: opened for an fd= device only */
	const struct fd_addr *fds; /* overrides for fd=N, may be NULL */
	size_t n_fds;
	const char *real_binary; /* what will be exec'd: facts must match it */
};

struct rewrite_out {
	char **argv; /* NULL-terminated; array owned, strings borrowed from
			    the input argv or from `owned` */
	int argc;
	char **owned; /* the spliced arguments */
	size_t n_owned;
	bool changed;
	char *summary; /* the log line without the "qemu-p2p: " prefix, owned;
			    NULL for capability probes (nothing to say) */
};

/* Never fails for bad input: anything unexpected leaves argv unchanged and
 * says why in summary. Returns -ENOMEM only. */
int rewrite_argv(const struct config *cfg, int argc, char *const *argv, const struct rewrite_env *env,
		 struct rewrite_out *out);

void rewrite_out_free(struct rewrite_out *out);

/* Why no VM of this host gets a clique, whatever its command line
 * (configuration rejected, mode = off, host facts missing or stale for
 * real_binary), written into buf; NULL when the wrapper goes on to decide
 * per device. The very test rewrite_argv makes, for the commands that
 * report what the wrapper will do. */
const char *rewrite_host_gate(const struct config *cfg, const char *real_binary, char *buf, size_t size);

#endif
