/* Running QEMU processes under a proc root: each one's argv as QEMU reads
 * it, with the address of every passed-through GPU. For vms and doctor
 * (vmaudit.h judges them). */
#ifndef QP2P_VMSCAN_H
#define QP2P_VMSCAN_H

#include <stdbool.h>

#include "argv.h"
#include "pci.h"

struct vm {
	long pid;
	char **argv; /* owned, argc entries */
	int argc;
	struct vm_args args;
	struct pci_addr *addr; /* per args.devs entry */
	bool *addr_known;      /* false for fd= (iommufd) or unreadable */
	bool kvm_hidden;       /* -cpu ...,kvm=off: the guest driver ignores cliques */
	long vmid;             /* Proxmox VMID (/usr/bin/kvm -id N), -1 if none */
};

/* Every process whose argv[0] names qemu-system-*, qemu-kvm or kvm. */
int vmscan(int proc, struct vm **out, size_t *n);
void vmscan_free(struct vm *vms, size_t n);

/* "NAME (Proxmox VM N)", "NAME" or "(no -name)", in buf. */
const char *vm_title(const struct vm *v, char *buf, size_t size);

#endif
