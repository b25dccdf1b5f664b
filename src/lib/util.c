/* Implementations of the small helpers declared in util.h. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

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

int read_fd(int fd, size_t max, char **out, size_t *len)
{
	_cleanup_free_ char *buf = malloc(max + 1);
	size_t used = 0;

	if (!buf)
		return -ENOMEM;
	while (used < max) {
		ssize_t n = read(fd, buf + used, max - used);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	buf[used] = '\0';
	if (len)
		*len = used;
	*out = TAKE_PTR(buf);
	return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len)
{
	_cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	return read_fd(fd, max, out, len);
}
