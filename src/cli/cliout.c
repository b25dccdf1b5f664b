/* Output and roots shared by qemu-p2p and qemu-p2p-guest (see cliout.h). */
#include "cliout.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sysfs.h"

/* The command being run, for messages; set by cli_dispatch. */
static const char *current;
/* --json was asked for and no JSON object has been printed yet: an error
 * exit then prints {"version":1,"error":...} with the last error said. */
static bool json_wanted, json_printed;
static char last_error[512];

static void say(const char *fmt, va_list ap)
{
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	if (current)
		fprintf(stderr, "%s %s: %s\n", program_invocation_short_name, current, last_error);
	else
		fprintf(stderr, "%s: %s\n", program_invocation_short_name, last_error);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(fmt, ap);
	va_end(ap);
}

const char *cli_root_path(const char *opt, const char *dflt)
{
	const char *env = !strcmp(dflt, SYSFS_DEFAULT_ROOT) ? getenv("QEMU_P2P_SYSFS") : NULL;

	return opt ? opt : env && env[0] ? env : dflt;
}

int cli_open_root(const char *opt, const char *dflt, int *fd)
{
	const char *path = cli_root_path(opt, dflt);
	int r = sysfs_open(path, fd);

	if (r < 0)
		cli_error("cannot open %s: %s", path, strerror(-r));
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
		default: return cli_bad_option(cmd, argv, longs);
		}
	}
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	v->path = cli_root_path(root, SYSFS_DEFAULT_ROOT);
	return cli_open_root(root, SYSFS_DEFAULT_ROOT, &v->sysfs) < 0 ? 1 : -1;
}

void cli_print_json(struct json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	json_printed = true;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (cmd)
		cli_error("%s%s See \"%s help %s\".", msg, msg[0] && msg[strlen(msg) - 1] == '?' ? "" : ".",
			  program_invocation_short_name, cmd);
	else
		cli_error("%s%s See \"%s --help\".", msg, msg[0] && msg[strlen(msg) - 1] == '?' ? "" : ".",
			  program_invocation_short_name);
	return EXIT_USAGE;
}

/* The long option closest to what was typed (without its dashes). */
static const char *near_option(const char *typed, const struct option *longs)
{
	const char *names[64];
	size_t n = 0;
	char word[64];

	snprintf(word, sizeof(word), "%.*s", (int)strcspn(typed, "="), typed);
	for (; longs[n].name && n < ARRAY_SIZE(names); n++)
		names[n] = longs[n].name;
	return nearest_word(word, names, n);
}

int cli_bad_option(const char *cmd, char **argv, const struct option *longs)
{
	const char *typed = optind > 0 ? argv[optind - 1] : "";
	const char *near;

	for (const struct option *o = longs; optopt && o->name; o++)
		if (o->val == optopt && o->has_arg == required_argument)
			return cli_usage(cmd, "--%s needs a value", o->name);
	if (optopt)
		return cli_usage(cmd, "-%c: unknown option", optopt);
	near = !strncmp(typed, "--", 2) ? near_option(typed + 2, longs) : NULL;
	if (near)
		return cli_usage(cmd, "%s: unknown option; did you mean --%s?", typed, near);
	return cli_usage(cmd, "%s: unknown option", typed);
}

static void usage(FILE *out, const struct cli_command *cmds, size_t n, const char *about)
{
	const char *prog = program_invocation_short_name;

	fprintf(out, "Usage: %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", prog, about);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "  %-10s %s\n", "help", "this list, or a command's options (help COMMAND)");
	fprintf(out,
		"\nOptions:\n  -h, --help     show this help\n  -V, --version  show the version\n"
		"\nRun \"%s help COMMAND\" for a command's options. See %s(%d).\n",
		prog, prog, strcmp(prog, "qemu-p2p") ? 1 : 8);
}

static const struct cli_command *find(const struct cli_command *cmds, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(name, cmds[i].name))
			return &cmds[i];
	return NULL;
}

static int unknown_command(const struct cli_command *cmds, size_t n, const char *name)
{
	const char *names[32], *near;
	size_t k = 0;

	for (; k < n && k < ARRAY_SIZE(names); k++)
		names[k] = cmds[k].name;
	near = nearest_word(name, names, k);
	if (near)
		cli_error("'%s': unknown command; did you mean '%s'? (\"%s help\" lists them)", name, near,
			  program_invocation_short_name);
	else
		cli_error("'%s': unknown command; \"%s help\" lists them", name, program_invocation_short_name);
	return EXIT_USAGE;
}

/* help [COMMAND]: the list, or the command's own --help. */
static int help_command(const struct cli_command *cmds, size_t n, const char *about, int argc, char **argv)
{
	const struct cli_command *c;
	char *args[] = { NULL, (char *)"--help", NULL };

	if (argc < 3 || argv[2][0] == '-') {
		usage(stdout, cmds, n, about);
		return 0;
	}
	if (!(c = find(cmds, n, argv[2])))
		return unknown_command(cmds, n, argv[2]);
	args[0] = argv[2];
	current = c->name;
	return c->run(2, args);
}

void cli_json_begin(int argc, char **argv, int first)
{
	json_wanted = false;
	for (int i = first; i < argc && strcmp(argv[i], "--"); i++)
		json_wanted |= !strcmp(argv[i], "--json") || !strcmp(argv[i], "-j");
}

int cli_json_end(int rc)
{
	struct json_object *j;

	if (!rc || !json_wanted || json_printed)
		return rc;
	j = json_object_new_object();
	json_object_object_add(j, "version", json_object_new_int(1));
	json_object_object_add(j, "error", json_object_new_string(last_error[0] ? last_error : "failed"));
	json_object_object_add(j, "exit_status", json_object_new_int(rc));
	cli_print_json(j);
	return rc;
}

int cli_dispatch(const struct cli_command *cmds, size_t n, const char *about, int argc, char **argv)
{
	const struct cli_command *c;

	/* getopt's own messages would be a second, differently shaped line. */
	opterr = 0;
	if (argc < 2) {
		usage(stderr, cmds, n, about);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return help_command(cmds, n, about, 2, argv);
	if (!strcmp(argv[1], "help"))
		return help_command(cmds, n, about, argc, argv);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("%s %s\n", program_invocation_short_name, QEMU_P2P_VERSION);
		return 0;
	}
	if (!(c = find(cmds, n, argv[1])))
		return unknown_command(cmds, n, argv[1]);
	current = c->name;
	cli_json_begin(argc, argv, 2);
	return cli_json_end(c->run(argc - 1, argv + 1));
}
