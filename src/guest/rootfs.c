/* Walking and replacing files below a root (see rootfs.h). */
#include "rootfs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 16
#define MAX_DEPTH 64

/* Only root or we could have made the link, and nobody else could have
 * replaced it since: the directory holding it is not writable by others. */
static bool trusted_link(int dir, const struct stat *link)
{
	struct stat d;
	uid_t me = geteuid();

	return fstat(dir, &d) == 0 && (link->st_uid == 0 || link->st_uid == me) && (d.st_uid == 0 || d.st_uid == me) &&
	       !(d.st_mode & (S_IWGRP | S_IWOTH));
}

/* The next component of *p ("" at the end), advancing *p. */
static int next_name(const char **p, char *name)
{
	size_t len;

	while (**p == '/')
		(*p)++;
	len = strcspn(*p, "/");
	if (len > NAME_MAX)
		return -ENAMETOOLONG;
	memcpy(name, *p, len);
	name[len] = '\0';
	*p += len;
	return 0;
}

static int failed(struct err *e, const char *name, int error)
{
	err_set(e, "%s: %s", name, strerror(error));
	return -error;
}

struct walk {
	int fd[MAX_DEPTH]; /* fd[0]: the root (borrowed); fd[1..depth]: owned */
	int depth, links;
	char todo[2 * PATH_MAX];
};

static void walk_up(struct walk *w, int to)
{
	while (w->depth > to)
		close(w->fd[w->depth--]);
}

/* A link at name in the current directory: the rest of the walk becomes
 * its target, then what was left. */
static int follow(struct walk *w, const char *name, const struct stat *st, const char **p, struct err *e)
{
	char target[PATH_MAX], rest[PATH_MAX];
	ssize_t n;

	if (++w->links > MAX_LINKS || !trusted_link(w->fd[w->depth], st)) {
		err_set(e, "%s: a symbolic link %s", name,
			w->links > MAX_LINKS ? "loop" : "an unprivileged user could have planted: not followed");
		return w->links > MAX_LINKS ? -ELOOP : -EPERM;
	}
	n = readlinkat(w->fd[w->depth], name, target, sizeof(target) - 1);
	if (n < 0)
		return failed(e, name, errno);
	target[n] = '\0';
	snprintf(rest, sizeof(rest), "%s", *p);
	if (target[0] == '/')
		walk_up(w, 0);
	snprintf(w->todo, sizeof(w->todo), "%s/%s", target, rest);
	*p = w->todo;
	return 0;
}

/* One step down into name, made first when create. */
static int step(struct walk *w, const char *name, bool create, const char **p, struct err *e)
{
	int cur = w->fd[w->depth], fd;
	struct stat st;

	if (fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0 &&
	    (errno != ENOENT || !create || (mkdirat(cur, name, 0755) < 0 && errno != EEXIST) ||
	     fstatat(cur, name, &st, AT_SYMLINK_NOFOLLOW) < 0))
		return failed(e, name, errno);
	if (S_ISLNK(st.st_mode))
		return follow(w, name, &st, p, e);
	if (!S_ISDIR(st.st_mode) || w->depth + 1 == MAX_DEPTH) {
		err_set(e, "%s: not a directory", name);
		return -ENOTDIR;
	}
	fd = openat(cur, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return failed(e, name, errno);
	w->fd[++w->depth] = fd;
	return 0;
}

int rootfs_dir(int root, const char *path, bool create, int *out, struct err *e)
{
	struct walk w = { .fd = { root } };
	const char *p = path;
	char name[NAME_MAX + 1];
	int r = 0;

	while (r == 0 && (r = next_name(&p, name)) == 0 && name[0]) {
		if (!strcmp(name, ".."))
			walk_up(&w, w.depth ? w.depth - 1 : 0);
		else if (strcmp(name, "."))
			r = step(&w, name, create, &p, e);
	}
	if (r == 0 && w.depth == 0 && (w.fd[++w.depth] = fcntl(root, F_DUPFD_CLOEXEC, 0)) < 0)
		r = -errno;
	if (r < 0) {
		if (r == -ENAMETOOLONG)
			err_set(e, "a component is longer than %d bytes", NAME_MAX);
		walk_up(&w, 0);
		return r;
	}
	*out = w.fd[w.depth];
	w.depth--;
	walk_up(&w, 0);
	return 0;
}

/* A name nobody else uses in dir, created there (O_EXCL: never an existing
 * file, never through a link). */
static int create_temp(int dir, const char *name, char *tmp, size_t size)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	for (unsigned i = 0; i < 64; i++) {
		unsigned tag = (unsigned)ts.tv_nsec ^ ((unsigned)getpid() << 8) ^ (i * 0x9E3779B9u);
		int fd;

		snprintf(tmp, size, ".%.200s.%08x", name, tag);
		fd = openat(dir, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd < 0 ? -errno : fd;
	}
	return -EEXIST;
}

int rootfs_replace(int dir, const char *name, const char *data, size_t len, mode_t mode, uid_t uid, gid_t gid)
{
	char tmp[NAME_MAX + 1];
	int fd = create_temp(dir, name, tmp, sizeof(tmp)), r = 0;
	FILE *f;

	if (fd < 0)
		return fd;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
	} else {
		errno = 0;
		if (fwrite(data, 1, len, f) != len || fflush(f) != 0 || fchmod(fd, mode) < 0 ||
		    ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) || fsync(fd) < 0)
			r = errno ? -errno : -EIO;
		if (fclose(f) != 0 && r == 0)
			r = errno ? -errno : -EIO;
	}
	if (r == 0 && renameat(dir, tmp, dir, name) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dir, tmp, 0);
		return r;
	}
	fsync(dir);
	return 0;
}

int rootfs_remove(int dir, const char *name)
{
	if (unlinkat(dir, name, 0) == 0)
		return 1;
	return errno == ENOENT ? 0 : -errno;
}

const char *rootfs_show(const char *root, const char *path, char *buf, size_t size)
{
	size_t n = strlen(root);

	while (n > 0 && root[n - 1] == '/')
		n--;
	snprintf(buf, size, "%.*s/%s", (int)n, root, path);
	return buf;
}
