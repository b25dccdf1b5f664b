/* What every command of qemu-p2p and qemu-p2p-guest shares: the usage
 * error, JSON on stdout, opening a sysfs or proc root. Messages carry the
 * program's own name. */
#ifndef QP2P_CLIOUT_H
#define QP2P_CLIOUT_H

#include <getopt.h>
#include <json.h>

#include "util.h"

#define EXIT_USAGE 64

/* Opens --sysfs (default $QEMU_P2P_SYSFS, else /sys) or another root as a
 * directory; prints why on failure. */
int cli_open_root(const char *opt, const char *dflt, int *fd);

/* The path cli_open_root opens (borrowed). */
const char *cli_root_path(const char *opt, const char *dflt);

/* A command that only shows a sysfs tree: --sysfs DIR, --json, --help. */
struct cli_view {
	int sysfs;        /* opened; the caller closes it */
	const char *path; /* its path, for messages */
	bool json;
};

/* Parses those options for command cmd and opens the tree. Returns -1 to
 * go on, or the exit status to end with: 0 after help(), EXIT_USAGE, or 1
 * when the tree cannot be opened (said on stderr). */
int cli_view_open(int argc, char **argv, const char *cmd, void (*help)(void), struct cli_view *v);

/* Prints one JSON object followed by a newline, then drops it. */
void cli_print_json(struct json_object *o);

/* The one error shape, on stderr: "PROGRAM COMMAND: WHAT: WHY", one line
 * (say which path or argument, what is wrong, what to do). Under --json the
 * message also becomes the error object printed when the command fails
 * without having printed JSON. */
void cli_error(const char *fmt, ...) _printf_(1, 2);

/* A usage error: "PROGRAM CMD: MSG. See "PROGRAM help CMD"." (one line,
 * stderr; cmd NULL: a program without commands, "See "PROGRAM --help"");
 * returns EXIT_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...) _printf_(2, 3);

/* What getopt_long refused (opterr is off): the unknown option with the
 * nearest long one, or the option that lacks its value. EXIT_USAGE. */
int cli_bad_option(const char *cmd, char **argv, const struct option *longs);

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

/* What cli_dispatch does around a command, for a program without
 * commands (p2pbench): begin notes whether argv[first..] asks for --json;
 * end prints {"version":1,"error":...,"exit_status":rc} when rc is a
 * failure and no JSON was printed, and returns rc. */
void cli_json_begin(int argc, char **argv, int first);
int cli_json_end(int rc);

/* PROGRAM COMMAND [OPTIONS]: runs the command named in argv[1] with the
 * rest; answers help [COMMAND], -h/--help (with `about` and the table),
 * -V/--version, and a missing or unknown command (EXIT_USAGE, with the
 * nearest name). A failing command run with --json that printed no JSON
 * gets {"version":1,"error":...,"exit_status":N} on stdout. */
int cli_dispatch(const struct cli_command *cmds, size_t n, const char *about, int argc, char **argv);

#endif
