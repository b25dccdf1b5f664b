/* sysfs reading for the topology (see hostscan.h). */
#include "hostscan.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"
#include "util.h"

bool host_fn_is_gpu(const struct host_fn *f)
{
	return f->vendor == PCI_VENDOR_NVIDIA && (f->cls >> 16) == 0x03;
}

bool host_fn_is_nvswitch(const struct host_fn *f)
{
	return f->vendor == PCI_VENDOR_NVIDIA && (f->cls >> 8) == 0x0680;
}

void hostscan_place(int sysfs, struct host_fn *f)
{
	_cleanup_free_ char *path = NULL;

	if (sysfs_read_long(sysfs, &f->addr, "numa_node", &f->numa) < 0)
		f->numa = -1;
	if (sysfs_device_path(sysfs, &f->addr, &path) == 0)
		f->placed = topo_node_from_path(path, f->numa, &f->node) == 0;
}

/* Driver, IOMMU group and place of a function whose identity is read. */
static void read_details(int sysfs, struct host_fn *f)
{
	_cleanup_free_ char *drv = NULL, *grp = NULL;

	if (sysfs_read_link_name(sysfs, &f->addr, "driver", &drv) == 0)
		snprintf(f->driver, sizeof(f->driver), "%s", drv);
	if (sysfs_read_link_name(sysfs, &f->addr, "iommu_group", &grp) == 0)
		f->iommu_group = strtol(grp, NULL, 10);
	hostscan_place(sysfs, f);
}

static int read_ident(int sysfs, const struct pci_addr *a, struct host_fn *out)
{
	struct pci_ident id;
	int r = sysfs_read_ident(sysfs, a, &id);

	if (r == 0)
		*out = (struct host_fn){ .addr = *a,
					 .vendor = id.vendor,
					 .device = id.device,
					 .cls = id.cls,
					 .numa = -1,
					 .iommu_group = -1 };
	return r;
}

int hostscan_read(int sysfs, hostscan_want *full, struct host *out)
{
	_cleanup_free_ struct pci_addr *addrs = NULL;
	_cleanup_free_ struct host_fn **detailed = NULL;
	size_t n = 0, n_detailed = 0;
	struct host h = { 0 };
	int r = sysfs_list_functions(sysfs, &addrs, &n);

	if (r < 0)
		return r;
	h.fns = calloc(n + 1, sizeof(*h.fns));
	detailed = calloc(n + 1, sizeof(*detailed));
	if (!h.fns || !detailed) {
		free(h.fns);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct host_fn *f = &h.fns[h.n];

		/* A function that vanished between readdir and read, or has no
		 * readable identity, is left out. */
		if (read_ident(sysfs, &addrs[i], f) < 0)
			continue;
		h.n++;
		if (full(f)) {
			read_details(sysfs, f);
			detailed[n_detailed++] = f;
		}
	}
	hostscan_bridges(sysfs, detailed, n_detailed);
	*out = h;
	return 0;
}

bool hostscan_want_gpus(const struct host_fn *f)
{
	return (f->cls >> 16) == 0x03 || host_fn_is_nvswitch(f);
}

static unsigned bridge_vendor(int sysfs, const char *root)
{
	struct pci_addr a;
	struct pci_ident h;
	char name[32];

	if (strncmp(root, "pci", 3))
		return 0;
	snprintf(name, sizeof(name), "%s:00.0", root + 3);
	if (pci_addr_parse_sysfs(name, &a) < 0 || sysfs_read_ident(sysfs, &a, &h) < 0)
		return 0;
	return h.vendor;
}

void hostscan_bridges(int sysfs, struct host_fn *const *fns, size_t n)
{
	const struct host_fn *seen[64]; /* one function per root read so far */
	size_t n_seen = 0;

	for (size_t i = 0; i < n; i++) {
		size_t k = 0;

		if (!fns[i]->placed)
			continue;
		while (k < n_seen && strcmp(seen[k]->node.root, fns[i]->node.root))
			k++;
		if (k < n_seen) {
			fns[i]->bridge_vendor = seen[k]->bridge_vendor;
			continue;
		}
		fns[i]->bridge_vendor = bridge_vendor(sysfs, fns[i]->node.root);
		if (n_seen < ARRAY_SIZE(seen))
			seen[n_seen++] = fns[i];
	}
}

void host_free(struct host *h)
{
	free(h->fns);
	*h = (struct host){ 0 };
}
