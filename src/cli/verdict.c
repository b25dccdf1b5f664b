/* The wrapper's verdict on this host (see verdict.h). */
#include "verdict.h"

#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "facts.h"
#include "resolve.h"
#include "rewrite.h"

/* GPUs whose clique a QEMU older than 8.1 would refuse: the wrapper skips
 * them (check_eligible), so they are in no clique whatever their group. */
static int find_blocked(struct verdict *v, int sysfs)
{
	v->blocked = calloc(v->hp.n + 1, sizeof(*v->blocked));
	if (!v->blocked)
		return -ENOMEM;
	for (size_t i = 0; i < v->hp.n && !facts_qemu_places_cap(&v->cfg); i++) {
		char id[C8_ID_MAX] = "";

		facts_gpu_id(sysfs, &v->hp.gpus[i]->addr, NULL, id, sizeof(id));
		v->blocked[i] = facts_c8_state(&v->cfg, &v->hp.gpus[i]->addr, id) != C8_FREE;
	}
	return 0;
}

static size_t label_size(const struct hostplan *hp, int label)
{
	size_t n = 0;

	for (size_t i = 0; i < hp->n; i++)
		n += hp->labels[i] == label;
	return n;
}

static size_t count_groups(const struct hostplan *hp)
{
	size_t n = 0;

	for (int label = 0; label < (int)hp->n; label++)
		n += label_size(hp, label) >= 2;
	return n;
}

int verdict_load(struct verdict *v, const struct verdict_in *in)
{
	_cleanup_free_ char *resolved = NULL;
	struct err e = { { 0 } };
	char buf[1024];
	int r;

	*v = (struct verdict){ 0 };
	if ((r = cli_config_load(in->config, &v->cfg)) < 0)
		return r;
	/* What the wrapper resolves decides whether [qemu] binary is used,
	 * whatever --qemu says the real QEMU is. */
	cli_real_qemu(&v->cfg, in->arch ? in->arch : RESOLVE_DEFAULT_ARCH, &resolved, &e);
	v->binary_ignored = v->cfg.binary && (!resolved || strcmp(v->cfg.binary, resolved));
	v->real = in->qemu ? strdup(in->qemu) : TAKE_PTR(resolved);
	if (rewrite_host_gate(&v->cfg, v->real ? v->real : "", buf, sizeof(buf)))
		v->stop = strdup(buf);
	if ((r = hostplan_read(in->sysfs, &v->hp)) < 0) {
		cli_error("%s: cannot list the PCI functions (bus/pci/devices): %s", in->sysfs_path, strerror(-r));
		return r;
	}
	if (v->cfg.valid)
		hostplan_effective(&v->hp, &v->cfg);
	v->n_groups = count_groups(&v->hp);
	return find_blocked(v, in->sysfs);
}

void verdict_free(struct verdict *v)
{
	config_free(&v->cfg);
	free(v->real);
	free(v->stop);
	hostplan_free(&v->hp);
	free(v->blocked);
	*v = (struct verdict){ 0 };
}

size_t verdict_ungrouped(const struct verdict *v, struct pci_addr *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < v->hp.n; i++) {
		if (v->hp.labels[i] >= 0)
			continue;
		if (n < max)
			out[n] = v->hp.gpus[i]->addr;
		n++;
	}
	return n;
}

static struct json_object *addr_string(const struct pci_addr *a)
{
	char s[PCI_ADDR_STRLEN];

	return json_object_new_string(pci_addr_format(a, s));
}

struct json_object *verdict_addr_array(const struct pci_addr *a, size_t n)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, addr_string(&a[i]));
	return arr;
}

/* The GPUs with label `label`, or (blocked_only) those a QEMU < 8.1
 * refuses. */
static struct json_object *members(const struct verdict *v, int label, bool blocked_only)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < v->hp.n; i++)
		if (blocked_only ? v->blocked[i] : v->hp.labels[i] == label)
			json_object_array_add(arr, addr_string(&v->hp.gpus[i]->addr));
	return arr;
}

static struct json_object *warnings(const struct config *cfg)
{
	struct json_object *arr = json_object_new_array();

	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &cfg->host : &cfg->op;

		for (size_t i = 0; i < cf->n_warnings; i++)
			json_object_array_add(arr, json_object_new_string(cf->warnings[i]));
	}
	return arr;
}

static struct json_object *grouping(const struct verdict *v)
{
	struct json_object *g = json_object_new_object(), *groups = json_object_new_array(),
			   *alone = json_object_new_array();

	for (int label = 0; v->cfg.valid && label < (int)v->hp.n; label++) {
		size_t n = label_size(&v->hp, label);

		if (n >= 2)
			json_object_array_add(groups, members(v, label, false));
		for (size_t i = 0; n == 1 && i < v->hp.n; i++)
			if (v->hp.labels[i] == label)
				json_object_array_add(alone, addr_string(&v->hp.gpus[i]->addr));
	}
	json_object_object_add(g, "by", json_object_new_string(v->hp.grouping.by_map ? "map" : "topology"));
	json_object_object_add(g, "level",
			       v->hp.grouping.by_map || !v->cfg.valid
				       ? NULL
				       : json_object_new_string(link_level_name(v->hp.grouping.level)));
	json_object_object_add(g, "map_file", v->cfg.map_source ? json_object_new_string(v->cfg.map_source) : NULL);
	json_object_object_add(g, "groups", groups);
	json_object_object_add(g, "alone", alone);
	json_object_object_add(g, "ungrouped", members(v, -1, false));
	return g;
}

struct json_object *verdict_json(const struct verdict *v)
{
	struct json_object *j = json_object_new_object();

	json_object_object_add(j, "config", json_object_new_string(v->cfg.valid ? "valid" : "rejected"));
	json_object_object_add(j, "error", v->cfg.error ? json_object_new_string(v->cfg.error) : NULL);
	json_object_object_add(j, "warnings", warnings(&v->cfg));
	json_object_object_add(j, "operator_file", json_object_new_string(v->cfg.op.path ? v->cfg.op.path : ""));
	json_object_object_add(j, "host_file", json_object_new_string(v->cfg.host.path ? v->cfg.host.path : ""));
	json_object_object_add(j, "qemu", v->real ? json_object_new_string(v->real) : NULL);
	json_object_object_add(j, "qemu_binary_ignored",
			       v->binary_ignored ? json_object_new_string(v->cfg.binary) : NULL);
	json_object_object_add(j, "mode", json_object_new_string(clique_mode_name(v->cfg.mode)));
	json_object_object_add(j, "grouping", grouping(v));
	json_object_object_add(j, "blocked", members(v, 0, true));
	json_object_object_add(j, "adds_cliques", json_object_new_boolean(!v->stop && v->n_groups > 0));
	json_object_object_add(j, "stop", v->stop ? json_object_new_string(v->stop) : NULL);
	return j;
}
