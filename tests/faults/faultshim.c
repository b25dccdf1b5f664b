/* Test code only: an LD_PRELOAD shim over the dynamically linked wrapper
 * (tests/integration/faults.py). It counts the C library calls the wrapper
 * makes before exec (files, links, memory, signals, the exec itself) and
 * makes the Nth fail once, with the errno that call would really give:
 *
 *   QP2P_FAULT_AT=N    the call to fail (0: none, just count)
 *   QP2P_FAULT_LOG=F   written at exec: "calls=K failed=NAME"
 *
 * At exec the shim takes itself out of the environment, so QEMU (the
 * stand-in) runs as it would without it. Allocation goes to glibc's
 * __libc_* functions: dlsym would allocate and recurse. */

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

static long fail_at, calls;
static const char *failed = "none";
static int ready; /* counting starts once the real functions are known */

#define REAL(name) static __typeof__(name) *real_##name
REAL(open);
REAL(openat);
REAL(read);
REAL(pread);
REAL(close);
REAL(fstat);
REAL(stat);
REAL(readlink);
REAL(readlinkat);
REAL(access);
REAL(sigaction);
REAL(execv);

__attribute__((constructor)) static void init(void)
{
	const char *at = getenv("QP2P_FAULT_AT");

#define FIND(name) real_##name = (__typeof__(real_##name))dlsym(RTLD_NEXT, #name)
	FIND(open), FIND(openat), FIND(read), FIND(pread), FIND(close), FIND(fstat), FIND(stat);
	FIND(readlink), FIND(readlinkat), FIND(access), FIND(sigaction), FIND(execv);
	fail_at = at ? atol(at) : 0;
	ready = 1;
}

/* True when this call is the one to fail. */
static int inject(const char *name)
{
	if (!ready)
		return 0;
	if (++calls != fail_at)
		return 0;
	failed = name;
	return 1;
}

#define FAIL(name, err, value)         \
	do {                           \
		if (inject(name)) {    \
			errno = (err); \
			return value;  \
		}                      \
	} while (0)

void *malloc(size_t n)
{
	FAIL("malloc", ENOMEM, NULL);
	return __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	FAIL("calloc", ENOMEM, NULL);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	FAIL("realloc", ENOMEM, NULL);
	return __libc_realloc(p, n);
}

static mode_t mode_arg(int flags, va_list ap)
{
	return (flags & (O_CREAT | O_TMPFILE)) ? va_arg(ap, mode_t) : 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	FAIL("open", EMFILE, -1);
	return real_open(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = mode_arg(flags, ap);
	va_end(ap);
	FAIL("openat", EMFILE, -1);
	return real_openat(dirfd, path, flags, mode);
}

ssize_t read(int fd, void *buf, size_t n)
{
	FAIL("read", EIO, -1);
	return real_read(fd, buf, n);
}

ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
	FAIL("pread", EIO, -1);
	return real_pread(fd, buf, n, off);
}

int close(int fd)
{
	FAIL("close", EIO, -1);
	return real_close(fd);
}

int fstat(int fd, struct stat *st)
{
	FAIL("fstat", EIO, -1);
	return real_fstat(fd, st);
}

int stat(const char *path, struct stat *st)
{
	FAIL("stat", EACCES, -1);
	return real_stat(path, st);
}

ssize_t readlink(const char *path, char *buf, size_t n)
{
	FAIL("readlink", EACCES, -1);
	return real_readlink(path, buf, n);
}

ssize_t readlinkat(int dirfd, const char *path, char *buf, size_t n)
{
	FAIL("readlinkat", EACCES, -1);
	return real_readlinkat(dirfd, path, buf, n);
}

int access(const char *path, int mode)
{
	FAIL("access", EACCES, -1);
	return real_access(path, mode);
}

int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	FAIL("sigaction", EINVAL, -1);
	return real_sigaction(sig, act, old);
}

/* The first exec may be the injected failure (E2BIG, as for an argument
 * over 128 KiB); the log is written before every real exec. */
int execv(const char *path, char *const argv[])
{
	const char *log = getenv("QP2P_FAULT_LOG");
	char line[128];
	int fd, n;

	FAIL("execv", E2BIG, -1);
	ready = 0;
	if (log && (fd = real_open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) >= 0) {
		n = snprintf(line, sizeof(line), "calls=%ld failed=%s\n", calls, failed);
		if (write(fd, line, (size_t)n) != n)
			n = -1;
		real_close(fd);
	}
	unsetenv("LD_PRELOAD");
	unsetenv("QP2P_FAULT_AT");
	unsetenv("QP2P_FAULT_LOG");
	return real_execv(path, argv);
}
