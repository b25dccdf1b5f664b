/* What the wrapper's decision needs of each vfio device of a VM, read
 * before it decides: where the device is, the vendor and class QEMU will
 * check, and in auto mode its place in the PCIe tree. This is the only I/O
 * of the decision (sysfs, /proc/self/fd); decide.c reads nothing. */
#ifndef QP2P_DEVFACTS_H
#define QP2P_DEVFACTS_H

#include <stdbool.h>

#include "argv.h"
#include "hostscan.h"
#include "rewrite.h"
#include "sysfs.h"
#include "util.h"

struct dev_facts {
	const struct vfio_dev *dev; /* borrowed from the scanned argv */
	struct pci_addr addr;
	bool located;              /* addr is known */
	unsigned long vendor, cls; /* as QEMU will check them (its overrides first) */
	struct pci_ident ident;    /* the live device's identity, when has_ident */
	bool has_ident;
	char gpu_id[C8_ID_MAX]; /* QEMU < 8.1, GPUs: facts_gpu_id, "" unreadable */
	struct host_fn fn;      /* auto mode, GPUs: the place in the tree */
	const char *skip;       /* why the device gets no clique, NULL while it may */
	char why[160];          /* storage for a skip reason with numbers */
};

/* The one way to mark a device skipped: the reason, formatted. */
void devfacts_skip(struct dev_facts *f, const char *fmt, ...) _printf_(2, 3);

/* NVIDIA and display class: what QEMU's clique check accepts. */
bool devfacts_is_gpu(const struct dev_facts *f);

/* Reads facts[i] for each of va's devices (facts has va->n_devs entries).
 * Never fails: what cannot be read marks the device skipped. */
void devfacts_read(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env,
		   struct dev_facts *facts);

#endif
