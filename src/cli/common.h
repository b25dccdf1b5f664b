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

/* The configuration as the wrapper loads it (config_load), from --config,
 * else $QEMU_P2P_CONFIG, else the default path. A file given with
 * --config that does not exist is an error (said; -ENOENT), where the
 * wrapper would silently use defaults. A rejected file is not an error
 * here: cfg->valid says so. */
int cli_config_load(const char *opt, struct config *cfg);

/* 0 when the wrapper accepts the configuration; else says why, the way
 * every command says it, and returns -EINVAL. */
int cli_config_usable(const struct config *cfg);

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
