/* Host facts: identity and version of the real QEMU, and the guard that
 * keeps QEMU < 8.1 from being handed a clique it cannot place. */
#include "facts.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

int facts_identity(const char *path, char **out)
{
	struct stat st;
	char *s = NULL;

	if (stat(path, &st) < 0)
		return -errno;
	if (asprintf(&s, "%ju:%ju:%jd:%jd", (uintmax_t)st.st_dev, (uintmax_t)st.st_ino, (intmax_t)st.st_size,
		     (intmax_t)st.st_mtime) < 0)
		return -ENOMEM;
	*out = s;
	return 0;
}

int facts_parse_version(const char *text, int *major, int *minor)
{
	const char *p = strstr(text, "version ");
	int ma, mi;

	p = p ? p + strlen("version ") : text;
	if (sscanf(p, "%d.%d", &ma, &mi) != 2 || ma < 0 || mi < 0)
		return -EINVAL;
	*major = ma;
	*minor = mi;
	return 0;
}

bool facts_current(const struct config *cfg, const char *real_binary)
{
	_cleanup_free_ char *id = NULL;

	if (!cfg->host.identity || facts_identity(real_binary, &id) < 0)
		return false;
	return strcmp(id, cfg->host.identity) == 0;
}

bool facts_qemu_places_cap(const struct config *cfg)
{
	int ma, mi;

	if (!cfg->host.version || facts_parse_version(cfg->host.version, &ma, &mi) < 0)
		return false;
	return ma > 8 || (ma == 8 && mi >= 1);
}

/* FNV-1a: a short, stable digest of the device link. */
static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h;
}

int facts_gpu_id(int sysfs, const struct pci_addr *addr, const struct pci_ident *ident, char *out, size_t size)
{
	_cleanup_free_ char *path = NULL;
	struct pci_ident own;
	int r;

	if (!ident && (r = sysfs_read_ident(sysfs, addr, &own)) < 0)
		return r;
	if ((r = sysfs_device_path(sysfs, addr, &path)) < 0)
		return r;
	ident = ident ? ident : &own;
	snprintf(out, size, "%04x:%04x:%04x:%04x:%08x", ident->vendor, ident->device, ident->subvendor,
		 ident->subdevice, fnv1a(path));
	return 0;
}

enum c8_state facts_c8_state(const struct config *cfg, const struct pci_addr *addr, const char *live_id)
{
	for (size_t i = 0; i < cfg->host.n_c8_free; i++) {
		const struct c8_entry *c = &cfg->host.c8_free[i];

		if (!pci_addr_equal(&c->addr, addr))
			continue;
		if (!c->id[0])
			return C8_NO_ID;
		return live_id[0] && !strcmp(c->id, live_id) ? C8_FREE : C8_OTHER_CARD;
	}
	return C8_NOT_LISTED;
}

const char *facts_c8_why(enum c8_state s)
{
	switch (s) {
	case C8_NOT_LISTED: return "would refuse it: a capability covers 0xC8, not in c8_free";
	case C8_OTHER_CARD:
		return "puts the clique at 0xC8, and c8_free was measured on another card here; run qemu-p2p refresh";
	case C8_NO_ID:
		return "puts the clique at 0xC8, and c8_free has no card ids (an older host file); run qemu-p2p refresh";
	default: return "";
	}
}
