/* Link classification and grouping (see topo.h).
 *
 * The rules, nvidia-smi's words over sysfs paths:
 *  - different pciDDDD:BB roots: SYS when both NUMA nodes are known and
 *    differ, else NODE;
 *  - same root, no common bridge below it: PHB;
 *  - a common bridge, and both functions hang below the same switch upstream
 *    port (their grandparents are one bridge) or are functions of one
 *    device (one parent): PIX;
 *  - any other common bridge: PXB. */
#include "topo.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int topo_node_from_path(const char *path, long numa, struct topo_node *out)
{
	struct topo_node n = { .numa = numa };
	const char *p = path;
	size_t len;

	if (strncmp(p, "devices/pci", 11))
		return -EINVAL;
	p += 8;
	len = strcspn(p, "/");
	if (len >= sizeof(n.root))
		return -EINVAL;
	memcpy(n.root, p, len);
	p += len;
	while (*p == '/') {
		char comp[32];

		p++;
		len = strcspn(p, "/");
		if (len >= sizeof(comp) || n.depth == TOPO_MAX_DEPTH)
			return -EINVAL;
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (pci_addr_parse_sysfs(comp, &n.chain[n.depth]) < 0)
			return -EINVAL;
		n.depth++;
		p += len;
	}
	if (n.depth == 0)
		return -EINVAL;
	n.addr = n.chain[n.depth - 1];
	*out = n;
	return 0;
}

/* Number of leading bridges (not the functions themselves) both share. */
static int common_bridges(const struct topo_node *a, const struct topo_node *b)
{
	int k = 0;

	while (k < a->depth - 1 && k < b->depth - 1 && pci_addr_equal(&a->chain[k], &b->chain[k]))
		k++;
	return k;
}

static bool same_parent(const struct topo_node *a, const struct topo_node *b)
{
	return a->depth == b->depth && common_bridges(a, b) == a->depth - 1;
}

/* Both have a grandparent bridge, and it is the same one. */
static bool same_grandparent(const struct topo_node *a, const struct topo_node *b)
{
	return a->depth >= 3 && b->depth >= 3 && pci_addr_equal(&a->chain[a->depth - 3], &b->chain[b->depth - 3]);
}

enum link_level topo_link(const struct topo_node *a, const struct topo_node *b)
{
	if (strcmp(a->root, b->root))
		return a->numa >= 0 && b->numa >= 0 && a->numa != b->numa ? LINK_SYS : LINK_NODE;
	if (common_bridges(a, b) == 0)
		return LINK_PHB;
	if (same_parent(a, b) || same_grandparent(a, b))
		return LINK_PIX;
	return LINK_PXB;
}

static int find(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

void topo_group(const struct topo_node *nodes, size_t n, enum link_level level, int *labels)
{
	int parent[n ? n : 1];

	for (size_t i = 0; i < n; i++)
		parent[i] = (int)i;
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++) {
			if (topo_link(&nodes[i], &nodes[j]) > level)
				continue;
			int ri = find(parent, (int)i), rj = find(parent, (int)j);

			/* The smaller index stays the root: the label of a group
			 * is its first member. */
			parent[ri > rj ? ri : rj] = ri < rj ? ri : rj;
		}
	}
	for (size_t i = 0; i < n; i++)
		labels[i] = find(parent, (int)i);
}

enum link_level topo_auto_level(const unsigned *vendors, size_t n, const char **why)
{
	bool amd = n > 0, intel = n > 0;

	for (size_t i = 0; i < n; i++) {
		amd &= vendors[i] == 0x1022;
		intel &= vendors[i] == 0x8086;
	}
	if (amd) {
		*why = "AMD host bridges (1022): Zen root complexes route P2P between host bridges of a node";
		return LINK_NODE;
	}
	if (intel) {
		*why = "Intel host bridges (8086): P2P is routed within one host bridge only";
		return LINK_PHB;
	}
	*why = n ? "host bridges of another or mixed vendors: P2P kept below PCIe switches"
		 : "no host bridge found: P2P kept below PCIe switches";
	return LINK_PXB;
}
