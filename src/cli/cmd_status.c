/* qemu-p2p status: what install did and whether it works: install mode,
 * wrapper and real QEMU with versions, host facts, GPUs an old QEMU blocks,
 * the wrapper's verdict on the configuration, and which defined domains use
 * which emulator path. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "common.h"
#include "facts.h"
#include "hostplan.h"
#include "layout.h"
#include "resolve.h"
#include "sysfs.h"
#include "verdict.h"

static void help(void)
{
	printf("Usage: qemu-p2p status [OPTIONS]\n\n"
	       "Show how the wrapper is installed (install mode: shadow, divert or none), the\n"
	       "wrapper and the real QEMU it execs with their versions, whether the host facts\n"
	       "are current, which GPUs a QEMU older than 8.1 leaves without a clique, the\n"
	       "wrapper's verdict on the configuration, and which defined domains use which\n"
	       "emulator path.\n"
	       "Exit status: 0; 1 when the configuration is rejected, [qemu] binary names\n"
	       "something the wrapper cannot run, or the file at the wrapper's path is not\n"
	       "qemu-p2p-wrap.\n\n"
	       "Options:\n"
	       "      --root DIR     every path relative to DIR\n"
	       "      --arch ARCH    QEMU target (default x86_64)\n"
	       "  -c, --config FILE  operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR    sysfs root (default /sys)\n"
	       "  -j, --json         print one JSON object\n"
	       "  -h, --help         show this help\n");
}

static void version_of(const char *bin, char *out, size_t size)
{
	char *argv[] = { (char *)bin, (char *)"-version", NULL };
	_cleanup_free_ char *text = NULL;
	int status = 0, ma, mi;

	snprintf(out, size, "unknown");
	if (bin && cli_capture(argv, &text, &status) == 0 && facts_parse_version(text, &ma, &mi) == 0)
		snprintf(out, size, "%d.%d", ma, mi);
}

/* What status says, gathered before it is printed as text or JSON. */
struct status {
	enum install_mode mode;
	char at[256]; /* the wrapper's path (in-root) */
	bool wrapper_ok;
	bool wrapper_foreign; /* install says it is there, but the file is not ours */
	char wrapper_version[32];
	char real_version[32];
	bool facts_ok;
	const struct verdict *v;
	bool readable; /* the configuration files, by the VMs */
	struct domain *doms;
	size_t n_doms;
};

static const char *mode_name(enum install_mode m)
{
	return m == INSTALL_DIVERT ? "divert" : m == INSTALL_SHADOW ? "shadow" : "none";
}

static void gather(struct status *st, const struct layout *l)
{
	const struct config *cfg = &st->v->cfg;
	struct rpath wrapper;

	st->mode = layout_state(l, st->at, sizeof(st->at));
	if (st->mode == INSTALL_NONE)
		snprintf(st->at, sizeof(st->at), "%s", l->shadow);
	st->wrapper_ok = cli_is_wrapper(layout_path(l, st->at, &wrapper));
	st->wrapper_foreign = st->mode != INSTALL_NONE && !st->wrapper_ok;
	version_of(st->wrapper_ok ? wrapper.s : NULL, st->wrapper_version, sizeof(st->wrapper_version));
	version_of(st->v->real, st->real_version, sizeof(st->real_version));
	st->facts_ok = st->v->real && facts_current(cfg, st->v->real);
	st->readable = (!cfg->op.present || cli_readable_by_vms(cfg->op.path)) &&
		       (!cfg->host.present || cli_readable_by_vms(cfg->host.path));
	domains_list(l, &st->doms, &st->n_doms);
}

static void print_blocked(const struct verdict *v)
{
	char a[PCI_ADDR_STRLEN];
	bool any = false;

	for (size_t i = 0; i < v->hp.n; i++) {
		if (!v->blocked[i])
			continue;
		printf("%s %s", any ? "" : "old QEMU:    no clique for", pci_addr_format(&v->hp.gpus[i]->addr, a));
		any = true;
	}
	if (any)
		printf(" (capability at 0xC8 taken)\n");
}

static void print_config(const struct status *st)
{
	const struct config *cfg = &st->v->cfg;
	size_t warnings = cfg->op.n_warnings + cfg->host.n_warnings;

	if (!cfg->valid)
		printf("config:      rejected: %s; every VM starts without cliques\n", cfg->error);
	else if (!cfg->op.present)
		printf("config:      no operator file %s: defaults\n", cfg->op.path);
	else
		printf("config:      %s valid%s\n", cfg->op.path, warnings ? ", with warnings:" : "");
	for (int f = 0; f < 2; f++) {
		const struct conf_file *cf = f ? &cfg->host : &cfg->op;

		for (size_t i = 0; i < cf->n_warnings; i++)
			printf("             %s\n", cf->warnings[i]);
	}
	if (!st->readable)
		printf("             NOT readable by the VMs: the wrapper would pass through\n");
	if (cfg->valid)
		printf("cliques:     [cliques] mode = %s%s%s\n", clique_mode_name(cfg->mode), st->v->stop ? "; " : "",
		       st->v->stop ? st->v->stop : "");
}

static void print_text(const struct status *st)
{
	const struct verdict *v = st->v;

	printf("install:     %s\n", mode_name(st->mode));
	printf("wrapper:     %s (%s)\n", st->at,
	       st->wrapper_ok        ? "qemu-p2p-wrap"
	       : st->wrapper_foreign ? "NOT qemu-p2p-wrap: VMs started there get no clique; run qemu-p2p install"
				     : "not installed");
	if (st->wrapper_ok)
		printf("             -version through it: QEMU %s\n", st->wrapper_version);
	printf("real QEMU:   %s, version %s\n", v->real ? v->real : "(none found)", st->real_version);
	if (v->binary_ignored)
		printf("             NOT the [qemu] binary %s: not an executable file (or the wrapper)\n",
		       v->cfg.binary);
	printf("host facts:  %s\n", st->facts_ok ? "current" : "missing or stale: run qemu-p2p refresh");
	print_blocked(v);
	print_config(st);
	for (size_t i = 0; i < st->n_doms; i++)
		if (st->doms[i].error[0])
			printf("domain:      %-20s unreadable (/etc/libvirt/qemu/%s.xml: %s): may name any emulator\n",
			       st->doms[i].name, st->doms[i].name, st->doms[i].error);
		else
			printf("domain:      %-20s %s\n", st->doms[i].name, st->doms[i].emulator);
}

static struct json_object *to_json(const struct status *st)
{
	struct json_object *j = json_object_new_object(), *doms = json_object_new_array();

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "install_mode", json_object_new_string(mode_name(st->mode)));
	json_object_object_add(j, "wrapper", json_object_new_string(st->at));
	json_object_object_add(j, "wrapper_installed", json_object_new_boolean(st->wrapper_ok));
	json_object_object_add(j, "wrapper_foreign", json_object_new_boolean(st->wrapper_foreign));
	json_object_object_add(j, "real_qemu", st->v->real ? json_object_new_string(st->v->real) : NULL);
	json_object_object_add(j, "real_qemu_version", json_object_new_string(st->real_version));
	json_object_object_add(j, "facts_current", json_object_new_boolean(st->facts_ok));
	json_object_object_add(j, "config_readable_by_vms", json_object_new_boolean(st->readable));
	for (size_t i = 0; i < st->n_doms; i++) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "name", json_object_new_string(st->doms[i].name));
		json_object_object_add(d, "emulator",
				       st->doms[i].error[0] ? NULL : json_object_new_string(st->doms[i].emulator));
		json_object_object_add(d, "error",
				       st->doms[i].error[0] ? json_object_new_string(st->doms[i].error) : NULL);
		json_object_array_add(doms, d);
	}
	json_object_object_add(j, "domains", doms);
	json_object_object_add(j, "verdict", verdict_json(st->v));
	return j;
}

int cmd_status(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "arch", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *root = NULL, *arch = RESOLVE_DEFAULT_ARCH, *conf = NULL, *sysroot = NULL;
	_cleanup_close_ int sysfs = -1;
	struct layout l;
	struct rpath conf_at;
	struct verdict v = { 0 };
	struct status st = { .v = &v };
	bool json = false;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "c:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'a': arch = optarg; break;
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_bad_option("status", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("status", "unexpected argument '%s'", argv[optind]);
	layout_init(&l, root, arch, NULL);
	if (!conf && l.root[0])
		conf = layout_path(&l, "/etc/qemu-p2p.conf", &conf_at);
	if (cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs) == 0 &&
	    verdict_load(&v, &(struct verdict_in){ .config = conf,
						   .sysfs = sysfs,
						   .sysfs_path = cli_root_path(sysroot, SYSFS_DEFAULT_ROOT),
						   .arch = arch }) == 0) {
		gather(&st, &l);
		if (json)
			cli_print_json(to_json(&st));
		else
			print_text(&st);
		rc = !v.cfg.valid || v.binary_ignored || st.wrapper_foreign;
	}
	free(st.doms);
	verdict_free(&v);
	return rc;
}
