/* Finding the real QEMU: configured binary, <self>.real, the next
 * qemu-system-<arch> after the wrapper's directory, the RHEL fallback; never
 * the wrapper's own inode; -ENOENT when nothing else exists. */
#include "fixture.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolve.h"

static char *exe(const char *dir, const char *name)
{
	return fixture_write(dir, name, "#!/bin/sh\n", 0755);
}

static char *sub(const char *dir, const char *name)
{
	char *p = NULL;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	assert_int_equal(mkdir(p, 0755), 0);
	return p;
}

static void test_order(void **state)
{
	char *t = fixture_tmpdir(), *a = sub(t, "local"), *b = sub(t, "usr"), *path = NULL, out[4096];
	char *self = exe(a, "qemu-system-x86_64"), *real = exe(b, "qemu-system-x86_64");
	struct resolve_in in = { .self = self, .arch = "x86_64" };

	assert_true(asprintf(&path, "%s:%s", a, b) > 0);
	in.search_path = path;
	/* shadow layout: the next one on the path */
	assert_int_equal(resolve_qemu(&in, out, sizeof(out), NULL), 0);
	assert_string_equal(out, real);
	/* divert layout: <self>.real first */
	char *dotreal = exe(a, "qemu-system-x86_64.real");
	assert_int_equal(resolve_qemu(&in, out, sizeof(out), NULL), 0);
	assert_string_equal(out, dotreal);
	/* the configured binary first of all */
	in.config_binary = real;
	assert_int_equal(resolve_qemu(&in, out, sizeof(out), NULL), 0);
	assert_string_equal(out, real);
	/* ... unless it is the wrapper itself */
	in.config_binary = self;
	assert_int_equal(resolve_qemu(&in, out, sizeof(out), NULL), 0);
	assert_string_equal(out, dotreal);
	free(t), free(a), free(b), free(path), free(self), free(real), free(dotreal);
}

static void test_never_self(void **state)
{
	char *t = fixture_tmpdir(), *a = sub(t, "bin"), *hard = NULL, *fb = NULL, out[4096] = "";
	char *self = exe(a, "qemu-system-x86_64");
	struct err e = { { 0 } };
	struct resolve_in in = { .self = self, .arch = "x86_64", .search_path = a };

	/* a hard link to the wrapper under another name is still the wrapper */
	assert_true(asprintf(&hard, "%s/qemu-system-x86_64.real", a) > 0);
	assert_int_equal(link(self, hard), 0);
	assert_true(asprintf(&fb, "%s/qemu-kvm", a) > 0);
	assert_int_equal(symlink(self, fb), 0);
	in.fallback = fb;
	assert_int_equal(resolve_qemu(&in, out, sizeof(out), &e), -ENOENT);
	assert_string_equal(out, "");
	assert_non_null(strstr(e.msg, "no QEMU to run"));
	free(t), free(a), free(self), free(hard), free(fb);
}

static void test_fallback_and_arch(void **state)
{
	char *t = fixture_tmpdir(), out[4096];
	char *fb = exe(t, "qemu-kvm");
	struct resolve_in in = { .self = NULL, .arch = "aarch64", .search_path = "/nonexistent", .fallback = fb };

	assert_int_equal(resolve_qemu(&in, out, sizeof(out), NULL), 0);
	assert_string_equal(out, fb);
	assert_string_equal(resolve_arch_from_name("/usr/local/bin/qemu-system-aarch64"), "aarch64");
	assert_null(resolve_arch_from_name("/usr/bin/kvm"));
	free(t), free(fb);
}

/* What a caller with this PATH runs: the first regular executable, skipping
 * a directory of that name and a file without the x bit. */
static void test_on_path(void **state)
{
	char *t = fixture_tmpdir(), *a = sub(t, "a"), *b = sub(t, "b"), *c = sub(t, "c"), *path = NULL, out[4096];
	char *dir = sub(a, "qemu-system-x86_64"), *plain = fixture_write(b, "qemu-system-x86_64", "", 0644);
	char *good = exe(c, "qemu-system-x86_64");

	assert_true(asprintf(&path, "%s:%s:%s", a, b, c) > 0);
	assert_int_equal(resolve_on_path(path, "x86_64", out, sizeof(out)), 0);
	assert_string_equal(out, good);
	assert_int_equal(resolve_on_path(path, "aarch64", out, sizeof(out)), -ENOENT);
	assert_int_equal(resolve_on_path(path, "x86_64", out, 8), -ENAMETOOLONG);
	free(t), free(a), free(b), free(c), free(path), free(dir), free(plain), free(good);
}

static int teardown(void **state)
{
	fixture_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_never_self),
		cmocka_unit_test(test_fallback_and_arch),
		cmocka_unit_test(test_on_path),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
