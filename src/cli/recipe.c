/* plan --for (see recipe.h): the groups the wrapper uses for this
 * configuration, each GPU's identity from sysfs, and the refusals. A
 * recipe is all or nothing: one that left a GPU out, or offered only
 * groups of one, would let the scheduler split VMs as before while
 * looking like the fix. The text is built whole before anything is
 * printed. */
#include "recipe.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "hostplan.h"
#include "sysfs.h"
#include "verdict.h"

struct target {
	const char *name;
	void (*make)(const struct recipe *r, struct strbuf *out, struct json_object *const *groups);
};

static const struct target targets[] = {
	{ "proxmox", recipe_proxmox },
	{ "nova", recipe_nova },
	{ "libvirt", recipe_libvirt },
};

static const struct target *find_target(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(targets); i++)
		if (!strcmp(targets[i].name, name))
			return &targets[i];
	return NULL;
}

bool recipe_target_known(const char *target)
{
	return find_target(target) != NULL;
}

size_t recipe_group_size(const struct recipe *r, int group)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n; i++)
		n += r->gpus[i].group == group;
	return n;
}

int recipe_largest_group(const struct recipe *r)
{
	int best = 0;

	for (int g = 1; g < r->n_groups; g++)
		best = recipe_group_size(r, g) > recipe_group_size(r, best) ? g : best;
	return best;
}

char *recipe_group_list(const struct recipe *r, int group)
{
	struct strbuf b = { 0 };
	char a[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < r->n; i++)
		if (r->gpus[i].group == group)
			sb_addf(&b, "%s%s", b.len ? " " : "", pci_addr_format(&r->gpus[i].addr, a));
	return sb_take(&b);
}

/* Proxmox's node name: the host name up to its first dot, as pve-common's
 * INotify::nodename takes it; false when Proxmox would refuse it. */
static bool proxmox_node(char *host)
{
	size_t n;

	host[strcspn(host, ".")] = '\0';
	n = strlen(host);
	/* pve-common's pve_verify_node_name. */
	return n > 0 && strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") == n &&
	       host[0] != '-' && host[n - 1] != '-';
}

/* The name goes into comments, INI values and JSON: one printable word. */
static bool plain_word(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s <= ' ' || *s == 0x7f || *s == '\'' || *s == '"')
			return false;
	return true;
}

static int host_name(const struct target *t, const char *given, char *out, size_t size)
{
	if (given) {
		snprintf(out, size, "%s", given);
	} else if (gethostname(out, size - 1) < 0) {
		int r = -errno;

		cli_error("--for %s: cannot read this host's name (%s); give it with --hostname", t->name,
			  strerror(-r));
		return r;
	}
	out[size - 1] = '\0';
	if (!strcmp(t->name, "proxmox") ? !proxmox_node(out) : !plain_word(out)) {
		cli_error("--for %s: host name '%s' is not a %s; give the name the scheduler knows with --hostname",
			  t->name, given ? given : out,
			  !strcmp(t->name, "proxmox") ? "Proxmox node name (letters, digits, '-' inside)"
						      : "single word");
		return -EINVAL;
	}
	return 0;
}

/* Why a GPU is in no group, in the terms of how the groups were made. */
static void say_ungrouped(const struct target *t, const struct config *cfg, const struct hostplan *hp, size_t i,
			  size_t count)
{
	char a[PCI_ADDR_STRLEN], more[48] = "";

	pci_addr_format(&hp->gpus[i]->addr, a);
	if (count > 1)
		snprintf(more, sizeof(more), " (and %zu more)", count - 1);
	if (hp->grouping.by_map)
		cli_error("--for %s: %s%s is in no P2P group: [map] in %s does not name it; add it to [map] (qemu-p2p "
			  "plan --write names every GPU), then run again",
			  t->name, a, more, cfg->map_source ? cfg->map_source : "the configuration");
	else
		cli_error("--for %s: %s%s is in no P2P group: its place in the PCIe tree is unknown; check it with "
			  "qemu-p2p topo, or name the groups in [map]",
			  t->name, a, more);
}

/* Refuses a host no recipe can serve whole; fills n_groups. */
static int check_groups(const struct target *t, const struct config *cfg, const struct hostplan *hp, int *n_groups)
{
	size_t ungrouped = 0, first = 0, biggest = 0;

	if (cfg->mode == MODE_OFF) {
		cli_error("--for %s: [cliques] mode = off: the wrapper gives no clique, so keeping GPUs together gains "
			  "nothing; set mode = auto or map first",
			  t->name);
		return -EINVAL;
	}
	if (hp->n == 0) {
		cli_error("--for %s: no NVIDIA GPU under the sysfs root: nothing to keep together", t->name);
		return -ENODEV;
	}
	*n_groups = 0;
	for (size_t i = 0; i < hp->n; i++) {
		size_t members = 0;

		if (hp->labels[i] < 0 && !ungrouped++)
			first = i;
		for (size_t k = 0; k < hp->n; k++)
			members += hp->labels[i] >= 0 && hp->labels[k] == hp->labels[i];
		biggest = members > biggest ? members : biggest;
		*n_groups = hp->labels[i] >= *n_groups ? hp->labels[i] + 1 : *n_groups;
	}
	if (ungrouped) {
		say_ungrouped(t, cfg, hp, first, ungrouped);
		return -EINVAL;
	}
	if (biggest < 2) {
		cli_error("--for %s: no P2P group holds two GPUs (groups by %s%s): no VM can get P2P here; check the "
			  "groups with qemu-p2p plan, or group GPUs in [map]",
			  t->name, hp->grouping.by_map ? "[map]" : "level ",
			  hp->grouping.by_map ? "" : link_level_name(hp->grouping.level));
		return -EINVAL;
	}
	return 0;
}

static int read_gpus(int sysfs, const struct hostplan *hp, struct recipe_gpu **out)
{
	struct recipe_gpu *g = calloc(hp->n + 1, sizeof(*g));

	if (!g)
		return -ENOMEM;
	for (size_t i = 0; i < hp->n; i++) {
		const struct host_fn *f = hp->gpus[i];
		struct pci_ident id;
		long vfs = 0;

		g[i] = (struct recipe_gpu){ .addr = f->addr,
					    .vendor = f->vendor,
					    .device = f->device,
					    .iommu_group = f->iommu_group,
					    .numa = f->numa,
					    .group = hp->labels[i] };
		if (sysfs_read_ident(sysfs, &f->addr, &id) == 0) {
			g[i].subvendor = id.subvendor;
			g[i].subdevice = id.subdevice;
			g[i].subsys_known = true;
		}
		g[i].sriov = sysfs_read_long(sysfs, &f->addr, "sriov_totalvfs", &vfs) == 0 && vfs > 0;
	}
	*out = g;
	return 0;
}

/* Nova takes one device type per alias name, and its libvirt driver makes
 * an SR-IOV capable GPU a type-PF: a host with both kinds would need
 * aliases Nova refuses. */
static int check_device_types(const struct target *t, const struct recipe_gpu *g, size_t n)
{
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	for (size_t i = 1; i < n && !strcmp(t->name, "nova"); i++) {
		if (g[i].sriov == g[0].sriov)
			continue;
		cli_error("--for %s: %s is SR-IOV capable (Nova's type-PF) and %s is not (type-PCI), and one alias "
			  "takes one device type: write the aliases by hand",
			  t->name, pci_addr_format(&g[g[i].sriov ? i : 0].addr, a),
			  pci_addr_format(&g[g[i].sriov ? 0 : i].addr, b));
		return -EINVAL;
	}
	return 0;
}

static void basis(const struct config *cfg, const struct hostplan *hp, char *buf, size_t size)
{
	if (hp->grouping.by_map)
		snprintf(buf, size, "[map] in %s", cfg->map_source ? cfg->map_source : "the configuration");
	else
		snprintf(buf, size, "level %s (%s%s)", link_level_name(hp->grouping.level),
			 cfg->level == LINK_AUTO ? "auto: " : "",
			 cfg->level == LINK_AUTO ? hp->grouping.why : "[cliques] level");
}

static struct json_object **json_groups(const struct recipe *r)
{
	struct json_object **groups = calloc((size_t)r->n_groups + 1, sizeof(*groups));
	char a[PCI_ADDR_STRLEN];

	for (int g = 0; groups && g < r->n_groups; g++) {
		struct json_object *gpus = json_object_new_array();

		groups[g] = json_object_new_object();
		json_object_object_add(groups[g], "label", json_object_new_int(g));
		for (size_t i = 0; i < r->n; i++)
			if (r->gpus[i].group == g)
				json_object_array_add(gpus,
						      json_object_new_string(pci_addr_format(&r->gpus[i].addr, a)));
		json_object_object_add(groups[g], "gpus", gpus);
	}
	return groups;
}

static int emit(const struct target *t, const struct recipe *r, bool json)
{
	struct strbuf text = { 0 };
	struct json_object **groups = json_groups(r), *j, *arr;
	int rc = 0;

	if (!groups)
		return -ENOMEM;
	t->make(r, &text, groups);
	if (text.oom || !text.s) {
		rc = -ENOMEM;
	} else if (json) {
		j = json_object_new_object();
		arr = json_object_new_array();
		json_object_object_add(j, "version", json_object_new_int(1));
		json_object_object_add(j, "for", json_object_new_string(t->name));
		json_object_object_add(j, "host", json_object_new_string(r->host));
		json_object_object_add(j, "basis", json_object_new_string(r->basis));
		for (int g = 0; g < r->n_groups; g++)
			json_object_array_add(arr, TAKE_PTR(groups[g]));
		json_object_object_add(j, "groups", arr);
		json_object_object_add(j, "text", json_object_new_string(text.s));
		cli_print_json(j);
	} else {
		fputs(text.s, stdout);
	}
	for (int g = 0; g < r->n_groups; g++)
		json_object_put(groups[g]);
	free(groups);
	sb_free(&text);
	if (rc < 0)
		cli_error("--for %s: %s", t->name, strerror(-rc));
	return rc;
}

int recipe_plan(const char *target, const char *host, const char *config, const char *sysfs, bool json)
{
	const struct target *t = find_target(target);
	_cleanup_close_ int root = -1;
	_cleanup_free_ struct recipe_gpu *gpus = NULL;
	struct verdict v = { 0 };
	char name[256], why[512];
	struct recipe r = { .host = name, .basis = why };
	int n_groups = 0, rc;

	if ((rc = host_name(t, host, name, sizeof(name))) < 0 ||
	    (rc = cli_open_root(sysfs, SYSFS_DEFAULT_ROOT, &root)) < 0 ||
	    (rc = verdict_load(&v, &(struct verdict_in){ .config = config,
							 .sysfs = root,
							 .sysfs_path = cli_root_path(sysfs, SYSFS_DEFAULT_ROOT) })) <
		    0 ||
	    (rc = cli_config_usable(&v.cfg)) < 0 || (rc = check_groups(t, &v.cfg, &v.hp, &n_groups)) < 0)
		goto out;
	if ((rc = read_gpus(root, &v.hp, &gpus)) < 0) {
		cli_error("--for %s: %s", t->name, strerror(-rc));
		goto out;
	}
	if ((rc = check_device_types(t, gpus, v.hp.n)) < 0)
		goto out;
	basis(&v.cfg, &v.hp, why, sizeof(why));
	r.gpus = gpus;
	r.n = v.hp.n;
	r.n_groups = n_groups;
	rc = emit(t, &r, json);
out:
	verdict_free(&v);
	return rc < 0 ? 1 : 0;
}
