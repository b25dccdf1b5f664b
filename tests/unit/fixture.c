/* Fixture helpers for the unit tests (see fixture.h). */
#include "fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *made[64];
static size_t n_made;

char *fixture_tmpdir(void)
{
	char tmpl[] = "/tmp/qp2p-test.XXXXXX";
	char *d = mkdtemp(tmpl);

	assert_non_null(d);
	d = strdup(d);
	if (n_made < 64)
		made[n_made++] = strdup(d);
	return d;
}

static char *build(const char *desc)
{
	char *out = fixture_tmpdir(), *cmd = NULL;
	const char *mk = getenv("MKHOST");

	assert_non_null(mk);
	assert_true(asprintf(&cmd, "python3 '%s' '%s' '%s/sys'", mk, desc, out) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_true(asprintf(&cmd, "%s/sys", out) > 0);
	free(out);
	return cmd;
}

char *fixture_host(const char *name)
{
	char *desc = NULL, *root;
	const char *hosts = getenv("HOSTS");

	if (name[0] == '/')
		return build(name);
	assert_non_null(hosts);
	assert_true(asprintf(&desc, "%s/%s.host", hosts, name) > 0);
	root = build(desc);
	free(desc);
	return root;
}

char *fixture_host_text(const char *text)
{
	char *dir = fixture_tmpdir();
	char *desc = fixture_write(dir, "inline.host", text, 0644);
	char *root = build(desc);

	free(desc);
	free(dir);
	return root;
}

char *fixture_write(const char *dir, const char *name, const char *text, int mode)
{
	char *path = NULL;
	FILE *f;

	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, (mode_t)mode), 0);
	return path;
}

void fixture_cleanup(void)
{
	for (size_t i = 0; i < n_made; i++) {
		char *cmd = NULL;

		if (asprintf(&cmd, "rm -rf '%s'", made[i]) > 0 && system(cmd) != 0)
			fprintf(stderr, "# could not remove %s\n", made[i]);
		free(cmd);
		free(made[i]);
	}
	n_made = 0;
}
