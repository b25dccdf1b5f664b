/* qemu-p2p plan: groups of GPUs that may share a clique. Without options,
 * the groups the wrapper uses (its configuration, its loader, its
 * grouping); with --level or --from-nvidia-smi, another plan to compare or
 * to write. --write puts a plan in the host file's [map] with mode = map. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "common.h"
#include "hostfile.h"
#include "hostplan.h"
#include "nvsmi.h"
#include "partition.h"
#include "recipe.h"
#include "resolve.h"
#include "strbuf.h"
#include "sysfs.h"
#include "verdict.h"

static void help(void)
{
	printf("Usage: qemu-p2p plan [OPTIONS]\n\n"
	       "Group this host's NVIDIA GPUs so that GPUs of one group may share a clique.\n"
	       "Without --level or --from-nvidia-smi: the groups the wrapper uses, from the\n"
	       "configuration ([map] in mode = map, else the PCIe topology at [cliques] level).\n"
	       "Names the GPUs no group covers (their VMs get no clique). Refuses a\n"
	       "configuration the wrapper rejects. --write records a plan as the host's [map].\n\n"
	       "Options:\n"
	       "  -l, --level LEVEL        group at PIX, PXB, PHB, NODE, SYS or auto (auto: from\n"
	       "                           the vendor of the GPUs' PCIe host bridges)\n"
	       "      --from-nvidia-smi FILE\n"
	       "                           group by `nvidia-smi topo -p2p r` followed by\n"
	       "                           `nvidia-smi --query-gpu=index,pci.bus_id --format=csv`\n"
	       "                           from this host on bare metal\n"
	       "  -w, --write              write [map] and mode = map to the host file (root)\n"
	       "      --partial            with --write: write a plan that leaves GPUs of this\n"
	       "                           host in no group, or names GPUs it does not have\n"
	       "  -n, --dry-run            with --write: print the file; change nothing\n"
	       "      --for TARGET         the groups the wrapper uses as a scheduler recipe that\n"
	       "                           keeps each VM's GPUs in one group: proxmox (resource\n"
	       "                           mappings), nova ([pci] lines, flavors) or libvirt\n"
	       "                           (node device names)\n"
	       "      --hostname NAME      with --for: the host's name for the scheduler\n"
	       "                           (default: this host's, up to its first dot for proxmox)\n"
	       "  -c, --config FILE        operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR          sysfs root (default /sys)\n"
	       "  -j, --json               print one JSON object\n"
	       "  -h, --help               show this help\n");
}

struct opts {
	const char *config, *sysfs, *nvsmi, *target, *hostname;
	enum link_level level;
	bool level_set, write, partial, dry_run, json;
};

struct pair {
	struct pci_addr a, b;
};

/* The plan to print or write: GPUs with group labels 0, 1 ... by first
 * appearance in address order, -1 for a GPU in no group. */
struct plan {
	size_t n;
	struct pci_addr *addr;
	int *label;
	int n_groups;
	const char *source; /* "map", "topology" or "nvidia-smi" */
	const char *level;  /* "PHB" for a topology plan, else NULL */
	char reason[300];
	bool in_effect;           /* what the wrapper uses */
	char note[600];           /* why it is not, or what stops the wrapper */
	struct pci_addr *foreign; /* planned GPUs this host does not have */
	size_t n_foreign;
	struct pair *dropped; /* nvidia-smi OK pairs that no group keeps */
	size_t n_dropped;
	struct acs_bridge acs[64]; /* bridges with ACS redirect inside a group */
	size_t n_acs;
	bool acs_checked;
};

static void plan_free(struct plan *p)
{
	free(p->addr);
	free(p->label);
	free(p->foreign);
	free(p->dropped);
}

static int plan_alloc(struct plan *p, size_t n)
{
	p->n = n;
	p->addr = calloc(n + 1, sizeof(*p->addr));
	p->label = calloc(n + 1, sizeof(*p->label));
	return p->addr && p->label ? 0 : -ENOMEM;
}

static void count_groups(struct plan *p)
{
	p->n_groups = 0;
	for (size_t i = 0; i < p->n; i++)
		if (p->label[i] >= p->n_groups)
			p->n_groups = p->label[i] + 1;
}

/* GPUs of this host that the plan leaves in no group. */
static size_t uncovered(const struct plan *p, const struct hostplan *hp, struct pci_addr *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < hp->n; i++) {
		size_t k = 0;

		while (k < p->n && !pci_addr_equal(&p->addr[k], &hp->gpus[i]->addr))
			k++;
		if (k < p->n && p->label[k] >= 0)
			continue;
		if (n < max)
			out[n] = hp->gpus[i]->addr;
		n++;
	}
	return n;
}

/* Bridges on the GPUs' paths with ACS P2P redirect or egress control:
 * they send P2P up through the root complex (works, slower). Root only. */
static void check_acs(struct plan *p, const struct hostplan *hp, int sysfs)
{
	p->acs_checked = geteuid() == 0;
	if (p->acs_checked)
		p->n_acs = hostplan_acs(hp, sysfs, hp->labels, p->acs, ARRAY_SIZE(p->acs));
}

static void from_hostplan(struct plan *p, const struct hostplan *hp)
{
	for (size_t i = 0; i < hp->n; i++) {
		p->addr[i] = hp->gpus[i]->addr;
		p->label[i] = hp->labels[i];
	}
	count_groups(p);
	p->source = hp->grouping.by_map ? "map" : "topology";
	p->level = hp->grouping.by_map ? NULL : link_level_name(hp->grouping.level);
}

/* What the wrapper does instead of this plan (what_if: it groups as g
 * says), or what stops it. */
static void note_effect(struct plan *p, const struct verdict *v, const struct grouping *g, bool what_if)
{
	if (what_if && g->by_map)
		snprintf(p->note, sizeof(p->note), "not in effect: the wrapper groups by [map] of %s",
			 v->cfg.map_source ? v->cfg.map_source : "the configuration");
	else if (what_if)
		snprintf(p->note, sizeof(p->note), "not in effect: the wrapper groups at level %s",
			 link_level_name(g->level));
	else if (v->cfg.mode == MODE_OFF)
		snprintf(p->note, sizeof(p->note),
			 "[cliques] mode = off: the wrapper adds no clique; these are the groups of mode = auto");
	else if (v->stop)
		snprintf(p->note, sizeof(p->note), "the wrapper adds no clique now: %s", v->stop);
	p->in_effect = !what_if && !v->stop;
}

/* The groups in effect, or (--level) those at another level, compared
 * with them; hp is left as the wrapper groups. */
static int from_topology(const struct opts *o, struct verdict *v, int sysfs, struct plan *p)
{
	struct hostplan *hp = &v->hp;
	struct grouping effective = hp->grouping;
	int labels[hp->n + 1];
	bool same = true;

	memcpy(labels, hp->labels, hp->n * sizeof(*labels));
	if (o->level_set) {
		hostplan_by_topology(hp, o->level);
		same = !memcmp(labels, hp->labels, hp->n * sizeof(*labels));
	}
	if (plan_alloc(p, hp->n) < 0)
		return -ENOMEM;
	from_hostplan(p, hp);
	if (hp->grouping.by_map)
		snprintf(p->reason, sizeof(p->reason), "[map] of %s (mode = map)", v->cfg.map_source);
	else if (o->level_set)
		snprintf(p->reason, sizeof(p->reason), "given with --level");
	else if (v->cfg.level == LINK_AUTO)
		snprintf(p->reason, sizeof(p->reason), "auto: %s", hp->grouping.why);
	else
		snprintf(p->reason, sizeof(p->reason), "[cliques] level in the configuration");
	note_effect(p, v, &effective, !same);
	check_acs(p, hp, sysfs);
	memcpy(hp->labels, labels, hp->n * sizeof(*labels));
	hp->grouping = effective;
	return 0;
}

static int by_addr(const void *a, const void *b, void *ns)
{
	const struct pci_addr *addr = ((const struct nvsmi *)ns)->addr;

	return pci_addr_cmp(&addr[*(const size_t *)a], &addr[*(const size_t *)b]);
}

static int add_pair(struct plan *p, const struct pci_addr *a, const struct pci_addr *b)
{
	struct pair pr = { *a, *b };

	return grow_array((void **)&p->dropped, &p->n_dropped, sizeof(pr), &pr);
}

/* The file's GPUs in address order, grouped by partition_best. */
static int group_nvsmi(const char *path, const struct nvsmi *ns, struct plan *p)
{
	size_t order[NVSMI_MAX_GPUS];
	int raw[NVSMI_MAX_GPUS], kept;

	if (plan_alloc(p, ns->n) < 0)
		return -ENOMEM;
	kept = partition_best(ns->n, ns->ok, ns->addr, raw);
	snprintf(p->reason, sizeof(p->reason), "nvidia-smi topo -p2p r in %s: groups keep %d OK pairs", path, kept);
	for (size_t i = 0; i < ns->n; i++)
		order[i] = i;
	qsort_r(order, ns->n, sizeof(*order), by_addr, (void *)ns);
	for (size_t i = 0; i < ns->n; i++) {
		p->addr[i] = ns->addr[order[i]];
		p->label[i] = raw[order[i]];
	}
	hostplan_dense(p->label, p->n);
	count_groups(p);
	for (size_t i = 0; i < ns->n; i++)
		for (size_t k = i + 1; k < ns->n; k++)
			if (ns->ok[order[i]][order[k]] && p->label[i] != p->label[k] &&
			    add_pair(p, &p->addr[i], &p->addr[k]) < 0)
				return -ENOMEM;
	return 0;
}

static int from_nvidia_smi(const char *path, const struct verdict *v, struct plan *p)
{
	_cleanup_free_ char *text = NULL;
	struct nvsmi ns;
	struct err e = { { 0 } };
	int r = read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL);

	if (r < 0) {
		cli_error("%s: %s", path, err_text(r));
		return r;
	}
	if ((r = nvsmi_parse(path, text, &ns, &e)) < 0) {
		cli_error("%s", e.msg);
		return r;
	}
	if ((r = group_nvsmi(path, &ns, p)) < 0)
		return r;
	p->source = "nvidia-smi";
	for (size_t i = 0; i < p->n; i++)
		if (hostplan_find(&v->hp, &p->addr[i]) < 0 &&
		    grow_array((void **)&p->foreign, &p->n_foreign, sizeof(p->addr[i]), &p->addr[i]) < 0)
			return -ENOMEM;
	note_effect(p, v, &v->hp.grouping, true);
	return 0;
}

static void print_addrs(const char *title, const struct pci_addr *a, size_t n)
{
	char s[PCI_ADDR_STRLEN];

	if (!n)
		return;
	printf("%s:", title);
	for (size_t i = 0; i < n; i++)
		printf(" %s", pci_addr_format(&a[i], s));
	printf("\n");
}

static void print_acs(const struct plan *p)
{
	char a[PCI_ADDR_STRLEN];

	if (p->n_acs) {
		printf("ACS redirect on bridges between GPUs of a group (P2P works, through the root complex, slower):");
		for (size_t i = 0; i < p->n_acs; i++)
			printf("%s %s (ACS control bits 0x%02x: %s%s%s)", i ? "," : "",
			       pci_addr_format(&p->acs[i].addr, a), p->acs[i].bits,
			       p->acs[i].bits & 0x04 ? "P2P request redirect " : "",
			       p->acs[i].bits & 0x08 ? "completion redirect " : "",
			       p->acs[i].bits & 0x20 ? "egress control" : "");
		printf("\n  to clear on a bridge: setpci -s ADDRESS ECAP_ACS+6.w=0000:002c "
		       "(merges IOMMU groups; see qemu-p2p doctor)\n");
	} else if (p->level && !p->acs_checked) {
		printf("ACS on the bridges was not checked: run as root to read their extended config space.\n");
	}
}

static void print_text(const struct plan *p, const struct pci_addr *ungrouped, size_t n_ungrouped)
{
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	if (p->level)
		printf("Level: %s (%s)\n", p->level, p->reason);
	else
		printf("From %s\n", p->reason);
	if (!p->n)
		printf("No NVIDIA GPU found.\n");
	for (int g = 0; g < p->n_groups; g++) {
		size_t members = 0;

		printf("Group %d:", g);
		for (size_t i = 0; i < p->n; i++)
			if (p->label[i] == g && ++members)
				printf(" %s", pci_addr_format(&p->addr[i], a));
		printf("%s\n", members == 1 ? "  (alone: no P2P partner)" : "");
	}
	print_addrs("In no group (their VMs get no clique)", ungrouped, n_ungrouped);
	print_addrs("Not GPUs of this host", p->foreign, p->n_foreign);
	for (size_t i = 0; i < p->n_dropped; i++)
		printf("%s%s-%s%s", i ? ", " : "OK pairs no group can keep (the relation is not transitive): ",
		       pci_addr_format(&p->dropped[i].a, a), pci_addr_format(&p->dropped[i].b, b),
		       i + 1 == p->n_dropped ? "\n" : "");
	print_acs(p);
	if (p->note[0])
		printf("Note: %s\n", p->note);
}

static struct json_object *acs_json(const struct plan *p)
{
	struct json_object *arr = json_object_new_array();
	char a[PCI_ADDR_STRLEN], bits[8];

	for (size_t i = 0; i < p->n_acs; i++) {
		struct json_object *o = json_object_new_object(), *what = json_object_new_array();

		snprintf(bits, sizeof(bits), "0x%02x", p->acs[i].bits);
		if (p->acs[i].bits & 0x04)
			json_object_array_add(what, json_object_new_string("P2P request redirect"));
		if (p->acs[i].bits & 0x08)
			json_object_array_add(what, json_object_new_string("completion redirect"));
		if (p->acs[i].bits & 0x20)
			json_object_array_add(what, json_object_new_string("egress control"));
		json_object_object_add(o, "bridge", json_object_new_string(pci_addr_format(&p->acs[i].addr, a)));
		json_object_object_add(o, "control_bits", json_object_new_string(bits));
		json_object_object_add(o, "what", what);
		json_object_array_add(arr, o);
	}
	return arr;
}

static struct json_object *to_json(const struct plan *p, const struct pci_addr *ungrouped, size_t n_ungrouped)
{
	struct json_object *j = json_object_new_object(), *groups = json_object_new_array(),
			   *dropped = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "source", json_object_new_string(p->source));
	json_object_object_add(j, "in_effect", json_object_new_boolean(p->in_effect));
	json_object_object_add(j, "level", p->level ? json_object_new_string(p->level) : NULL);
	json_object_object_add(j, "reason", json_object_new_string(p->reason));
	json_object_object_add(j, "note", p->note[0] ? json_object_new_string(p->note) : NULL);
	for (int g = 0; g < p->n_groups; g++) {
		struct json_object *o = json_object_new_object(), *gpus = json_object_new_array();

		for (size_t i = 0; i < p->n; i++)
			if (p->label[i] == g)
				json_object_array_add(gpus, json_object_new_string(pci_addr_format(&p->addr[i], a)));
		json_object_object_add(o, "label", json_object_new_int(g));
		json_object_object_add(o, "gpus", gpus);
		json_object_array_add(groups, o);
	}
	json_object_object_add(j, "groups", groups);
	json_object_object_add(j, "ungrouped", verdict_addr_array(ungrouped, n_ungrouped));
	json_object_object_add(j, "not_on_host", verdict_addr_array(p->foreign, p->n_foreign));
	for (size_t i = 0; i < p->n_dropped; i++) {
		struct json_object *o = json_object_new_object();

		json_object_object_add(o, "a", json_object_new_string(pci_addr_format(&p->dropped[i].a, a)));
		json_object_object_add(o, "b", json_object_new_string(pci_addr_format(&p->dropped[i].b, a)));
		json_object_array_add(dropped, o);
	}
	json_object_object_add(j, "dropped_pairs", dropped);
	json_object_object_add(j, "acs_checked", json_object_new_boolean(p->acs_checked));
	json_object_object_add(j, "acs_redirect", acs_json(p));
	return j;
}

/* A plan that leaves GPUs of this host without a group, or names GPUs the
 * host lacks, is written only when asked for by name. */
static int check_complete(const struct opts *o, const struct plan *p, size_t n_ungrouped)
{
	if (o->partial || (!n_ungrouped && !p->n_foreign))
		return 0;
	if (n_ungrouped)
		cli_error("the plan leaves %zu GPU%s of this host in no group (listed above): their VMs would get "
			  "no clique; plan them too (a complete nvidia-smi output), or give --partial",
			  n_ungrouped, n_ungrouped == 1 ? "" : "s");
	else
		cli_error("the plan names %zu GPU%s this host does not have (listed above): was the file made on "
			  "another host? give --partial to write the others",
			  p->n_foreign, p->n_foreign == 1 ? "" : "s");
	return -EINVAL;
}

/* The host file with [map] and mode = map set to the plan's GPUs of this
 * host, the facts kept, hotplug_global_ok for the new map. */
static int host_text(const struct verdict *v, const struct plan *p, char **text)
{
	struct conf_file h;
	struct hostplan hp = v->hp;
	int labels[v->hp.n + 1], r = hostfile_clone(&v->cfg.host, &h);

	free(h.map);
	h.map = calloc(p->n + 1, sizeof(*h.map));
	h.n_map = 0;
	if (r < 0 || !h.map) {
		conf_file_free(&h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->label[i] >= 0 && hostplan_find(&v->hp, &p->addr[i]) >= 0)
			h.map[h.n_map++] = (struct map_entry){ p->label[i], p->addr[i] };
	h.mode = MODE_MAP;
	h.set |= SET_MODE | SET_MAP;
	hp.labels = labels;
	hostplan_by_map(&hp, h.map, h.n_map);
	h.hotplug_global_ok = hostplan_hotplug_global_ok(&hp);
	r = hostfile_format(&h, text);
	conf_file_free(&h);
	return r;
}

static void print_written(const struct opts *o, const struct plan *p, const struct pci_addr *ungrouped,
			  size_t n_ungrouped, const char *path, const char *text, bool changed)
{
	if (o->json) {
		struct json_object *j = to_json(p, ungrouped, n_ungrouped), *files = json_object_new_array();

		json_object_object_add(j, "changed", json_object_new_boolean(changed && !o->dry_run));
		json_object_object_add(j, "dry_run", json_object_new_boolean(o->dry_run));
		if (changed)
			json_object_array_add(files, json_object_new_string(path));
		json_object_object_add(j, "files", files);
		cli_print_json(j);
	} else if (o->dry_run) {
		printf("would write %s:\n%s", path, text);
	} else {
		printf("%s %s\n", changed ? "wrote" : "unchanged:", path);
	}
}

/* Writes [map] and mode = map into the host file, keeping the facts. */
static int write_plan(const struct opts *o, const struct verdict *v, const struct plan *p,
		      const struct pci_addr *ungrouped, size_t n_ungrouped)
{
	_cleanup_free_ char *text = NULL;
	const struct config *cfg = &v->cfg;
	struct err e = { { 0 } };
	bool changed;
	int r;

	if ((r = check_complete(o, p, n_ungrouped)) < 0)
		return r;
	if (cfg->op.set & SET_MODE && cfg->op.mode != MODE_MAP)
		cli_error("warning: %s sets mode = %s, which wins over the host file's mode = map", cfg->op.path,
			  clique_mode_name(cfg->op.mode));
	if (cfg->op.set & SET_MAP)
		cli_error("warning: %s has its own [map], which wins over the one written here", cfg->op.path);
	if ((r = host_text(v, p, &text)) < 0)
		return r;
	changed = !file_holds(cfg->host.path, text, strlen(text));
	if (!o->dry_run && changed && (r = hostfile_write_atomic(cfg->host.path, text, &e)) < 0) {
		cli_error("%s", e.msg[0] ? e.msg : strerror(-r));
		return r;
	}
	print_written(o, p, ungrouped, n_ungrouped, cfg->host.path, text, changed);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "level", required_argument, NULL, 'l' },    { "from-nvidia-smi", required_argument, NULL, 'N' },
		{ "write", no_argument, NULL, 'w' },          { "partial", no_argument, NULL, 'P' },
		{ "dry-run", no_argument, NULL, 'n' },        { "for", required_argument, NULL, 'F' },
		{ "hostname", required_argument, NULL, 'H' }, { "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },    { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },           { 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "l:wnc:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'l':
			if (link_level_parse(optarg, &o->level) < 0)
				return cli_usage("plan", "--level %s: use PIX, PXB, PHB, NODE, SYS or auto", optarg);
			o->level_set = true;
			break;
		case 'N': o->nvsmi = optarg; break;
		case 'w': o->write = true; break;
		case 'P': o->partial = true; break;
		case 'n': o->dry_run = true; break;
		case 'F':
			if (!recipe_target_known(optarg))
				return cli_usage("plan", "--for %s: use " RECIPE_TARGETS, optarg);
			o->target = optarg;
			break;
		case 'H': o->hostname = optarg; break;
		case 'c': o->config = optarg; break;
		case 's': o->sysfs = optarg; break;
		case 'j': o->json = true; break;
		case 'h': help(); return -1;
		default: return cli_bad_option("plan", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("plan", "unexpected argument '%s'", argv[optind]);
	if (o->nvsmi && o->level_set)
		return cli_usage("plan", "--level and --from-nvidia-smi exclude each other");
	if (o->dry_run && !o->write)
		return cli_usage("plan", "--dry-run goes with --write");
	if (o->partial && !o->write)
		return cli_usage("plan", "--partial goes with --write");
	if (o->target && (o->level_set || o->nvsmi || o->write))
		return cli_usage("plan",
				 "--for takes the groups the wrapper uses: leave out --level, --from-nvidia-smi "
				 "and --write (write the groups first, then run --for)");
	if (o->hostname && !o->target)
		return cli_usage("plan", "--hostname goes with --for");
	return 0;
}

/* Plans on the configuration the wrapper accepts, never on one it rejects. */
static int run(const struct opts *o, int sysfs)
{
	struct verdict v;
	struct plan p = { 0 };
	struct pci_addr ungrouped[256];
	size_t n_ungrouped = 0;
	int r = verdict_load(&v, &(struct verdict_in){ .config = o->config,
						       .sysfs = sysfs,
						       .sysfs_path = cli_root_path(o->sysfs, SYSFS_DEFAULT_ROOT) });

	if (r == 0)
		r = cli_config_usable(&v.cfg);
	if (r == 0)
		r = o->nvsmi ? from_nvidia_smi(o->nvsmi, &v, &p) : from_topology(o, &v, sysfs, &p);
	if (r == 0 && o->write)
		p.note[0] = '\0'; /* written, it is the plan in effect */
	if (r == 0) {
		n_ungrouped = uncovered(&p, &v.hp, ungrouped, ARRAY_SIZE(ungrouped));
		n_ungrouped = n_ungrouped < ARRAY_SIZE(ungrouped) ? n_ungrouped : ARRAY_SIZE(ungrouped);
	}
	if (r == 0 && o->json && !o->write)
		cli_print_json(to_json(&p, ungrouped, n_ungrouped));
	else if (r == 0 && (!o->write || (!o->dry_run && !o->json)))
		print_text(&p, ungrouped, n_ungrouped);
	if (r == 0 && o->write)
		r = write_plan(o, &v, &p, ungrouped, n_ungrouped);
	plan_free(&p);
	verdict_free(&v);
	return r;
}

int cmd_plan(int argc, char **argv)
{
	struct opts o = { 0 };
	_cleanup_close_ int sysfs = -1;
	int r = parse(argc, argv, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (o.target)
		return recipe_plan(o.target, o.hostname, o.config, o.sysfs, o.json);
	if (o.write && !o.dry_run && geteuid() != 0) {
		cli_error("--write needs root (the host file is root's); try --dry-run");
		return 1;
	}
	if (cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0)
		return 1;
	return run(&o, sysfs) < 0 ? 1 : 0;
}
