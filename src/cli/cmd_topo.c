/* qemu-p2p topo: the GPUs of this host and the PCIe link between each pair,
 * in nvidia-smi's words, read from sysfs alone (works with GPUs bound to
 * vfio-pci, where nvidia-smi cannot run). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "common.h"
#include "hostplan.h"
#include "pciname.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p topo [OPTIONS]\n\n"
	       "Show the PCIe link between every pair of NVIDIA GPUs (PIX, PXB, PHB, NODE,\n"
	       "SYS, as nvidia-smi topo -m prints them) and a table of the GPUs. Reads sysfs\n"
	       "only; needs no driver and no root.\n\n"
	       "Options:\n"
	       "      --sysfs DIR  sysfs root (default /sys; a `capture` unpacked works)\n"
	       "  -j, --json       print one JSON object\n"
	       "  -h, --help       show this help\n");
}

static const char legend[] =
	"Legend:\n\n"
	"  X    = Self\n"
	"  SYS  = Connection traversing PCIe as well as the SMP interconnect between NUMA nodes\n"
	"  NODE = Connection traversing PCIe as well as the interconnect between PCIe Host Bridges within a NUMA node\n"
	"  PHB  = Connection traversing PCIe as well as a PCIe Host Bridge (typically the CPU)\n"
	"  PXB  = Connection traversing multiple PCIe bridges (without traversing the PCIe Host Bridge)\n"
	"  PIX  = Connection traversing at most a single PCIe bridge\n"
	"  NVLink is invisible in sysfs: GPUs joined by NVLink show their PCIe link here.\n";

static const char *link_name(const struct hostplan *p, size_t i, size_t j)
{
	if (i == j)
		return "X";
	if (!p->gpus[i]->placed || !p->gpus[j]->placed)
		return "?";
	return link_level_name(topo_link(&p->gpus[i]->node, &p->gpus[j]->node));
}

static void print_nvswitches(const struct hostplan *p)
{
	char a[PCI_ADDR_STRLEN];
	const struct host_fn *first = NULL;
	size_t n = 0;

	for (size_t i = 0; i < p->h.n; i++)
		if (host_fn_is_nvswitch(&p->h.fns[i]) && n++ == 0)
			first = &p->h.fns[i];
	if (!n)
		return;
	printf("\nNVSwitch: %zu found (first %s): the GPUs likely talk over NVLink, which sysfs\n"
	       "does not show; P2P over NVLink needs no PCIe path.\n",
	       n, pci_addr_format(&first->addr, a));
}

static void print_text(const struct hostplan *p)
{
	char a[PCI_ADDR_STRLEN], num[24];

	if (!p->n) {
		printf("No NVIDIA GPU (vendor 10de, display class) found.\n");
		print_nvswitches(p);
		return;
	}
	/* nvidia-smi's layout with spaces instead of tabs, so wide
	 * matrices stay aligned. */
	printf("%-7s", "");
	for (size_t j = 0; j < p->n; j++) {
		snprintf(num, sizeof(num), "GPU%zu", j);
		printf("%-7s", num);
	}
	printf("NUMA Affinity\n");
	for (size_t i = 0; i < p->n; i++) {
		snprintf(num, sizeof(num), "GPU%zu", i);
		printf("%-7s", num);
		for (size_t j = 0; j < p->n; j++)
			printf(" %-6s", link_name(p, i, j));
		snprintf(num, sizeof(num), "%ld", p->gpus[i]->numa);
		printf("%s\n", p->gpus[i]->numa >= 0 ? num : "N/A");
	}
	printf("\n%s\n", legend);
	printf("%-5s %-13s %-9s %-5s %-10s %-6s %s\n", "GPU", "ADDRESS", "ID", "NUMA", "DRIVER", "IOMMU", "NAME");
	for (size_t i = 0; i < p->n; i++) {
		const struct host_fn *f = p->gpus[i];
		char id[16], name[256], grp[24];

		snprintf(id, sizeof(id), "%04x:%04x", f->vendor, f->device);
		snprintf(num, sizeof(num), "%ld", f->numa);
		snprintf(grp, sizeof(grp), "%ld", f->iommu_group);
		printf("%-5zu %-13s %-9s %-5s %-10s %-6s %s\n", i, pci_addr_format(&f->addr, a), id,
		       f->numa >= 0 ? num : "-", f->driver[0] ? f->driver : "-", f->iommu_group >= 0 ? grp : "-",
		       pciname_lookup(f->vendor, f->device, name, sizeof(name)) ? name
										: "(not in the PCI ID database)");
	}
	print_nvswitches(p);
}

static struct json_object *long_or_null(long v)
{
	return v >= 0 ? json_object_new_int64(v) : NULL;
}

static struct json_object *to_json(const struct hostplan *p)
{
	struct json_object *j = json_object_new_object(), *gpus = json_object_new_array();
	struct json_object *links = json_object_new_array(), *nvs = json_object_new_array();
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN], hex[8], name[256];

	json_object_object_add(j, "version", json_object_new_int(1));
	for (size_t i = 0; i < p->n; i++) {
		const struct host_fn *f = p->gpus[i];
		struct json_object *g = json_object_new_object();
		const char *nm = pciname_lookup(f->vendor, f->device, name, sizeof(name));

		json_object_object_add(g, "index", json_object_new_int((int)i));
		json_object_object_add(g, "address", json_object_new_string(pci_addr_format(&f->addr, a)));
		snprintf(hex, sizeof(hex), "%04x", f->vendor);
		json_object_object_add(g, "vendor_id", json_object_new_string(hex));
		snprintf(hex, sizeof(hex), "%04x", f->device);
		json_object_object_add(g, "device_id", json_object_new_string(hex));
		json_object_object_add(g, "name", nm ? json_object_new_string(nm) : NULL);
		json_object_object_add(g, "numa_node", long_or_null(f->numa));
		json_object_object_add(g, "driver", f->driver[0] ? json_object_new_string(f->driver) : NULL);
		json_object_object_add(g, "iommu_group", long_or_null(f->iommu_group));
		json_object_array_add(gpus, g);
	}
	for (size_t i = 0; i < p->n; i++) {
		for (size_t k = i + 1; k < p->n; k++) {
			struct json_object *l = json_object_new_object();
			const char *t = link_name(p, i, k);

			json_object_object_add(l, "a", json_object_new_string(pci_addr_format(&p->gpus[i]->addr, a)));
			json_object_object_add(l, "b", json_object_new_string(pci_addr_format(&p->gpus[k]->addr, b)));
			json_object_object_add(l, "type", strcmp(t, "?") ? json_object_new_string(t) : NULL);
			json_object_array_add(links, l);
		}
	}
	for (size_t i = 0; i < p->h.n; i++)
		if (host_fn_is_nvswitch(&p->h.fns[i]))
			json_object_array_add(nvs, json_object_new_string(pci_addr_format(&p->h.fns[i].addr, a)));
	json_object_object_add(j, "gpus", gpus);
	json_object_object_add(j, "links", links);
	json_object_object_add(j, "nvswitches", nvs);
	return j;
}

static int show(const struct cli_view *v)
{
	struct hostplan p;
	int r = hostplan_read(v->sysfs, &p);

	if (r < 0) {
		cli_error("%s: cannot list the PCI functions (bus/pci/devices): %s", v->path, strerror(-r));
		return 1;
	}
	if (v->json)
		cli_print_json(to_json(&p));
	else
		print_text(&p);
	hostplan_free(&p);
	return 0;
}

int cmd_topo(int argc, char **argv)
{
	struct cli_view v;
	int r = cli_view_open(argc, argv, "topo", help, &v);

	if (r < 0) {
		r = show(&v);
		close(v.sysfs);
	}
	return r;
}
