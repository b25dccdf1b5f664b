/* qemu-p2p plan: groups of GPUs that may share a clique, from the topology
 * at a level or from bare-metal nvidia-smi output; --write puts them in the
 * host file's [map] with mode = map. */
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
#include "strbuf.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p plan [OPTIONS]\n\n"
	       "Group this host's NVIDIA GPUs so that GPUs of one group may share a clique:\n"
	       "those whose PCIe link is at or below a level, or those nvidia-smi reported as\n"
	       "P2P-capable on bare metal. --write records the groups as the host's [map].\n\n"
	       "Options:\n"
	       "  -l, --level LEVEL        PIX, PXB, PHB, NODE, SYS or auto (default: the\n"
	       "                           configured level, else auto: from the CPU vendor)\n"
	       "      --from-nvidia-smi FILE\n"
	       "                           group by `nvidia-smi topo -p2p r` followed by\n"
	       "                           `nvidia-smi --query-gpu=index,pci.bus_id --format=csv`\n"
	       "  -w, --write              write [map] and mode = map to the host file (root)\n"
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
	bool level_set, write, dry_run, json;
};

/* The plan to print or write: GPUs with sequential group labels. */
struct plan {
	size_t n;
	struct pci_addr *addr;
	int *label;        /* 0, 1, ... by first appearance */
	int n_groups;      /* labels run from 0 to n_groups - 1 */
	const char *level; /* "PHB", or NULL for nvidia-smi */
	char reason[256];
	struct strbuf dropped; /* nvidia-smi OK pairs that no group keeps */
	struct strbuf acs;     /* bridges with ACS redirect inside a group */
	bool acs_checked;
};

static void plan_free(struct plan *p)
{
	free(p->addr);
	free(p->label);
	free(p->dropped.s);
	free(p->acs.s);
}

/* The group numbers shown to the operator: raw labels (any ints; -1: in no
 * group) as 0, 1, 2 in order of first appearance, each GPU in no group
 * shown as a group of its own. */
static void number_for_display(struct plan *p, const int *raw)
{
	p->n_groups = 0;
	for (size_t i = 0; i < p->n; i++) {
		p->label[i] = -1;
		for (size_t k = 0; k < i && p->label[i] < 0 && raw[i] >= 0; k++)
			if (raw[k] == raw[i])
				p->label[i] = p->label[k];
		if (p->label[i] < 0)
			p->label[i] = p->n_groups++;
	}
}

static int plan_alloc(struct plan *p, size_t n)
{
	p->n = n;
	p->addr = calloc(n + 1, sizeof(*p->addr));
	p->label = calloc(n + 1, sizeof(*p->label));
	return p->addr && p->label ? 0 : -ENOMEM;
}

/* Bridges on the GPUs' paths with ACS P2P redirect or egress control:
 * they send P2P up through the root complex (works, slower). Root only. */
static void check_acs(struct plan *p, const struct hostplan *hp, int sysfs)
{
	struct acs_bridge br[64];
	char a[PCI_ADDR_STRLEN];
	size_t n;

	p->acs_checked = geteuid() == 0;
	if (!p->acs_checked)
		return;
	n = hostplan_acs(hp, sysfs, p->label, br, ARRAY_SIZE(br));
	for (size_t i = 0; i < n; i++)
		sb_addf(&p->acs, "%s%s (ACS control bits 0x%02x: %s%s%s)", i ? ", " : "",
			pci_addr_format(&br[i].addr, a), br[i].bits, br[i].bits & 0x04 ? "P2P request redirect " : "",
			br[i].bits & 0x08 ? "completion redirect " : "", br[i].bits & 0x20 ? "egress control" : "");
}

static int from_topology(const struct opts *o, const struct config *cfg, int sysfs, struct plan *p)
{
	struct hostplan hp;
	enum link_level level = o->level_set ? o->level : cfg->level;
	int r = hostplan_read(sysfs, &hp);

	if (r < 0) {
		fprintf(stderr, "qemu-p2p plan: cannot list PCI functions under the sysfs root: %s\n", strerror(-r));
		return r;
	}
	hostplan_by_topology(&hp, level);
	if ((r = plan_alloc(p, hp.n)) == 0) {
		for (size_t i = 0; i < hp.n; i++)
			p->addr[i] = hp.gpus[i]->addr;
		number_for_display(p, hp.labels);
		p->level = link_level_name(hp.grouping.level);
		if (level == LINK_AUTO)
			snprintf(p->reason, sizeof(p->reason), "auto: %s", hp.grouping.why);
		else
			snprintf(p->reason, sizeof(p->reason), "%s",
				 o->level_set ? "given with --level" : "[cliques] level in the configuration");
		check_acs(p, &hp, sysfs);
	}
	hostplan_free(&hp);
	return r;
}

static int by_addr(const void *a, const void *b, void *ns)
{
	const struct pci_addr *addr = ((const struct nvsmi *)ns)->addr;

	return pci_addr_cmp(&addr[*(const size_t *)a], &addr[*(const size_t *)b]);
}

static int from_nvidia_smi(const char *path, struct plan *p)
{
	_cleanup_free_ char *text = NULL;
	struct nvsmi ns;
	size_t order[NVSMI_MAX_GPUS];
	struct err e = { { 0 } };
	int raw[NVSMI_MAX_GPUS], sorted[NVSMI_MAX_GPUS] = { 0 }, r = read_file_at(AT_FDCWD, path, 1 << 20, &text, NULL);
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	if (r < 0) {
		fprintf(stderr, "qemu-p2p plan: %s: %s\n", path, err_text(r));
		return r;
	}
	if ((r = nvsmi_parse(path, text, &ns, &e)) < 0) {
		fprintf(stderr, "qemu-p2p plan: %s\n", e.msg);
		return r;
	}
	if ((r = plan_alloc(p, ns.n)) < 0)
		return r;
	r = partition_best(ns.n, ns.ok, ns.addr, raw);
	snprintf(p->reason, sizeof(p->reason), "nvidia-smi topo -p2p r in %s: groups keep %d OK pairs", path, r);
	/* Printed in address order, like topo and the host file. */
	for (size_t i = 0; i < ns.n; i++)
		order[i] = i;
	qsort_r(order, ns.n, sizeof(*order), by_addr, &ns);
	for (size_t i = 0; i < ns.n; i++) {
		p->addr[i] = ns.addr[order[i]];
		sorted[i] = raw[order[i]];
	}
	number_for_display(p, sorted);
	for (size_t i = 0; i < ns.n; i++)
		for (size_t k = i + 1; k < ns.n; k++)
			if (ns.ok[order[i]][order[k]] && p->label[i] != p->label[k])
				sb_addf(&p->dropped, "%s%s-%s", p->dropped.len ? ", " : "",
					pci_addr_format(&p->addr[i], a), pci_addr_format(&p->addr[k], b));
	return 0;
}

static void print_text(const struct plan *p)
{
	char a[PCI_ADDR_STRLEN];

	if (p->level)
		printf("Level: %s (%s)\n", p->level, p->reason);
	else
		printf("From %s\n", p->reason);
	if (!p->n)
		printf("No NVIDIA GPU found.\n");
	for (int g = 0; g < p->n_groups; g++) {
		size_t members = 0;

		for (size_t i = 0; i < p->n; i++)
			members += p->label[i] == g;
		printf("Group %d:", g);
		for (size_t i = 0; i < p->n; i++)
			if (p->label[i] == g)
				printf(" %s", pci_addr_format(&p->addr[i], a));
		printf("%s\n", members == 1 ? "  (alone: no P2P partner)" : "");
	}
	if (p->dropped.len)
		printf("OK pairs no group can keep (the relation is not transitive): %s\n", p->dropped.s);
	if (p->acs.len)
		printf("ACS redirect on bridges between GPUs of a group (P2P works, through the root complex, "
		       "slower): %s\n  to clear on a bridge: setpci -s ADDRESS ECAP_ACS+6.w=0000:002c "
		       "(merges IOMMU groups; see qemu-p2p doctor)\n",
		       p->acs.s);
	else if (p->level && !p->acs_checked)
		printf("ACS on the bridges was not checked: run as root to read their extended config space.\n");
}

static struct json_object *to_json(const struct plan *p)
{
	struct json_object *j = json_object_new_object(), *groups = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "level", p->level ? json_object_new_string(p->level) : NULL);
	json_object_object_add(j, "reason", json_object_new_string(p->reason));
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
	if (!p->level)
		json_object_object_add(j, "dropped_pairs", json_object_new_string(p->dropped.s ? p->dropped.s : ""));
	if (p->acs_checked)
		json_object_object_add(j, "acs_redirect", json_object_new_string(p->acs.s ? p->acs.s : ""));
	return j;
}

/* Writes [map] and mode = map into the host file, keeping the facts. */
static int write_plan(const struct opts *o, const struct config *cfg, int sysfs, const struct plan *p)
{
	_cleanup_free_ char *text = NULL;
	struct conf_file h;
	struct hostplan hp;
	bool changed;
	struct err e = { { 0 } };
	int r = hostfile_clone(&cfg->host, &h);

	if (cfg->op.set & SET_MODE && cfg->op.mode != MODE_MAP)
		fprintf(stderr,
			"qemu-p2p plan: warning: %s sets mode = %s, which wins over the host file's mode = map\n",
			cfg->op.path, clique_mode_name(cfg->op.mode));
	if (cfg->op.set & SET_MAP)
		fprintf(stderr, "qemu-p2p plan: warning: %s has its own [map], which wins over the one written here\n",
			cfg->op.path);
	free(h.map);
	h.map = calloc(p->n + 1, sizeof(*h.map));
	if (r < 0 || !h.map) {
		conf_file_free(&h);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->n; i++)
		h.map[i] = (struct map_entry){ p->label[i], p->addr[i] };
	h.n_map = p->n;
	h.mode = MODE_MAP;
	h.set |= SET_MODE | SET_MAP;
	if (hostplan_read(sysfs, &hp) == 0) {
		hostplan_by_map(&hp, h.map, h.n_map);
		h.hotplug_global_ok = hostplan_hotplug_global_ok(&hp);
		hostplan_free(&hp);
	}
	r = hostfile_format(&h, &text);
	conf_file_free(&h);
	if (r < 0)
		return r;
	changed = !file_holds(cfg->host.path, text, strlen(text));
	if (!o->dry_run && changed && (r = hostfile_write_atomic(cfg->host.path, text, &e)) < 0) {
		fprintf(stderr, "qemu-p2p plan: %s\n", e.msg[0] ? e.msg : strerror(-r));
		return r;
	}
	if (o->json) {
		struct json_object *j = to_json(p), *files = json_object_new_array();

		json_object_object_add(j, "changed", json_object_new_boolean(changed && !o->dry_run));
		json_object_object_add(j, "dry_run", json_object_new_boolean(o->dry_run));
		if (changed)
			json_object_array_add(files, json_object_new_string(cfg->host.path));
		json_object_object_add(j, "files", files);
		cli_print_json(j);
	} else if (o->dry_run) {
		printf("would write %s:\n%s", cfg->host.path, text);
	} else {
		printf("%s %s\n", changed ? "wrote" : "unchanged:", cfg->host.path);
	}
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "level", required_argument, NULL, 'l' },
		{ "from-nvidia-smi", required_argument, NULL, 'N' },
		{ "write", no_argument, NULL, 'w' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "for", required_argument, NULL, 'F' },
		{ "hostname", required_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
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
	if (o->target && (o->level_set || o->nvsmi || o->write))
		return cli_usage("plan",
				 "--for takes the groups the wrapper uses: leave out --level, --from-nvidia-smi "
				 "and --write (write the groups first, then run --for)");
	if (o->hostname && !o->target)
		return cli_usage("plan", "--hostname goes with --for");
	return 0;
}

int cmd_plan(int argc, char **argv)
{
	struct opts o = { 0 };
	struct plan p = { 0 };
	struct config cfg = { 0 };
	_cleanup_close_ int sysfs = -1;
	int r = parse(argc, argv, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (o.target)
		return recipe_plan(o.target, o.hostname, o.config, o.sysfs, o.json);
	if (o.write && !o.dry_run && geteuid() != 0) {
		fprintf(stderr, "qemu-p2p plan: --write needs root (the host file is root's); try --dry-run\n");
		return 1;
	}
	config_load(cli_config_path(o.config), &cfg);
	if (cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0)
		r = -ENOENT;
	else
		r = o.nvsmi ? from_nvidia_smi(o.nvsmi, &p) : from_topology(&o, &cfg, sysfs, &p);
	if (r == 0 && o.json && !o.write)
		cli_print_json(to_json(&p));
	else if (r == 0 && !o.write)
		print_text(&p);
	else if (r == 0) {
		if (!o.dry_run && !o.json)
			print_text(&p);
		r = write_plan(&o, &cfg, sysfs, &p);
	}
	plan_free(&p);
	config_free(&cfg);
	return r < 0 ? 1 : 0;
}
