/* What the wrapper will do on this host, as every command reports it: the
 * configuration it loads and whether it accepts it, the QEMU it execs,
 * whether the host facts hold for that QEMU, and the group of every GPU.
 * Each answer comes from the code the wrapper itself runs (config_load,
 * resolve_qemu, rewrite_host_gate, hostplan_group, facts_c8_state), so no
 * command can report a plan the wrapper would not follow. */
#ifndef QP2P_VERDICT_H
#define QP2P_VERDICT_H

#include <json.h>
#include <stdbool.h>

#include "config.h"
#include "hostplan.h"

struct verdict {
	struct config cfg;
	char *real;          /* the QEMU the wrapper execs (owned); NULL: none */
	bool binary_ignored; /* [qemu] binary is set but not what runs */
	char *stop;          /* why no VM gets a clique (owned), or NULL */
	struct hostplan hp;  /* every GPU, labels as the wrapper groups them */
	bool *blocked;       /* per GPU: a QEMU < 8.1 cannot take its clique */
	size_t n_groups;     /* groups of two or more GPUs */
};

struct verdict_in {
	const char *config;     /* --config, or NULL */
	int sysfs;              /* the sysfs root, opened */
	const char *sysfs_path; /* its path, for messages */
	const char *qemu;       /* --qemu, or NULL for the QEMU the wrapper finds */
	const char *arch;       /* NULL: x86_64 */
};

/* Loads the configuration (cli_config_load: a missing --config file is an
 * error, said), finds the real QEMU, reads and groups the host's GPUs.
 * Returns 0 or -errno (said on stderr); a rejected configuration is not an
 * error here: v->cfg.valid and v->stop say it. */
int verdict_load(struct verdict *v, const struct verdict_in *in);
void verdict_free(struct verdict *v);

/* GPUs of the host whose VMs get no clique from any group: in no group. */
size_t verdict_ungrouped(const struct verdict *v, struct pci_addr *out, size_t max);

/* The "verdict" object of doctor, status and vms --json (qemu-p2p(8),
 * JSON OUTPUT): config, error, warnings, qemu, mode, grouping, groups,
 * alone, ungrouped, blocked, adds_cliques, stop. */
struct json_object *verdict_json(const struct verdict *v);

/* An array of "0000:05:00.0" strings. */
struct json_object *verdict_addr_array(const struct pci_addr *a, size_t n);

#endif
