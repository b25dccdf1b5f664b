/* qemu-p2p vms: running QEMU processes, each passed-through GPU and the
 * clique it got; warns where the guest driver will ignore cliques or where
 * GPUs of one group did not get one id. */
#include <getopt.h>
#include <stdio.h>
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

/* The live devices from QMP: a GPU there without a clique, while the
 * command line gave cliques, was re-attached without one. */
static struct json_object *live(const struct vm *v, struct strbuf *w, char *err, size_t size)
{
	struct json_object *devs = qmp_vfio_devices(v, err, size);
	bool cmdline_cliques = false;

	for (size_t i = 0; i < v->args.n_devs; i++)
		cmdline_cliques |= v->args.devs[i].clique >= 0;
	for (size_t i = 0; devs && cmdline_cliques && i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i);

		if (!json_object_get_boolean(json_object_object_get(d, "on_command_line")) &&
		    !json_object_object_get(d, "clique"))
			sb_addf(w, "%s%s (%s) was attached after start (QMP) without a clique: set hotplug = global",
				w->len ? "; " : "", json_object_get_string(json_object_object_get(d, "id")),
				json_object_get_string(json_object_object_get(d, "host")));
	}
	return devs;
}

static void print_live(struct json_object *devs, const char *err)
{
	if (!devs) {
		printf("  QMP: %s\n", err);
		return;
	}
	printf("  QMP: %zu vfio-pci device%s now\n", json_object_array_length(devs), json_object_array_length(devs) == 1 ? "" : "s");
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *d = json_object_array_get_idx(devs, i), *c = json_object_object_get(d, "clique");

		printf("    %-14s %-13s clique %s%s\n", json_object_get_string(json_object_object_get(d, "id")),
		       json_object_get_string(json_object_object_get(d, "host")), c ? json_object_get_string(c) : "none",
		       json_object_get_boolean(json_object_object_get(d, "on_command_line")) ? "" : " (hotplugged)");
	}
}

static void print_vm(const struct vm *v, const char *warn)
{
	char a[PCI_ADDR_STRLEN], title[160];

	printf("pid %ld  %s\n", v->pid, vm_title(v, title, sizeof(title)));
	for (size_t i = 0; i < v->args.n_devs; i++) {
		const struct vfio_dev *dv = &v->args.devs[i];
		char clq[16];

		snprintf(clq, sizeof(clq), "%d", dv->clique);
		printf("  %-14s %-13s clique %s\n", dv->id ? dv->id : "(no id)",
		       v->addr_known[i] ? pci_addr_format(&v->addr[i], a) : dv->source_value,
		       dv->clique >= 0 ? clq : dv->clique == -1 ? "none" : "invalid");
	}
	if (!v->args.n_devs)
		printf("  no vfio-pci device\n");
	if (warn && *warn)
		printf("  WARN: %s\n", warn);
}

static struct json_object *vm_json(const struct vm *v, const char *warn)
{
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
		json_object_object_add(g, "address", v->addr_known[i] ? json_object_new_string(pci_addr_format(&v->addr[i], a))
								       : NULL);
		json_object_object_add(g, "source", json_object_new_string(dv->source_value ? dv->source_value : ""));
		json_object_object_add(g, "clique", dv->clique >= 0 ? json_object_new_int(dv->clique) : NULL);
		json_object_array_add(gpus, g);
	}
	json_object_object_add(o, "gpus", gpus);
	json_object_object_add(o, "warnings", json_object_new_string(warn ? warn : ""));
	return o;
}

int cmd_vms(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' }, { "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },   { "json", no_argument, NULL, 'j' },
		{ "qmp", no_argument, NULL, 'Q' },          { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf = NULL, *sysroot = NULL, *procroot = NULL;
	_cleanup_close_ int sysfs = -1, proc = -1;
	struct config cfg = { 0 };
	struct hostplan hp;
	struct vm *vms = NULL;
	size_t n = 0;
	bool json = false, warned = false, use_qmp = false;
	struct json_object *j, *arr;
	int c;

	while ((c = getopt_long(argc, argv, "c:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'j': json = true; break;
		case 'Q': use_qmp = true; break;
		case 'h': help(); return 0;
		default: return cli_usage("vms", "unknown option");
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
	j = json_object_new_object();
	arr = json_object_new_array();
	if (!n && !json)
		printf("No running QEMU process.\n");
	for (size_t i = 0; i < n; i++) {
		struct strbuf w = { 0 };
		struct json_object *devs = NULL;
		char err[300] = "";

		vm_audit(&vms[i], &hp, &w);
		if (use_qmp)
			devs = live(&vms[i], &w, err, sizeof(err));
		warned |= w.len > 0;
		if (json) {
			struct json_object *o = vm_json(&vms[i], w.s);

			if (use_qmp) {
				json_object_object_add(o, "qmp", devs ? json_object_get(devs) : NULL);
				json_object_object_add(o, "qmp_error", devs ? NULL : json_object_new_string(err));
			}
			json_object_array_add(arr, o);
		} else {
			print_vm(&vms[i], w.s);
			if (use_qmp)
				print_live(devs, err);
		}
		json_object_put(devs);
		sb_free(&w);
	}
	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "vms", arr);
	if (json)
		cli_print_json(j);
	else
		json_object_put(j);
	vmscan_free(vms, n);
	hostplan_free(&hp);
	config_free(&cfg);
	return warned ? 1 : 0;
}
