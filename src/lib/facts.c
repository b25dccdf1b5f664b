/* Host facts: identity and version of the real QEMU, and the guard that
 * keeps QEMU < 8.1 from being handed a clique it cannot place. */
#include "facts.h"

#include <errno.h>
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

bool facts_c8_free(const struct config *cfg, const struct pci_addr *addr)
{
	for (size_t i = 0; i < cfg->host.n_c8_free; i++)
		if (pci_addr_equal(&cfg->host.c8_free[i], addr))
			return true;
	return false;
}
