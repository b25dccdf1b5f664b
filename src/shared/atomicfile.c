/* Atomic replacement of files and links (see atomicfile.h). */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool file_holds(const char *path, const char *data, size_t len)
{
	_cleanup_free_ char *old = NULL;
	size_t n = 0;

	/* One byte more than expected tells a longer file apart. */
	return read_file_at(AT_FDCWD, path, len + 1, &old, &n) == 0 && n == len && !memcmp(old, data, len);
}

int mkdir_parents(const char *path)
{
	_cleanup_free_ char *p = strdup(path);

	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	return mkdir(p, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t n = write(fd, s, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		s += n;
		len -= (size_t)n;
	}
	return 0;
}

static void sync_dir(const char *path)
{
	_cleanup_free_ char *copy = strdup(path);
	_cleanup_close_ int dfd = copy ? open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;

	if (dfd >= 0)
		fsync(dfd);
}

static int make_parent(const char *path, struct err *e)
{
	_cleanup_free_ char *copy = strdup(path);
	int r;

	if (!copy)
		return -ENOMEM;
	if ((r = mkdir_parents(dirname(copy))) < 0)
		err_set(e, "cannot create the directory of %s: %s", path, strerror(-r));
	return r;
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode, struct err *e)
{
	_cleanup_free_ char *tmp = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	if ((r = make_parent(path, e)) < 0)
		return r;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		err_set(e, "cannot create a temporary file beside %s: %s", path, strerror(errno));
		return r;
	}
	r = write_all(fd, data, len);
	if (r == 0 && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0) {
		err_set(e, "cannot write %s: %s", path, strerror(-r));
		unlink(tmp);
		return r;
	}
	sync_dir(path);
	return 0;
}

int atomic_symlink(const char *target, const char *path, struct err *e)
{
	_cleanup_free_ char *tmp = NULL;
	int r;

	if (asprintf(&tmp, "%s.qemu-p2p-link", path) < 0)
		return -ENOMEM;
	if ((r = make_parent(path, e)) < 0)
		return r;
	unlink(tmp);
	if (symlink(target, tmp) < 0 || rename(tmp, path) < 0) {
		r = -errno;
		err_set(e, "cannot link %s to %s: %s", path, target, strerror(errno));
		unlink(tmp);
		return r;
	}
	sync_dir(path);
	return 0;
}
