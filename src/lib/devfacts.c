/* Reading what the decision needs (see devfacts.h). */
#include "devfacts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "facts.h"
#include "sysfs.h"

#define NVIDIA 0x10de
#define BASE_CLASS_DISPLAY 0x03

void devfacts_skip(struct dev_facts *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	f->skip = f->why;
}

bool devfacts_is_gpu(const struct dev_facts *f)
{
	return f->vendor == NVIDIA && (f->cls >> 16) == BASE_CLASS_DISPLAY;
}

static int find_fd(const struct rewrite_env *env, const char *value, struct pci_addr *out)
{
	char *end = NULL;
	long fd = strtol(value, &end, 10);

	if (!value[0] || *end || fd < 0 || fd > 65535)
		return -EINVAL;
	for (size_t i = 0; i < env->n_fds; i++) {
		if (env->fds[i].fd == fd) {
			*out = env->fds[i].addr;
			return 0;
		}
	}
	if (env->proc >= 0)
		return sysfs_addr_from_fd(env->proc, env->sysfs, (int)fd, out);
	if (!env->proc_root)
		return -ENOENT;
	/* Opened here, not at every start: fd= devices are rare. */
	_cleanup_close_ int proc = -1;
	int r = sysfs_open(env->proc_root, &proc);

	return r < 0 ? r : sysfs_addr_from_fd(proc, env->sysfs, (int)fd, out);
}

static void locate(const struct rewrite_env *env, struct dev_facts *f)
{
	const struct vfio_dev *d = f->dev;
	int r;

	switch (d->source) {
	case SRC_HOST:
		if (pci_addr_parse_qemu(d->source_value, &f->addr) < 0)
			devfacts_skip(f, "host= is not an address QEMU accepts");
		break;
	case SRC_SYSFSDEV:
		r = sysfs_addr_from_sysfsdev(d->source_value, &f->addr);
		if (r < 0)
			devfacts_skip(f, r == -ENODEV ? "a mediated device, never a GPU here"
						      : "sysfsdev= names no PCI function");
		break;
	case SRC_FD:
		if (find_fd(env, d->source_value, &f->addr) < 0)
			devfacts_skip(f, "fd= does not lead to a vfio PCI function");
		break;
	case SRC_NONE: devfacts_skip(f, "no host=, sysfsdev= or fd="); break;
	}
	f->located = !f->skip;
	/* Grouping by map needs only the address; auto mode reads the rest. */
	f->fn = (struct host_fn){ .addr = f->addr, .numa = -1, .iommu_group = -1 };
}

/* x-pci-class-code and x-pci-vendor-id are what QEMU's clique check sees;
 * without them, the live device's, from one read of its modalias. */
static void read_identity(const struct rewrite_env *env, struct dev_facts *f)
{
	const struct vfio_dev *d = f->dev;
	bool need = d->class_code < 0 || d->vendor < 0;
	int r;

	if (d->class_code == -2) {
		devfacts_skip(f, "x-pci-class-code is not a class code");
		return;
	}
	if (d->vendor == -2) {
		devfacts_skip(f, "x-pci-vendor-id is not a vendor id");
		return;
	}
	if (need && (r = sysfs_read_ident(env->sysfs, &f->addr, &f->ident)) < 0) {
		devfacts_skip(f, "identity unreadable (sysfs modalias, or vendor/device/class): %s", err_text(r));
		return;
	}
	f->has_ident = need;
	f->cls = d->class_code >= 0 ? (unsigned long)d->class_code : f->ident.cls;
	f->vendor = d->vendor >= 0 ? (unsigned long)d->vendor : f->ident.vendor;
}

void devfacts_read(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env,
		   struct dev_facts *facts)
{
	struct host_fn *gpus[va->n_devs + 1];
	size_t n = 0;

	for (size_t i = 0; i < va->n_devs; i++) {
		struct dev_facts *f = &facts[i];

		*f = (struct dev_facts){ .dev = &va->devs[i] };
		locate(env, f);
		if (!f->skip && f->dev->clique == -2)
			devfacts_skip(f, "its %s is not a valid id; left as written", CLIQUE_PROP);
		if (!f->skip)
			read_identity(env, f);
		/* QEMU < 8.1: the card must be the one refresh measured. */
		if (!f->skip && devfacts_is_gpu(f) && f->dev->clique < 0 && !facts_qemu_places_cap(cfg))
			facts_gpu_id(env->sysfs, &f->addr, f->has_ident ? &f->ident : NULL, f->gpu_id,
				     sizeof(f->gpu_id));
		/* auto mode: the GPUs' places in the tree; an unreadable one
		 * stays unplaced and so in no group. */
		if (cfg->mode != MODE_MAP && !f->skip && devfacts_is_gpu(f)) {
			hostscan_place(env->sysfs, &f->fn);
			gpus[n++] = &f->fn;
		}
	}
	hostscan_bridges(env->sysfs, gpus, n);
}
