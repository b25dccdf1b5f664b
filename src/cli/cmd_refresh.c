/* qemu-p2p refresh: record the host facts the wrapper trusts — the real
 * QEMU's path, version and identity, and for QEMU < 8.1 which display
 * functions have 0xC8..0xCF free — in the host file, atomically, keeping
 * the keys `plan --write` owns. Reading capabilities needs root. */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "caps.h"
#include "commands.h"
#include "common.h"
#include "facts.h"
#include "hostfile.h"
#include "hostplan.h"
#include "resolve.h"
#include "strbuf.h"
#include "sysfs.h"

static void help(void)
{
	printf("Usage: qemu-p2p refresh [OPTIONS]\n\n"
	       "Record the real QEMU's version and identity and, for QEMU older than 8.1, the\n"
	       "display functions whose config space has 0xC8..0xCF free, in the host file\n"
	       "(/etc/qemu-p2p.d/host.conf beside the configuration), with that QEMU as the\n"
	       "host file's [qemu] binary. Refuses a configuration the wrapper rejects. Run as\n"
	       "root.\n\n"
	       "Options:\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "      --qemu PATH    the real QEMU (default: as the installed wrapper finds it);\n"
	       "                     written as [qemu] binary: the wrapper then execs it for\n"
	       "                     every VM (unless the operator file sets its own)\n"
	       "      --arch ARCH    QEMU target (default x86_64)\n"
	       "  -n, --dry-run      print the file it would write; change nothing\n"
	       "  -j, --json         print what changed as JSON\n"
	       "  -h, --help         show this help\n");
}

struct opts {
	const char *config, *sysfs, *qemu, *arch;
	bool dry_run, json;
};

/* One display function and what refresh found about it. */
struct display_fn {
	struct pci_addr addr;
	const char *verdict; /* "free", "taken", "unreadable", "malformed" */
};

static int qemu_version(const char *real, char **out, struct err *e)
{
	char *argv[] = { (char *)real, (char *)"-version", NULL };
	_cleanup_free_ char *text = NULL;
	char *p, *end;
	int status = 0, ma, mi, r = cli_capture(argv, &text, &status);

	if (r < 0) {
		err_set(e, "cannot run %s -version: %s", real, strerror(-r));
		return r;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || facts_parse_version(text, &ma, &mi) < 0) {
		text[strcspn(text, "\n")] = '\0';
		err_set(e, "%s -version did not print a QEMU version (%s %d): %.200s", real,
			WIFEXITED(status) ? "exit status" : "signal",
			WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), text);
		return -EINVAL;
	}
	p = strstr(text, "version ");
	p = p ? p + 8 : text;
	end = p + strcspn(p, " \n");
	*out = strndup(p, (size_t)(end - p));
	return *out ? 0 : -ENOMEM;
}

static const char *c8_verdict(int sysfs, const struct pci_addr *a)
{
	uint8_t cfg[PCI_CONFIG_MAX];
	size_t len = 0;
	int r;

	if (sysfs_read_config(sysfs, a, cfg, &len) < 0)
		return "unreadable";
	r = caps_c8_free(cfg, len);
	return r == 1 ? "free" : r == 0 ? "taken" : r == -ENODATA ? "unreadable" : "malformed";
}

/* Display functions of any vendor (x-pci-vendor-id may make one NVIDIA). */
static int scan_display(int sysfs, struct display_fn **out, size_t *n)
{
	_cleanup_free_ struct pci_addr *all = NULL;
	size_t count = 0;
	int r = sysfs_list_functions(sysfs, &all, &count);

	*out = NULL;
	*n = 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < count; i++) {
		unsigned long cls;
		struct display_fn d = { all[i], NULL };

		if (sysfs_read_hex(sysfs, &all[i], "class", &cls) < 0 || (cls >> 16) != 0x03)
			continue;
		d.verdict = c8_verdict(sysfs, &all[i]);
		if (grow_array((void **)out, n, sizeof(d), &d) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Why hotplug = global is possible or not, naming what stands in its way:
 * GPUs in several groups or in none, devices QEMU refuses a clique on. */
static void hotplug_why(const struct hostplan *p, struct strbuf *b)
{
	char a[PCI_ADDR_STRLEN];
	int groups = -1;
	size_t ungrouped = 0;

	if (hostplan_hotplug_global_ok(p)) {
		sb_addf(b, "possible (every GPU in one group, nothing else on vfio-pci)");
		return;
	}
	for (size_t i = 0; i < p->n; i++) {
		groups = p->labels[i] > groups ? p->labels[i] : groups;
		ungrouped += p->labels[i] < 0;
	}
	sb_addf(b, "not possible:");
	if (!p->n)
		sb_addf(b, " no NVIDIA GPU;");
	if (groups > 0)
		sb_addf(b, " the GPUs form %d groups (qemu-p2p plan);", groups + 1);
	if (ungrouped)
		sb_addf(b, " %zu GPU%s in no group;", ungrouped, ungrouped == 1 ? "" : "s");
	for (size_t i = 0; i < p->n_vfio_others; i++)
		sb_addf(b, "%s%s",
			i ? ", "
			  : " bound to vfio-pci and not a GPU (the -global clique reaches them, and QEMU refuses it there): ",
			pci_addr_format(&p->vfio_others[i], a));
	if (b->len && b->s[b->len - 1] == ';')
		b->s[--b->len] = '\0';
}

/* The new host file: facts replaced, plan's keys kept, hotplug_global_ok
 * recomputed for the plan in effect (and why, in hotplug). */
static int build(const struct config *cfg, int sysfs, const char *real, const char *version,
		 const struct display_fn *fns, size_t n, bool places_cap, struct conf_file *h, struct strbuf *hotplug)
{
	struct hostplan p;
	int r = hostfile_clone(&cfg->host, h);

	if (r < 0)
		return r;
	free(h->binary), free(h->version), free(h->identity), free(h->c8_free);
	h->binary = strdup(real);
	h->version = strdup(version);
	h->identity = NULL;
	h->c8_free = NULL;
	h->n_c8_free = 0;
	if (!h->binary || !h->version || facts_identity(real, &h->identity) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n && !places_cap; i++) {
		struct c8_entry c = { fns[i].addr, "" };

		if (strcmp(fns[i].verdict, "free") || facts_gpu_id(sysfs, &c.addr, NULL, c.id, sizeof(c.id)) < 0)
			continue;
		if (grow_array((void **)&h->c8_free, &h->n_c8_free, sizeof(c), &c) < 0)
			return -ENOMEM;
	}
	if ((r = hostplan_read(sysfs, &p)) < 0)
		return r;
	hostplan_effective(&p, cfg);
	h->hotplug_global_ok = hostplan_hotplug_global_ok(&p);
	hotplug_why(&p, hotplug);
	hostplan_free(&p);
	return 0;
}

static void report_text(const struct opts *o, const struct config *cfg, const struct conf_file *h, bool places_cap,
			const struct display_fn *fns, size_t n, const char *hotplug, bool changed)
{
	char a[PCI_ADDR_STRLEN];

	printf("QEMU: %s, version %s%s\n", h->binary, h->version,
	       places_cap ? " (8.1 or newer: places the capability itself)" : " (older than 8.1: capability at 0xC8)");
	if (cfg->op.trusted && cfg->op.binary && strcmp(cfg->op.binary, h->binary))
		printf("  recorded as the host file's [qemu] binary; the wrapper still execs %s, the operator "
		       "file's [qemu] binary\n",
		       cfg->op.binary);
	else
		printf("  recorded as [qemu] binary: the wrapper execs it for every VM\n");
	for (size_t i = 0; !places_cap && i < n; i++)
		printf("  %s: 0xC8 %s%s\n", pci_addr_format(&fns[i].addr, a), fns[i].verdict,
		       !strcmp(fns[i].verdict, "unreadable") ? " (config space beyond 64 bytes needs root)" : "");
	printf("hotplug = global: %s\n", hotplug);
	printf("%s %s%s\n",
	       o->dry_run ? "would write"
	       : changed  ? "wrote"
			  : "unchanged:",
	       cfg->host.path, o->dry_run ? ":" : "");
}

static struct json_object *report_json(const struct opts *o, const char *path, const struct conf_file *h,
				       bool places_cap, const struct display_fn *fns, size_t n, const char *hotplug,
				       bool changed)
{
	struct json_object *j = json_object_new_object(), *q = json_object_new_object();
	struct json_object *fa = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "changed", json_object_new_boolean(changed && !o->dry_run));
	json_object_object_add(j, "dry_run", json_object_new_boolean(o->dry_run));
	json_object_object_add(j, "files", json_object_new_array());
	if (changed)
		json_object_array_add(json_object_object_get(j, "files"), json_object_new_string(path));
	json_object_object_add(q, "binary", json_object_new_string(h->binary));
	json_object_object_add(q, "version", json_object_new_string(h->version));
	json_object_object_add(q, "identity", json_object_new_string(h->identity));
	json_object_object_add(q, "places_capability", json_object_new_boolean(places_cap));
	json_object_object_add(j, "qemu", q);
	json_object_object_add(j, "hotplug_global_ok", json_object_new_boolean(h->hotplug_global_ok));
	json_object_object_add(j, "hotplug_global", json_object_new_string(hotplug));
	for (size_t i = 0; i < n; i++) {
		struct json_object *f = json_object_new_object();

		json_object_object_add(f, "address", json_object_new_string(pci_addr_format(&fns[i].addr, a)));
		json_object_object_add(f, "c8", json_object_new_string(fns[i].verdict));
		json_object_array_add(fa, f);
	}
	json_object_object_add(j, "display_functions", fa);
	return j;
}

static int refresh(const struct opts *o, const struct config *cfg, const char *real, int sysfs)
{
	_cleanup_free_ char *version = NULL, *text = NULL;
	_cleanup_free_ struct display_fn *fns = NULL;
	struct conf_file h = { 0 };
	struct strbuf hotplug = { 0 };
	struct err e = { { 0 } };
	size_t n = 0;
	bool places, changed;
	int r = qemu_version(real, &version, &e);

	if (r == 0) {
		struct config tmp = { .host = { .version = version } };

		places = facts_qemu_places_cap(&tmp);
		r = scan_display(sysfs, &fns, &n);
		if (r < 0)
			err_set(&e, "cannot list PCI functions under the sysfs root: %s", strerror(-r));
	}
	if (r == 0 && (r = build(cfg, sysfs, real, version, fns, n, places, &h, &hotplug)) == 0)
		r = hostfile_format(&h, &text);
	if (r == 0) {
		changed = !file_holds(cfg->host.path, text, strlen(text));
		if (!o->dry_run && changed)
			r = hostfile_write_atomic(cfg->host.path, text, &e);
	}
	if (r == 0 && o->json)
		cli_print_json(report_json(o, cfg->host.path, &h, places, fns, n, hotplug.s ? hotplug.s : "", changed));
	else if (r == 0)
		report_text(o, cfg, &h, places, fns, n, hotplug.s ? hotplug.s : "", changed);
	if (r == 0 && o->dry_run && !o->json)
		fputs(text, stdout);
	if (r < 0)
		cli_error("%s", e.msg[0] ? e.msg : strerror(-r));
	conf_file_free(&h);
	sb_free(&hotplug);
	return r < 0 ? 1 : 0;
}

int cmd_refresh(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' }, { "sysfs", required_argument, NULL, 's' },
		{ "qemu", required_argument, NULL, 'q' },   { "arch", required_argument, NULL, 'a' },
		{ "dry-run", no_argument, NULL, 'n' },      { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	struct opts o = { .arch = RESOLVE_DEFAULT_ARCH };
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int sysfs = -1;
	struct config cfg = { 0 };
	struct err e = { { 0 } };
	int c, r;

	while ((c = getopt_long(argc, argv, "c:njh", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 's': o.sysfs = optarg; break;
		case 'q': o.qemu = optarg; break;
		case 'a': o.arch = optarg; break;
		case 'n': o.dry_run = true; break;
		case 'j': o.json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("refresh", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("refresh", "unexpected argument '%s'", argv[optind]);
	if (geteuid() != 0 && !o.dry_run) {
		cli_error("run as root: the GPUs' capability lists and the host file need it; --dry-run shows what "
			  "it would write");
		return 1;
	}
	if (cli_config_load(o.config, &cfg) < 0 || cli_config_usable(&cfg) < 0 ||
	    cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0) {
		config_free(&cfg);
		return 1;
	}
	if (o.qemu)
		real = strdup(o.qemu);
	else if (cli_real_qemu(&cfg, o.arch, &real, &e) < 0)
		cli_error("%s", e.msg);
	r = real ? refresh(&o, &cfg, real, sysfs) : 1;
	config_free(&cfg);
	return r;
}
