/* qemu-p2p-guest boot: what the guest package's unit runs at every boot.
 * Reads the cliques, asks the driver which pairs it grants (as check does)
 * and proves for each granted pair that data written over P2P lands in the
 * peer's memory, both ways (p2pbench's proof, proof.h). Only when every
 * pair holds is NCCL's topology file written; when a pair of one clique is
 * lost or its data does not land, NCCL must not be steered onto it: no
 * topology file, NCCL_P2P_DISABLE=1 in /etc/nccl.conf (our marked line,
 * which a later healthy boot removes), one line in the journal, exit 1.
 * Without a driver nothing changes (exit 2). Every run leaves its report
 * in /run/qemu-p2p-guest/status.json. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "boot.h"
#include "commands.h"
#include "guesttopo.h"
#include "ncclconf.h"
#include "peers.h"
#include "rootfs.h"
#include "sysfs.h"

#define DEFAULT_TIMEOUT_S 60
/* The unit's TimeoutStartSec (660) lies beyond it: systemd must never cut
 * boot off before it has acted on the test. */
#define MAX_TIMEOUT_S 600

static void help(void)
{
	printf("Usage: qemu-p2p-guest boot [OPTIONS]\n\n"
	       "At boot (the unit qemu-p2p-guest-topology.service runs it): compare the cliques\n"
	       "with the P2P the NVIDIA driver grants, and for every pair it grants write data\n"
	       "over P2P both ways and read it back on the owning GPU (p2pbench's proof). When\n"
	       "every pair of one clique holds, write NCCL's topology file (as nccl-topo) and take\n"
	       "out of /etc/nccl.conf the NCCL_P2P_DISABLE=1 line an earlier boot put there. When\n"
	       "a pair is lost or its data does not land: remove the topology file, put a marked\n"
	       "NCCL_P2P_DISABLE=1 line first in /etc/nccl.conf (every other line kept), say\n"
	       "which pair and why on one line, exit 1. No driver: nothing changes, exit 2.\n"
	       "The report goes to /run/qemu-p2p-guest/status.json (qemu-p2p-guest status).\n"
	       "Run as root.\n\n"
	       "Options:\n"
	       "      --quick          4 MiB each way per pair (the default)\n"
	       "      --size BYTES     bytes each way per pair instead (K, M, G suffixes)\n"
	       "      --timeout SECS   time limit of the driver and data test (default %d,\n"
	       "                       at most %d);\n"
	       "                       a test that does not finish counts as failed\n"
	       "      --no-fallback    test and report only: on a failed pair still write the\n"
	       "                       topology file, never touch /etc/nccl.conf\n"
	       "      --sysfs DIR      sysfs root (default /sys)\n"
	       "      --proc DIR       proc root (default /proc), for cpuinfo's hypervisor flag\n"
	       "      --root DIR       root of the files it writes (default /)\n"
	       "  -j, --json           print the report (the status file's object)\n"
	       "  -h, --help           show this help\n"
	       "Exit status: 0 every pair holds, 1 a pair failed or a file could not be\n"
	       "written, 2 no NVIDIA driver or GPU (nothing changed), 64 usage error.\n",
	       DEFAULT_TIMEOUT_S, MAX_TIMEOUT_S);
}

struct opts {
	const char *sysfs, *proc, *root;
	size_t bytes;
	int timeout_s;
	bool fallback, json;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "quick", no_argument, NULL, 'Q' },         { "size", required_argument, NULL, 'S' },
		{ "timeout", required_argument, NULL, 'T' }, { "no-fallback", no_argument, NULL, 'N' },
		{ "sysfs", required_argument, NULL, 's' },   { "proc", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },    { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },          { 0 },
	};
	char *end;
	long secs;
	int c;

	*o = (struct opts){ .root = "/", .bytes = PROOF_BYTES, .timeout_s = DEFAULT_TIMEOUT_S, .fallback = true };
	while ((c = getopt_long(argc, argv, "jh", longs, NULL)) != -1) {
		switch (c) {
		case 'Q': o->bytes = PROOF_BYTES; break;
		case 'S':
			if (proof_parse_size(optarg, &o->bytes) < 0)
				return cli_usage("boot",
						 "--size %s: bytes, a multiple of 4 (K, M, G suffixes), e.g. 64M",
						 optarg);
			break;
		case 'T':
			secs = strtol(optarg, &end, 10);
			if (end == optarg || *end || secs < 1 || secs > MAX_TIMEOUT_S)
				return cli_usage("boot", "--timeout %s: seconds, 1 to %d", optarg, MAX_TIMEOUT_S);
			o->timeout_s = (int)secs;
			break;
		case 'N': o->fallback = false; break;
		case 's': o->sysfs = optarg; break;
		case 'p': o->proc = optarg; break;
		case 'r': o->root = optarg; break;
		case 'j': o->json = true; break;
		case 'h': help(); return -1;
		default: return cli_bad_option("boot", argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage("boot", "unexpected argument '%s'", argv[optind]);
	return 0;
}

static const char *pair_name(const struct guest *g, const struct dt_pair *p, char *buf, size_t size)
{
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	snprintf(buf, size, "%s-%s", pci_addr_format(&g->gpus[p->a].fn->addr, a),
		 pci_addr_format(&g->gpus[p->b].fn->addr, b));
	return buf;
}

/* A pair that did not come back: the one the test was in when it was cut
 * off or died, or one after it. */
static void judge_missing(const struct datatest *dt, size_t n, int timeout_s, struct boot_pair *out)
{
	if (n != dt->n_done || !dt->started) {
		out->verdict = "not run";
		snprintf(out->why, sizeof(out->why), "the test stopped before this pair");
	} else if (dt->status == DT_TIMEOUT) {
		out->verdict = "FAIL";
		snprintf(out->why, sizeof(out->why),
			 "the P2P test of this pair did not finish within %d s (a hung data path)", timeout_s);
	} else {
		out->verdict = "FAIL";
		snprintf(out->why, sizeof(out->why), "%s during the P2P test of this pair", dt->msg);
	}
}

static void judge(const struct guest *g, const struct datatest *dt, size_t n, bool hypervisor, int timeout_s,
		  struct boot_pair *out)
{
	const struct dt_pair *p = &dt->pairs[n];
	struct peer_verdict v;
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN];

	if (n >= dt->n_done)
		return judge_missing(dt, n, timeout_s, out);
	v = peers_judge(g, (size_t)p->a, (size_t)p->b, p->listed, p->granted, hypervisor);
	out->verdict = "FAIL";
	if (!p->tested) {
		out->verdict = v.verdict;
		snprintf(out->why, sizeof(out->why), "%s", v.why);
	} else if (p->error[0]) {
		snprintf(out->why, sizeof(out->why), "the P2P data test failed: %s", p->error);
	} else if (p->ab.copy != V_PASS || p->ab.kernel != V_PASS || p->ba.copy != V_PASS || p->ba.kernel != V_PASS) {
		pci_addr_format(&g->gpus[p->a].fn->addr, a);
		pci_addr_format(&g->gpus[p->b].fn->addr, b);
		snprintf(
			out->why, sizeof(out->why),
			"data written over P2P did not land in the owner's memory (%s to %s: copy %s, kernel %s; %s to "
			"%s: copy %s, kernel %s)",
			a, b, proof_verdict_name(p->ab.copy), proof_verdict_name(p->ab.kernel), b, a,
			proof_verdict_name(p->ba.copy), proof_verdict_name(p->ba.kernel));
	} else {
		out->verdict = "ok";
		snprintf(out->why, sizeof(out->why), "%s; data written over P2P landed, both ways",
			 v.expected ? "P2P, as the clique says" : "P2P without a common clique (NVLink?)");
	}
}

/* Not ok: a pair of one clique lost, or a granted pair that failed. */
static bool failed(const struct boot_pair *p)
{
	return !strcmp(p->verdict, "FAIL") || !strcmp(p->verdict, "LOST");
}

/* The topology file, as on a healthy boot. */
static void write_topology(int sysfs, int root, const struct guest *g, struct boot_report *r)
{
	struct guest_topo t;
	struct err e = { { 0 } };
	int rc = guest_topo_build(sysfs, g, NULL, 0, &t);

	if (rc == 0 && guest_topo_install(root, &t, &e) == 0) {
		r->topology.action = "written";
	} else {
		r->topology.action = "failed";
		snprintf(r->topology.error, sizeof(r->topology.error), "%s", rc ? "out of memory" : e.msg);
	}
	if (rc == 0)
		guest_topo_free(&t);
}

static void remove_topology(int root, struct boot_report *r)
{
	struct err e = { { 0 } };
	int rc = guest_topo_uninstall(root, &e);

	r->topology.action = rc > 0 ? "removed" : rc == 0 ? "none" : "failed";
	if (rc < 0)
		snprintf(r->topology.error, sizeof(r->topology.error), "%s", e.msg);
}

/* Our line in, or out; a file we must leave alone is reported. */
static void update_conf(int root, bool add, struct boot_report *r)
{
	struct ncclconf_file f;
	struct strbuf out = { 0 };
	struct err e = { { 0 } };
	char value[256];

	r->nccl_conf.action = "unchanged";
	if (ncclconf_open(root, add, &f, &e) < 0) {
		r->nccl_conf.action = add ? "failed" : "left alone";
		snprintf(r->nccl_conf.error, sizeof(r->nccl_conf.error), "%s", e.msg);
		if (!add)
			cli_error("warning: %s: %s: left alone", r->nccl_conf.path, e.msg);
		return;
	}
	if (ncclconf_value(f.text, "NCCL_TOPO_FILE", value, sizeof(value)) && strcmp(value, NCCL_TOPO_DEFAULT_PATH))
		cli_error("warning: %s sets NCCL_TOPO_FILE=%s: NCCL reads that file, never %s", r->nccl_conf.path,
			  value, NCCL_TOPO_DEFAULT_PATH);
	if (add)
		ncclconf_add(f.text, &out);
	else
		ncclconf_remove(f.text, &out);
	if (out.oom || !out.s) {
		r->nccl_conf.action = "failed";
		snprintf(r->nccl_conf.error, sizeof(r->nccl_conf.error), "out of memory");
	} else if (strcmp(out.s, f.text) && ncclconf_save(&f, out.s, out.len, &e) < 0) {
		r->nccl_conf.action = "failed";
		snprintf(r->nccl_conf.error, sizeof(r->nccl_conf.error), "%s", e.msg);
	} else if (strcmp(out.s, f.text)) {
		r->nccl_conf.action = add ? "line added" : "line removed";
	}
	sb_free(&out);
	ncclconf_close(&f);
}

/* Several GPUs, and not one pair shares a clique or gets P2P: nothing is
 * broken, but this is what a VM looks like whose host wrapper passed it
 * through (stale host facts, mode = off, an excluded VM): not "ok". */
static void no_p2p(const struct guest *g, struct boot_report *r)
{
	r->verdict = "no-p2p";
	snprintf(r->message, sizeof(r->message),
		 "no P2P between the %zu GPUs: no two share a clique and the driver grants none (on the host, "
		 "qemu-p2p vms says why); wrote %s",
		 g->n_gpus, r->topology.path);
}

static void healthy(int sysfs, int root, const struct guest *g, size_t tested, struct boot_report *r)
{
	write_topology(sysfs, root, g, r);
	update_conf(root, false, r);
	r->verdict = "ok";
	if (!strcmp(r->topology.action, "failed") || !strcmp(r->nccl_conf.action, "failed")) {
		r->verdict = "error";
		r->exit_status = 1;
		snprintf(r->message, sizeof(r->message), "P2P holds, but %s %s: %s",
			 !strcmp(r->topology.action, "failed") ? "cannot write"
							       : "cannot take our NCCL_P2P_DISABLE=1 out of",
			 !strcmp(r->topology.action, "failed") ? r->topology.path : r->nccl_conf.path,
			 !strcmp(r->topology.action, "failed") ? r->topology.error : r->nccl_conf.error);
	} else {
		if (tested)
			snprintf(
				r->message, sizeof(r->message),
				"P2P holds: %zu pair%s granted, %zu KiB written over P2P each way and read back by the "
				"owning GPU; wrote %s",
				tested, tested == 1 ? "" : "s", r->bytes >> 10, r->topology.path);
		else if (g->n_gpus > 1)
			no_p2p(g, r);
		else
			snprintf(r->message, sizeof(r->message),
				 "no two GPUs share a clique or P2P: nothing to test; wrote %s", r->topology.path);
		if (!strcmp(r->nccl_conf.action, "line removed"))
			snprintf(r->message + strlen(r->message), sizeof(r->message) - strlen(r->message),
				 "; took our NCCL_P2P_DISABLE=1 out of %s", r->nccl_conf.path);
	}
}

static void broken(int sysfs, int root, const struct guest *g, const struct datatest *dt, struct boot_report *r)
{
	size_t first = dt->n_pairs, more = 0;
	char name[64], done[1200], more_text[64] = "";

	for (size_t n = 0; n < dt->n_pairs; n++)
		if (failed(&r->pairs[n]) && first == dt->n_pairs)
			first = n;
		else if (failed(&r->pairs[n]))
			more++;
	if (more)
		snprintf(more_text, sizeof(more_text), " (and %zu more: qemu-p2p-guest status)", more);
	r->exit_status = 1;
	if (r->fallback) {
		r->verdict = "fallback";
		remove_topology(root, r);
		update_conf(root, true, r);
		snprintf(done, sizeof(done), "NCCL_P2P_DISABLE=1 %s %s, %s",
			 !strcmp(r->nccl_conf.action, "failed") ? "NOT put in" : "in", r->nccl_conf.path,
			 !strcmp(r->topology.action, "failed") ? "the topology file NOT removed" : "no topology file");
	} else {
		r->verdict = "broken";
		write_topology(sysfs, root, g, r);
		snprintf(done, sizeof(done), "fallback off: topology file %s, %s untouched",
			 !strcmp(r->topology.action, "failed") ? "NOT written" : "written", r->nccl_conf.path);
	}
	if (first == dt->n_pairs)
		snprintf(r->message, sizeof(r->message), "P2P %s: %s; %s", r->fallback ? "falls back" : "is broken",
			 dt->status == DT_TIMEOUT ? "the NVIDIA driver did not answer within the time limit" : dt->msg,
			 done);
	else
		snprintf(r->message, sizeof(r->message), "P2P %s: %s: %s: %s%s; %s",
			 r->fallback ? "falls back" : "is broken", pair_name(g, &dt->pairs[first], name, sizeof(name)),
			 r->pairs[first].verdict, r->pairs[first].why, more_text, done);
	if (!strcmp(r->nccl_conf.action, "failed"))
		snprintf(r->message + strlen(r->message), sizeof(r->message) - strlen(r->message), " (%s: %s)",
			 r->nccl_conf.path, r->nccl_conf.error);
}

/* Under systemd stderr is the journal (JOURNAL_STREAM names it): a "<3>"
 * prefix files the line at priority err (sd-daemon(3)), so that
 * journalctl -p err and monitoring see a fallback. */
static bool stderr_is_journal(void)
{
	const char *stream = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	return stream && sscanf(stream, "%lu:%lu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
	       st.st_dev == dev && st.st_ino == ino;
}

static void say(const struct boot_report *r, bool json)
{
	if (r->exit_status == 0) {
		if (!json)
			printf("%s boot: %s\n", program_invocation_short_name, r->message);
	} else if (r->exit_status == 1 && stderr_is_journal()) {
		fprintf(stderr, "<3>%s boot: %s\n", program_invocation_short_name, r->message);
	} else {
		cli_error("%s", r->message);
	}
}

/* The test and what follows from it. */
static void decide(int sysfs, int root, int proc, const struct guest *g, struct datatest *dt, struct boot_pair *pairs,
		   struct boot_report *r)
{
	bool hypervisor = peers_sees_hypervisor(proc), bad = !dt->started || dt->status != DT_DONE;
	size_t tested = 0;

	if (dt->status == DT_NO_DRIVER) {
		for (size_t n = 0; n < dt->n_pairs; n++)
			pairs[n] = (struct boot_pair){ .verdict = "not run", .why = "no usable NVIDIA driver" };
		r->verdict = "no-driver";
		r->exit_status = 2;
		snprintf(r->message, sizeof(r->message), "no usable NVIDIA driver: %s: nothing changed", dt->msg);
		return;
	}
	for (size_t n = 0; n < dt->n_pairs; n++) {
		judge(g, dt, n, hypervisor, r->timeout_s, &pairs[n]);
		bad |= failed(&pairs[n]);
		tested += n < dt->n_done && dt->pairs[n].tested;
	}
	if (bad)
		broken(sysfs, root, g, dt, r);
	else
		healthy(sysfs, root, g, tested, r);
}

/* Reads, tests, acts; the report as JSON. *said: the failure was said
 * already (by guestscan_usable). */
static struct json_object *run(int sysfs, int root, int proc, struct boot_report *r, bool *said)
{
	struct json_object *status;
	struct datatest dt = { 0 };
	struct boot_pair *pairs = NULL;
	struct guest g;
	int rc = guestscan_usable(sysfs, &g);

	if (rc) {
		r->verdict = rc == 2 ? "no-gpu" : "error";
		r->exit_status = rc;
		snprintf(r->message, sizeof(r->message), "%s: nothing changed",
			 rc == 2 ? "no NVIDIA GPU in this VM" : "cannot read the clique ids (run as root)");
		*said = true;
		return boot_status_json(r, time(NULL));
	}
	r->g = &g;
	if ((rc = datatest_run(&g, r->bytes, r->timeout_s, &dt)) < 0 ||
	    !(pairs = calloc(dt.n_pairs + 1, sizeof(*pairs)))) {
		r->verdict = "error";
		r->exit_status = 1;
		snprintf(r->message, sizeof(r->message), "cannot start the P2P test: %s: nothing changed",
			 strerror(rc < 0 ? -rc : ENOMEM));
	} else {
		r->dt = &dt;
		r->pairs = pairs;
		decide(sysfs, root, proc, &g, &dt, pairs, r);
	}
	status = boot_status_json(r, time(NULL));
	r->g = NULL;
	r->dt = NULL;
	r->pairs = NULL;
	free(pairs);
	datatest_free(&dt);
	guest_free(&g);
	return status;
}

int cmd_boot(int argc, char **argv)
{
	_cleanup_close_ int sysfs = -1, proc = -1, root = -1;
	struct boot_report r;
	struct json_object *status;
	struct err e = { { 0 } };
	struct opts o;
	char shown[512];
	bool said = false;
	int rc = parse(argc, argv, &o);

	if (rc)
		return rc < 0 ? 0 : rc;
	if (cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0 || cli_open_root(o.proc, "/proc", &proc) < 0 ||
	    cli_open_root(o.root, "/", &root) < 0)
		return 1;
	r = (struct boot_report){ .fallback = o.fallback,
				  .bytes = o.bytes,
				  .timeout_s = o.timeout_s,
				  .topology.action = "unchanged",
				  .nccl_conf.action = "unchanged" };
	rootfs_show(o.root, NCCL_TOPO_DEFAULT_PATH + 1, r.topology.path, sizeof(r.topology.path));
	rootfs_show(o.root, NCCLCONF_PATH, r.nccl_conf.path, sizeof(r.nccl_conf.path));
	status = run(sysfs, root, proc, &r, &said);
	if (!said)
		say(&r, o.json);
	if (boot_status_write(root, status, &e) < 0)
		cli_error("cannot write the status file %s: %s",
			  rootfs_show(o.root, BOOT_STATUS_DIR "/" BOOT_STATUS_NAME, shown, sizeof(shown)), e.msg);
	if (o.json)
		cli_print_json(status);
	else
		json_object_put(status);
	return r.exit_status;
}
