/* qemu-p2p doctor: every layer P2P depends on, checked on this host, each
 * with its evidence and what to do. Exit 0 all pass, 1 warnings, 2 a
 * failure. Reads sysfs and proc under the given roots. */
#include <ctype.h>
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
#include "verdict.h"
#include "vmaudit.h"
#include "vmscan.h"

enum status { ST_PASS, ST_INFO, ST_WARN, ST_FAIL };
static const char *const status_name[] = { "PASS", "INFO", "WARN", "FAIL" };

struct check {
	enum status st;
	char name[16];
	char subject[PCI_ADDR_STRLEN]; /* the GPU it is about, or "" */
	char *evidence, *action;       /* owned */
};

struct doctor {
	int sysfs, proc;
	struct verdict v; /* what the wrapper will do: configuration, QEMU, groups */
	const struct hostplan *hp;
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
	       "size, the wrapper, the QEMU it runs and its configuration, the groups (GPUs\n"
	       "in none), the running VMs (libvirt's, Nova's and Proxmox's), each judged once.\n"
	       "Each check says PASS, INFO, WARN or FAIL, its evidence and what to do; one\n"
	       "line lists every GPU with the same result (--verbose: one line per GPU).\n"
	       "Exit status: 0 all pass, 1 warnings, 2 a failure.\n\n"
	       "Options:\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "      --proc DIR     proc root (default /proc)\n"
	       "      --qemu PATH    the real QEMU (default: as the installed wrapper finds it)\n"
	       "  -v, --verbose      one line per GPU instead of one per result\n"
	       "  -j, --json         print one JSON object\n"
	       "  -h, --help         show this help\n");
}

static void add_check(struct doctor *d, enum status st, const char *name, const struct pci_addr *gpu,
		      const char *action, const char *fmt, va_list ap)
{
	struct check c = { .st = st };

	snprintf(c.name, sizeof(c.name), "%s", name);
	if (gpu)
		pci_addr_format(gpu, c.subject);
	if (vasprintf(&c.evidence, fmt, ap) < 0)
		c.evidence = NULL;
	c.action = action ? strdup(action) : NULL;
	if (grow_array((void **)&d->checks, &d->n, sizeof(c), &c) < 0) {
		free(c.evidence);
		free(c.action);
	}
}

static void add(struct doctor *d, enum status st, const char *name, const char *action, const char *fmt, ...)
	_printf_(5, 6);
static void add(struct doctor *d, enum status st, const char *name, const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_check(d, st, name, NULL, action, fmt, ap);
	va_end(ap);
}

/* A result about one GPU: GPUs with the same result print as one line. */
static void add_gpu(struct doctor *d, enum status st, const char *name, const struct host_fn *g, const char *action,
		    const char *fmt, ...) _printf_(6, 7);
static void add_gpu(struct doctor *d, enum status st, const char *name, const struct host_fn *g, const char *action,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_check(d, st, name, &g->addr, action, fmt, ap);
	va_end(ap);
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
	if (!d->hp->n) {
		add(d, ST_WARN, "gpus", "check that the GPUs are seated and visible in lspci",
		    "no NVIDIA GPU (vendor 10de, display class) on this host");
		return;
	}
	for (size_t i = 0; i < d->hp->n; i++) {
		const struct host_fn *g = d->hp->gpus[i];
		const char *drv = g->driver[0] ? g->driver : "no driver";
		struct strbuf others = { 0 };

		if (!strcmp(g->driver, "vfio-pci"))
			add_gpu(d, ST_PASS, "vfio", g, NULL, "bound to vfio-pci");
		else if (in_running_vm(d, &g->addr))
			add_gpu(d, ST_FAIL, "vfio", g, "bind it to vfio-pci (driverctl set-override ADDRESS vfio-pci)",
				"passed to a running VM but bound to %s", drv);
		else
			add_gpu(d, ST_INFO, "vfio", g,
				"libvirt binds it when a VM starts (managed='yes', as Nova does)", "bound to %s", drv);
		group_others(d, g, &others);
		if (others.len)
			add_gpu(d, ST_WARN, "iommu-group", g,
				"pass those through with the GPU or move the GPU to another slot; an ACS override is "
				"unsafe",
				"IOMMU group %ld also holds %s", g->iommu_group, others.s);
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

	for (size_t i = 0; i < d->hp->n; i++)
		for (size_t k = 0; k < d->hp->n; k++)
			any_group |= k != i && d->hp->labels[i] >= 0 && d->hp->labels[k] == d->hp->labels[i];
	if (!any_group) {
		add(d, ST_PASS, "acs", NULL, "no planned group has two GPUs: nothing to route");
		return;
	}
	if (geteuid() != 0) {
		add(d, ST_INFO, "acs", "run doctor as root",
		    "not checked: ACS lives in extended config space, root only");
		return;
	}
	n = hostplan_acs(d->hp, d->sysfs, d->hp->labels, br, ARRAY_SIZE(br));
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

/* Each running VM judged once (vmaudit): one line with what keeps its
 * GPUs from P2P and the fixes for the program that started it. */
static void check_vms(struct doctor *d)
{
	char title[160];
	size_t with_gpus = 0;

	for (size_t i = 0; i < d->n_vms; i++) {
		const struct vm *v = &d->vms[i];
		struct vm_finding *f = NULL;
		struct strbuf what = { 0 }, fix = { 0 };
		size_t n = 0;

		with_gpus += v->args.n_devs > 0;
		vm_audit(v, d->hp, d->v.cfg.valid, &f, &n);
		for (size_t k = 0; k < n; k++) {
			sb_addf(&what, "%s%s: %s", k ? "; " : "", vm_issue_name(f[k].kind), f[k].text);
			sb_addf(&fix, "%s%s", k ? "; " : "", f[k].fix);
		}
		if (n)
			add(d, ST_WARN, "vms", fix.s, "pid %ld %s: %s", v->pid, vm_title(v, title, sizeof(title)),
			    what.s);
		vm_findings_free(f, n);
		sb_free(&what);
		sb_free(&fix);
	}
	if (with_gpus)
		add(d, ST_INFO, "vms", NULL, "%zu running VM%s with vfio-pci devices", with_gpus,
		    with_gpus == 1 ? "" : "s");
}

static void check_qemu_caps(struct doctor *d, const char *real)
{
	_cleanup_free_ char *text = NULL;
	char *argv[] = { (char *)real, (char *)"-version", NULL };
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
	for (size_t i = 0; i < d->hp->n; i++) {
		const struct host_fn *g = d->hp->gpus[i];
		uint8_t cfg[PCI_CONFIG_MAX];
		size_t len = 0;
		int r = sysfs_read_config(d->sysfs, &g->addr, cfg, &len) < 0 ? -ENODATA : caps_c8_free(cfg, len);

		if (r == 0)
			add_gpu(d, ST_FAIL, "qemu-caps", g,
				"upgrade QEMU to 8.1 or newer; until then the wrapper adds no clique where 0xC8 is taken",
				"a capability covers 0xC8, where QEMU %d.%d puts the clique capability (QEMU would "
				"refuse to start the VM)",
				ma, mi);
		else if (r == 1)
			add_gpu(d, ST_PASS, "qemu-caps", g, NULL, "0xC8 is free for QEMU %d.%d", ma, mi);
		else
			add_gpu(d, ST_INFO, "qemu-caps", g, "run doctor as root",
				"the capability list is unreadable (root only), so whether QEMU %d.%d can place the "
				"clique is not known",
				ma, mi);
	}
}

/* BAR1 is the GPU's prefetchable aperture; 256 MiB or less on a data-center
 * GPU usually means Resizable BAR / Above 4G decoding is off. */
static void check_bar1(struct doctor *d)
{
	for (size_t i = 0; i < d->hp->n; i++) {
		const struct host_fn *g = d->hp->gpus[i];
		_cleanup_free_ char *path = NULL, *res = NULL;
		uint64_t start = 0, end = 0, size;
		const char *line;

		if (sysfs_device_path(d->sysfs, &g->addr, &path) < 0 || !(path = realloc(path, strlen(path) + 10)))
			continue;
		strcat(path, "/resource");
		if (read_file_at(d->sysfs, path, 4096, &res, NULL) < 0 || !(line = strchr(res, '\n')) ||
		    sscanf(line + 1, "%" SCNx64 " %" SCNx64, &start, &end) != 2 || end <= start) {
			add_gpu(d, ST_INFO, "bar1", g, NULL, "BAR1 unassigned or unreadable");
			continue;
		}
		size = (end - start + 1) >> 20;
		if (size <= 256)
			add_gpu(d, ST_WARN, "bar1", g, "enable Above 4G Decoding and Resizable BAR in firmware",
				"BAR1 is %" PRIu64 " MiB, which looks capped", size);
		else
			add_gpu(d, ST_PASS, "bar1", g, NULL, "BAR1 is %" PRIu64 " MiB", size);
	}
}

static void check_wrapper(struct doctor *d)
{
	char path[4096];
	/* QEMU_P2P_PATH stands in for the standard PATH in tests. */
	const char *std = getenv("QEMU_P2P_PATH");
	bool found =
		resolve_on_path(std && *std ? std : RESOLVE_STD_PATH, RESOLVE_DEFAULT_ARCH, path, sizeof(path)) == 0;

	if (found && cli_is_wrapper(path))
		add(d, ST_PASS, "wrapper", NULL, "%s is qemu-p2p-wrap; it execs %s", path,
		    d->v.real ? d->v.real : "(no QEMU found)");
	else
		add(d, ST_WARN, "wrapper", "run qemu-p2p install", "libvirt finds %s, which is not the wrapper",
		    found ? path : "no qemu-system-" RESOLVE_DEFAULT_ARCH);
}

/* The QEMU the wrapper will exec is the one [qemu] binary names, or the
 * operator learns here, not from each VM's log, that it is another. */
static void check_binary(struct doctor *d)
{
	const struct config *c = &d->v.cfg;

	if (!d->v.binary_ignored)
		return;
	add(d, ST_FAIL, "qemu", "fix [qemu] binary (or remove it), then run qemu-p2p refresh",
	    "[qemu] binary %s is not an executable file (or is the wrapper): the wrapper runs %s instead", c->binary,
	    d->v.real ? d->v.real : "no QEMU (every VM start fails)");
}

/* An error with a line ("FILE:12: ...") is fixed on that line; one
 * without (owner, mode, a link) by doing what it says. */
static const char *config_action(const struct config *c)
{
	const struct conf_file *f = c->op.error ? &c->op : &c->host;
	size_t len = strlen(f->path);

	if (!strncmp(c->error, f->path, len) && c->error[len] == ':' && isdigit((unsigned char)c->error[len + 1]))
		return "fix that line; until then every VM starts without cliques";
	return "do what it says; until then every VM starts without cliques";
}

static void check_config(struct doctor *d)
{
	const struct config *c = &d->v.cfg;

	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &c->host : &c->op;

		if (cf->present && !cli_readable_by_vms(cf->path))
			add(d, ST_WARN, "config", "chmod 644 it", "%s is not readable by the VMs (qemu user)",
			    cf->path);
	}
	if (!c->valid)
		add(d, ST_FAIL, "config", config_action(c), "rejected: %s", c->error);
	else if (!c->op.present)
		add(d, ST_PASS, "config", NULL, "no operator file %s: defaults ([cliques] mode = %s)", c->op.path,
		    clique_mode_name(c->mode));
	else
		add(d, ST_PASS, "config", NULL, "%s: valid, [cliques] mode = %s", c->op.path,
		    clique_mode_name(c->mode));
	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &c->host : &c->op;

		for (size_t i = 0; i < cf->n_warnings; i++)
			add(d, ST_WARN, "config", "remove it or upgrade qemu-p2p", "%s", cf->warnings[i]);
	}
}

static void check_facts(struct doctor *d)
{
	const char *real = d->v.real;

	if (real && !facts_current(&d->v.cfg, real))
		add(d, ST_WARN, "facts", "run qemu-p2p refresh as root", "host facts missing or stale for %s", real);
	else if (real)
		add(d, ST_PASS, "facts", NULL, "host facts current for %s (QEMU %s)", real, d->v.cfg.host.version);
}

static void list_addrs(struct strbuf *s, const struct pci_addr *a, size_t n)
{
	char buf[PCI_ADDR_STRLEN];

	for (size_t i = 0; i < n; i++)
		sb_addf(s, "%s%s", i ? ", " : "", pci_addr_format(&a[i], buf));
}

/* [map] entries that name no GPU here, and GPUs that no group covers:
 * their VMs get no clique, which no VM's log would make plain. */
static void check_coverage(struct doctor *d)
{
	const struct config *c = &d->v.cfg;
	struct pci_addr found[256];
	struct strbuf s = { 0 };
	size_t n;

	if (!c->valid)
		return;
	if (c->mode == MODE_MAP && c->n_map) {
		n = hostplan_stale_map(d->hp, c->map, c->n_map, found, ARRAY_SIZE(found));
		list_addrs(&s, found, n < ARRAY_SIZE(found) ? n : ARRAY_SIZE(found));
		if (n)
			add(d, ST_WARN, "map", "run qemu-p2p plan --write, or edit the map",
			    "[map] of %s names no GPU at %s on this host", c->map_source, s.s);
		else
			add(d, ST_PASS, "map", NULL, "every [map] address is a GPU of this host");
		sb_free(&s);
	}
	n = verdict_ungrouped(&d->v, found, ARRAY_SIZE(found));
	list_addrs(&s, found, n < ARRAY_SIZE(found) ? n : ARRAY_SIZE(found));
	if (n)
		add(d, ST_WARN, "groups",
		    c->mode == MODE_MAP ? "add them to [map] (qemu-p2p plan --write plans every GPU)"
					: "check their place in the PCIe tree (qemu-p2p topo)",
		    "%zu GPU%s in no group, so their VMs get no clique: %s", n, n == 1 ? "" : "s", s.s);
	else if (d->hp->n)
		add(d, ST_PASS, "groups", NULL, "every GPU is in a group (%zu of two or more GPUs)", d->v.n_groups);
	sb_free(&s);
}

static void check_level(struct doctor *d)
{
	char vendor[32];
	const char *why = "";
	enum link_level level;

	cpu_vendor(d, vendor, sizeof(vendor));
	level = hostplan_auto_level(d->hp->gpus, d->hp->n, &why);
	add(d, ST_INFO, "level", "qemu-p2p plan shows the groups; nvidia-smi topo -p2p r on bare metal beats the guess",
	    "CPU %s; plan's auto level is %s: %s", vendor, link_level_name(level), why);
}

/* Checks i.. with the same result as i (about other GPUs), marked used;
 * their GPUs listed in subjects. All of them unless verbose. */
static void fold(const struct check *c, size_t n, size_t i, bool verbose, bool *used, struct strbuf *subjects,
		 struct json_object *gpus)
{
	for (size_t k = i; k < n; k++) {
		if (used[k] || (k != i && (verbose || !c[i].subject[0] || c[k].st != c[i].st ||
					   strcmp(c[k].name, c[i].name) || strcmp(c[k].evidence, c[i].evidence) ||
					   (c[k].action == NULL) != (c[i].action == NULL) ||
					   (c[k].action && strcmp(c[k].action, c[i].action)))))
			continue;
		used[k] = true;
		if (!c[k].subject[0])
			continue;
		sb_addf(subjects, "%s%s", subjects->len ? ", " : "", c[k].subject);
		json_object_array_add(gpus, json_object_new_string(c[k].subject));
	}
}

static struct json_object *check_json(const struct check *c, const char *evidence, struct json_object *gpus)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(c->name));
	json_object_object_add(o, "status", json_object_new_string(status_name[c->st]));
	json_object_object_add(o, "evidence", json_object_new_string(evidence));
	json_object_object_add(o, "action", c->action ? json_object_new_string(c->action) : NULL);
	json_object_object_add(o, "gpus", gpus);
	return o;
}

static int finish(struct doctor *d, bool json, bool verbose)
{
	enum status worst = ST_PASS;
	struct json_object *arr = json_object_new_array();
	bool used[d->n + 1];

	memset(used, 0, sizeof(used));
	for (size_t i = 0; i < d->n; i++) {
		const struct check *c = &d->checks[i];
		struct strbuf subjects = { 0 }, line = { 0 };
		struct json_object *gpus = json_object_new_array();

		if (used[i]) {
			json_object_put(gpus);
			continue;
		}
		worst = c->st > worst ? c->st : worst;
		fold(d->checks, d->n, i, verbose, used, &subjects, gpus);
		sb_addf(&line, "%s%s%s", subjects.len ? subjects.s : "", subjects.len ? ": " : "",
			c->evidence ? c->evidence : "");
		if (json) {
			json_object_array_add(arr, check_json(c, line.s ? line.s : "", gpus));
		} else {
			json_object_put(gpus);
			printf("%s  %-11s %s\n", status_name[c->st], c->name, line.s ? line.s : "");
			if (c->action && c->st != ST_PASS)
				printf("%17s-> %s\n", "", c->action);
		}
		sb_free(&subjects);
		sb_free(&line);
	}
	if (json) {
		struct json_object *j = json_object_new_object();

		json_object_object_add(j, "version", json_object_new_int(1));
		json_object_object_add(j, "status", json_object_new_string(status_name[worst]));
		json_object_object_add(j, "checks", arr);
		json_object_object_add(j, "verdict", verdict_json(&d->v));
		cli_print_json(j);
	} else {
		json_object_put(arr);
		printf("\n%s\n", worst == ST_FAIL   ? "A check failed."
				 : worst == ST_WARN ? "Warnings."
						    : "All checks pass.");
	}
	return worst == ST_FAIL ? 2 : worst == ST_WARN ? 1 : 0;
}

static void run_checks(struct doctor *d)
{
	check_iommu(d);
	check_binding(d);
	check_acs(d);
	check_vms(d);
	check_qemu_caps(d, d->v.real);
	check_bar1(d);
	check_wrapper(d);
	check_binary(d);
	check_config(d);
	check_facts(d);
	check_coverage(d);
	check_level(d);
}

int cmd_doctor(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' }, { "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },   { "qemu", required_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },      { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	const char *conf = NULL, *sysroot = NULL, *procroot = NULL, *qemu = NULL;
	struct doctor d = { .sysfs = -1, .proc = -1, .hp = &d.v.hp };
	bool json = false, verbose = false;
	int c, rc = 2;

	while ((c = getopt_long(argc, argv, "c:vjh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'p': procroot = optarg; break;
		case 'q': qemu = optarg; break;
		case 'v': verbose = true; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("doctor", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("doctor", "unexpected argument '%s'", argv[optind]);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &d.sysfs) == 0 &&
	    cli_open_root(procroot, "/proc", &d.proc) == 0 &&
	    verdict_load(&d.v, &(struct verdict_in){ .config = conf,
						     .sysfs = d.sysfs,
						     .sysfs_path = cli_root_path(sysroot, SYSFS_DEFAULT_ROOT),
						     .qemu = qemu }) == 0) {
		vmscan(d.proc, &d.vms, &d.n_vms);
		run_checks(&d);
		rc = finish(&d, json, verbose);
	}
	for (size_t i = 0; i < d.n; i++)
		free(d.checks[i].evidence), free(d.checks[i].action);
	free(d.checks);
	vmscan_free(d.vms, d.n_vms);
	verdict_free(&d.v);
	if (d.sysfs >= 0)
		close(d.sysfs);
	if (d.proc >= 0)
		close(d.proc);
	return rc;
}
