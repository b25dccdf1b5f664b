/* plan --for proxmox: one cluster resource mapping per P2P group
 * (/etc/pve/mapping/pci.cfg, Proxmox VE 8 and later). A mapping may hold
 * several devices of a node; qemu-server reads each `map` entry of the node
 * as one alternative and, at VM start, gives each `hostpciN: mapping=NAME`
 * a free one. So a VM whose GPU entries all name one mapping gets GPUs of
 * one group. The whole output is a file pve-guest-common's PCI.pm parses
 * (the rest is comments); entries are written with their keys sorted, as
 * Proxmox's own files show them. */
#include <stdio.h>

#include "recipe.h"

/* qemu-server's MAX_HOSTPCI_DEVICES. */
#define PROXMOX_MAX_HOSTPCI 16

static void map_entry(const struct recipe *r, const struct recipe_gpu *g, struct strbuf *b)
{
	char a[PCI_ADDR_STRLEN];

	sb_addf(b, "id=%04x:%04x", g->vendor, g->device);
	/* PCI.pm's assert_valid wants the group exactly when the device has
	 * one, and the subsystem ids exactly when sysfs shows them. */
	if (g->iommu_group >= 0)
		sb_addf(b, ",iommugroup=%ld", g->iommu_group);
	sb_addf(b, ",node=%s,path=%s", r->host, pci_addr_format(&g->addr, a));
	if (g->subsys_known)
		sb_addf(b, ",subsystem-id=%04x:%04x", g->subvendor, g->subdevice);
}

/* The mapping's name and description. */
static void name_of(const struct recipe *r, int group, struct strbuf *name, struct strbuf *desc)
{
	_cleanup_free_ char *list = recipe_group_list(r, group);

	sb_addf(name, "p2p-%s-g%d", r->host, group);
	sb_addf(desc, "P2P group %d of %s (qemu-p2p): %s", group, r->host, list ? list : "");
}

/* The section of pci.cfg, and the same mapping as a pvesh command. */
static void mapping(const struct recipe *r, int group, struct strbuf *out, struct strbuf *pvesh, struct json_object *j)
{
	struct json_object *maps = json_object_new_array();
	struct strbuf name = { 0 }, desc = { 0 };

	name_of(r, group, &name, &desc);
	sb_addf(out, "%s\n", recipe_str(&name));
	sb_addf(pvesh, "pvesh create /cluster/mapping/pci --id %s --description '%s'", recipe_str(&name),
		recipe_str(&desc));
	for (size_t i = 0; i < r->n; i++) {
		struct strbuf e = { 0 };

		if (r->gpus[i].group != group)
			continue;
		map_entry(r, &r->gpus[i], &e);
		sb_addf(out, "\tmap %s\n", recipe_str(&e));
		sb_addf(pvesh, " --map '%s'", recipe_str(&e));
		out->oom |= e.oom;
		json_object_array_add(maps, json_object_new_string(recipe_str(&e)));
		sb_free(&e);
	}
	sb_addf(out, "\tdescription %s\n\n", recipe_str(&desc));
	out->oom |= name.oom || desc.oom;
	json_object_object_add(j, "mapping", json_object_new_string(recipe_str(&name)));
	json_object_object_add(j, "description", json_object_new_string(recipe_str(&desc)));
	json_object_object_add(j, "map", maps);
	json_object_object_add(j, "pvesh", json_object_new_string(recipe_str(pvesh)));
	sb_free(&name);
	sb_free(&desc);
}

/* The hostpciN lines of a VM that takes a whole group, the largest. */
static void vm_lines(const struct recipe *r, struct strbuf *out)
{
	int g = recipe_largest_group(r);
	size_t n = recipe_group_size(r, g);
	struct strbuf qm = { 0 };

	n = n > PROXMOX_MAX_HOSTPCI ? PROXMOX_MAX_HOSTPCI : n;
	sb_addf(out, "#\n# A VM with %zu GPUs of group %d (/etc/pve/qemu-server/VMID.conf):\n", n, g);
	for (size_t i = 0; i < n; i++) {
		sb_addf(out, "#   hostpci%zu: mapping=p2p-%s-g%d,pcie=1\n", i, r->host, g);
		sb_addf(&qm, " --hostpci%zu mapping=p2p-%s-g%d,pcie=1", i, r->host, g);
	}
	sb_addf(out, "# or: qm set VMID%s\n", recipe_str(&qm));
	out->oom |= qm.oom;
	sb_addf(out, "# Every GPU entry of a VM names the same mapping, and no more entries than the\n"
		     "# group has GPUs. pcie=1 needs machine q35. Leave out x-vga=1 and hidden=1: they\n"
		     "# hide KVM, and the guest's NVIDIA driver then ignores cliques.\n");
	sb_free(&qm);
}

void recipe_proxmox(const struct recipe *r, struct strbuf *out, struct json_object *const *groups)
{
	struct strbuf pvesh = { 0 }, none = { 0 };
	char a[PCI_ADDR_STRLEN];

	sb_addf(out,
		"# Proxmox VE resource mappings, one per P2P group of node %s\n"
		"# (qemu-p2p plan --for proxmox), of the groups qemu-p2p-wrap uses:\n"
		"#   %s\n"
		"# A VM whose hostpciN entries all name one mapping gets GPUs of one group: each\n"
		"# start takes free GPUs of that mapping (Proxmox VE 8.0 or later). This is the\n"
		"# syntax of /etc/pve/mapping/pci.cfg, which holds every mapping of the cluster:\n"
		"# create these with the pvesh commands below rather than by replacing the file.\n",
		r->host, r->basis);
	for (size_t i = 0; i < r->n; i++)
		if (r->gpus[i].iommu_group < 0)
			sb_addf(&none, " %s", pci_addr_format(&r->gpus[i].addr, a));
	if (none.len)
		sb_addf(out,
			"# No IOMMU group:%s. Turn the IOMMU on (intel_iommu=on or\n"
			"# amd_iommu=on) before passthrough, then run this again: Proxmox checks the\n"
			"# group at VM start.\n",
			recipe_str(&none));
	sb_addf(out, "\n");
	for (int g = 0; g < r->n_groups; g++) {
		struct strbuf cmd = { 0 };

		mapping(r, g, out, &cmd, groups[g]);
		sb_addf(&pvesh, "#   %s\n", recipe_str(&cmd));
		pvesh.oom |= cmd.oom;
		sb_free(&cmd);
	}
	sb_addf(out, "# Create them (as root, on any node of the cluster):\n%s", recipe_str(&pvesh));
	out->oom |= pvesh.oom;
	vm_lines(r, out);
	out->oom |= none.oom;
	sb_free(&pvesh);
	sb_free(&none);
}
