/* plan --for nova: the [pci] lines that keep a VM's GPUs in one P2P group.
 *
 * From Nova 2023.1, Placement schedules PCI devices: each device is a
 * resource provider under its compute node, an alias may ask for a
 * resource class, and each requested device becomes a request group of
 * one unit of that class; one instance's allocation never leaves one
 * host. One class per group number (CUSTOM_P2P_G0 ...) therefore keeps a
 * VM in one group of whichever host Placement picks. The names leave the
 * host out on purpose: a class per host would make a flavor per host and
 * group, pinning every VM of that flavor to one host, while group numbers
 * let one set of aliases and flavors serve every host.
 *
 * Before 2023.1 an alias cannot name a class (Zed's _ALIAS_SCHEMA has no
 * resource_class) and Nova picks devices from pools keyed by vendor,
 * product and NUMA node, so NUMA affinity is the only lever; the output
 * says whether it suffices on this host, and if not, what Zed can do. */
#include <stdio.h>

#include "recipe.h"

/* What Nova's libvirt driver calls the GPUs (one kind: recipe.c refuses a
 * mix): an SR-IOV capable function has libvirt's virt_functions capability,
 * which makes it a type-PF, and an alias of type-PCI never matches it. */
static const char *dev_type(const struct recipe *r)
{
	return r->gpus[0].sriov ? "type-PF" : "type-PCI";
}

static void device_spec(const struct recipe_gpu *g, bool with_class, struct strbuf *b)
{
	char a[PCI_ADDR_STRLEN];

	sb_addf(b, "{\"address\": \"%s\"", pci_addr_format(&g->addr, a));
	if (with_class)
		sb_addf(b, ", \"resource_class\": \"CUSTOM_P2P_G%d\"", g->group);
	sb_addf(b, "}");
}

/* An alias over vendor and product (one line per model among the GPUs of
 * group, or of every group with -1; one name: Nova joins them). */
static void model_aliases(const struct recipe *r, int group, const char *name, const char *extra, struct strbuf *out)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct recipe_gpu *g = &r->gpus[i];
		bool seen = group >= 0 && g->group != group;

		for (size_t k = 0; k < i && !seen; k++)
			seen = (group < 0 || r->gpus[k].group == group) && r->gpus[k].vendor == g->vendor &&
			       r->gpus[k].device == g->device;
		if (!seen)
			sb_addf(out,
				"#   alias = {\"name\": \"%s\", \"device_type\": \"%s\", \"vendor_id\": \"%04x\", "
				"\"product_id\": \"%04x\"%s}\n",
				name, dev_type(r), g->vendor, g->device, extra);
	}
}

/* Two GPUs share a group exactly when they share a NUMA node; else why not. */
static bool groups_are_numa_nodes(const struct recipe *r, char *why, size_t size)
{
	char a[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < r->n; i++) {
		const struct recipe_gpu *x = &r->gpus[i];

		if (x->numa < 0) {
			snprintf(why, size, "the NUMA node of %s is unknown", pci_addr_format(&x->addr, a));
			return false;
		}
		for (size_t k = i + 1; k < r->n; k++) {
			const struct recipe_gpu *y = &r->gpus[k];

			if (y->numa >= 0 && x->numa == y->numa && x->group != y->group) {
				snprintf(why, size, "NUMA node %ld holds groups %d and %d", x->numa, x->group,
					 y->group);
				return false;
			}
			if (y->numa >= 0 && x->numa != y->numa && x->group == y->group) {
				snprintf(why, size, "group %d spans NUMA nodes %ld and %ld", x->group, x->numa,
					 y->numa);
				return false;
			}
		}
	}
	return true;
}

static void group_lines(const struct recipe *r, struct strbuf *out)
{
	for (int g = 0; g < r->n_groups; g++) {
		_cleanup_free_ char *list = recipe_group_list(r, g);
		long numa = -2;

		for (size_t i = 0; i < r->n; i++)
			if (r->gpus[i].group == g)
				numa = numa == -2 || numa == r->gpus[i].numa ? r->gpus[i].numa : -3;
		sb_addf(out, "#   group %d: %s", g, list ? list : "");
		if (numa >= 0)
			sb_addf(out, " (NUMA node %ld)\n", numa);
		else
			sb_addf(out, " (NUMA node %s)\n", numa == -1 ? "unknown" : "mixed");
	}
}

static void placement(const struct recipe *r, struct strbuf *out, struct json_object *const *groups)
{
	sb_addf(out, "\n[pci]\n"
		     "# nova-compute on this host. Nova 26.0.0 (Zed) or later: report_in_placement,\n"
		     "# and device_spec (before: passthrough_whitelist) with resource_class.\n"
		     "report_in_placement = True\n");
	for (int g = 0; g < r->n_groups; g++) {
		struct json_object *specs = json_object_new_array();
		char rc[32];

		for (size_t i = 0; i < r->n; i++) {
			struct strbuf line = { 0 };

			if (r->gpus[i].group != g)
				continue;
			device_spec(&r->gpus[i], true, &line);
			sb_addf(out, "device_spec = %s\n", recipe_str(&line));
			json_object_array_add(specs, json_object_new_string(recipe_str(&line)));
			out->oom |= line.oom;
			sb_free(&line);
		}
		snprintf(rc, sizeof(rc), "CUSTOM_P2P_G%d", g);
		json_object_object_add(groups[g], "resource_class", json_object_new_string(rc));
		json_object_object_add(groups[g], "device_spec", specs);
	}
	sb_addf(out, "# nova-api and every nova-compute, the same lines. Nova 27.0.0 (2023.1) or later:\n"
		     "# alias with resource_class.\n");
	for (int g = 0; g < r->n_groups; g++) {
		struct strbuf alias = { 0 };

		sb_addf(&alias,
			"{\"name\": \"p2p-g%d\", \"device_type\": \"%s\", \"resource_class\": \"CUSTOM_P2P_G%d\"}", g,
			dev_type(r), g);
		sb_addf(out, "alias = %s\n", recipe_str(&alias));
		json_object_object_add(groups[g], "alias", json_object_new_string(recipe_str(&alias)));
		out->oom |= alias.oom;
		sb_free(&alias);
	}
	sb_addf(out, "\n[filter_scheduler]\n"
		     "# nova-scheduler, once every nova-compute reports to Placement. Nova 27.0.0 (2023.1)\n"
		     "# or later.\n"
		     "pci_in_placement = True\n\n"
		     "# Flavors: N GPUs of one group, on any host where that group has N free:\n");
	for (int g = 0; g < r->n_groups; g++) {
		char flavor[64];

		snprintf(flavor, sizeof(flavor), "pci_passthrough:alias=p2p-g%d:N", g);
		sb_addf(out, "#   openstack flavor set FLAVOR --property %s    # N = 1 to %zu here\n", flavor,
			recipe_group_size(r, g));
		json_object_object_add(groups[g], "flavor", json_object_new_string(flavor));
	}
}

/* Zed and older: Nova offered the GPUs of one group only. */
static void one_group(const struct recipe *r, int group, struct strbuf *out)
{
	sb_addf(out, "#   [pci]\n");
	for (size_t i = 0; i < r->n; i++) {
		if (r->gpus[i].group != group)
			continue;
		sb_addf(out, "#   device_spec = ");
		device_spec(&r->gpus[i], false, out);
		sb_addf(out, "\n");
	}
	model_aliases(r, group, "p2p", "", out);
	sb_addf(out, "#   flavor: --property pci_passthrough:alias=p2p:N    # N = 1 to %zu here\n",
		recipe_group_size(r, group));
}

static void before_placement(const struct recipe *r, struct strbuf *out)
{
	int biggest = recipe_largest_group(r);
	char why[128];

	sb_addf(out, "#\n# Before 2023.1 (checked with Zed, 26.2) no alias can name a group, and Nova\n"
		     "# takes devices from pools of one vendor, product and NUMA node. NUMA is the only\n"
		     "# lever: alias \"numa_policy\": \"required\" with flavor hw:numa_nodes=1 keeps a VM\n"
		     "# in one group only where the groups are the NUMA nodes.\n");
	if (r->n_groups == 1) {
		sb_addf(out, "# Here every GPU is in one group: any alias keeps a VM in it:\n");
		one_group(r, 0, out);
		return;
	}
	if (groups_are_numa_nodes(r, why, sizeof(why))) {
		sb_addf(out, "# Here it can: the GPUs of each NUMA node are one group.\n#   [pci]\n");
		for (size_t i = 0; i < r->n; i++) {
			sb_addf(out, "#   device_spec = ");
			device_spec(&r->gpus[i], false, out);
			sb_addf(out, "\n");
		}
		model_aliases(r, -1, "p2p-numa", ", \"numa_policy\": \"required\"", out);
		sb_addf(out, "#   flavor: --property hw:numa_nodes=1 --property pci_passthrough:alias=p2p-numa:N\n");
		return;
	}
	sb_addf(out,
		"# Here it cannot: %s.\n"
		"# What Zed can do: offer Nova the GPUs of one group only (group %d, none\n"
		"# is larger), or upgrade to 2023.1:\n",
		why, biggest);
	one_group(r, biggest, out);
}

void recipe_nova(const struct recipe *r, struct strbuf *out, struct json_object *const *groups)
{
	sb_addf(out,
		"# Nova: keep each VM's GPUs in one P2P group of compute host %s\n"
		"# (qemu-p2p plan --for nova), of the groups qemu-p2p-wrap uses:\n"
		"#   %s\n",
		r->host, r->basis);
	group_lines(r, out);
	if (r->gpus[0].sriov)
		sb_addf(out, "# The GPUs are SR-IOV capable: Nova's libvirt driver lists them as type-PF, and\n"
			     "# an alias must say so (type-PCI would never match them).\n");
	sb_addf(out, "#\n"
		     "# Nova 2023.1 (27.0.0) or later: one resource class per group, PCI scheduled by\n"
		     "# Placement. Placement takes all of a VM's devices from one host, and each alias\n"
		     "# names one group's class, so a VM's GPUs lie in one group. The names hold the\n"
		     "# group's number, not the host: the same aliases and flavors serve every host.\n");
	placement(r, out, groups);
	before_placement(r, out);
}
