/* Small helpers every module uses: cleanup attributes and the error struct.
 *
 * The error-handling rule of this project, written down once:
 *  - Functions return 0 on success or a negative errno value on failure;
 *    predicates return bool. Results come back through out-parameters that
 *    are written only on success.
 *  - A caller that wants to know why passes a `struct err`; the callee fills
 *    it with one line that names the file, line or argument and what to do.
 *    NULL is always allowed.
 *  - Library code never prints and never exits: the wrapper, the CLI and the
 *    tests decide what to say.
 *  - Locals that own memory or descriptors use the _cleanup_ macros below and
 *    are always initialised; ownership is handed over with TAKE_PTR/TAKE_FD.
 *    Each public prototype says whether a pointer is borrowed or owned.
 */
#ifndef QP2P_UTIL_H
#define QP2P_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _printf_(a, b) __attribute__((format(printf, a, b)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

/* Hand ownership over: returns the value and leaves the variable empty. */
#define TAKE_PTR(p)                      \
	({                               \
		__typeof__(p) _tp = (p); \
		(p) = NULL;              \
		_tp;                     \
	})
#define TAKE_FD(fd)             \
	({                      \
		int _tf = (fd); \
		(fd) = -1;      \
		_tf;            \
	})

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* One line saying what went wrong; filled by the first failure only. */
struct err {
	char msg[512];
};

void err_set(struct err *e, const char *fmt, ...) _printf_(2, 3);

/* Append to a growable array of `size`-byte items; -ENOMEM on failure. */
int grow_array(void **items, size_t *count, size_t size, const void *item);

/* strdup that treats NULL as NULL. */
char *xstrdup(const char *s);

/* What open_regular_at returns for a path that exists but is no regular
 * file (a FIFO, socket, device or directory: reading it could block or never
 * end). err_text() says so; strerror() would not. */
#define E_NOT_REGULAR EMEDIUMTYPE

/* strerror(-r), or "not a regular file" for -E_NOT_REGULAR. */
const char *err_text(int r);

/* Opens path below dirfd for reading with O_NONBLOCK (a FIFO or device
 * never blocks the open), O_CLOEXEC, O_NOCTTY and extra flags (O_NOFOLLOW
 * where the rule allows), and keeps it only when fstat says it is a regular
 * file; *size (when size is not NULL) is its size. The descriptor is owned
 * by the caller. */
int open_regular_at(int dirfd, const char *path, int flags, int *fd, size_t *size);

/* Reads into buf until size bytes or end of file, retrying short reads and
 * EINTR; *len is what was read. The one read loop of the project. */
int read_full(int fd, void *buf, size_t size, size_t *len);

/* Read at most max bytes from fd (a regular file), or from a regular file
 * at path below dirfd, into a NUL-terminated buffer sized from fstat.
 * Owned result. */
int read_fd(int fd, size_t max, char **out, size_t *len);
/* read_fd for a file whose size the caller's fstat gave (0: unknown). */
int read_fd_sized(int fd, size_t size, size_t max, char **out, size_t *len);
int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len);

/* The candidate closest to word (case ignored; a prefix of three or more
 * letters counts as close), or NULL when none is close enough to suggest.
 * Borrowed from cands. */
const char *nearest_word(const char *word, const char *const *cands, size_t n);

#endif
