/* qemu-p2p rewrite --virsh: the line virsh domxml-to-native qemu-argv prints,
 * split as /bin/sh would and without libvirt's environment. The real virsh
 * output (JSON and legacy) is in tests/integration/rewrite_virsh.sh. */
#include "fixture.h"

#include <string.h>

#include "virshargv.h"

/* Parses text and compares with want (NULL-terminated). */
static void expect(const char *text, const char *const *want)
{
	struct err e = { { 0 } };
	char **argv = NULL;
	int argc = -1, n = 0;

	assert_int_equal(virsh_argv_parse(text, &argc, &argv, &e), 0);
	while (want[n])
		n++;
	assert_int_equal(argc, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], want[i]);
	assert_null(argv[n]);
	virsh_argv_free(argv);
}

static void test_environment_dropped(void **state)
{
	expect("LC_ALL=C PATH=/usr/bin:/bin HOME=/var/lib/libvirt/qemu/domain-1-vm XDG_DATA_HOME=/x/.local/share "
	       "/usr/bin/qemu-system-x86_64 -name guest=vm,debug-threads=on -S\n",
	       (const char *const[]){ "/usr/bin/qemu-system-x86_64", "-name", "guest=vm,debug-threads=on", "-S", NULL });
	/* Without an environment the first word is the binary. */
	expect("/usr/libexec/qemu-kvm -m 214", (const char *const[]){ "/usr/libexec/qemu-kvm", "-m", "214", NULL });
	/* Only the leading settings: a later A=B is an argument. */
	expect("A=1 qemu -global vfio-pci.x=1 B=2", (const char *const[]){ "qemu", "-global", "vfio-pci.x=1", "B=2", NULL });
}

static void test_quoting(void **state)
{
	/* JSON in single quotes, as virsh prints it: every byte kept. */
	expect("qemu -device '{\"driver\":\"vfio-pci\",\"host\":\"0000:05:00.0\",\"id\":\"hostdev0\"}'",
	       (const char *const[]){ "qemu", "-device", "{\"driver\":\"vfio-pci\",\"host\":\"0000:05:00.0\",\"id\":\"hostdev0\"}",
				      NULL });
	/* libvirt's escape for a quote inside quotes: '\'' */
	expect("qemu -name 'guest=gpu'\\''s vm,debug-threads=on'",
	       (const char *const[]){ "qemu", "-name", "guest=gpu's vm,debug-threads=on", NULL });
	/* Nothing is expanded: libvirt quotes $ and globs, and a shell would not expand them inside quotes. */
	expect("qemu -drive 'file=/v/$HOME/*.img' -cpu '?'", (const char *const[]){ "qemu", "-drive", "file=/v/$HOME/*.img",
									    "-cpu", "?", NULL });
	expect("qemu -append \"a \\\"b\\\" c\"", (const char *const[]){ "qemu", "-append", "a \"b\" c", NULL });
}

static void test_continuations(void **state)
{
	/* One argument a line, as libvirt's own test outputs (.args) write it. */
	expect("LC_ALL=C \\\nPATH=/bin \\\n/usr/bin/qemu-system-i386 \\\n-name QEMUGuest2 \\\n"
	       "-device vfio-pci,host=0000:06:12.5,id=hostdev0,bus=pci.0,addr=0x3 \\\n-msg timestamp=on\n",
	       (const char *const[]){ "/usr/bin/qemu-system-i386", "-name", "QEMUGuest2", "-device",
				      "vfio-pci,host=0000:06:12.5,id=hostdev0,bus=pci.0,addr=0x3", "-msg", "timestamp=on",
				      NULL });
}

static void test_rejected(void **state)
{
	static const struct {
		const char *text, *why;
	} rows[] = {
		{ "", "no command line" },
		{ " \n\t\n", "no command line" },
		{ "LC_ALL=C PATH=/bin HOME=/x\n", "only environment settings (LC_ALL=C ...)" },
		{ "qemu -name 'guest=vm", "cannot split it as the shell would" },
		{ "qemu -name \"guest=vm", "cannot split it as the shell would" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct err e = { { 0 } };
		char **argv = (char **)0x1;
		int argc = -1;

		assert_int_equal(virsh_argv_parse(rows[i].text, &argc, &argv, &e), -EINVAL);
		assert_non_null(strstr(e.msg, rows[i].why));
		assert_null(strchr(e.msg, '\n')); /* one line, without GLib's copy of the text */
		assert_int_equal(argc, -1);
		assert_ptr_equal(argv, (char **)0x1);
	}
}

static void test_read_file(void **state)
{
	char *dir = fixture_tmpdir();
	char *path = fixture_write(dir, "argv", "HOME=/x qemu -m 1\n", 0644);
	char *nul = fixture_write(dir, "nul", "qemu", 0644);
	struct err e = { { 0 } };
	char **argv = NULL;
	int argc = 0;
	FILE *f = fopen(nul, "a");

	assert_int_equal(virsh_argv_read(path, &argc, &argv, &e), 0);
	assert_int_equal(argc, 3);
	assert_string_equal(argv[0], "qemu");
	virsh_argv_free(argv);
	assert_non_null(f);
	fputc('\0', f);
	fclose(f);
	assert_int_equal(virsh_argv_read(nul, &argc, &argv, &e), -EILSEQ);
	assert_non_null(strstr(e.msg, "NUL byte"));
	assert_int_equal(virsh_argv_read("/nonexistent/argv", &argc, &argv, &e), -ENOENT);
	free(path);
	free(nul);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_environment_dropped), cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_continuations),       cmocka_unit_test(test_rejected),
		cmocka_unit_test(test_read_file),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);

	fixture_cleanup();
	return r;
}
