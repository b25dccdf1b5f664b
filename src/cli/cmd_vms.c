/* qemu-p2p vms: running QEMU processes, each passed-through GPU and the
 * clique it got, judged once per VM against the plan the wrapper uses
 * (vmaudit.h). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "common.h"
#include "hostplan.h"
#include "qmp.h"
#include "strbuf.h"
#include "sysfs.h"
#include "verdict.h"
#include "vmaudit.h"
#include "vmscan.h"
#include "resolve.h"

static void help(void)
{
	printf("Usage: qemu-p2p vms [OPTIONS]\n\n"
	       "List running QEMU processes (from /proc) with each passed-through GPU, its\n"
	       "address, its group in the plan the wrapper uses and the clique it got. Judges\n"
	       "each VM once: KVM hidden from the guest (the NVIDIA driver then ignores\n"
	       "cliques), GPUs from several groups (P2P only within each), GPUs in no group,\n"
	       "one group with several ids, GPUs without a clique; each with the fix for\n"
	       "libvirt, Nova or Proxmox, whichever started the VM.\n"
	       "Exit status: 0, or 1 when there is a warning or the configuration is rejected.\n\n"
	       "Options:\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "      --proc DIR     proc root (default /proc)\n"
	       "      --qmp          also ask each VM, through libvirt, for its live vfio-pci\n"
	       "                     devices and their cliques (finds GPUs re-attached by\n"
	       "                     hotplug; libvirt marks the domain tainted)\n"
	       "  -j, --json         print one JSON object\n"
	       "  -h, --help         show this help\n");
}

/* What vms says of one VM, gathered before it is printed as text or JSON. */
struct report {
	const struct vm *v;
	const struct hostplan *hp;
	struct vm_finding *findings;
	size_t n_findings;
	bool asked;            /* --qmp */
	struct live_dev *live; /* when asked and answered */
	size_t n_live;
	bool answered;
	char err[300]; /* why QMP gave no answer */
};

/* The live devices from QMP: a GPU there without a clique, while the
 * command line gave cliques, was re-attached without one. */
static int ask_qmp(struct report *r)
{
	struct strbuf b = { 0 };
	struct pci_addr gpus[64];
	size_t n = 0;
	bool cmdline_cliques = false;

	r->asked = true;
	r->answered = qmp_vfio_devices(r->v, &r->live, &r->n_live, r->err, sizeof(r->err)) == 0;
	for (size_t i = 0; i < r->v->args.n_devs; i++)
		cmdline_cliques |= r->v->args.devs[i].clique >= 0;
	for (size_t i = 0; cmdline_cliques && i < r->n_live && n < ARRAY_SIZE(gpus); i++) {
		if (r->live[i].on_command_line || r->live[i].clique >= 0)
			continue;
		sb_addf(&b, "%s%s (%s)", b.len ? ", " : "", r->live[i].id, r->live[i].host);
		n += pci_addr_parse_qemu(r->live[i].host, &gpus[n]) == 0;
	}
	if (!b.len)
		return 0;
	sb_addf(&b, ": attached after start (QMP) without a clique");
	return vm_findings_add(r->v, &r->findings, &r->n_findings, VM_HOTPLUGGED, sb_take(&b), gpus, n);
}

static void print_live(const struct report *r)
{
	if (!r->answered) {
		printf("  QMP: %s\n", r->err);
		return;
	}
	printf("  QMP: %zu vfio-pci device%s now\n", r->n_live, r->n_live == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_live; i++) {
		char c[16];

		snprintf(c, sizeof(c), "%d", r->live[i].clique);
		printf("    %-14s %-13s clique %s%s\n", r->live[i].id, r->live[i].host,
		       r->live[i].clique >= 0 ? c : "none", r->live[i].on_command_line ? "" : " (hotplugged)");
	}
}

static void print_vm(const struct report *r)
{
	const struct vm *v = r->v;
	char a[PCI_ADDR_STRLEN], title[160];

	printf("pid %ld  %s\n", v->pid, vm_title(v, title, sizeof(title)));
	for (size_t i = 0; i < v->args.n_devs; i++) {
		const struct vfio_dev *dv = &v->args.devs[i];
		int gi = v->addr_known[i] ? hostplan_find(r->hp, &v->addr[i]) : -1;
		char clq[16], grp[16];

		snprintf(clq, sizeof(clq), "%d", dv->clique);
		snprintf(grp, sizeof(grp), "%d", gi >= 0 ? r->hp->labels[gi] : -1);
		printf("  %-14s %-13s clique %-7s group %s\n", dv->id ? dv->id : "(no id)",
		       v->addr_known[i] ? pci_addr_format(&v->addr[i], a) : dv->source_value,
		       dv->clique >= 0    ? clq
		       : dv->clique == -1 ? "none"
					  : "invalid",
		       gi < 0                  ? "- (not a GPU of this host)"
		       : r->hp->labels[gi] < 0 ? "none"
					       : grp);
	}
	if (!v->args.n_devs)
		printf("  no vfio-pci device\n");
	for (size_t i = 0; i < r->n_findings; i++)
		printf("  WARN %s: %s\n       -> %s\n", vm_issue_name(r->findings[i].kind), r->findings[i].text,
		       r->findings[i].fix);
	if (r->asked)
		print_live(r);
}

static struct json_object *live_json(const struct report *r)
{
	struct json_object *arr = json_object_new_array();

	for (size_t i = 0; i < r->n_live; i++) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "id", json_object_new_string(r->live[i].id));
		json_object_object_add(d, "host", json_object_new_string(r->live[i].host));
		json_object_object_add(d, "clique",
				       r->live[i].clique >= 0 ? json_object_new_int(r->live[i].clique) : NULL);
		json_object_object_add(d, "on_command_line", json_object_new_boolean(r->live[i].on_command_line));
		json_object_array_add(arr, d);
	}
	return arr;
}

/* The device's group in the plan, or null (in none, or not a GPU). */
static struct json_object *group_json(const struct hostplan *hp, const struct vm *v, size_t i)
{
	int gi = v->addr_known[i] ? hostplan_find(hp, &v->addr[i]) : -1;

	return gi >= 0 && hp->labels[gi] >= 0 ? json_object_new_int(hp->labels[gi]) : NULL;
}

static struct json_object *vm_json(const struct report *r)
{
	const struct vm *v = r->v;
	struct json_object *o = json_object_new_object(), *gpus = json_object_new_array();
	char a[PCI_ADDR_STRLEN], title[160];

	vm_title(v, title, sizeof(title));
	json_object_object_add(o, "pid", json_object_new_int64(v->pid));
	json_object_object_add(o, "name", v->args.name ? json_object_new_string(v->args.name) : NULL);
	json_object_object_add(o, "proxmox_vmid", v->vmid >= 0 ? json_object_new_int64(v->vmid) : NULL);
	json_object_object_add(o, "kvm_hidden", json_object_new_boolean(v->kvm_hidden));
	for (size_t i = 0; i < v->args.n_devs; i++) {
		const struct vfio_dev *dv = &v->args.devs[i];
		struct json_object *g = json_object_new_object();

		json_object_object_add(g, "id", dv->id ? json_object_new_string(dv->id) : NULL);
		json_object_object_add(g, "address",
				       v->addr_known[i] ? json_object_new_string(pci_addr_format(&v->addr[i], a))
							: NULL);
		json_object_object_add(g, "source", json_object_new_string(dv->source_value ? dv->source_value : ""));
		json_object_object_add(g, "clique", dv->clique >= 0 ? json_object_new_int(dv->clique) : NULL);
		json_object_object_add(g, "group", group_json(r->hp, v, i));
		json_object_array_add(gpus, g);
	}
	json_object_object_add(o, "gpus", gpus);
	json_object_object_add(o, "warnings", vm_findings_json(title, r->findings, r->n_findings));
	if (r->asked) {
		json_object_object_add(o, "qmp", r->answered ? live_json(r) : NULL);
		json_object_object_add(o, "qmp_error", r->answered ? NULL : json_object_new_string(r->err));
	}
	return o;
}

static void print_all(const struct report *reports, size_t n, const struct verdict *vd, bool json)
{
	struct json_object *j, *arr;

	if (!json) {
		if (vd->stop)
			printf("WARN the wrapper adds no clique to VMs started now: %s\n", vd->stop);
		if (!n)
			printf("No running QEMU process.\n");
		for (size_t i = 0; i < n; i++)
			print_vm(&reports[i]);
		return;
	}
	j = json_object_new_object();
	arr = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(arr, vm_json(&reports[i]));
	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "verdict", verdict_json(vd));
	json_object_object_add(j, "vms", arr);
	cli_print_json(j);
}

static int judge(struct report *reports, struct vm *vms, size_t n, const struct verdict *vd, bool use_qmp)
{
	bool warned = vd->stop != NULL;

	for (size_t i = 0; i < n; i++) {
		struct report *r = &reports[i];

		*r = (struct report){ .v = &vms[i], .hp = &vd->hp };
		if (vm_audit(&vms[i], &vd->hp, vd->cfg.valid, &r->findings, &r->n_findings) < 0)
			return -ENOMEM;
		if (use_qmp && ask_qmp(r) < 0)
			return -ENOMEM;
		warned |= r->n_findings > 0;
	}
	return warned;
}

int cmd_vms(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },
		{ "json", no_argument, NULL, 'j' },
		{ "qmp", no_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf = NULL, *sysroot = NULL, *procroot = NULL;
	_cleanup_close_ int sysfs = -1, proc = -1;
	struct verdict vd;
	struct vm *vms = NULL;
	size_t n = 0;
	bool json = false, use_qmp = false;
	int c, r;

	while ((c = getopt_long(argc, argv, "c:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'j': json = true; break;
		case 'Q': use_qmp = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("vms", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("vms", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs) < 0 || cli_open_root(procroot, "/proc", &proc) < 0)
		return 1;
	if (verdict_load(&vd, &(struct verdict_in){ .config = conf,
						    .sysfs = sysfs,
						    .sysfs_path = cli_root_path(sysroot, SYSFS_DEFAULT_ROOT) }) < 0) {
		verdict_free(&vd);
		return 1;
	}
	vmscan(proc, &vms, &n);
	struct report reports[n + 1];

	memset(reports, 0, sizeof(reports));
	r = judge(reports, vms, n, &vd, use_qmp);
	if (r >= 0)
		print_all(reports, n, &vd, json);
	for (size_t i = 0; i < n; i++) {
		vm_findings_free(reports[i].findings, reports[i].n_findings);
		free(reports[i].live);
	}
	vmscan_free(vms, n);
	verdict_free(&vd);
	return r != 0 ? 1 : 0;
}
