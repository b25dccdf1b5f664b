/* qemu-p2p-wrap: started by libvirt (or Proxmox) instead of QEMU; adds
 * x-nv-gpudirect-clique to eligible GPUs and execs the real QEMU in place.
 *
 * RULES (MUST), from DESIGN "The wrapper's path":
 *  - fail open: any problem execs the real QEMU with the original argv and
 *    says so in one line on stderr (the VM's log);
 *  - exec in place: no fork, no descriptor of the caller closed or moved,
 *    nothing on stdout; our own descriptors are O_CLOEXEC;
 *  - never exec ourselves: resolve_qemu() skips our inode; when no other
 *    QEMU exists, say so and exit 127;
 *  - if exec of the rewritten argv fails (E2BIG...), exec the original;
 *  - no log write and no crash stops a start, and QEMU inherits the signal
 *    dispositions and mask the wrapper got (failsafe.h).
 * QEMU_P2P_CONFIG and QEMU_P2P_SYSFS exist for tests only: libvirt clears
 * the environment, so production reads /etc/qemu-p2p.conf and /sys. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/auxv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "failsafe.h"
#include "resolve.h"
#include "rewrite.h"
#include "sysfs.h"
#include "util.h"

/* Lets `qemu-p2p` recognise an installed copy of this program. */
__attribute__((used)) static const char wrapper_marker[] = WRAPPER_MARKER;

static void say(enum log_target t, const char *line)
{
	if (t == LOGT_STDERR || t == LOGT_BOTH)
		fprintf(stderr, "qemu-p2p: %s\n", line);
	if (t == LOGT_SYSLOG || t == LOGT_BOTH) {
		openlog("qemu-p2p", LOG_PID, LOG_DAEMON);
		syslog(LOG_INFO, "%s", line);
		closelog(); /* its socket must not reach QEMU */
	}
}

static void say_warnings(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->op.n_warnings; i++)
		say(cfg->log, cfg->op.warnings[i]);
	for (size_t i = 0; i < cfg->host.n_warnings; i++)
		say(cfg->log, cfg->host.warnings[i]);
}

/* The wrapper's own path, for never exec'ing itself: /proc/self/exe, else
 * (no /proc) the path it was exec'd by. No allocation. */
static const char *self_path(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	const char *execfn = (const char *)getauxval(AT_EXECFN);

	if (n > 0) {
		buf[n] = '\0';
		return buf;
	}
	return execfn && execfn[0] == '/' ? execfn : NULL;
}

static const char *pick_arch(const char *argv0, const char *self)
{
	const char *a = argv0 ? resolve_arch_from_name(argv0) : NULL;

	if (!a && self)
		a = resolve_arch_from_name(self);
	return a ? a : RESOLVE_DEFAULT_ARCH;
}

static const char *root_path(const char *env, const char *dflt)
{
	const char *path = getenv(env);

	return path && path[0] ? path : dflt;
}

/* Decide and exec; returns only when neither argv could be exec'd. */
static void run(const struct config *cfg, const char *real, int argc, char **argv)
{
	struct rewrite_out out = { 0 };
	struct rewrite_env env = { .proc = -1, .proc_root = root_path("QEMU_P2P_PROC", "/proc"), .real_binary = real };
	int r;

	if (sysfs_open(root_path("QEMU_P2P_SYSFS", SYSFS_DEFAULT_ROOT), &env.sysfs) < 0)
		env.sysfs = -1;
	if (env.sysfs < 0) {
		char why[1024];

		/* A rejected configuration is the cause to fix first (both are
		 * what a confinement without our rules denies). */
		if (!cfg->valid)
			snprintf(why, sizeof(why), "configuration rejected: %s; VM started unchanged", cfg->error);
		say(LOGT_STDERR, cfg->valid ? "cannot open the sysfs root; VM started unchanged" : why);
		r = -ENOENT;
	} else {
		r = rewrite_argv(cfg, argc, argv, &env, &out);
	}
	if (r < 0 && env.sysfs >= 0)
		say(LOGT_STDERR, "out of memory while reading the command line; VM started unchanged");
	if (env.sysfs >= 0)
		close(env.sysfs);
	if (r == 0 && out.summary) {
		say_warnings(cfg);
		say(cfg->log, out.summary);
	}
	if (r == 0 && out.changed) {
		failsafe_exec(real, out.argv);
		fprintf(stderr, "qemu-p2p: exec %s with cliques failed (%s); starting it unchanged\n", real,
			strerror(errno));
	}
	rewrite_out_free(&out);
	failsafe_exec(real, argv);
}

int main(int argc, char **argv)
{
	static char self_buf[PATH_MAX], real[PATH_MAX];
	const char *self = self_path(self_buf, sizeof(self_buf));
	const char *cfg_path = getenv("QEMU_P2P_CONFIG");
	struct config cfg = { 0 };
	struct err e = { { 0 } };
	int r;
	struct resolve_in in = {
		.self = self,
		.arch = pick_arch(argc > 0 ? argv[0] : NULL, self),
		.search_path = RESOLVE_STD_PATH,
		.fallback = RESOLVE_RHEL_QEMU,
	};
	const struct resolve_in without_config = in;

	(void)wrapper_marker;
	if (argc < 1)
		return 127;
	failsafe_arm(argv, &without_config);
	config_load(cfg_path && cfg_path[0] ? cfg_path : CONFIG_DEFAULT_PATH, &cfg);
	in.config_binary = cfg.binary;
	if (resolve_qemu(&in, real, sizeof(real), &e) < 0) {
		fprintf(stderr, "qemu-p2p: %s; install QEMU or set [qemu] binary\n", e.msg);
		config_free(&cfg);
		return 127;
	}
	failsafe_set_qemu(real);
	if (cfg.binary && strcmp(cfg.binary, real))
		fprintf(stderr,
			"qemu-p2p: [qemu] binary %s is not an executable file (or is this wrapper); running %s\n",
			cfg.binary, real);
	run(&cfg, real, argc, argv);
	r = errno;
	fprintf(stderr, "qemu-p2p: cannot exec %s: %s\n", real, strerror(r));
	config_free(&cfg);
	return r == ENOENT ? 127 : 126;
}
