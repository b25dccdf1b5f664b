/* Output and roots shared by qemu-p2p and qemu-p2p-guest (see cliout.h). */
#include "cliout.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

int cli_open_root(const char *opt, const char *dflt, int *fd)
{
	const char *env = !strcmp(dflt, SYSFS_DEFAULT_ROOT) ? getenv("QEMU_P2P_SYSFS") : NULL;
	const char *path = opt ? opt : env && env[0] ? env : dflt;
	int r = sysfs_open(path, fd);

	if (r < 0)
		fprintf(stderr, "%s: cannot open %s: %s\n", program_invocation_short_name, path, strerror(-r));
	return r;
}

int cli_view_open(int argc, char **argv, const char *cmd, void (*help)(void), struct cli_view *v)
{
	static const struct option longs[] = {
		{ "sysfs", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *root = NULL;
	int c;

	*v = (struct cli_view){ .sysfs = -1 };
	while ((c = getopt_long(argc, argv, "jh", longs, NULL)) != -1) {
		switch (c) {
		case 's': root = optarg; break;
		case 'j': v->json = true; break;
		case 'h': help(); return 0;
		default: return cli_usage(cmd, "unknown option");
		}
	}
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	return cli_open_root(root, SYSFS_DEFAULT_ROOT, &v->sysfs) < 0 ? 1 : -1;
}

void cli_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s %s: ", program_invocation_short_name, cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun \"%s %s --help\" for usage.\n", program_invocation_short_name, cmd);
	return EXIT_USAGE;
}

static void usage(FILE *out, const struct cli_command *cmds, size_t n, const char *about)
{
	const char *prog = program_invocation_short_name;

	fprintf(out, "Usage: %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", prog, about);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out,
		"\nOptions:\n  -h, --help     show this help\n  -V, --version  show the version\n"
		"\nRun \"%s COMMAND --help\" for a command's options. See %s(%d).\n",
		prog, prog, strcmp(prog, "qemu-p2p") ? 1 : 8);
}

int cli_dispatch(const struct cli_command *cmds, size_t n, const char *about, int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr, cmds, n, about);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout, cmds, n, about);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", program_invocation_short_name, QEMU_P2P_VERSION);
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strcmp(argv[1], cmds[i].name))
			return cmds[i].run(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'; run \"%s --help\"\n", program_invocation_short_name, argv[1],
		program_invocation_short_name);
	return EXIT_USAGE;
}
