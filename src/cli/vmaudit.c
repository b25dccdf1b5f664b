/* Judging a running VM's cliques against the plan (see vmaudit.h). */
#include "vmaudit.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "util.h"

/* One of the VM's GPUs: where it is, its group on the host, its clique. */
struct vm_gpu {
	struct pci_addr addr;
	int group;  /* -1: in no group */
	int clique; /* -1: none */
};

static const char *const issue_names[] = {
	[VM_KVM_HIDDEN] = "kvm_hidden",   [VM_SPLIT] = "split",         [VM_UNGROUPED] = "ungrouped",
	[VM_SEVERAL_IDS] = "several_ids", [VM_NO_CLIQUE] = "no_clique", [VM_HOTPLUGGED] = "hotplugged",
};

/* The fix, per issue and per program that started the VM; "%s" is where
 * the restart command for that VM goes (restart_command). */
static const char *const fixes[][GEN_PROXMOX + 1] = {
	[VM_KVM_HIDDEN] = {
		[GEN_QEMU] = "remove kvm=off from -cpu, then %s",
		[GEN_LIBVIRT] = "remove <hidden state='on'/> from <features><kvm> in the domain XML, then %s",
		[GEN_NOVA] = "unset the flavor's hw:hide_hypervisor_id and the image's img_hide_hypervisor_id, then %s",
		[GEN_PROXMOX] = "drop hidden=1 from the VM's cpu: line (with x-vga=1, write hidden=0), then %s",
	},
	[VM_SPLIT] = {
		[GEN_QEMU] = "pass GPUs of one group (qemu-p2p plan lists the groups)",
		[GEN_LIBVIRT] = "assign GPUs of one group (docs/libvirt.md, \"Keep a VM's GPUs in one group\")",
		[GEN_NOVA] = "one PCI alias per group: qemu-p2p plan --for nova (docs/openstack-kolla.md, \"Keep a "
			     "VM's GPUs in one group\")",
		[GEN_PROXMOX] = "one resource mapping per group: qemu-p2p plan --for proxmox (docs/proxmox.md, "
				"\"Keep a VM's GPUs in one group\")",
	},
	[VM_UNGROUPED] = {
		[GEN_QEMU] = "put them in a group (qemu-p2p plan; in mode = map, [map] names every GPU), then %s",
	},
	[VM_SEVERAL_IDS] = {
		[GEN_QEMU] = "%s (the wrapper gives a group one id); ids written on the command line (Proxmox args: "
			     "-set ...) must be equal within a group",
	},
	[VM_NO_CLIQUE] = {
		[GEN_QEMU] = "%s (qemu-p2p status shows the wrapper in place); GPUs re-attached over QMP keep a "
			     "clique only with hotplug = global",
		[GEN_NOVA] = "%s; Nova re-attaches GPUs over QMP on resume: they keep a clique only with hotplug = "
			     "global",
	},
	[VM_HOTPLUGGED] = {
		[GEN_QEMU] = "set [cliques] hotplug = global (qemu-p2p refresh says whether this host allows it)",
	},
};

/* How to start the VM again through the wrapper, with its own name. */
static void restart_command(const struct vm *v, enum vm_generator gen, char *buf, size_t size)
{
	const char *name = v->args.name ? v->args.name : "NAME";

	switch (gen) {
	case GEN_PROXMOX: snprintf(buf, size, "qm stop %ld && qm start %ld", v->vmid, v->vmid); break;
	case GEN_NOVA: snprintf(buf, size, "openstack server reboot --hard the server of domain %s", name); break;
	case GEN_LIBVIRT: snprintf(buf, size, "virsh destroy %s && virsh start %s", name, name); break;
	default: snprintf(buf, size, "restart the VM through the wrapper"); break;
	}
}

static char *fix_text(enum vm_issue kind, const struct vm *v)
{
	enum vm_generator gen = vm_generator(v);
	const char *fmt = fixes[kind][gen] ? fixes[kind][gen] : fixes[kind][GEN_QEMU];
	char restart[300], *out = NULL;

	restart_command(v, gen, restart, sizeof(restart));
	if (asprintf(&out, fmt, restart) < 0)
		return NULL;
	return out;
}

const char *vm_issue_name(enum vm_issue kind)
{
	return issue_names[kind];
}

static bool argv_has(const struct vm *v, const char *needle)
{
	for (int i = 0; i < v->argc; i++)
		if (strstr(v->argv[i], needle))
			return true;
	return false;
}

enum vm_generator vm_generator(const struct vm *v)
{
	if (v->vmid >= 0)
		return GEN_PROXMOX;
	/* Nova's libvirt driver writes its sysinfo into every domain. */
	if (argv_has(v, "product=OpenStack Nova"))
		return GEN_NOVA;
	for (int i = 1; i + 1 < v->argc; i++)
		if (!strcmp(v->argv[i], "-name") && !strncmp(v->argv[i + 1], "guest=", 6))
			return GEN_LIBVIRT;
	return GEN_QEMU;
}

/* The VM's passed-through GPUs of this host, in command-line order. */
static size_t vm_gpus(const struct vm *v, const struct hostplan *hp, bool grouped, struct vm_gpu *out)
{
	size_t n = 0;

	for (size_t i = 0; i < v->args.n_devs; i++) {
		int gi = v->addr_known[i] ? hostplan_find(hp, &v->addr[i]) : -1;

		if (gi >= 0)
			out[n++] = (struct vm_gpu){ v->addr[i], grouped ? hp->labels[gi] : -1, v->args.devs[i].clique };
	}
	return n;
}

int vm_findings_add(const struct vm *v, struct vm_finding **out, size_t *n, enum vm_issue kind, char *text,
		    const struct pci_addr *gpus, size_t n_gpus)
{
	struct vm_finding f = { kind, calloc(n_gpus + 1, sizeof(*gpus)), n_gpus, text, fix_text(kind, v) };

	if (!f.text || !f.gpus || !f.fix || grow_array((void **)out, n, sizeof(f), &f) < 0) {
		free(f.text);
		free(f.gpus);
		free(f.fix);
		return -ENOMEM;
	}
	memcpy(f.gpus, gpus, n_gpus * sizeof(*gpus));
	return 0;
}

static int add(const struct vm *v, struct vm_finding **out, size_t *n, enum vm_issue kind, struct strbuf *text,
	       const struct pci_addr *gpus, size_t n_gpus)
{
	return vm_findings_add(v, out, n, kind, sb_take(text), gpus, n_gpus);
}

static bool with_clique(const struct vm_gpu *g, int group)
{
	return g->group == group && g->clique >= 0;
}

/* "0000:05:00.0, 0000:06:00.0" of the GPUs that `pick` selects (with
 * "=ID" after each that has a clique, when pick is with_clique), also
 * collected in sel. */
static size_t list(struct strbuf *b, const struct vm_gpu *g, size_t n, bool (*pick)(const struct vm_gpu *, int),
		   int arg, struct pci_addr *sel, size_t n_sel)
{
	char a[PCI_ADDR_STRLEN];
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!pick(&g[i], arg))
			continue;
		sb_addf(b, "%s%s", k++ ? ", " : "", pci_addr_format(&g[i].addr, a));
		if (pick == with_clique)
			sb_addf(b, " clique %d", g[i].clique);
		sel[n_sel++] = g[i].addr;
	}
	return n_sel;
}

static bool in_group(const struct vm_gpu *g, int group)
{
	return g->group == group;
}

static bool without_clique(const struct vm_gpu *g, int group)
{
	return g->group == group && g->clique < 0;
}

static size_t count(const struct vm_gpu *g, size_t n, bool (*pick)(const struct vm_gpu *, int), int arg)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += pick(&g[i], arg);
	return k;
}

/* Groups in order of first appearance on the command line. */
static size_t groups_of(const struct vm_gpu *g, size_t n, int *groups)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < k && groups[j] != g[i].group)
			j++;
		if (j == k && g[i].group >= 0)
			groups[k++] = g[i].group;
	}
	return k;
}

static int judge_split(const struct vm *v, const struct vm_gpu *g, size_t n, const int *groups, size_t n_groups,
		       struct vm_finding **out, size_t *n_out)
{
	struct strbuf b = { 0 };
	struct pci_addr sel[n + 1];
	size_t n_sel = 0;

	if (n_groups < 2)
		return 0;
	sb_addf(&b, "GPUs from %zu groups: ", n_groups);
	for (size_t k = 0; k < n_groups; k++) {
		sb_addf(&b, "%sgroup %d (", k ? ", " : "", groups[k]);
		n_sel = list(&b, g, n, in_group, groups[k], sel, n_sel);
		sb_addf(&b, ")");
	}
	sb_addf(&b, ": P2P only within each group");
	return add(v, out, n_out, VM_SPLIT, &b, sel, n_sel);
}

static int judge_ungrouped(const struct vm *v, const struct vm_gpu *g, size_t n, struct vm_finding **out, size_t *n_out)
{
	struct strbuf b = { 0 };
	struct pci_addr sel[n + 1];
	size_t n_sel;

	if (n < 2 || !count(g, n, in_group, -1))
		return 0;
	n_sel = list(&b, g, n, in_group, -1, sel, 0);
	sb_addf(&b, ": in no group of the plan, so no clique");
	return add(v, out, n_out, VM_UNGROUPED, &b, sel, n_sel);
}

/* Within each group of two or more of the VM's GPUs: the GPUs that
 * `pick` selects, "group N: ..." per group, as one finding. */
static int judge_groups(const struct vm *v, const struct vm_gpu *g, size_t n, const int *groups, size_t n_groups,
			enum vm_issue kind, bool (*pick)(const struct vm_gpu *, int),
			bool (*wrong)(const struct vm_gpu *, size_t, int), const char *what, struct vm_finding **out,
			size_t *n_out)
{
	struct strbuf b = { 0 };
	struct pci_addr sel[n + 1];
	size_t n_sel = 0;

	for (size_t k = 0; k < n_groups; k++) {
		if (count(g, n, in_group, groups[k]) < 2 || !wrong(g, n, groups[k]))
			continue;
		sb_addf(&b, "%sgroup %d: ", n_sel ? "; " : "", groups[k]);
		n_sel = list(&b, g, n, pick, groups[k], sel, n_sel);
	}
	if (!n_sel)
		return 0;
	sb_addf(&b, "%s", what);
	return add(v, out, n_out, kind, &b, sel, n_sel);
}

/* The group's GPUs that have a clique do not all have the same. */
static bool several_ids(const struct vm_gpu *g, size_t n, int group)
{
	int first = -1;

	for (size_t i = 0; i < n; i++) {
		if (!with_clique(&g[i], group))
			continue;
		if (first >= 0 && g[i].clique != first)
			return true;
		first = g[i].clique;
	}
	return false;
}

static bool some_without(const struct vm_gpu *g, size_t n, int group)
{
	return count(g, n, without_clique, group) > 0;
}

int vm_audit(const struct vm *v, const struct hostplan *hp, bool grouped, struct vm_finding **out, size_t *n_out)
{
	struct vm_gpu g[v->args.n_devs + 1];
	int groups[v->args.n_devs + 1];
	size_t n = vm_gpus(v, hp, grouped, g), n_groups = groups_of(g, n, groups);
	int r = 0;

	*out = NULL;
	*n_out = 0;
	if (v->kvm_hidden && n) {
		struct strbuf b = { 0 };
		struct pci_addr sel[n + 1];

		sb_addf(&b, "KVM is hidden from the guest (-cpu ...,kvm=off): the NVIDIA driver ignores cliques");
		for (size_t i = 0; i < n; i++)
			sel[i] = g[i].addr;
		r = add(v, out, n_out, VM_KVM_HIDDEN, &b, sel, n);
	}
	if (r == 0 && grouped)
		r = judge_split(v, g, n, groups, n_groups, out, n_out);
	if (r == 0 && grouped)
		r = judge_ungrouped(v, g, n, out, n_out);
	if (r == 0 && grouped)
		r = judge_groups(v, g, n, groups, n_groups, VM_SEVERAL_IDS, with_clique, several_ids,
				 ": the group got several clique ids (P2P only between GPUs of equal ids)", out, n_out);
	if (r == 0 && grouped)
		r = judge_groups(v, g, n, groups, n_groups, VM_NO_CLIQUE, without_clique, some_without,
				 ": no clique (the VM started before the wrapper was in place, or the GPUs were "
				 "re-attached over QMP)",
				 out, n_out);
	if (r < 0) {
		vm_findings_free(*out, *n_out);
		*out = NULL;
		*n_out = 0;
	}
	return r;
}

void vm_findings_free(struct vm_finding *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(f[i].gpus);
		free(f[i].text);
		free(f[i].fix);
	}
	free(f);
}

struct json_object *vm_findings_json(const char *vm, const struct vm_finding *f, size_t n)
{
	struct json_object *arr = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		struct json_object *o = json_object_new_object(), *gpus = json_object_new_array();

		for (size_t k = 0; k < f[i].n_gpus; k++)
			json_object_array_add(gpus, json_object_new_string(pci_addr_format(&f[i].gpus[k], a)));
		json_object_object_add(o, "vm", json_object_new_string(vm));
		json_object_object_add(o, "kind", json_object_new_string(vm_issue_name(f[i].kind)));
		json_object_object_add(o, "gpus", gpus);
		json_object_object_add(o, "text", json_object_new_string(f[i].text));
		json_object_object_add(o, "fix", json_object_new_string(f[i].fix));
		json_object_array_add(arr, o);
	}
	return arr;
}
