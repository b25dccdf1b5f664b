/* Test helpers: sysfs fixture trees built from tests/fixtures/hosts/NAME.host
 * by mkhost.py into a fresh temporary directory, and small file helpers. */
#ifndef QP2P_TEST_FIXTURE_H
#define QP2P_TEST_FIXTURE_H

#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Builds HOSTS/name.host (or an absolute .host path) into a new temporary
 * directory and returns its path (owned, removed by fixture_cleanup). */
char *fixture_host(const char *name);

/* Builds a tree from description text given inline. */
char *fixture_host_text(const char *text);

/* A new temporary directory (owned). */
char *fixture_tmpdir(void);

/* Writes text to dir/name with mode; returns the path (owned). */
char *fixture_write(const char *dir, const char *name, const char *text, int mode);

void fixture_cleanup(void);

#endif
