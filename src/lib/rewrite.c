/* The wrapper's decision (see rewrite.h): scan argv -> configuration and
 * host facts (the gate) -> read each vfio device (devfacts.c, the only I/O)
 * -> decide and splice (decide.c, pure). Every early exit leaves argv as it
 * was. */
#include "rewrite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "argv.h"
#include "decide.h"
#include "devfacts.h"
#include "facts.h"
#include "strbuf.h"
#include "util.h"

static int copy_argv(int argc, char *const *argv, int extra, struct rewrite_out *out)
{
	out->argv = calloc((size_t)argc + (size_t)extra + 1, sizeof(char *));
	if (!out->argv)
		return -ENOMEM;
	memcpy(out->argv, argv, (size_t)argc * sizeof(char *));
	out->argc = argc;
	return 0;
}

const char *rewrite_host_gate(const struct config *cfg, const char *real_binary, char *buf, size_t size)
{
	if (!cfg->valid)
		snprintf(buf, size, "configuration rejected: %s; VM started unchanged", cfg->error);
	else if (cfg->mode == MODE_OFF)
		snprintf(buf, size, "[cliques] mode = off; unchanged");
	else if (!cfg->host.identity)
		snprintf(buf, size, "no host facts in %s; run \"qemu-p2p refresh\" as root; unchanged",
			 cfg->host.path ? cfg->host.path : "the host file");
	else if (!facts_current(cfg, real_binary))
		snprintf(buf, size,
			 "host facts are stale for %s (QEMU changed); run \"qemu-p2p refresh\" as root; unchanged",
			 real_binary);
	else
		return NULL;
	return buf;
}

/* Why the whole VM stays untouched, or NULL to go on: what this VM's
 * command line says first, then what holds for every VM of the host. */
static const char *gate(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env, char *buf,
			size_t size)
{
	if (cfg->valid && !va->n_devs && !va->n_bad)
		snprintf(buf, size, "no vfio-pci devices; unchanged");
	else if (cfg->valid && config_excludes(cfg, va->name))
		snprintf(buf, size, "VM %s is in [cliques] exclude; unchanged", va->name);
	else if (cfg->valid && cfg->mode != MODE_OFF && va->has_clique_global)
		snprintf(buf, size, "the command line already sets -global ...%s; unchanged", CLIQUE_PROP);
	else
		return rewrite_host_gate(cfg, env->real_binary, buf, size);
	return buf;
}

static int decide(const struct config *cfg, const struct vm_args *va, const struct rewrite_env *env, char *const *argv,
		  struct rewrite_out *out, struct strbuf *b)
{
	_cleanup_free_ struct dev_facts *facts = calloc(va->n_devs + 1, sizeof(*facts));

	if (!facts)
		return -ENOMEM;
	devfacts_read(cfg, va, env, facts);
	return decide_rewrite(cfg, va, facts, argv, out, b);
}

int rewrite_argv(const struct config *cfg, int argc, char *const *argv, const struct rewrite_env *env,
		 struct rewrite_out *out)
{
	struct vm_args va = { 0 };
	struct strbuf b = { 0 };
	char buf[1024];
	const char *stop;
	int r;

	*out = (struct rewrite_out){ 0 };
	r = argv_scan(argc, argv, &va);
	if (r == 0)
		r = copy_argv(argc, argv, 2, out);
	if (r < 0 || va.probe)
		goto done;
	stop = gate(cfg, &va, env, buf, sizeof(buf));
	if (stop)
		sb_addf(&b, "%s", stop);
	else
		r = decide(cfg, &va, env, argv, out, &b);
	decide_note_readconfig(&b, &va, argv);
	out->summary = sb_take(&b);
	if (!out->summary && r == 0)
		r = -ENOMEM;
done:
	vm_args_free(&va);
	sb_free(&b);
	if (r < 0)
		rewrite_out_free(out);
	return r;
}

void rewrite_out_free(struct rewrite_out *out)
{
	for (size_t i = 0; i < out->n_owned; i++)
		free(out->owned[i]);
	free(out->owned);
	free(out->argv);
	free(out->summary);
	*out = (struct rewrite_out){ 0 };
}
