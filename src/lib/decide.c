/* The wrapper's decision on facts already read (see decide.h), in DESIGN's
 * order: eligibility -> group per GPU (hostplan: map or topology) -> per-VM
 * ids (clique) -> the log line -> splice. Reads nothing. */
#include "decide.h"

#include <stdlib.h>
#include <string.h>

#include "clique.h"
#include "facts.h"
#include "hostplan.h"
#include "util.h"

/* Where QEMU will put a clique on this GPU: QEMU >= 8.1 finds room itself;
 * an older one takes 0xC8, which the host facts must say is free on this
 * very card (c8_free). C8_FREE when QEMU accepts it. */
static enum c8_state c8_state(const struct config *cfg, const struct dev_facts *f)
{
	return facts_qemu_places_cap(cfg) ? C8_FREE : facts_c8_state(cfg, &f->addr, f->gpu_id);
}

/* QEMU refuses a clique on a device that is not an NVIDIA display function,
 * and QEMU < 8.1 on one whose 0xC8 is taken (host facts: c8_free). */
static void check_eligible(const struct config *cfg, struct dev_facts *f)
{
	enum c8_state c8;

	if (f->skip)
		return;
	if (f->vendor != 0x10de)
		devfacts_skip(f, "vendor 0x%04lx is not NVIDIA", f->vendor);
	else if (!devfacts_is_gpu(f))
		devfacts_skip(f, "class 0x%06lx is not a display function", f->cls);
	else if (f->dev->clique < 0 && (c8 = c8_state(cfg, f)) != C8_FREE)
		devfacts_skip(f, "QEMU %s %s", cfg->host.version ? cfg->host.version : "< 8.1", facts_c8_why(c8));
}

/* Names from the command line are printed up to 64 bytes: the log line must
 * stay one line a syslog daemon keeps, whatever the argv holds. */
static const char *ellipsis(const char *s)
{
	return strlen(s) > 64 ? "..." : "";
}

static const char *dev_name(const struct dev_facts *g)
{
	return g->dev->id ? g->dev->id : "(no id)";
}

static void add_gpu(struct strbuf *b, const struct dev_facts *g, bool *first)
{
	char a[PCI_ADDR_STRLEN];

	sb_addf(b, "%s%.64s%s %s", *first ? "" : ", ", dev_name(g), ellipsis(dev_name(g)),
		pci_addr_format(&g->addr, a));
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

static const char *skip_reason(const struct dev_facts *g, const struct clique_gpu *c)
{
	return g->skip ? g->skip : outcome_text(c->outcome);
}

/* "skipped a 0000:05:00.1, b 0000:06:00.1 (not a display function); ..."
 * Devices with the same reason share one parenthesis. */
static void describe_skips(struct strbuf *b, const struct dev_facts *gpus, const struct clique_gpu *cg, size_t n)
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
			const char *where = gpus[j].located             ? pci_addr_format(&gpus[j].addr, a)
					    : gpus[j].dev->source_value ? gpus[j].dev->source_value
									: "-";

			sb_addf(b, "%s%.64s%s %.64s%s", first ? "" : ", ", dev_name(&gpus[j]),
				ellipsis(dev_name(&gpus[j])), where, ellipsis(where));
			first = false;
		}
		sb_addf(b, " (%s)", why);
		first_reason = false;
	}
}

/* "clique 0 = hostdev0 0000:05:00.0, hostdev1 0000:06:00.0 (map); skipped ..." */
static void describe(struct strbuf *b, const struct dev_facts *gpus, const struct clique_gpu *cg, size_t n,
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

static int splice_all(const struct dev_facts *gpus, const struct clique_gpu *cg, size_t n, char *const *argv,
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

/* Devices a -readconfig file defines never reach argv: say so once. */
void decide_note_readconfig(struct strbuf *b, const struct vm_args *va, char *const *argv)
{
	const char *file = va->readconfig ? argv[va->readconfig] : NULL;

	if (!file)
		return;
	sb_addf(b, "; devices in %.64s%s are not seen (-readconfig)", file, ellipsis(file));
	if (va->n_readconfig > 1)
		sb_addf(b, ", nor in %d more -readconfig files", va->n_readconfig - 1);
}

/* Group per eligible device (hostplan), and the words for the log line. */
static void assign_groups(const struct config *cfg, struct dev_facts *facts, struct clique_gpu *cg, size_t n,
			  char *source, size_t size)
{
	struct host_fn *gpus[n + 1];
	int labels[n + 1];
	size_t where[n + 1], m = 0;
	struct grouping g;

	memset(gpus, 0, sizeof(gpus));
	for (size_t i = 0; i < n; i++) {
		cg[i] = (struct clique_gpu){ .group = -1, .explicit_id = -1 };
		if (!facts[i].skip) {
			cg[i].explicit_id = facts[i].dev->clique;
			where[m] = i;
			gpus[m++] = &facts[i].fn;
		}
	}
	hostplan_group(cfg, gpus, m, labels, &g);
	for (size_t k = 0; k < m; k++)
		cg[where[k]].group = labels[k];
	if (g.by_map)
		snprintf(source, size, "map");
	else
		snprintf(source, size, "auto, %s", link_level_name(g.level));
}

/* -global gives clique 0 to every vfio-pci device without its own: QEMU
 * then refuses to start unless each is a GPU it accepts one on. Checked
 * on this VM's live devices, whatever refresh found then. */
static bool takes_global(const struct config *cfg, const struct dev_facts *f)
{
	if (f->dev->clique >= 0)
		return true; /* its own id wins */
	return f->located && devfacts_is_gpu(f) && c8_state(cfg, f) == C8_FREE;
}

static void add_global(const struct config *cfg, const struct vm_args *va, const struct dev_facts *facts,
		       const struct clique_gpu *cg, struct rewrite_out *out, struct strbuf *b)
{
	size_t n = va->n_devs;
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
	for (size_t i = 0; i < n; i++) {
		char a[PCI_ADDR_STRLEN];

		if (takes_global(cfg, &facts[i]))
			continue;
		sb_addf(b, "; hotplug = global not applied: %.64s%s %s is no GPU QEMU takes a clique on",
			dev_name(&facts[i]), ellipsis(dev_name(&facts[i])),
			facts[i].located ? pci_addr_format(&facts[i].addr, a) : "");
		return;
	}
	if (va->n_bad) {
		sb_addf(b, "; hotplug = global not applied: a vfio-pci device this wrapper cannot read");
		return;
	}
	out->argv[out->argc++] = (char *)CLIQUE_GLOBAL_OPT;
	out->argv[out->argc++] = (char *)CLIQUE_GLOBAL_VALUE;
	out->changed = true;
	sb_addf(b, "; -global vfio-pci.%s=0 for hotplugged GPUs", CLIQUE_PROP);
}

int decide_rewrite(const struct config *cfg, const struct vm_args *va, struct dev_facts *facts, char *const *argv,
		   struct rewrite_out *out, struct strbuf *b)
{
	struct clique_gpu cg[va->n_devs + 1];
	char source[64] = "";
	int r;

	for (size_t i = 0; i < va->n_devs; i++)
		check_eligible(cfg, &facts[i]);
	assign_groups(cfg, facts, cg, va->n_devs, source, sizeof(source));
	clique_assign(cg, va->n_devs);
	describe(b, facts, cg, va->n_devs, source, va, argv);
	r = splice_all(facts, cg, va->n_devs, argv, out);
	if (r == 0)
		add_global(cfg, va, facts, cg, out, b);
	return r;
}
