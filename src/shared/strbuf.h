/* A growing string for building log lines and reports. */
#ifndef QP2P_STRBUF_H
#define QP2P_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct strbuf {
	char *s; /* owned, always NUL-terminated once anything was added */
	size_t len, cap;
	bool oom; /* an append failed; s holds what fitted */
};

void sb_addf(struct strbuf *b, const char *fmt, ...) _printf_(2, 3);
/* Hands the string over (owned) or NULL after an allocation failure. */
char *sb_take(struct strbuf *b);
void sb_free(struct strbuf *b);

#endif
