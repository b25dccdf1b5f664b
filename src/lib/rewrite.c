/* The wrapper's decision (see rewrite.h), in DESIGN's order:
 * scan argv -> configuration and host facts -> host address of each vfio
 * device -> eligibility from sysfs -> group per GPU (map or topology) ->
 * per-VM ids -> splice. Every early exit leaves argv as it was. */
#include "rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "clique.h"
#include "facts.h"
#include "groups.h"
#include "strbuf.h"
#include "sysfs.h"
#include "util.h"

#define NVIDIA 0x10de
#define BASE_CLASS_DISPLAY 0x03

/* One vfio device as the decision sees it. */
struct gpu {
	const struct vfio_dev *dev;
	struct pci_addr addr;
	bool located;     /* addr is known */
	const char *skip; /* why it is not eligible, NULL if it is */
	char why[96];     /* storage for a skip reason with numbers */
};

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
	return env->proc >= 0 ? sysfs_addr_from_fd(env->proc, env->sysfs, (int)fd, out) : -ENOENT;
}

static void locate(const struct rewrite_env *env, struct gpu *g)
{
	const struct vfio_dev *d = g->dev;
	int r;

	switch (d->source) {
	case SRC_HOST:
		if (pci_addr_parse_qemu(d->source_value, &g->addr) < 0)
			g->skip = "host= is not an address QEMU accepts";
		return;
	case SRC_SYSFSDEV:
		r = sysfs_addr_from_sysfsdev(d->source_value, &g->addr);
		if (r == -ENODEV)
			g->skip = "a mediated device, never a GPU here";
		else if (r < 0)
			g->skip = "sysfsdev= names no PCI function";
		return;
	case SRC_FD:
		if (find_fd(env, d->source_value, &g->addr) < 0)
			g->skip = "fd= does not lead to a vfio PCI function";
		return;
	case SRC_NONE:
		g->skip = "no host=, sysfsdev= or fd=";
		return;
	}
}

static void check_eligible(const struct config *cfg, const struct rewrite_env *env, struct gpu *g)
{
	unsigned long vendor = 0, cls = 0;
	int r = 0;

	if (g->dev->clique == -2) {
		g->skip = "its " CLIQUE_PROP " is not a valid id; left as written";
		return;
	}
	/* An x-pci-class-code override is the class QEMU's clique check sees,
	 * like x-pci-vendor-id for the vendor. */
	if (g->dev->class_code >= 0)
		cls = (unsigned long)g->dev->class_code;
	else if (g->dev->class_code == -2 || (r = sysfs_read_hex(env->sysfs, &g->addr, "class", &cls)) < 0) {
		snprintf(g->why, sizeof(g->why), "%s%s", r ? "no readable class in sysfs: " : "x-pci-class-code is not a class code",
			 r ? err_text(r) : "");
		g->skip = g->why;
		return;
	}
	if (g->dev->vendor >= 0)
		vendor = (unsigned long)g->dev->vendor;
	else if (g->dev->vendor == -2 || (r = sysfs_read_hex(env->sysfs, &g->addr, "vendor", &vendor)) < 0) {
		snprintf(g->why, sizeof(g->why), "vendor unknown%s%s", r ? ": " : "", r ? err_text(r) : "");
		g->skip = g->why;
		return;
	}
	if (vendor != NVIDIA) {
		snprintf(g->why, sizeof(g->why), "vendor 0x%04lx is not NVIDIA", vendor);
		g->skip = g->why;
	} else if ((cls >> 16) != BASE_CLASS_DISPLAY) {
		snprintf(g->why, sizeof(g->why), "class 0x%06lx is not a display function", cls);
		g->skip = g->why;
	} else if (g->dev->clique < 0 && !facts_qemu_places_cap(cfg) && !facts_c8_free(cfg, &g->addr)) {
		snprintf(g->why, sizeof(g->why), "QEMU %s would refuse it: a capability covers 0xC8, not in c8_free",
			 cfg->host.version ? cfg->host.version : "< 8.1");
		g->skip = g->why;
	}
}

/* Names from the command line are printed up to 64 bytes: the log line must
 * stay one line a syslog daemon keeps, whatever the argv holds. */
static const char *ellipsis(const char *s)
{
	return strlen(s) > 64 ? "..." : "";
}

static const char *dev_name(const struct gpu *g)
{
	return g->dev->id ? g->dev->id : "(no id)";
}

static void add_gpu(struct strbuf *b, const struct gpu *g, bool *first)
{
	char a[PCI_ADDR_STRLEN];

	sb_addf(b, "%s%.64s%s %s", *first ? "" : ", ", dev_name(g), ellipsis(dev_name(g)), pci_addr_format(&g->addr, a));
	*first = false;
}

static const char *outcome_text(enum clique_outcome o)
{
	switch (o) {
	case CLIQUE_NO_GROUP: return "in no group of the host plan";
	case CLIQUE_ALONE: return "the only GPU of its group in this VM";
	case CLIQUE_FULL: return "all 16 clique ids are taken";
	default: return "";
	}
}

static const char *skip_reason(const struct gpu *g, const struct clique_gpu *c)
{
	return g->skip ? g->skip : outcome_text(c->outcome);
}

/* "skipped a 0000:05:00.1, b 0000:06:00.1 (not a display function); ..."
 * Devices with the same reason share one parenthesis. */
static void describe_skips(struct strbuf *b, const struct gpu *gpus, const struct clique_gpu *cg, size_t n)
{
	bool first_reason = true;

	for (size_t i = 0; i < n; i++) {
		const char *why = skip_reason(&gpus[i], &cg[i]);
		bool seen = false, first = true;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(skip_reason(&gpus[j], &cg[j]), why);
		if (!why[0] || seen)
			continue;
		sb_addf(b, "%s", first_reason ? "; skipped " : "; ");
		for (size_t j = i; j < n; j++) {
			char a[PCI_ADDR_STRLEN];

			if (strcmp(skip_reason(&gpus[j], &cg[j]), why))
				continue;
			const char *where = gpus[j].located ? pci_addr_format(&gpus[j].addr, a)
					    : gpus[j].dev->source_value ? gpus[j].dev->source_value : "-";

			sb_addf(b, "%s%.64s%s %.64s%s", first ? "" : ", ", dev_name(&gpus[j]), ellipsis(dev_name(&gpus[j])),
				where, ellipsis(where));
			first = false;
		}
		sb_addf(b, " (%s)", why);
		first_reason = false;
	}
}

/* "clique 0 = hostdev0 0000:05:00.0, hostdev1 0000:06:00.0 (map); skipped ..." */
static void describe(struct strbuf *b, const struct gpu *gpus, const struct clique_gpu *cg, size_t n,
		     const char *source, const struct vm_args *va, char *const *argv)
{
	bool any = false;

	for (int id = 0; id <= CLIQUE_MAX; id++) {
		bool first = true, added = false;

		for (size_t i = 0; i < n; i++) {
			if (gpus[i].skip || cg[i].assigned != id)
				continue;
			if (first)
				sb_addf(b, "%sclique %d = ", any ? "; " : "", id);
			add_gpu(b, &gpus[i], &first);
			added |= cg[i].outcome == CLIQUE_ADDED;
			any = true;
		}
		if (!first)
			sb_addf(b, " (%s)", added ? source : "set by the operator");
	}
	if (!any)
		sb_addf(b, "no clique added");
	describe_skips(b, gpus, cg, n);
	for (size_t i = 0; i < va->n_bad; i++)
		sb_addf(b, "; left -device %.60s%s untouched (%s)", argv[va->bad[i].argi],
			strlen(argv[va->bad[i].argi]) > 60 ? "..." : "", va->bad[i].why);
}

/* Devices a -readconfig file defines never reach argv: say so once. */
static void describe_readconfig(struct strbuf *b, const struct vm_args *va, char *const *argv)
{
	const char *file = va->readconfig ? argv[va->readconfig] : NULL;

	if (!file)
		return;
	sb_addf(b, "; devices in %.64s%s are not seen (-readconfig)", file, ellipsis(file));
	if (va->n_readconfig > 1)
		sb_addf(b, ", nor in %d more -readconfig files", va->n_readconfig - 1);
}

static int splice_all(const struct gpu *gpus, const struct clique_gpu *cg, size_t n, char *const *argv,
		      struct rewrite_out *out)
{
	for (size_t i = 0; i < n; i++) {
		char *s = NULL;

		if (gpus[i].skip || cg[i].outcome != CLIQUE_ADDED)
			continue;
		if (argv_splice(argv[gpus[i].dev->argi], gpus[i].dev, cg[i].assigned, &s) < 0 ||
		    grow_array((void **)&out->owned, &out->n_owned, sizeof(s), &s) < 0) {
			free(s);
			return -ENOMEM;
		}
		out->argv[gpus[i].dev->argi] = s;
		out->changed = true;
	}
	return 0;
}

static int copy_argv(int argc, char *const *argv, int extra, struct rewrite_out *out)
{
	out->argv = calloc((size_t)argc + (size_t)extra + 1, sizeof(char *));
	if (!out->argv)
		return -ENOMEM;
	memcpy(out->argv, argv, (size_t)argc * sizeof(char *));
	out->argc = argc;
	return 0;
}

/* Group label per eligible GPU from the map or the topology. */
static int assign_groups(const struct config *cfg, const struct rewrite_env *env, const struct gpu *gpus,
			 struct clique_gpu *cg, size_t n, char *source, size_t source_size)
{
	_cleanup_free_ struct pci_addr *addrs = calloc(n + 1, sizeof(*addrs));
	_cleanup_free_ int *labels = calloc(n + 1, sizeof(*labels));
	size_t m = 0;
	int r = 0;

	if (!addrs || !labels)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!gpus[i].skip)
			addrs[m++] = gpus[i].addr;
	if (cfg->mode == MODE_MAP) {
		snprintf(source, source_size, "map");
		for (size_t i = 0; i < m; i++)
			labels[i] = config_map_label(cfg, &addrs[i]);
	} else {
		r = groups_auto(cfg, env->sysfs, addrs, m, labels, source, source_size);
	}
	m = 0;
	for (size_t i = 0; i < n; i++)
		cg[i].group = gpus[i].skip ? -1 : labels[m++];
	return r;
}

/* Why the whole VM stays untouched, or NULL to go on. */
static const char *gate(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env,
			char *buf, size_t size)
{
	if (!cfg->valid)
		snprintf(buf, size, "configuration rejected: %s; VM started unchanged", cfg->error);
	else if (!va->n_devs && !va->n_bad)
		snprintf(buf, size, "no vfio-pci devices; unchanged");
	else if (config_excludes(cfg, va->name))
		snprintf(buf, size, "VM %s is in [cliques] exclude; unchanged", va->name);
	else if (cfg->mode == MODE_OFF)
		snprintf(buf, size, "[cliques] mode = off; unchanged");
	else if (va->has_clique_global)
		snprintf(buf, size, "the command line already sets -global ...%s; unchanged", CLIQUE_PROP);
	else if (!cfg->host.identity)
		snprintf(buf, size, "no host facts in %s; run \"qemu-p2p refresh\" as root; unchanged",
			 cfg->host.path ? cfg->host.path : "the host file");
	else if (!facts_current(cfg, env->real_binary))
		snprintf(buf, size, "host facts are stale for %s (QEMU changed); run \"qemu-p2p refresh\" as root; unchanged",
			 env->real_binary);
	else
		return NULL;
	return buf;
}

static void add_global(const struct config *cfg, const struct clique_gpu *cg, size_t n, struct rewrite_out *out,
		       struct strbuf *b)
{
	bool any = false;

	for (size_t i = 0; i < n; i++)
		any |= cg[i].assigned >= 0;
	if (cfg->hotplug != HOTPLUG_GLOBAL || !any)
		return;
	if (!cfg->host.hotplug_global_ok) {
		sb_addf(b, "; hotplug = global not applied: refresh found GPUs in several groups or other "
			   "devices on vfio-pci (hotplug_global_ok = no)");
		return;
	}
	out->argv[out->argc++] = (char *)CLIQUE_GLOBAL_OPT;
	out->argv[out->argc++] = (char *)CLIQUE_GLOBAL_VALUE;
	out->changed = true;
	sb_addf(b, "; -global vfio-pci.%s=0 for hotplugged GPUs", CLIQUE_PROP);
}

static int decide(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env,
		  char *const *argv, struct rewrite_out *out, struct strbuf *b)
{
	_cleanup_free_ struct gpu *gpus = calloc(va->n_devs + 1, sizeof(*gpus));
	_cleanup_free_ struct clique_gpu *cg = calloc(va->n_devs + 1, sizeof(*cg));
	char source[64] = "";
	int r;

	if (!gpus || !cg)
		return -ENOMEM;
	for (size_t i = 0; i < va->n_devs; i++) {
		gpus[i].dev = &va->devs[i];
		locate(env, &gpus[i]);
		gpus[i].located = !gpus[i].skip;
		if (!gpus[i].skip)
			check_eligible(cfg, env, &gpus[i]);
	}
	r = assign_groups(cfg, env, gpus, cg, va->n_devs, source, sizeof(source));
	if (r < 0)
		return r;
	for (size_t i = 0; i < va->n_devs; i++)
		cg[i].explicit_id = gpus[i].skip ? -1 : va->devs[i].clique;
	clique_assign(cg, va->n_devs);
	for (size_t i = 0; i < va->n_devs; i++)
		if (gpus[i].skip)
			cg[i] = (struct clique_gpu){ .group = -1, .explicit_id = -1, .assigned = -1 };
	describe(b, gpus, cg, va->n_devs, source, va, argv);
	r = splice_all(gpus, cg, va->n_devs, argv, out);
	if (r == 0)
		add_global(cfg, cg, va->n_devs, out, b);
	return r;
}

int rewrite_argv(const struct config *cfg, int argc, char *const *argv, const struct rewrite_env *env,
		 struct rewrite_out *out)
{
	struct vm_args va = { 0 };
	struct strbuf b = { 0 };
	char buf[1024];
	const char *stop;
	int r;

	*out = (struct rewrite_out){ 0 };
	r = argv_scan(argc, argv, &va);
	if (r == 0)
		r = copy_argv(argc, argv, 2, out);
	if (r < 0 || va.probe)
		goto done;
	stop = gate(cfg, &va, env, buf, sizeof(buf));
	if (stop)
		sb_addf(&b, "%s", stop);
	else
		r = decide(cfg, &va, env, argv, out, &b);
	describe_readconfig(&b, &va, argv);
	out->summary = sb_take(&b);
	if (!out->summary && r == 0)
		r = -ENOMEM;
done:
	vm_args_free(&va);
	sb_free(&b);
	if (r < 0)
		rewrite_out_free(out);
	return r;
}

void rewrite_out_free(struct rewrite_out *out)
{
	for (size_t i = 0; i < out->n_owned; i++)
		free(out->owned[i]);
	free(out->owned);
	free(out->argv);
	free(out->summary);
	*out = (struct rewrite_out){ 0 };
}
