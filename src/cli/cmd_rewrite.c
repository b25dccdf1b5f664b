/* qemu-p2p rewrite: print the argv the wrapper would exec for a QEMU
 * command line, through the very code path the wrapper runs. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "resolve.h"
#include "rewrite.h"
#include "sysfs.h"
#include "virshargv.h"

static void help(void)
{
	printf("Usage: qemu-p2p rewrite [OPTIONS] -- QEMU-ARGS...\n"
	       "       qemu-p2p rewrite [OPTIONS] --virsh FILE|-\n\n"
	       "Print the argv qemu-p2p-wrap would exec for QEMU-ARGS (the first being the\n"
	       "program path, as libvirt passes it), one argument per line.\n\n"
	       "Options:\n"
	       "  -c, --config FILE    operator configuration (default /etc/qemu-p2p.conf)\n"
	       "      --sysfs DIR      sysfs root (default /sys)\n"
	       "      --proc DIR       proc root for fd= devices (default /proc)\n"
	       "      --fd N=ADDRESS   treat fd=N as the vfio device of PCI function ADDRESS\n"
	       "      --qemu PATH      the real QEMU the host facts must match (default: as the wrapper finds it)\n"
	       "      --virsh FILE     QEMU-ARGS as `virsh domxml-to-native qemu-argv` prints them\n"
	       "                       (environment first, shell quoting); - reads standard input\n"
	       "  -e, --explain        write each decision to stderr\n"
	       "  -0, --null           separate arguments with NUL instead of newline\n"
	       "  -h, --help           show this help\n");
}

struct opts {
	const char *config, *sysfs, *proc, *qemu, *virsh;
	struct fd_addr *fds;
	size_t n_fds;
	bool explain, nul;
};

static int parse_fd(struct opts *o, const char *arg)
{
	struct fd_addr f;
	char *end = NULL;
	long n = strtol(arg, &end, 10);

	if (end == arg || *end != '=' || n < 0 || n > 65535 || pci_addr_parse_qemu(end + 1, &f.addr) < 0)
		return cli_usage("rewrite", "--fd %s: write N=ADDRESS, e.g. --fd 23=0000:05:00.0", arg);
	f.fd = (int)n;
	return grow_array((void **)&o->fds, &o->n_fds, sizeof(f), &f) < 0 ? 1 : 0;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longs[] = {
		{ "config", required_argument, NULL, 'c' }, { "sysfs", required_argument, NULL, 's' },
		{ "proc", required_argument, NULL, 'p' },   { "fd", required_argument, NULL, 'f' },
		{ "qemu", required_argument, NULL, 'q' },   { "virsh", required_argument, NULL, 'v' },
		{ "explain", no_argument, NULL, 'e' },      { "null", no_argument, NULL, '0' },
		{ "help", no_argument, NULL, 'h' },         { 0 },
	};
	int c, r;

	while ((c = getopt_long(argc, argv, "+c:e0h", longs, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->sysfs = optarg; break;
		case 'p': o->proc = optarg; break;
		case 'q': o->qemu = optarg; break;
		case 'v': o->virsh = optarg; break;
		case 'e': o->explain = true; break;
		case '0': o->nul = true; break;
		case 'f':
			if ((r = parse_fd(o, optarg)))
				return r;
			break;
		case 'h': help(); return -1;
		default: return cli_bad_option("rewrite", argv, longs);
		}
	}
	if (o->virsh && optind < argc)
		return cli_usage("rewrite", "--virsh %s gives the command line: no QEMU-ARGS with it", o->virsh);
	if (!o->virsh && optind >= argc)
		return cli_usage("rewrite", "give the QEMU command line after --, or --virsh FILE");
	return 0;
}

static int run(const struct opts *o, int argc, char **argv)
{
	_cleanup_free_ char *real = NULL;
	_cleanup_close_ int sysfs = -1, proc = -1;
	struct config cfg = { 0 };
	struct rewrite_out out = { 0 };
	struct err e = { { 0 } };
	const char *arch = resolve_arch_from_name(argv[0]);
	int r;

	if (cli_config_load(o->config, &cfg) < 0 || cli_open_root(o->sysfs, SYSFS_DEFAULT_ROOT, &sysfs) < 0) {
		config_free(&cfg);
		return 1;
	}
	if (sysfs_open(o->proc ? o->proc : "/proc", &proc) < 0)
		proc = -1;
	if (o->qemu)
		real = strdup(o->qemu);
	else if (cli_real_qemu(&cfg, arch ? arch : RESOLVE_DEFAULT_ARCH, &real, &e) < 0)
		cli_error("%s", e.msg);
	struct rewrite_env env = {
		.sysfs = sysfs, .proc = proc, .fds = o->fds, .n_fds = o->n_fds, .real_binary = real ? real : ""
	};
	r = rewrite_argv(&cfg, argc, argv, &env, &out);
	if (r == 0) {
		for (int i = 0; i < out.argc; i++)
			printf("%s%c", out.argv[i], o->nul ? '\0' : '\n');
		if (o->explain) {
			for (size_t i = 0; i < cfg.op.n_warnings; i++)
				fprintf(stderr, "qemu-p2p: %s\n", cfg.op.warnings[i]);
			for (size_t i = 0; i < cfg.host.n_warnings; i++)
				fprintf(stderr, "qemu-p2p: %s\n", cfg.host.warnings[i]);
			fprintf(stderr, "qemu-p2p: %s\nqemu-p2p: exec %s\n",
				out.summary
					? out.summary
					: "a capability probe (-machine none), -version or a help request; unchanged",
				real ? real : "(no QEMU found)");
		}
	}
	rewrite_out_free(&out);
	config_free(&cfg);
	return r < 0 ? 1 : 0;
}

int cmd_rewrite(int argc, char **argv)
{
	struct opts o = { 0 };
	struct err e = { { 0 } };
	char **virsh_argv = NULL;
	int r = parse(argc, argv, &o);

	if (r == 0 && o.virsh) {
		if (virsh_argv_read(o.virsh, &argc, &virsh_argv, &e) < 0) {
			cli_error("--virsh %s: %s", o.virsh, e.msg);
			r = 1;
		} else {
			r = run(&o, argc, virsh_argv);
		}
	} else if (r == 0) {
		r = run(&o, argc - optind, argv + optind);
	}
	virsh_argv_free(virsh_argv);
	free(o.fds);
	return r < 0 ? 0 : r;
}
