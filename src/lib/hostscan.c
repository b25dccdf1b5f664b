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

int hostscan_fn(int sysfs, const struct pci_addr *a, struct host_fn *out)
{
	struct host_fn f = { .addr = *a, .numa = -1, .iommu_group = -1 };
	_cleanup_free_ char *drv = NULL, *grp = NULL;
	struct pci_ident h;
	int r = sysfs_read_ident(sysfs, a, &h);

	if (r < 0)
		return r;
	f.vendor = h.vendor, f.device = h.device, f.cls = h.cls;
	if (sysfs_read_link_name(sysfs, a, "driver", &drv) == 0)
		snprintf(f.driver, sizeof(f.driver), "%s", drv);
	if (sysfs_read_link_name(sysfs, a, "iommu_group", &grp) == 0)
		f.iommu_group = strtol(grp, NULL, 10);
	hostscan_place(sysfs, &f);
	*out = f;
	return 0;
}

int hostscan_read(int sysfs, struct host *out)
{
	_cleanup_free_ struct pci_addr *addrs = NULL;
	size_t n = 0;
	struct host h = { 0 };
	int r = sysfs_list_functions(sysfs, &addrs, &n);

	if (r < 0)
		return r;
	h.fns = calloc(n + 1, sizeof(*h.fns));
	if (!h.fns)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		/* A function that vanished between readdir and read, or has no
		 * readable identity, is left out. */
		if (hostscan_fn(sysfs, &addrs[i], &h.fns[h.n]) == 0)
			h.n++;
	}
	struct host_fn **all = calloc(h.n + 1, sizeof(*all));

	if (!all) {
		host_free(&h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < h.n; i++)
		all[i] = &h.fns[i];
	hostscan_bridges(sysfs, all, h.n);
	free(all);
	*out = h;
	return 0;
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
