/* Grouping and writing the NCCL topology file (see ncclxml.h).
 *
 * NCCL classifies a pci node by its class ("0x060400": a switch, "0x03": a
 * GPU, "0x02": a NIC) and needs link_width and link_speed on every one; on
 * a real device it reads what is missing from sysfs, on a synthetic switch
 * it cannot, so ours carry both. The path between two GPUs under one switch
 * is PIX, at or below the default P2P level PXB. */
#include "ncclxml.h"

#include <stdio.h>
#include <string.h>

#define SWITCH_SPEED "16.0 GT/s PCIe"
#define SWITCH_WIDTH 16

/* Whether a GPU after gpus[i] shares its clique. */
static bool clique_goes_on(const struct nccl_dev *gpus, size_t n, size_t i)
{
	for (size_t k = i + 1; k < n; k++)
		if (gpus[k].clique == gpus[i].clique)
			return true;
	return false;
}

/* GT/s as a number, for picking the fastest link. */
static double gts(const char *speed)
{
	double v = 0;

	return sscanf(speed, "%lf", &v) == 1 ? v : 0;
}

static void join(struct nccl_switch *s, struct nccl_dev *d, int index)
{
	d->sw = index;
	if (d->speed[0] && gts(d->speed) > gts(s->speed))
		snprintf(s->speed, sizeof(s->speed), "%s", d->speed);
	if (d->width > s->width)
		s->width = d->width;
}

static int new_switch(struct nccl_switch *sw, size_t *n, size_t max, const struct nccl_dev *first, int clique)
{
	if (*n == max)
		return -1;
	sw[*n] = (struct nccl_switch){
		.busid = { NCCL_SWITCH_DOMAIN, (uint8_t)(0xff - *n), 0, 0 },
		.numa = first->numa,
		.clique = clique,
	};
	return (int)(*n)++;
}

size_t nccl_group(struct nccl_dev *gpus, size_t n_gpus, struct nccl_dev *nics, size_t n_nics, struct nccl_switch *sw,
		  size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < n_gpus; i++)
		gpus[i].sw = -1;
	for (size_t i = 0; i < n_gpus; i++) {
		struct nccl_dev *g = &gpus[i];
		int s = -1;

		for (size_t k = 0; k < i && s < 0; k++)
			if (g->clique >= 0 && gpus[k].clique == g->clique)
				s = gpus[k].sw;
		if (s < 0 && g->clique >= 0 && clique_goes_on(gpus, n_gpus, i))
			s = new_switch(sw, &n, max, g, g->clique);
		if (s < 0)
			continue;
		sw[s].mixed_numa |= g->numa != sw[s].numa;
		join(&sw[s], g, s);
	}
	for (size_t i = 0; i < n_nics; i++) {
		struct nccl_dev *nic = &nics[i], *g = nic->beside >= 0 ? &gpus[nic->beside] : NULL;

		nic->sw = -1;
		if (!g)
			continue;
		if (g->sw < 0 && new_switch(sw, &n, max, g, -1) >= 0)
			join(&sw[n - 1], g, (int)n - 1);
		if (g->sw >= 0)
			join(&sw[g->sw], nic, g->sw);
	}
	return n;
}

static void pci_line(struct strbuf *b, const char *indent, const struct pci_addr *a, unsigned long cls,
		     const char *speed, int width, bool open)
{
	char addr[PCI_ADDR_STRLEN];

	sb_addf(b, "%s<pci busid=\"%s\" class=\"0x%06lx\"", indent, pci_addr_format(a, addr), cls);
	if (speed && speed[0])
		sb_addf(b, " link_speed=\"%s\"", speed);
	if (width)
		sb_addf(b, " link_width=\"%d\"", width);
	sb_addf(b, "%s>\n", open ? "" : "/");
}

static void switch_block(struct strbuf *b, const struct nccl_switch *s, int index, const struct nccl_dev *gpus,
			 size_t n_gpus, const struct nccl_dev *nics, size_t n_nics)
{
	pci_line(b, "    ", &s->busid, 0x060400, s->speed[0] ? s->speed : SWITCH_SPEED,
		 s->width ? s->width : SWITCH_WIDTH, true);
	for (size_t i = 0; i < n_gpus; i++)
		if (gpus[i].sw == index)
			pci_line(b, "      ", &gpus[i].addr, gpus[i].cls, gpus[i].speed, gpus[i].width, false);
	for (size_t i = 0; i < n_nics; i++)
		if (nics[i].sw == index)
			pci_line(b, "      ", &nics[i].addr, nics[i].cls, nics[i].speed, nics[i].width, false);
	sb_addf(b, "    </pci>\n");
}

/* Distinct NUMA nodes of the switches, ascending. */
static size_t nodes_of(const struct nccl_switch *sw, size_t n_sw, long *nodes)
{
	size_t n = 0;

	for (size_t i = 0; i < n_sw; i++) {
		size_t k = 0;

		while (k < n && nodes[k] < sw[i].numa)
			k++;
		if (k < n && nodes[k] == sw[i].numa)
			continue;
		memmove(nodes + k + 1, nodes + k, (n - k) * sizeof(*nodes));
		nodes[k] = sw[i].numa;
		n++;
	}
	return n;
}

void nccl_xml(const struct nccl_switch *sw, size_t n_sw, const struct nccl_dev *gpus, size_t n_gpus,
	      const struct nccl_dev *nics, size_t n_nics, const char *const *cpumaps, size_t n_nodes,
	      struct strbuf *out)
{
	long nodes[NCCL_MAX_SWITCHES];
	size_t n = nodes_of(sw, n_sw, nodes);

	sb_addf(out, "<!-- NCCL topology of this VM, written by qemu-p2p-guest nccl-topo. The GPUs of each\n"
		     "     clique sit under one synthetic PCIe switch (domain ffff: not a device of this VM),\n"
		     "     so NCCL sees the path the clique opens (PIX) instead of the VM's root ports. -->\n"
		     "<system version=\"1\">\n");
	for (size_t c = 0; c < n; c++) {
		const char *map = nodes[c] >= 0 && (size_t)nodes[c] < n_nodes ? cpumaps[nodes[c]] : NULL;

		sb_addf(out, "  <cpu numaid=\"%ld\"", nodes[c]);
		if (map && map[0])
			sb_addf(out, " affinity=\"%s\"", map);
		sb_addf(out, ">\n");
		for (size_t i = 0; i < n_sw; i++)
			if (sw[i].numa == nodes[c])
				switch_block(out, &sw[i], (int)i, gpus, n_gpus, nics, n_nics);
		sb_addf(out, "  </cpu>\n");
	}
	sb_addf(out, "</system>\n");
}
