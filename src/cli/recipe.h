/* plan --for: what a scheduler needs so that a VM's GPUs come from one P2P
 * group. GPUs of two groups cannot do P2P whatever clique they get, and
 * Proxmox and Nova pick devices without knowing the groups; each recipe
 * turns the groups the wrapper uses into the scheduler's own terms
 * (resource mappings, PCI aliases, node device names). */
#ifndef QP2P_CLI_RECIPE_H
#define QP2P_CLI_RECIPE_H

#include <json.h>
#include <stdbool.h>

#include "pci.h"
#include "strbuf.h"

struct recipe_gpu {
	struct pci_addr addr;
	unsigned vendor, device;
	unsigned subvendor, subdevice;
	bool subsys_known;
	long iommu_group; /* -1 none */
	long numa;        /* -1 unknown */
	bool sriov;       /* sriov_totalvfs > 0: libvirt reports a PF, Nova type-PF */
	int group;        /* 0 .. n_groups - 1 */
};

/* A host whose every GPU is in a group, and some group has two. */
struct recipe {
	const char *host;              /* the name the scheduler knows the host by (borrowed) */
	const char *basis;             /* how the groups were made, for the header (borrowed) */
	const struct recipe_gpu *gpus; /* address order (borrowed) */
	size_t n;
	int n_groups;
};

/* Each writes its recipe to out and adds its names to groups[g], one JSON
 * object per group (label and GPUs already there). */
void recipe_proxmox(const struct recipe *r, struct strbuf *out, struct json_object *const *groups);
void recipe_nova(const struct recipe *r, struct strbuf *out, struct json_object *const *groups);
void recipe_libvirt(const struct recipe *r, struct strbuf *out, struct json_object *const *groups);

/* Helpers the recipes share. A strbuf's text, "" where nothing was added
 * (an allocation failed: the caller's out->oom says so). */
static inline const char *recipe_str(const struct strbuf *b)
{
	return b->s ? b->s : "";
}
size_t recipe_group_size(const struct recipe *r, int group);
/* The first group that no other outnumbers (two GPUs at least). */
int recipe_largest_group(const struct recipe *r);
/* "0000:05:00.0 0000:06:00.0": the addresses of a group (owned). */
char *recipe_group_list(const struct recipe *r, int group);

/* The targets --for accepts, for parse-time checks and help. */
#define RECIPE_TARGETS "proxmox, nova or libvirt"
bool recipe_target_known(const char *target);

/* qemu-p2p plan --for TARGET: reads the configuration and the sysfs tree
 * (NULL: the defaults), prints the recipe (or, with json, one object) and
 * returns the exit status. host NULL: this host's name. Prints nothing on
 * stdout when it refuses. */
int recipe_plan(const char *target, const char *host, const char *config, const char *sysfs, bool json);

#endif
