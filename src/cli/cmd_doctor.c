/* qemu-p2p doctor: every layer P2P depends on, checked on this host, each
 * with its evidence and what to do. Exit 0 all pass, 1 warnings, 2 a
 * failure. Reads sysfs and proc under the given roots. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "caps.h"
#include "commands.h"
#include "common.h"
#include "facts.h"
#include "hostplan.h"
#include "resolve.h"
#include "strbuf.h"
#include "sysfs.h"
#include "vmscan.h"

enum status { ST_PASS, ST_INFO, ST_WARN, ST_FAIL };
static const char *const status_name[] = { "PASS", "INFO", "WARN", "FAIL" };

struct check {
	enum status st;
	char name[16];
	char *evidence, *action; /* owned */
};

struct doctor {
	int sysfs, proc;
	const char *qemu; /* --qemu, else as the wrapper finds it */
	struct config cfg;
	struct hostplan hp;
	struct vm *vms;
	size_t n_vms;
	struct check *checks;
	size_t n;
};

static void help(void)
{
	printf("Usage: qemu-p2p doctor [OPTIONS]\n\n"
	       "Check every layer GPU P2P in a VM depends on: IOMMU, vfio-pci binding, IOMMU\n"
	       "groups, ACS on the bridges, QEMU against the GPUs' capability layout, BAR1\n"
	       "size, the wrapper and its configuration, the planned level, the cliques of\n"
	       "running VMs (libvirt's and Proxmox's). Each check says PASS, INFO, WARN or\n"
	       "FAIL, its evidence and what to do.\n"
	       "Exit status: 0 all pass, 1 warnings, 2 a failure.\n\n"
	       "Options:\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "      --proc DIR     proc root (default /proc)\n"
	       "      --qemu PATH    the real QEMU (default: as the installed wrapper finds it)\n"
	       "  -j, --json         print one JSON object\n"
	       "  -h, --help         show this help\n");
}

static void add(struct doctor *d, enum status st, const char *name, const char *action, const char *fmt, ...)
	_printf_(5, 6);

static void add(struct doctor *d, enum status st, const char *name, const char *action, const char *fmt, ...)
{
	struct check c = { .st = st };
	va_list ap;

	snprintf(c.name, sizeof(c.name), "%s", name);
	va_start(ap, fmt);
	if (vasprintf(&c.evidence, fmt, ap) < 0)
		c.evidence = NULL;
	va_end(ap);
	c.action = action ? strdup(action) : NULL;
	if (grow_array((void **)&d->checks, &d->n, sizeof(c), &c) < 0) {
		free(c.evidence);
		free(c.action);
	}
}

static const char *addr_of(const struct host_fn *f, char *buf)
{
	return pci_addr_format(&f->addr, buf);
}

static const char *cpu_vendor(struct doctor *d, char *buf, size_t size)
{
	_cleanup_free_ char *cpu = NULL;
	char *v;

	snprintf(buf, size, "unknown");
	if (read_file_at(d->proc, "cpuinfo", 1 << 22, &cpu, NULL) == 0 && (v = strstr(cpu, "vendor_id"))) {
		v += strcspn(v, ":");
		v += *v ? 1 : 0;
		v += strspn(v, " \t");
		snprintf(buf, size, "%.*s", (int)strcspn(v, "\n"), v);
	}
	return buf;
}

static void check_iommu(struct doctor *d)
{
	_cleanup_free_ char *cmdline = NULL;
	char vendor[32];
	int fd = openat(d->sysfs, "kernel/iommu_groups", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	size_t groups = 0;

	for (struct dirent *e; dir && (e = readdir(dir));)
		groups += e->d_name[0] != '.';
	if (dir)
		closedir(dir);
	else if (fd >= 0)
		close(fd);
	read_file_at(d->proc, "cmdline", 4096, &cmdline, NULL);
	cpu_vendor(d, vendor, sizeof(vendor));
	if (groups) {
		add(d, ST_PASS, "iommu", NULL, "IOMMU on: %zu IOMMU groups", groups);
		return;
	}
	if (!strcmp(vendor, "GenuineIntel") && !(cmdline && strstr(cmdline, "intel_iommu=on")))
		add(d, ST_FAIL, "iommu",
		    "add intel_iommu=on iommu=pt to the kernel command line and enable VT-d in firmware",
		    "no IOMMU groups; %s CPU, kernel command line without intel_iommu=on", vendor);
	else if (!strcmp(vendor, "AuthenticAMD"))
		add(d, ST_FAIL, "iommu", "enable IOMMU (AMD-Vi) in firmware; add iommu=pt to the kernel command line",
		    "no IOMMU groups; %s CPU (the AMD IOMMU is on by default when firmware enables it)", vendor);
	else
		add(d, ST_FAIL, "iommu", "enable the IOMMU in firmware and on the kernel command line",
		    "no IOMMU groups (CPU %s)", vendor);
}

static bool in_running_vm(const struct doctor *d, const struct pci_addr *a)
{
	for (size_t v = 0; v < d->n_vms; v++)
		for (size_t i = 0; i < d->vms[v].args.n_devs; i++)
			if (d->vms[v].addr_known[i] && pci_addr_equal(&d->vms[v].addr[i], a))
				return true;
	return false;
}

/* Same slot (the GPU's own audio and USB functions) is expected. */
static bool same_slot(const struct pci_addr *a, const struct pci_addr *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

/* The other functions of g's IOMMU group, from the group's own list (the
 * host scan reads drivers of display functions only): "ADDR (driver)". */
static void group_others(struct doctor *d, const struct host_fn *g, struct strbuf *out)
{
	_cleanup_free_ struct pci_addr *members = NULL;
	char dir[64], a[PCI_ADDR_STRLEN];
	size_t n = 0;

	snprintf(dir, sizeof(dir), "kernel/iommu_groups/%ld/devices", g->iommu_group);
	if (g->iommu_group < 0 || sysfs_list_dir(d->sysfs, dir, &members, &n) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *drv = NULL;
		struct pci_ident id;

		if (same_slot(&members[i], &g->addr) || sysfs_read_ident(d->sysfs, &members[i], &id) < 0 ||
		    (id.cls >> 8) == 0x0604)
			continue;
		sysfs_read_link_name(d->sysfs, &members[i], "driver", &drv);
		sb_addf(out, "%s%s (%s)", out->len ? ", " : "", pci_addr_format(&members[i], a),
			drv ? drv : "no driver");
	}
}

static void check_binding(struct doctor *d)
{
	char a[PCI_ADDR_STRLEN];

	if (!d->hp.n) {
		add(d, ST_WARN, "gpus", "check that the GPUs are seated and visible in lspci",
		    "no NVIDIA GPU (vendor 10de, display class) on this host");
		return;
	}
	for (size_t i = 0; i < d->hp.n; i++) {
		const struct host_fn *g = d->hp.gpus[i];
		struct strbuf others = { 0 };

		if (!strcmp(g->driver, "vfio-pci"))
			add(d, ST_PASS, "vfio", NULL, "%s bound to vfio-pci", addr_of(g, a));
		else if (in_running_vm(d, &g->addr))
			add(d, ST_FAIL, "vfio", "bind it to vfio-pci (driverctl set-override ADDRESS vfio-pci)",
			    "%s is passed to a running VM but bound to %s", addr_of(g, a),
			    g->driver[0] ? g->driver : "no driver");
		else
			add(d, ST_INFO, "vfio", "libvirt binds it when a VM starts (managed='yes', as Nova does)",
			    "%s bound to %s", addr_of(g, a), g->driver[0] ? g->driver : "no driver");
		group_others(d, g, &others);
		if (others.len)
			add(d, ST_WARN, "iommu-group",
			    "pass those through with the GPU or move the GPU to another slot; an ACS override is unsafe",
			    "IOMMU group %ld of %s also holds %s", g->iommu_group, addr_of(g, a), others.s);
		sb_free(&others);
	}
}

static void check_acs(struct doctor *d)
{
	struct acs_bridge br[64];
	struct strbuf found = { 0 };
	char a[PCI_ADDR_STRLEN];
	bool any_group = false;
	size_t n;

	for (size_t i = 0; i < d->hp.n; i++)
		for (size_t k = 0; k < d->hp.n; k++)
			any_group |= k != i && d->hp.labels[i] >= 0 && d->hp.labels[k] == d->hp.labels[i];
	if (!any_group) {
		add(d, ST_PASS, "acs", NULL, "no planned group has two GPUs: nothing to route");
		return;
	}
	if (geteuid() != 0) {
		add(d, ST_INFO, "acs", "run doctor as root",
		    "not checked: ACS lives in extended config space, root only");
		return;
	}
	n = hostplan_acs(&d->hp, d->sysfs, d->hp.labels, br, ARRAY_SIZE(br));
	for (size_t i = 0; i < n; i++)
		sb_addf(&found, "%s%s ctrl bits 0x%02x", i ? ", " : "", pci_addr_format(&br[i].addr, a), br[i].bits);
	if (n)
		add(d, ST_WARN, "acs",
		    "P2P works but goes up through the root complex (one report: ~50 vs ~103 GB/s); to clear on a "
		    "bridge: setpci -s ADDRESS ECAP_ACS+6.w=0000:002c (not persistent; merges IOMMU groups below it)",
		    "ACS P2P redirect or egress control between GPUs of a group: %s", found.s);
	else
		add(d, ST_PASS, "acs", NULL, "no ACS redirect on the bridges between GPUs of a group");
	sb_free(&found);
}

/* Running VMs whose GPUs will not get P2P as planned (vms says more). */
static void check_vms(struct doctor *d)
{
	char title[160];
	size_t with_gpus = 0;

	for (size_t i = 0; i < d->n_vms; i++) {
		const struct vm *v = &d->vms[i];
		struct strbuf w = { 0 };

		with_gpus += v->args.n_devs > 0;
		vm_audit(v, &d->hp, &w);
		if (w.len)
			add(d, ST_WARN, "vms", "restart it through the wrapper (qemu-p2p vms shows its GPUs)",
			    "pid %ld %s: %s", v->pid, vm_title(v, title, sizeof(title)), w.s);
		sb_free(&w);
	}
	if (with_gpus)
		add(d, ST_INFO, "vms", NULL, "%zu running VM%s with vfio-pci devices", with_gpus,
		    with_gpus == 1 ? "" : "s");
}

static void check_qemu_caps(struct doctor *d, const char *real)
{
	_cleanup_free_ char *text = NULL;
	char *argv[] = { (char *)real, (char *)"-version", NULL };
	char a[PCI_ADDR_STRLEN];
	int status = 0, ma = 0, mi = 0;

	if (!real || cli_capture(argv, &text, &status) < 0 || facts_parse_version(text, &ma, &mi) < 0) {
		add(d, ST_WARN, "qemu", "install QEMU or set [qemu] binary", "no runnable QEMU found%s%s",
		    real ? ": " : "", real ? real : "");
		return;
	}
	if (ma > 8 || (ma == 8 && mi >= 1)) {
		add(d, ST_PASS, "qemu", NULL, "%s is QEMU %d.%d: it places the clique capability itself", real, ma, mi);
		return;
	}
	for (size_t i = 0; i < d->hp.n; i++) {
		uint8_t cfg[PCI_CONFIG_MAX];
		size_t len = 0;
		int r = sysfs_read_config(d->sysfs, &d->hp.gpus[i]->addr, cfg, &len) < 0 ? -ENODATA
											 : caps_c8_free(cfg, len);

		pci_addr_format(&d->hp.gpus[i]->addr, a);
		if (r == 0)
			add(d, ST_FAIL, "qemu-caps",
			    "upgrade QEMU to 8.1 or newer; until then the wrapper adds no clique to this GPU",
			    "QEMU %d.%d puts the clique capability at 0xC8, but a capability of %s covers it "
			    "(QEMU would refuse to start the VM)",
			    ma, mi, a);
		else if (r == 1)
			add(d, ST_PASS, "qemu-caps", NULL, "QEMU %d.%d: 0xC8 is free on %s", ma, mi, a);
		else
			add(d, ST_INFO, "qemu-caps", "run doctor as root",
			    "QEMU %d.%d: the capability list of %s is unreadable (root only)", ma, mi, a);
	}
}

/* BAR1 is the GPU's prefetchable aperture; 256 MiB or less on a data-center
 * GPU usually means Resizable BAR / Above 4G decoding is off. */
static void check_bar1(struct doctor *d)
{
	char a[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < d->hp.n; i++) {
		_cleanup_free_ char *path = NULL, *res = NULL;
		uint64_t start = 0, end = 0, size;
		const char *line;

		if (sysfs_device_path(d->sysfs, &d->hp.gpus[i]->addr, &path) < 0 ||
		    !(path = realloc(path, strlen(path) + 10)))
			continue;
		strcat(path, "/resource");
		pci_addr_format(&d->hp.gpus[i]->addr, a);
		if (read_file_at(d->sysfs, path, 4096, &res, NULL) < 0 || !(line = strchr(res, '\n')) ||
		    sscanf(line + 1, "%" SCNx64 " %" SCNx64, &start, &end) != 2 || end <= start) {
			add(d, ST_INFO, "bar1", NULL, "%s: BAR1 unassigned or unreadable", a);
			continue;
		}
		size = (end - start + 1) >> 20;
		if (size <= 256)
			add(d, ST_WARN, "bar1", "enable Above 4G Decoding and Resizable BAR in firmware",
			    "%s: BAR1 is %" PRIu64 " MiB, which looks capped", a, size);
		else
			add(d, ST_PASS, "bar1", NULL, "%s: BAR1 is %" PRIu64 " MiB", a, size);
	}
}

static void check_wrapper(struct doctor *d, const char *real)
{
	char path[4096];
	/* QEMU_P2P_PATH stands in for the standard PATH in tests. */
	const char *std = getenv("QEMU_P2P_PATH");
	bool found =
		resolve_on_path(std && *std ? std : RESOLVE_STD_PATH, RESOLVE_DEFAULT_ARCH, path, sizeof(path)) == 0;

	if (found && cli_is_wrapper(path))
		add(d, ST_PASS, "wrapper", NULL, "%s is qemu-p2p-wrap; it execs %s", path,
		    real ? real : "(no QEMU found)");
	else
		add(d, ST_WARN, "wrapper", "run qemu-p2p install", "libvirt finds %s, which is not the wrapper",
		    found ? path : "no qemu-system-" RESOLVE_DEFAULT_ARCH);
}

static void check_config(struct doctor *d, const char *real)
{
	const struct config *c = &d->cfg;
	struct pci_addr stale[256];
	struct strbuf s = { 0 };
	char a[PCI_ADDR_STRLEN];
	size_t n_stale;

	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &c->host : &c->op;

		if (cf->present && !cli_readable_by_vms(cf->path))
			add(d, ST_WARN, "config", "chmod 644 it", "%s is not readable by the VMs (qemu user)",
			    cf->path);
	}
	if (!c->valid)
		add(d, ST_FAIL, "config", "fix that line; until then every VM starts unchanged", "%s", c->error);
	else
		add(d, ST_PASS, "config", NULL, "%s: valid, mode %s", c->op.path, clique_mode_name(c->mode));
	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &c->host : &c->op;

		for (size_t i = 0; i < cf->n_warnings; i++)
			add(d, ST_WARN, "config", "remove it or upgrade qemu-p2p", "%s", cf->warnings[i]);
	}
	if (real && !facts_current(c, real))
		add(d, ST_WARN, "facts", "run qemu-p2p refresh as root", "host facts missing or stale for %s", real);
	else if (real)
		add(d, ST_PASS, "facts", NULL, "host facts current for %s (QEMU %s)", real, c->host.version);
	if (c->mode != MODE_MAP || !c->n_map)
		return;
	n_stale = hostplan_stale_map(&d->hp, c->map, c->n_map, stale, ARRAY_SIZE(stale));
	for (size_t i = 0; i < n_stale && i < ARRAY_SIZE(stale); i++)
		sb_addf(&s, "%s%s", i ? ", " : "", pci_addr_format(&stale[i], a));
	if (n_stale)
		add(d, ST_WARN, "map", "run qemu-p2p plan --write, or edit the map",
		    "[map] of %s names no GPU at %s on this host", c->map_source, s.s);
	else
		add(d, ST_PASS, "map", NULL, "every [map] address is a GPU of this host");
	sb_free(&s);
}

static void check_level(struct doctor *d)
{
	char vendor[32];
	const char *why = "";
	enum link_level level;

	cpu_vendor(d, vendor, sizeof(vendor));
	level = hostplan_auto_level(d->hp.gpus, d->hp.n, &why);
	add(d, ST_INFO, "level", "qemu-p2p plan shows the groups; nvidia-smi topo -p2p r on bare metal beats the guess",
	    "CPU %s; plan's auto level is %s: %s", vendor, link_level_name(level), why);
}

static int finish(struct doctor *d, bool json)
{
	enum status worst = ST_PASS;
	struct json_object *j = json ? json_object_new_object() : NULL, *arr = json ? json_object_new_array() : NULL;

	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];

		worst = c->st > worst ? c->st : worst;
		if (json) {
			struct json_object *o = json_object_new_object();

			json_object_object_add(o, "name", json_object_new_string(c->name));
			json_object_object_add(o, "status", json_object_new_string(status_name[c->st]));
			json_object_object_add(o, "evidence", json_object_new_string(c->evidence ? c->evidence : ""));
			json_object_object_add(o, "action", c->action ? json_object_new_string(c->action) : NULL);
			json_object_array_add(arr, o);
		} else {
			printf("%s  %-11s %s\n", status_name[c->st], c->name, c->evidence ? c->evidence : "");
			if (c->action && c->st != ST_PASS)
				printf("%17s-> %s\n", "", c->action);
		}
	}
	if (json) {
		json_object_object_add(j, "version", json_object_new_int(1));
		json_object_object_add(j, "status", json_object_new_string(status_name[worst]));
		json_object_object_add(j, "checks", arr);
		cli_print_json(j);
	} else {
		printf("\n%s\n", worst == ST_FAIL   ? "A check failed."
				 : worst == ST_WARN ? "Warnings."
						    : "All checks pass.");
	}
	return worst == ST_FAIL ? 2 : worst == ST_WARN ? 1 : 0;
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *conf = NULL, *sysroot = NULL, *procroot = NULL;
	_cleanup_free_ char *real = NULL;
	struct doctor d = { .sysfs = -1, .proc = -1 };
	struct err e = { { 0 } };
	bool json = false;
	int c, rc;

	while ((c = getopt_long(argc, argv, "c:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'q': d.qemu = optarg; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("doctor", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("doctor", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &d.sysfs) < 0 || cli_open_root(procroot, "/proc", &d.proc) < 0 ||
	    hostplan_read(d.sysfs, &d.hp) < 0)
		return 2;
	config_load(cli_config_path(conf), &d.cfg);
	vmscan(d.proc, &d.vms, &d.n_vms);
	if (d.qemu)
		real = strdup(d.qemu);
	else
		cli_real_qemu(&d.cfg, RESOLVE_DEFAULT_ARCH, &real, &e);
	check_iommu(&d);
	check_binding(&d);
	hostplan_effective(&d.hp, &d.cfg);
	check_acs(&d);
	check_vms(&d);
	check_qemu_caps(&d, real);
	check_bar1(&d);
	check_wrapper(&d, real);
	check_config(&d, real);
	check_level(&d);
	rc = finish(&d, json);
	for (size_t i = 0; i < d.n; i++)
		free(d.checks[i].evidence), free(d.checks[i].action);
	free(d.checks);
	vmscan_free(d.vms, d.n_vms);
	hostplan_free(&d.hp);
	config_free(&d.cfg);
	close(d.sysfs);
	close(d.proc);
	return rc;
}
