/* virsh domxml-to-native qemu-argv prints the command line as a shell would
 * run it: libvirt's environment first (LC_ALL=C PATH=... HOME=...), then the
 * binary and its arguments, each one that needs it in single quotes ('\''
 * for a quote inside), on one line or, as libvirt's own tests write it, one
 * argument a line with backslash-newline continuations.
 *
 * GLib's g_shell_parse_argv does the quote removal the way /bin/sh does,
 * without expanding anything (libvirt quotes every $, `, * and ?). GLib
 * costs no host anything: QEMU itself links it. This file only adds reading
 * the text and dropping the environment. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "virshargv.h"

/* NAME=value with NAME a shell variable name: an environment setting. */
static bool is_assignment(const char *word)
{
	size_t n = strspn(word, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");

	return n > 0 && word[n] == '=' && !(word[0] >= '0' && word[0] <= '9');
}

int virsh_argv_parse(const char *text, int *argc, char ***argv, struct err *e)
{
	gchar **words = NULL;
	GError *gerr = NULL;
	int n = 0, env = 0;

	if (!g_shell_parse_argv(text, &n, &words, &gerr)) {
		/* GLib appends the whole text "(The text was ...)": keep what says why. */
		int why = (int)strcspn(gerr->message, "(\n");

		while (why > 0 && gerr->message[why - 1] == ' ')
			why--;
		if (gerr->code == G_SHELL_ERROR_EMPTY_STRING)
			err_set(e, "no command line in it (paste what virsh domxml-to-native qemu-argv prints)");
		else
			err_set(e, "cannot split it as the shell would: %.*s", why, gerr->message);
		g_error_free(gerr);
		return -EINVAL;
	}
	while (env < n && is_assignment(words[env]))
		env++;
	if (env == n) {
		err_set(e, "only environment settings (%s ...), no QEMU command after them", words[0]);
		g_strfreev(words);
		return -EINVAL;
	}
	for (int i = 0; i < env; i++)
		g_free(words[i]);
	memmove(words, words + env, (size_t)(n - env + 1) * sizeof(*words));
	*argc = n - env;
	*argv = words;
	return 0;
}

/* The whole of f, NUL-terminated; owned. -EILSEQ when it holds a NUL
 * (getdelim stops there). */
static int slurp(FILE *f, char **out)
{
	_cleanup_free_ char *buf = NULL;
	size_t cap = 0;
	ssize_t len = getdelim(&buf, &cap, '\0', f);

	if (len < 0) {
		if (ferror(f))
			return -EIO;
		free(buf); /* an empty file: "" */
		if (!(buf = strdup("")))
			return -ENOMEM;
	} else if (len > 0 && buf[len - 1] == '\0') {
		return -EILSEQ;
	}
	*out = TAKE_PTR(buf);
	return 0;
}

int virsh_argv_read(const char *path, int *argc, char ***argv, struct err *e)
{
	_cleanup_fclose_ FILE *f = NULL;
	_cleanup_free_ char *text = NULL;
	bool in = !strcmp(path, "-");
	int r;

	if (!in && !(f = fopen(path, "re"))) {
		r = -errno;
		err_set(e, "cannot open it: %s", strerror(-r));
		return r;
	}
	r = slurp(in ? stdin : f, &text);
	if (r == -EILSEQ)
		err_set(e, "holds a NUL byte: not the text virsh prints");
	else if (r < 0)
		err_set(e, "cannot read it: %s", strerror(-r));
	return r < 0 ? r : virsh_argv_parse(text, argc, argv, e);
}

void virsh_argv_free(char **argv)
{
	g_strfreev(argv);
}
