/* qemu-p2p status: what install did and whether it works: mode, wrapper and
 * real QEMU with versions, host facts, GPUs an old QEMU blocks, the
 * configuration, and which defined domains use which emulator path. */
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

/* What status says, gathered before it is printed as text or JSON. */
struct status {
	enum install_mode mode;
	char at[256]; /* the wrapper's path (in-root) */
	bool wrapper_ok;
	char wrapper_version[32];
	char *real; /* owned; NULL when no QEMU is found */
	char real_version[32];
	bool facts_ok;
	struct pci_addr *blocked; /* GPUs a QEMU < 8.1 leaves without a clique */
	size_t n_blocked;
	const struct config *cfg;
	bool readable; /* the configuration files, by the VMs */
	struct domain *doms;
	size_t n_doms;
};

/* GPUs a QEMU < 8.1 leaves without a clique: not in c8_free for this card. */
static void find_blocked(struct status *st, int sysfs)
{
	struct hostplan hp;

	if (facts_qemu_places_cap(st->cfg) || hostplan_read(sysfs, &hp) < 0)
		return;
	for (size_t i = 0; i < hp.n; i++) {
		const struct pci_addr *a = &hp.gpus[i]->addr;
		char id[C8_ID_MAX] = "";

		facts_gpu_id(sysfs, a, NULL, id, sizeof(id));
		if (facts_c8_state(st->cfg, a, id) != C8_FREE &&
		    grow_array((void **)&st->blocked, &st->n_blocked, sizeof(*a), a) < 0)
			break;
	}
	hostplan_free(&hp);
}

static const char *mode_name(enum install_mode m)
{
	return m == INSTALL_DIVERT ? "divert" : m == INSTALL_SHADOW ? "shadow" : "none";
}

static void gather(struct status *st, const struct layout *l, const char *arch, int sysfs)
{
	const struct config *cfg = st->cfg;
	struct rpath wrapper;
	struct err e = { { 0 } };

	st->mode = layout_state(l, st->at, sizeof(st->at));
	if (st->mode == INSTALL_NONE)
		snprintf(st->at, sizeof(st->at), "%s", l->shadow);
	st->wrapper_ok = cli_is_wrapper(layout_path(l, st->at, &wrapper));
	cli_real_qemu(cfg, arch, &st->real, &e);
	version_of(st->wrapper_ok ? wrapper.s : NULL, st->wrapper_version, sizeof(st->wrapper_version));
	version_of(st->real, st->real_version, sizeof(st->real_version));
	st->facts_ok = st->real && facts_current(cfg, st->real);
	find_blocked(st, sysfs);
	st->readable = (!cfg->op.present || cli_readable_by_vms(cfg->op.path)) &&
		       (!cfg->host.present || cli_readable_by_vms(cfg->host.path));
	domains_list(l, &st->doms, &st->n_doms);
}

static void print_text(const struct status *st)
{
	char a[PCI_ADDR_STRLEN];

	printf("mode:        %s\n", mode_name(st->mode));
	printf("wrapper:     %s (%s)\n", st->at, st->wrapper_ok ? "qemu-p2p-wrap" : "not installed");
	if (st->wrapper_ok)
		printf("             -version through it: QEMU %s\n", st->wrapper_version);
	printf("real QEMU:   %s, version %s\n", st->real ? st->real : "(none found)", st->real_version);
	printf("host facts:  %s\n", st->facts_ok ? "current" : "missing or stale: run qemu-p2p refresh");
	if (st->n_blocked) {
		printf("old QEMU:    no clique for");
		for (size_t i = 0; i < st->n_blocked; i++)
			printf(" %s", pci_addr_format(&st->blocked[i], a));
		printf(" (capability at 0xC8 taken)\n");
	}
	printf("config:      %s%s\n", st->cfg->valid ? "valid" : st->cfg->error,
	       st->readable ? "" : " (NOT readable by the VMs: the wrapper would pass through)");
	for (size_t i = 0; i < st->n_doms; i++)
		if (st->doms[i].error[0])
			printf("domain:      %-20s unreadable (/etc/libvirt/qemu/%s.xml: %s): may name any emulator\n",
			       st->doms[i].name, st->doms[i].name, st->doms[i].error);
		else
			printf("domain:      %-20s %s\n", st->doms[i].name, st->doms[i].emulator);
}

static struct json_object *to_json(const struct status *st)
{
	struct json_object *j = json_object_new_object(), *blocked = json_object_new_array(),
			   *doms = json_object_new_array();
	char a[PCI_ADDR_STRLEN];

	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "mode", json_object_new_string(mode_name(st->mode)));
	json_object_object_add(j, "wrapper", json_object_new_string(st->at));
	json_object_object_add(j, "wrapper_installed", json_object_new_boolean(st->wrapper_ok));
	json_object_object_add(j, "real_qemu", st->real ? json_object_new_string(st->real) : NULL);
	json_object_object_add(j, "real_qemu_version", json_object_new_string(st->real_version));
	json_object_object_add(j, "facts_current", json_object_new_boolean(st->facts_ok));
	for (size_t i = 0; i < st->n_blocked; i++)
		json_object_array_add(blocked, json_object_new_string(pci_addr_format(&st->blocked[i], a)));
	json_object_object_add(j, "gpus_blocked_by_old_qemu", blocked);
	json_object_object_add(j, "config_valid", json_object_new_boolean(st->cfg->valid));
	json_object_object_add(j, "config_error", st->cfg->error ? json_object_new_string(st->cfg->error) : NULL);
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
	struct config cfg = { 0 };
	struct status st = { .cfg = &cfg };
	bool json = false;
	int c;

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
	layout_init(&l, root, arch, NULL);
	if (!conf && l.root[0])
		conf = layout_path(&l, "/etc/qemu-p2p.conf", &conf_at);
	config_load(cli_config_path(conf), &cfg);
	cli_open_root(sysroot, SYSFS_DEFAULT_ROOT, &sysfs);
	gather(&st, &l, arch, sysfs);
	if (json)
		cli_print_json(to_json(&st));
	else
		print_text(&st);
	free(st.real);
	free(st.blocked);
	free(st.doms);
	config_free(&cfg);
	return 0;
}
