/* Implementations of the small helpers declared in util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

void err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e || e->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int grow_array(void **items, size_t *count, size_t size, const void *item)
{
	char *p = realloc(*items, (*count + 1) * size);

	if (!p)
		return -ENOMEM;
	memcpy(p + *count * size, item, size);
	*items = p;
	(*count)++;
	return 0;
}

char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

const char *err_text(int r)
{
	return r == -E_NOT_REGULAR ? "not a regular file" : strerror(-r);
}

int open_regular_at(int dirfd, const char *path, int flags, int *out, size_t *size)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY | flags);
	struct stat st;

	/* ENXIO: a socket, or a device with nothing behind it. */
	if (fd < 0)
		return errno == ENXIO ? -E_NOT_REGULAR : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -E_NOT_REGULAR;
	if (size)
		*size = (size_t)st.st_size;
	*out = TAKE_FD(fd);
	return 0;
}

int read_full(int fd, void *buf, size_t size, size_t *len)
{
	size_t used = 0;

	while (used < size) {
		ssize_t n = read(fd, (char *)buf + used, size - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	*len = used;
	return 0;
}

/* The buffer to start with is the file's size, which is then read as is
 * (no read to find the end: a VM start pays for every system call); for a
 * size of 0 (proc files say so) 4096, grown as needed. */
int read_fd_sized(int fd, size_t size, size_t max, char **out, size_t *len)
{
	bool exact = size > 0;
	size_t cap = exact ? size : 4096, used = 0, got;
	_cleanup_free_ char *buf = NULL;
	int r;

	if (cap > max)
		cap = max;
	if (!(buf = malloc(cap + 1)))
		return -ENOMEM;
	while ((r = read_full(fd, buf + used, cap - used, &got)) == 0) {
		size_t bigger = cap * 2 < max ? cap * 2 : max;
		char *p;

		used += got;
		if (used < cap || cap == max || exact)
			break;
		if (!(p = realloc(buf, bigger + 1)))
			return -ENOMEM;
		buf = p;
		cap = bigger;
	}
	if (r < 0)
		return r;
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = TAKE_PTR(buf);
	return 0;
}

int read_fd(int fd, size_t max, char **out, size_t *len)
{
	struct stat st;
	bool regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);

	return read_fd_sized(fd, regular ? (size_t)st.st_size : 0, max, out, len);
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = -1;
	size_t size;
	int r = open_regular_at(dirfd, path, 0, &fd, &size);

	return r < 0 ? r : read_fd_sized(fd, size, max, out, len);
}

/* Levenshtein distance, ignoring case, for words of at most 63 bytes
 * (longer ones are never "near": what is suggested is a short name). */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la > 63 || lb > 63)
		return SIZE_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t best = diag + cost;

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *nearest_word(const char *word, const char *const *cands, size_t n)
{
	size_t best = SIZE_MAX, limit = strlen(word) / 3 + 1;
	const char *pick = NULL;

	for (size_t i = 0; i < n; i++) {
		size_t d = cands[i] ? edit_distance(word, cands[i]) : SIZE_MAX;

		/* A prefix of a longer name ("top" for "topo") is near too. */
		if (d > limit && cands[i] && strlen(word) >= 3 && !strncasecmp(cands[i], word, strlen(word)))
			d = limit;
		if (d <= limit && d < best)
			best = d, pick = cands[i];
	}
	return pick;
}
