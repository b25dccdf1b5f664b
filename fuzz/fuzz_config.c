/* libFuzzer harness for both configuration files' parser. The first byte
 * picks the operator (even) or host (odd) file. Checked: no crash, an error
 * names "fuzz.conf:LINE:" or the file, and a host file that parsed is
 * written back by hostfile_format and reads back to the same map and
 * c8_free (what plan --write and refresh rely on). */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "hostfile.h"

static void same_host(const struct conf_file *a, const struct conf_file *b)
{
	if (a->n_map != b->n_map || a->n_c8_free != b->n_c8_free)
		abort();
	/* The writer groups entries by label: compare as sets. */
	for (size_t i = 0; i < a->n_map; i++) {
		bool found = false;

		for (size_t k = 0; k < b->n_map && !found; k++)
			found = a->map[i].label == b->map[k].label && pci_addr_equal(&a->map[i].addr, &b->map[k].addr);
		if (!found)
			abort();
	}
	for (size_t i = 0; i < a->n_c8_free; i++)
		if (!pci_addr_equal(&a->c8_free[i].addr, &b->c8_free[i].addr) || strcmp(a->c8_free[i].id, b->c8_free[i].id))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf_file f = { 0 }, g = { 0 };
	bool host = size && (data[0] & 1);
	char *text = NULL;

	if (size)
		data++, size--;
	config_parse_text("fuzz.conf", (const char *)data, size, host, &f);
	if (f.error && strncmp(f.error, "fuzz.conf", 9))
		abort();
	if (host && !f.error && hostfile_format(&f, &text) == 0) {
		config_parse_text("fuzz.conf", text, strlen(text), true, &g);
		if (g.error)
			abort();
		same_host(&f, &g);
		conf_file_free(&g);
		free(text);
	}
	conf_file_free(&f);
	return 0;
}
