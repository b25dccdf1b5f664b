/* The wrapper's decision on facts already read (devfacts.h): which devices
 * may take a clique, their groups (hostplan), per-VM ids (clique), the one
 * log line, the splice into the argv. Reads nothing, so unit tests give it
 * facts directly. */
#ifndef QP2P_DECIDE_H
#define QP2P_DECIDE_H

#include "devfacts.h"
#include "rewrite.h"
#include "strbuf.h"

/* Marks ineligible devices skipped, splices the ids into out->argv (a
 * copy of argv with room for two more arguments) and says what it did in
 * log. Returns 0 or -ENOMEM. */
int decide_rewrite(const struct config *cfg, const struct vm_args *va, struct dev_facts *facts, char *const *argv,
		   struct rewrite_out *out, struct strbuf *log);

/* "; devices in FILE are not seen (-readconfig)" when the argv has one. */
void decide_note_readconfig(struct strbuf *log, const struct vm_args *va, char *const *argv);

#endif
