/* qemu-p2p vms: running QEMU processes, each passed-through GPU and the
 * clique it got; warns where the guest driver will ignore cliques or where
 * GPUs of one group did not get one id. */
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
#include "vmscan.h"

static void help(void)
{
	printf("Usage: qemu-p2p vms [OPTIONS]\n\n"
	       "List running QEMU processes (from /proc) with each passed-through GPU, its\n"
	       "address and the clique it got. Warns when a VM hides KVM from the guest\n"
	       "(-cpu ...,kvm=off, libvirt's <hidden state='on'/>: the NVIDIA driver then\n"
	       "ignores cliques) and when GPUs of one planned group got different or no ids.\n"
	       "Exit status: 0, or 1 when there is a warning.\n\n"
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
	struct strbuf warn;
	bool asked;            /* --qmp */
	struct live_dev *live; /* when asked and answered */
	size_t n_live;
	bool answered;
	char err[300]; /* why QMP gave no answer */
};

/* The live devices from QMP: a GPU there without a clique, while the
 * command line gave cliques, was re-attached without one. */
static void ask_qmp(struct report *r)
{
	bool cmdline_cliques = false;

	r->asked = true;
	r->answered = qmp_vfio_devices(r->v, &r->live, &r->n_live, r->err, sizeof(r->err)) == 0;
	for (size_t i = 0; i < r->v->args.n_devs; i++)
		cmdline_cliques |= r->v->args.devs[i].clique >= 0;
	for (size_t i = 0; cmdline_cliques && i < r->n_live; i++)
		if (!r->live[i].on_command_line && r->live[i].clique < 0)
			sb_addf(&r->warn,
				"%s%s (%s) was attached after start (QMP) without a clique: set hotplug = global",
				r->warn.len ? "; " : "", r->live[i].id, r->live[i].host);
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
		char clq[16];

		snprintf(clq, sizeof(clq), "%d", dv->clique);
		printf("  %-14s %-13s clique %s\n", dv->id ? dv->id : "(no id)",
		       v->addr_known[i] ? pci_addr_format(&v->addr[i], a) : dv->source_value,
		       dv->clique >= 0    ? clq
		       : dv->clique == -1 ? "none"
					  : "invalid");
	}
	if (!v->args.n_devs)
		printf("  no vfio-pci device\n");
	if (r->warn.len)
		printf("  WARN: %s\n", r->warn.s);
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

static struct json_object *vm_json(const struct report *r)
{
	const struct vm *v = r->v;
	struct json_object *o = json_object_new_object(), *gpus = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

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
		json_object_array_add(gpus, g);
	}
	json_object_object_add(o, "gpus", gpus);
	json_object_object_add(o, "warnings", json_object_new_string(r->warn.s ? r->warn.s : ""));
	if (r->asked) {
		json_object_object_add(o, "qmp", r->answered ? live_json(r) : NULL);
		json_object_object_add(o, "qmp_error", r->answered ? NULL : json_object_new_string(r->err));
	}
	return o;
}

static void print_all(const struct report *reports, size_t n, bool json)
{
	struct json_object *j, *arr;

	if (!json) {
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
	json_object_object_add(j, "vms", arr);
	cli_print_json(j);
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
	struct config cfg = { 0 };
	struct hostplan hp;
	struct vm *vms = NULL;
	size_t n = 0;
	bool json = false, warned = false, use_qmp = false;
	int c;

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
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs) < 0 || cli_open_root(procroot, "/proc", &proc) < 0 ||
	    hostplan_read(sysfs, &hp) < 0)
		return 1;
	config_load(cli_config_path(conf), &cfg);
	hostplan_effective(&hp, &cfg);
	vmscan(proc, &vms, &n);
	struct report reports[n + 1];

	for (size_t i = 0; i < n; i++) {
		reports[i] = (struct report){ .v = &vms[i] };
		vm_audit(&vms[i], &hp, &reports[i].warn);
		if (use_qmp)
			ask_qmp(&reports[i]);
		warned |= reports[i].warn.len > 0;
	}
	print_all(reports, n, json);
	for (size_t i = 0; i < n; i++) {
		sb_free(&reports[i].warn);
		free(reports[i].live);
	}
	vmscan_free(vms, n);
	hostplan_free(&hp);
	config_free(&cfg);
	return warned ? 1 : 0;
}
