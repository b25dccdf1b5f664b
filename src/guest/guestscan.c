/* Reading the guest's view (see guestscan.h). */
#include "guestscan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "caps.h"
#include "cliout.h"
#include "sysfs.h"
#include "util.h"

static int clique_of(int sysfs, const struct pci_addr *a)
{
	uint8_t cfg[PCI_CONFIG_MAX];
	size_t len = 0;
	int id = -1, r = sysfs_read_config(sysfs, a, cfg, &len);

	if (r == 0)
		r = caps_p2p_clique(cfg, len, &id);
	return r == 1 ? id : r == -ENODATA ? GUEST_UNREADABLE : GUEST_NO_CLIQUE;
}

static int add(int sysfs, const struct host_fn *f, struct guest_fn **fns, size_t *n)
{
	struct guest_fn g = { .fn = f, .clique = GUEST_NO_CLIQUE };
	long width = 0;

	if (host_fn_is_gpu(f))
		g.clique = clique_of(sysfs, &f->addr);
	sysfs_read_str(sysfs, &f->addr, "max_link_speed", g.speed, sizeof(g.speed));
	if (sysfs_read_long(sysfs, &f->addr, "max_link_width", &width) == 0 && width > 0 && width <= 32)
		g.width = (int)width;
	return grow_array((void **)fns, n, sizeof(g), &g);
}

/* The functions qemu-p2p-guest shows: GPUs and network functions. */
static bool want(const struct host_fn *f)
{
	return (f->cls >> 16) == 0x03 || (f->cls >> 16) == 0x02;
}

int guestscan_read(int sysfs, struct guest *out)
{
	struct guest g = { 0 };
	int r = hostscan_read(sysfs, want, &g.h);

	for (size_t i = 0; r == 0 && i < g.h.n; i++) {
		const struct host_fn *f = &g.h.fns[i];

		if (host_fn_is_gpu(f))
			r = add(sysfs, f, &g.gpus, &g.n_gpus);
		else if ((f->cls >> 16) == 0x02)
			r = add(sysfs, f, &g.nics, &g.n_nics);
	}
	if (r < 0) {
		guest_free(&g);
		return r;
	}
	*out = g;
	return 0;
}

void guest_free(struct guest *g)
{
	host_free(&g->h);
	free(g->gpus);
	free(g->nics);
	*g = (struct guest){ 0 };
}

int guest_find(const struct guest_fn *fns, size_t n, const struct pci_addr *addr)
{
	for (size_t i = 0; i < n; i++)
		if (pci_addr_equal(&fns[i].fn->addr, addr))
			return (int)i;
	return -1;
}

void guestscan_cpumap(int sysfs, long node, char *buf, size_t size)
{
	_cleanup_free_ char *text = NULL;
	char path[64];

	buf[0] = '\0';
	snprintf(path, sizeof(path), "devices/system/node/node%ld/cpumap", node);
	if (node >= 0 && read_file_at(sysfs, path, 1024, &text, NULL) == 0)
		snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
}

int guestscan_usable(int sysfs, struct guest *g)
{
	int r = guestscan_read(sysfs, g);
	bool unreadable = false;

	if (r < 0) {
		cli_error("cannot list PCI functions under the sysfs root: %s", err_text(r));
		return 2;
	}
	for (size_t i = 0; i < g->n_gpus; i++)
		unreadable |= g->gpus[i].clique == GUEST_UNREADABLE;
	if (g->n_gpus && !unreadable)
		return 0;
	if (unreadable)
		cli_error("cannot read the clique ids: they lie past the first 64 bytes of config space, which only "
			  "root may read; run it as root");
	else
		cli_error("no NVIDIA GPU in this VM");
	guest_free(g);
	return unreadable ? 1 : 2;
}
