/* The wrapper's last line of defence (see failsafe.h). Everything the
 * crash handler calls is async-signal-safe or, for resolve_qemu's stat,
 * access and snprintf of strings, allocates nothing. */
#include "failsafe.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <unistd.h>

static const int crash_signals[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT };

static struct {
	char *const *argv;
	const struct resolve_in *without_config;
	const char *real;
	sigset_t mask;         /* as inherited */
	struct sigaction pipe; /* as inherited */
	struct sigaction crash[sizeof(crash_signals) / sizeof(crash_signals[0])];
	char stack[64 * 1024]; /* a crash may come from a stack overflow */
} guard;

/* The dispositions as inherited, before an exec; the mask too after a
 * crash (the handler runs with its signal blocked; the wrapper itself never
 * changes it). exec resets a caught signal to SIG_DFL by itself, so only
 * what it would keep is put back (a VM start pays for every system call):
 * a crash signal inherited as ignored, and SIGPIPE unless it came ignored. */
static void restore(bool mask)
{
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		if (guard.crash[i].sa_handler != SIG_DFL)
			sigaction(crash_signals[i], &guard.crash[i], NULL);
	if (guard.pipe.sa_handler != SIG_IGN)
		sigaction(SIGPIPE, &guard.pipe, NULL);
	if (mask)
		sigprocmask(SIG_SETMASK, &guard.mask, NULL);
}

static void on_crash(int sig)
{
	static const char msg[] = "qemu-p2p: internal error (a crash); starting QEMU with the original argv\n";
	char found[PATH_MAX];
	const char *real = guard.real;

	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
		/* nowhere to say it; start QEMU all the same */
	}
	if (!real && resolve_qemu(guard.without_config, found, sizeof(found), NULL) == 0)
		real = found;
	restore(true);
	if (real)
		execv(real, guard.argv);
	/* No QEMU at all: end as the crash would have without us. */
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Our dispositions; the inherited ones saved when save is set (one call
 * each: a VM start pays for every system call). */
static void arm(bool save)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct sigaction crash = { .sa_handler = on_crash, .sa_flags = SA_ONSTACK | SA_RESETHAND };

	sigaction(SIGPIPE, &ignore, save ? &guard.pipe : NULL);
	for (size_t i = 0; i < sizeof(crash_signals) / sizeof(crash_signals[0]); i++)
		sigaction(crash_signals[i], &crash, save ? &guard.crash[i] : NULL);
}

void failsafe_arm(char *const *argv, const struct resolve_in *without_config)
{
	stack_t alt = { .ss_sp = guard.stack, .ss_size = sizeof(guard.stack) };

	guard.argv = argv;
	guard.without_config = without_config;
	sigprocmask(SIG_SETMASK, NULL, &guard.mask);
	sigaltstack(&alt, NULL);
	arm(true);
}

void failsafe_set_qemu(const char *real)
{
	guard.real = real;
}

void failsafe_exec(const char *real, char *const *argv)
{
	int e;

	restore(false);
	execv(real, argv);
	e = errno;
	arm(false);
	errno = e;
}
