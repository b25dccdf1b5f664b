/* qemu-p2p status: what install did and whether it works: mode, wrapper and
 * real QEMU with versions, host facts, GPUs an old QEMU blocks, the
 * configuration, and which defined domains use which emulator path. */
#include <getopt.h>
#include <stdio.h>
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

static void help(void)
{
	printf("Usage: qemu-p2p status [OPTIONS]\n\n"
	       "Show the install mode, the wrapper and the real QEMU with their versions, whether\n"
	       "the host facts are current, which GPUs a QEMU older than 8.1 leaves without a\n"
	       "clique, whether the configuration is valid and readable by the VMs, and which\n"
	       "defined domains use which emulator path.\n\n"
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

/* GPUs a QEMU < 8.1 leaves without a clique: not in c8_free. */
static struct json_object *blocked_gpus(const struct config *cfg, int sysfs)
{
	struct json_object *arr = json_object_new_array();
	struct hostplan hp;
	char a[PCI_ADDR_STRLEN];

	if (facts_qemu_places_cap(cfg) || hostplan_read(sysfs, &hp) < 0)
		return arr;
	for (size_t i = 0; i < hp.n; i++) {
		bool free_ = false;

		for (size_t k = 0; k < cfg->host.n_c8_free; k++)
			free_ |= pci_addr_equal(&cfg->host.c8_free[k], &hp.gpus[i]->addr);
		if (!free_)
			json_object_array_add(arr, json_object_new_string(pci_addr_format(&hp.gpus[i]->addr, a)));
	}
	hostplan_free(&hp);
	return arr;
}

int cmd_status(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "root", required_argument, NULL, 'r' },   { "arch", required_argument, NULL, 'a' },
		{ "config", required_argument, NULL, 'c' }, { "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },         { "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *root = NULL, *arch = RESOLVE_DEFAULT_ARCH, *conf = NULL, *sysroot = NULL;
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int sysfs = -1;
	struct layout l;
	struct rpath conf_at, wrapper;
	struct config cfg = { 0 };
	struct err e = { { 0 } };
	struct domain *doms = NULL;
	size_t n_doms = 0;
	char at[256], wv[32], rv[32];
	enum install_mode m;
	bool json = false, wrapper_ok, facts_ok;
	struct json_object *j, *dj, *blocked;
	int c;

	while ((c = getopt_long(argc, argv, "c:jh", longs, NULL)) != -1) {
		switch (c) {
		case 'r': root = optarg; break;
		case 'a': arch = optarg; break;
		case 'c': conf = optarg; break;
		case 's': sysroot = optarg; break;
		case 'j': json = true; break;
		case 'h': help(); return 0;
		default: return cli_usage("status", "unknown option");
		}
	}
	layout_init(&l, root, arch, NULL);
	if (!conf && l.root[0])
		conf = layout_path(&l, "/etc/qemu-p2p.conf", &conf_at);
	config_load(cli_config_path(conf), &cfg);
	cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs);
	m = layout_state(&l, at, sizeof(at));
	if (m == INSTALL_NONE)
		snprintf(at, sizeof(at), "%s", l.shadow);
	wrapper_ok = cli_is_wrapper(layout_path(&l, at, &wrapper));
	cli_real_qemu(&cfg, arch, &real, &e);
	version_of(wrapper_ok ? wrapper.s : NULL, wv, sizeof(wv));
	version_of(real, rv, sizeof(rv));
	facts_ok = real && facts_current(&cfg, real);
	blocked = blocked_gpus(&cfg, sysfs);
	domains_list(&l, &doms, &n_doms);

	j = json_object_new_object();
	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "mode", json_object_new_string(m == INSTALL_DIVERT ? "divert"
								 : m == INSTALL_SHADOW ? "shadow" : "none"));
	json_object_object_add(j, "wrapper", json_object_new_string(at));
	json_object_object_add(j, "wrapper_installed", json_object_new_boolean(wrapper_ok));
	json_object_object_add(j, "real_qemu", real ? json_object_new_string(real) : NULL);
	json_object_object_add(j, "real_qemu_version", json_object_new_string(rv));
	json_object_object_add(j, "facts_current", json_object_new_boolean(facts_ok));
	json_object_object_add(j, "gpus_blocked_by_old_qemu", blocked);
	json_object_object_add(j, "config_valid", json_object_new_boolean(cfg.valid));
	json_object_object_add(j, "config_error", cfg.error ? json_object_new_string(cfg.error) : NULL);
	json_object_object_add(j, "config_readable_by_vms",
			       json_object_new_boolean((!cfg.op.present || cli_readable_by_vms(cfg.op.path)) &&
						       (!cfg.host.present || cli_readable_by_vms(cfg.host.path))));
	dj = json_object_new_array();
	for (size_t i = 0; i < n_doms; i++) {
		struct json_object *d = json_object_new_object();

		json_object_object_add(d, "name", json_object_new_string(doms[i].name));
		json_object_object_add(d, "emulator", json_object_new_string(doms[i].emulator));
		json_object_array_add(dj, d);
	}
	json_object_object_add(j, "domains", dj);
	if (json) {
		cli_print_json(j);
	} else {
		printf("mode:        %s\n", json_object_get_string(json_object_object_get(j, "mode")));
		printf("wrapper:     %s (%s)\n", at, wrapper_ok ? "qemu-p2p-wrap" : "not installed");
		if (wrapper_ok)
			printf("             -version through it: QEMU %s\n", wv);
		printf("real QEMU:   %s, version %s\n", real ? real : "(none found)", rv);
		printf("host facts:  %s\n", facts_ok ? "current" : "missing or stale: run qemu-p2p refresh");
		if (json_object_array_length(blocked))
			printf("old QEMU:    no clique for %s (capability at 0xC8 taken)\n",
			       json_object_to_json_string(blocked));
		printf("config:      %s%s\n", cfg.valid ? "valid" : cfg.error,
		       json_object_get_boolean(json_object_object_get(j, "config_readable_by_vms")) ? ""
			       : " (NOT readable by the VMs: the wrapper would pass through)");
		for (size_t i = 0; i < n_doms; i++)
			printf("domain:      %-20s %s\n", doms[i].name, doms[i].emulator);
		json_object_put(j);
	}
	free(doms);
	config_free(&cfg);
	return 0;
}
