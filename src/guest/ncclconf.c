/* Our line in /etc/nccl.conf (see ncclconf.h). */
#include "ncclconf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootfs.h"

/* Where our two lines start (at a line start), or NULL. */
static const char *ours(const char *text)
{
	static const char both[] = NCCLCONF_MARK "\n" NCCLCONF_LINE;
	size_t n = sizeof(both) - 1;

	for (const char *p = text; (p = strstr(p, both)); p++)
		if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return p;
	return NULL;
}

bool ncclconf_has_ours(const char *text)
{
	return ours(text) != NULL;
}

void ncclconf_add(const char *text, struct strbuf *out)
{
	if (ours(text))
		sb_addf(out, "%s", text);
	else
		sb_addf(out, "%s\n%s\n%s", NCCLCONF_MARK, NCCLCONF_LINE, text);
}

void ncclconf_remove(const char *text, struct strbuf *out)
{
	const char *p = ours(text);
	size_t n = strlen(NCCLCONF_MARK "\n" NCCLCONF_LINE);

	if (!p) {
		sb_addf(out, "%s", text);
		return;
	}
	sb_addf(out, "%.*s%s", (int)(p - text), text, p[n] ? p + n + 1 : "");
}

const char *ncclconf_value(const char *text, const char *key, char *buf, size_t size)
{
	size_t k = strlen(key);

	for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] != '\0')) {
		if (!strncmp(line, key, k) && line[k] == '=') {
			snprintf(buf, size, "%.*s", (int)strcspn(line + k + 1, "\n"), line + k + 1);
			return buf;
		}
	}
	return NULL;
}

int ncclconf_open(int root, bool create_dir, struct ncclconf_file *f, struct err *e)
{
	_cleanup_close_ int fd = -1;
	struct err why = { { 0 } };
	size_t size = 0;
	int r;

	*f = (struct ncclconf_file){ .dir = -1 };
	r = rootfs_dir(root, "etc", create_dir, &f->dir, &why);
	if (r == 0)
		r = open_regular_at(f->dir, "nccl.conf", O_NOFOLLOW, &fd, &size);
	else if (r != -ENOENT)
		err_set(e, "%s", why.msg);
	if (r == -ENOENT)
		r = (f->text = strdup("")) ? 0 : -ENOMEM;
	else if (r == 0 && fstat(fd, &f->st) == 0 && (r = read_fd_sized(fd, size, 1 << 24, &f->text, NULL)) == 0)
		f->exists = true;
	if (r == -ELOOP || r == -E_NOT_REGULAR)
		err_set(e, "%s", r == -ELOOP ? "a symbolic link" : "not a regular file");
	else if (r < 0)
		err_set(e, "%s", err_text(r));
	if (r < 0)
		ncclconf_close(f);
	return r;
}

int ncclconf_save(struct ncclconf_file *f, const char *text, size_t len, struct err *e)
{
	int r;

	if (f->exists && !(f->st.st_mode & S_IWUSR)) {
		err_set(e, "read-only (mode %04o): the operator's to change", (unsigned)(f->st.st_mode & 07777));
		return -EROFS;
	}
	if (f->dir < 0) {
		err_set(e, "no etc directory");
		return -ENOENT;
	}
	r = rootfs_replace(f->dir, "nccl.conf", text, len, f->exists ? f->st.st_mode & 07777 : 0644,
			   f->exists ? f->st.st_uid : (uid_t)-1, f->exists ? f->st.st_gid : (gid_t)-1);
	if (r < 0)
		err_set(e, "%s", strerror(-r));
	return r;
}

void ncclconf_close(struct ncclconf_file *f)
{
	if (f->dir >= 0)
		close(f->dir);
	free(f->text);
	*f = (struct ncclconf_file){ .dir = -1 };
}
