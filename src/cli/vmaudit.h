/* One verdict per running VM: why its guest will not get P2P between all
 * of its GPUs, each finding once with the GPUs it concerns and the fix for
 * the program that started the VM (libvirt, Nova, Proxmox, or QEMU run by
 * hand). For vms and doctor. */
#ifndef QP2P_VMAUDIT_H
#define QP2P_VMAUDIT_H

#include <json.h>
#include <stdbool.h>

#include "hostplan.h"
#include "vmscan.h"

enum vm_issue {
	VM_KVM_HIDDEN,  /* -cpu ...,kvm=off: the guest driver ignores cliques */
	VM_SPLIT,       /* GPUs from several groups: P2P only within each */
	VM_UNGROUPED,   /* GPUs in no group of the plan: no clique */
	VM_SEVERAL_IDS, /* one group, several clique ids */
	VM_NO_CLIQUE,   /* GPUs of a group without a clique */
	VM_HOTPLUGGED,  /* attached over QMP after start, without a clique */
};

enum vm_generator { GEN_QEMU, GEN_LIBVIRT, GEN_NOVA, GEN_PROXMOX };

struct vm_finding {
	enum vm_issue kind;
	struct pci_addr *gpus; /* owned */
	size_t n_gpus;
	char *text; /* owned; one line, without the fix */
	char *fix;  /* owned; for the program that started the VM */
};

/* Who started the VM, from its command line. */
enum vm_generator vm_generator(const struct vm *v);

/* The findings for v against hp's groups (grouped: hp holds the groups
 * the wrapper uses; false when the configuration is rejected: only what
 * needs no group is judged). Owned array; -ENOMEM only. */
int vm_audit(const struct vm *v, const struct hostplan *hp, bool grouped, struct vm_finding **out, size_t *n);
void vm_findings_free(struct vm_finding *f, size_t n);

/* Appends a finding about v (text: taken over) with the fix for whoever
 * started v. -ENOMEM. */
int vm_findings_add(const struct vm *v, struct vm_finding **out, size_t *n, enum vm_issue kind, char *text,
		    const struct pci_addr *gpus, size_t n_gpus);

/* "kvm_hidden", "split", "ungrouped", "several_ids", "no_clique",
 * "hotplugged". */
const char *vm_issue_name(enum vm_issue kind);

/* The findings as an array of {"vm", "kind", "gpus", "text", "fix"}. */
struct json_object *vm_findings_json(const char *vm, const struct vm_finding *f, size_t n);

#endif
