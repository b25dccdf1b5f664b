/* qemu-p2p-guest nccl-topo: writes the NCCL topology of this VM (see
 * ncclxml.h) where NCCL looks without NCCL_TOPO_FILE, and says, pair by
 * pair, whether NCCL uses P2P today (by its release and the guest's CPU and
 * NUMA placement: nccltoday.h) and with the file. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomicfile.h"
#include "commands.h"
#include "guesttopo.h"
#include "ncclconf.h"
#include "nccltoday.h"
#include "rootfs.h"
#include "sysfs.h"

#define MAX_RELEASES 8

static void help(void)
{
	printf("Usage: qemu-p2p-guest nccl-topo [OPTIONS]\n\n"
	       "Write the NCCL topology of this VM: the GPUs of each clique under one synthetic\n"
	       "PCIe switch, so that NCCL uses P2P between them: its default P2P level is PXB\n"
	       "(GPUs under one switch) on Intel and ARM, and on AMD from NCCL 2.23.4 with more\n"
	       "than 2 GPUs; a VM's root ports are PHB, and SYS across guest NUMA nodes. Each GPU\n"
	       "keeps its bus id; GPUs without a clique are left where they are. NCCL 2.10.3 and\n"
	       "newer read the default file when NCCL_TOPO_FILE is unset. Then says, pair by pair,\n"
	       "whether NCCL uses P2P today (by its release, read from libnccl or nccl.h, and the\n"
	       "CPU) and with the file. Reads config space: run as root.\n\n"
	       "Options:\n"
	       "  -o, --output FILE         where to write (default %s\n"
	       "                            below --root; - for stdout)\n"
	       "      --nic-with GPU=NIC    put network function NIC (a passed-through ConnectX)\n"
	       "                            beside GPU, for GPUDirect RDMA; repeatable\n"
	       "      --nccl-version X.Y.Z  the NCCL release the jobs use (e.g. one in a Python\n"
	       "                            environment), instead of the one found installed\n"
	       "      --sysfs DIR           sysfs root (default /sys)\n"
	       "      --proc DIR            proc root (default /proc), for cpuinfo's CPU vendor\n"
	       "      --root DIR            root of the files NCCL reads and of the default\n"
	       "                            output (default /)\n"
	       "  -q, --quiet               no report\n"
	       "  -h, --help                show this help\n",
	       NCCL_TOPO_DEFAULT_PATH);
}

struct opts {
	const char *output, *sysfs, *proc, *root;
	struct pci_addr pairs[2 * NCCL_MAX_SWITCHES]; /* GPU, NIC, GPU, NIC ... */
	size_t n_pairs;
	int nccl_code; /* --nccl-version, 0 when not given */
	bool quiet;
};

static int parse_addr(const char *s, struct pci_addr *a)
{
	return pci_addr_parse_qemu(s, a) == 0 || pci_addr_parse_sysfs(s, a) == 0 ? 0 : -1;
}

static int add_nic(struct opts *o, const char *arg)
{
	char gpu[64];
	const char *eq = strchr(arg, '=');

	if (!eq || (size_t)(eq - arg) >= sizeof(gpu) || o->n_pairs + 2 > ARRAY_SIZE(o->pairs))
		return cli_usage("nccl-topo", "--nic-with %s: write GPU=NIC, e.g. 0000:01:00.0=0000:05:00.0", arg);
	snprintf(gpu, sizeof(gpu), "%.*s", (int)(eq - arg), arg);
	if (parse_addr(gpu, &o->pairs[o->n_pairs]) < 0 || parse_addr(eq + 1, &o->pairs[o->n_pairs + 1]) < 0)
		return cli_usage("nccl-topo", "--nic-with %s: GPU and NIC are PCI addresses (DDDD:BB:SS.F)", arg);
	o->n_pairs += 2;
	return 0;
}

static int parse_version(const char *s, int *code)
{
	int major, minor, patch, end = 0;

	if (sscanf(s, "%d.%d.%d%n", &major, &minor, &patch, &end) != 3 || s[end] || major != 2 || minor < 0 ||
	    minor > 99 || patch < 0 || patch > 99)
		return cli_usage("nccl-topo", "--nccl-version %s: an NCCL release such as 2.23.4", s);
	*code = NCCL_CODE(major, minor, patch);
	return 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "nic-with", required_argument, NULL, 'n' },
		{ "nccl-version", required_argument, NULL, 'v' },
		{ "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },
		{ "root", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	int c, r = 0;

	o->root = "/";
	while ((c = getopt_long(argc, argv, "o:qh", longs, NULL)) != -1) {
		switch (c) {
		case 'o': o->output = optarg; break;
		case 's': o->sysfs = optarg; break;
		case 'p': o->proc = optarg; break;
		case 'r': o->root = optarg; break;
		case 'q': o->quiet = true; break;
		case 'n': r = add_nic(o, optarg); break;
		case 'v': r = parse_version(optarg, &o->nccl_code); break;
		case 'h': help(); return -1;
		default: return cli_bad_option("nccl-topo", argv, longs);
		}
		if (r)
			return r;
	}
	if (optind < argc)
		return cli_usage("nccl-topo", "unexpected argument '%s'", argv[optind]);
	return 0;
}

/* What NCCL would do without the file: its release(s), the CPU. */
struct view {
	struct nccl_release rel[MAX_RELEASES];
	size_t n_rel;
	bool ranges[2]; /* [enum nccl_range]: shown */
	enum nccl_cpu cpu;
	char cpu_name[64];
	size_t n_gpus;
};

static void read_view(const struct opts *o, int root, int proc, size_t n_gpus, struct view *v)
{
	_cleanup_free_ char *cpuinfo = NULL;

	*v = (struct view){ .n_gpus = n_gpus };
	if (o->nccl_code) {
		v->rel[0].code = o->nccl_code;
		snprintf(v->rel[0].from, sizeof(v->rel[0].from), "--nccl-version");
		v->n_rel = 1;
	} else {
		v->n_rel = nccl_find_releases(root, v->rel, ARRAY_SIZE(v->rel));
	}
	for (size_t i = 0; i < v->n_rel; i++)
		if (v->rel[i].code >= NCCL_FILE_FROM)
			v->ranges[v->rel[i].code >= NCCL_NEW_FROM] = true;
	if (!v->ranges[NCCL_OLD] && !v->ranges[NCCL_NEW])
		v->ranges[NCCL_OLD] = v->ranges[NCCL_NEW] = true; /* unknown: both */
	if (read_file_at(proc, "cpuinfo", 1 << 22, &cpuinfo, NULL) < 0)
		cpuinfo = NULL;
	v->cpu = nccl_cpu_of(cpuinfo ? cpuinfo : "", v->cpu_name, sizeof(v->cpu_name));
}

static const char *level_words(enum link_level l)
{
	return l == LINK_SYS   ? "SYS: P2P at any distance"
	       : l == LINK_PXB ? "PXB: P2P under one PCIe switch"
			       : "unknown";
}

static void say_view(FILE *out, const struct view *v)
{
	static const char *const range_name[] = { "2.10.3 to 2.23.3", "2.23.4 and later" };
	char ver[16];

	if (v->n_rel == 0)
		fprintf(out, "NCCL: no release found (no libnccl.so.2.X.Y, no nccl.h; --nccl-version says it):\n"
			     "both release ranges considered.\n");
	for (size_t i = 0; i < v->n_rel; i++)
		fprintf(out, "NCCL %s (%s)%s\n", nccl_code_text(v->rel[i].code, ver, sizeof(ver)), v->rel[i].from,
			v->rel[i].code < NCCL_FILE_FROM ? ": older than 2.10.3, never reads the default file" : "");
	fprintf(out, "CPU: %s (%s), %zu GPUs\n", nccl_cpu_name(v->cpu), v->cpu_name, v->n_gpus);
	for (int r = NCCL_OLD; r <= NCCL_NEW; r++)
		if (v->ranges[r])
			fprintf(out, "NCCL %s on this CPU: default P2P level %s\n", range_name[r],
				level_words(nccl_p2p_level((enum nccl_range)r, v->cpu, v->n_gpus)));
	if (v->ranges[NCCL_NEW] && v->cpu == NCCL_CPU_AMD && v->n_gpus > 2)
		fprintf(out, "(From 2.23.4 NCCL counts the GPUs of each communicator: a job on 2 of them gets SYS.)\n");
}

/* NCCL's choice for a pair at a level: P2P needs its topology to allow it
 * and the driver to grant it, which it does only within a clique (FACTS
 * §8); "?" where the CPU or a GPU's place is unknown. */
static const char *decision(bool common, enum link_level path, enum link_level level)
{
	if (!common)
		return "no P2P (no clique)";
	if (path == LINK_AUTO || level == LINK_AUTO)
		return "?";
	return path <= level ? "P2P" : "no P2P (staged)";
}

/* The release ranges shown as "today" columns: one when both ranges agree
 * on this CPU. Returns how many. */
static int columns(const struct view *v, enum nccl_range *cols)
{
	if (v->ranges[NCCL_OLD] && v->ranges[NCCL_NEW] &&
	    nccl_p2p_level(NCCL_OLD, v->cpu, v->n_gpus) != nccl_p2p_level(NCCL_NEW, v->cpu, v->n_gpus)) {
		cols[0] = NCCL_OLD;
		cols[1] = NCCL_NEW;
		return 2;
	}
	cols[0] = v->ranges[NCCL_OLD] ? NCCL_OLD : NCCL_NEW;
	return 1;
}

static void pair_line(FILE *out, const struct guest *g, const struct guest_topo *t, const struct view *v, size_t i,
		      size_t k)
{
	char a[PCI_ADDR_STRLEN], b[PCI_ADDR_STRLEN], cl[16];
	enum link_level path = nccl_guest_path(&g->gpus[i], &g->gpus[k]);
	int ca = t->gpus[i].clique, cb = t->gpus[k].clique;
	bool joined = t->gpus[i].sw >= 0 && t->gpus[i].sw == t->gpus[k].sw;
	enum nccl_range cols[2];
	int n = columns(v, cols);

	snprintf(cl, sizeof(cl), "%d/%d", ca, cb);
	fprintf(out, "%s-%-16s %-9s %-4s", pci_addr_format(&g->gpus[i].fn->addr, a),
		pci_addr_format(&g->gpus[k].fn->addr, b), ca < 0 || cb < 0 ? "-" : cl,
		path == LINK_AUTO ? "?" : link_level_name(path));
	for (int c = 0; c < n; c++)
		fprintf(out, " %-18s", decision(ca >= 0 && ca == cb, path, nccl_p2p_level(cols[c], v->cpu, v->n_gpus)));
	fprintf(out, " %s\n", joined ? "PIX: P2P" : "unchanged: no common clique");
}

/* NCCL reads the default file only when NCCL_TOPO_FILE is unset, and it
 * takes /etc/nccl.conf's lines as environment variables. */
static void topo_file_warning(FILE *out, int root, const char *rootpath)
{
	_cleanup_close_ int etc = -1;
	_cleanup_free_ char *conf = NULL;
	const char *env = getenv("NCCL_TOPO_FILE"), *where = "the environment";
	char value[256], shown[512];

	if ((!env || !env[0]) && rootfs_dir(root, "etc", false, &etc, NULL) == 0 &&
	    read_file_at(etc, "nccl.conf", 1 << 20, &conf, NULL) == 0 &&
	    (env = ncclconf_value(conf, "NCCL_TOPO_FILE", value, sizeof(value))))
		where = rootfs_show(rootpath, NCCLCONF_PATH, shown, sizeof(shown));
	if (env && env[0] && strcmp(env, NCCL_TOPO_DEFAULT_PATH))
		fprintf(out,
			"Warning: NCCL_TOPO_FILE is set in %s (%s): NCCL then reads that file and never\n"
			"%s; unset it, or point it there.\n",
			where, env, NCCL_TOPO_DEFAULT_PATH);
}

static void report(FILE *out, const struct guest *g, const struct guest_topo *t, const struct view *v, int root,
		   const char *rootpath)
{
	enum nccl_range cols[2];

	say_view(out, v);
	fprintf(out, "\n%-29s %-9s %-4s", "GPU pair", "cliques", "path");
	if (columns(v, cols) == 2)
		fprintf(out, " %-18s %-18s", "today (<2.23.4)", "today (>=2.23.4)");
	else
		fprintf(out, " %-18s", "today");
	fprintf(out, " with this file\n");
	for (size_t i = 0; i < g->n_gpus; i++)
		for (size_t k = i + 1; k < g->n_gpus; k++)
			pair_line(out, g, t, v, i, k);
	for (size_t s = 0; s < t->n_sw; s++)
		if (t->sw[s].mixed_numa)
			fprintf(out,
				"Clique %d spans NUMA nodes: its switch sits on node %ld, so NCCL may pin the\n"
				"threads of its other GPUs to node %ld's CPUs.\n",
				t->sw[s].clique, t->sw[s].numa, t->sw[s].numa);
	topo_file_warning(out, root, rootpath);
}

/* -o FILE (the operator's path, as given), -o - or NCCL's default path
 * below --root (links an unprivileged user could plant not followed). */
static int write_out(const struct opts *o, int root, const struct guest_topo *t)
{
	struct err e = { { 0 } };
	char shown[512];

	if (o->output && !strcmp(o->output, "-"))
		return fputs(t->xml.s, stdout) < 0 ? 1 : 0;
	if (o->output ? atomic_write(o->output, t->xml.s, t->xml.len, 0644, &e) < 0
		      : guest_topo_install(root, t, &e) < 0) {
		cli_error("cannot write %s: %s%s",
			  o->output ? o->output
				    : rootfs_show(o->root, NCCL_TOPO_DEFAULT_PATH + 1, shown, sizeof(shown)),
			  e.msg, geteuid() ? " (run as root)" : "");
		return 1;
	}
	return 0;
}

static int build(int sysfs, int root, int proc, const struct opts *o, const struct guest *g)
{
	struct guest_topo t;
	struct view v;
	char shown[512];
	int r = guest_topo_build(sysfs, g, o->pairs, o->n_pairs / 2, &t);

	if (r)
		return r < 0 ? (cli_error("out of memory"), 1) : r;
	r = write_out(o, root, &t);
	if (r == 0 && !o->quiet) {
		bool to_stdout = o->output && !strcmp(o->output, "-");
		FILE *out = to_stdout ? stderr : stdout;

		if (!to_stdout)
			fprintf(out, "Wrote %s: %zu synthetic switch%s.\n\n",
				o->output ? o->output
					  : rootfs_show(o->root, NCCL_TOPO_DEFAULT_PATH + 1, shown, sizeof(shown)),
				t.n_sw, t.n_sw == 1 ? "" : "es");
		read_view(o, root, proc, g->n_gpus, &v);
		report(out, g, &t, &v, root, o->root);
	}
	guest_topo_free(&t);
	return r;
}

int cmd_nccl_topo(int argc, char **argv)
{
	struct opts o = { 0 };
	_cleanup_close_ int sysfs = -1, proc = -1, root = -1;
	struct guest g;
	int r = parse(argc, argv, &o);

	if (r)
		return r < 0 ? 0 : r;
	if (cli_open_root(o.sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0 || cli_open_root(o.proc, "/proc", &proc) < 0 ||
	    cli_open_root(o.root, "/", &root) < 0)
		return 1;
	if (guestscan_usable(sysfs, &g))
		return 1;
	r = build(sysfs, root, proc, &o, &g);
	guest_free(&g);
	return r;
}
