/* Helpers the subcommands share: default paths, opening roots, finding the
 * real QEMU the way the installed wrapper will, running a program. */
#ifndef QP2P_CLI_COMMON_H
#define QP2P_CLI_COMMON_H

#include <json.h>
#include <stdbool.h>

#include "cliout.h"
#include "config.h"
#include "util.h"

/* --config, else $QEMU_P2P_CONFIG, else /etc/qemu-p2p.conf (borrowed). */
const char *cli_config_path(const char *opt);

/* The QEMU the wrapper execs: [qemu] binary; else, when a qemu-system-ARCH
 * on the standard PATH is our wrapper, what that wrapper resolves; else the
 * first qemu-system-ARCH on that PATH, else /usr/libexec/qemu-kvm. Owned. */
int cli_real_qemu(const struct config *cfg, const char *arch, char **out, struct err *e);

/* VMs run as the unprivileged qemu user: a configuration file they cannot
 * read makes the wrapper pass through, silently losing P2P. */
bool cli_readable_by_vms(const char *path);

/* True when path is a copy of qemu-p2p-wrap (it carries our marker). */
bool cli_is_wrapper(const char *path);

/* Runs argv, returns its stdout and stderr (owned) and exit status. */
int cli_capture(char *const argv[], char **out, int *status);

#endif
