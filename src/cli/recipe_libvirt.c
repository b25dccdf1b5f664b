/* plan --for libvirt: the node device names (virsh nodedev-list) of each
 * P2P group, for those who assign GPUs to domains by hand. */
#include <stdio.h>

#include "recipe.h"

/* libvirt's name of a PCI node device: pci_DDDD_BB_SS_F. */
static void nodedev(const struct pci_addr *a, char *buf, size_t size)
{
	snprintf(buf, size, "pci_%04x_%02x_%02x_%x", (unsigned)a->domain, a->bus, a->slot, a->func);
}

void recipe_libvirt(const struct recipe *r, struct strbuf *out, struct json_object *const *groups)
{
	const struct pci_addr *a = &r->gpus[0].addr;
	char name[32];

	sb_addf(out,
		"# libvirt node devices of the P2P groups of %s\n"
		"# (qemu-p2p plan --for libvirt), of the groups qemu-p2p-wrap uses:\n"
		"#   %s\n"
		"# Give each domain the GPUs of one group: GPUs of two groups cannot do P2P.\n",
		r->host, r->basis);
	for (int g = 0; g < r->n_groups; g++) {
		struct json_object *names = json_object_new_array();

		sb_addf(out, "group %d:", g);
		for (size_t i = 0; i < r->n; i++) {
			if (r->gpus[i].group != g)
				continue;
			nodedev(&r->gpus[i].addr, name, sizeof(name));
			sb_addf(out, " %s", name);
			json_object_array_add(names, json_object_new_string(name));
		}
		sb_addf(out, "\n");
		json_object_object_add(groups[g], "nodedevs", names);
	}
	/* The first GPU as the example: labels count from it, so it is in group 0. */
	sb_addf(out,
		"# In the domain XML, one <hostdev> per GPU; for %04x:%02x:%02x.%x:\n"
		"#   <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x%04x' "
		"bus='0x%02x' slot='0x%02x' function='0x%x'/></source></hostdev>\n",
		(unsigned)a->domain, a->bus, a->slot, a->func, (unsigned)a->domain, a->bus, a->slot, a->func);
}
