/* Parser for nvidia-smi's P2P read matrix and bus-id CSV (see nvsmi.h).
 *
 *      GPU0    GPU1                      index, pci.bus_id
 *  GPU0   X       OK                     0, 00000000:05:00.0
 *  GPU1   OK      X                      1, 00000000:06:00.0
 *
 * Cells other than OK (NS, CNS, GNS, TNS, DR, U) mean no P2P; the matrix is
 * read as published and an OK in one direction only counts as not OK. */
#include "nvsmi.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Splits s at whitespace into at most max tokens (s is modified). */
static size_t split(char *s, char **tok, size_t max)
{
	size_t n = 0;

	for (char *save = NULL, *t = strtok_r(s, " \t\r", &save); t && n < max; t = strtok_r(NULL, " \t\r", &save))
		tok[n++] = t;
	return n;
}

static int gpu_index(const char *t)
{
	char *end;
	long v;

	if (strncmp(t, "GPU", 3) || !isdigit((unsigned char)t[3]))
		return -1;
	v = strtol(t + 3, &end, 10);
	return *end || v >= NVSMI_MAX_GPUS ? -1 : (int)v;
}

/* "0, 00000000:05:00.0": the index and address. */
static int csv_line(const char *line, int *idx, struct pci_addr *a)
{
	char bus[32];
	int i;

	if (sscanf(line, " %d , %31s", &i, bus) != 2 || i < 0 || i >= NVSMI_MAX_GPUS)
		return -1;
	*idx = i;
	return pci_addr_parse_sysfs(bus, a);
}

int nvsmi_parse(const char *path, const char *text, struct nvsmi *out, struct err *e)
{
	_cleanup_free_ char *copy = strdup(text);
	char *tok[NVSMI_MAX_GPUS + 2], *next;
	bool row_seen[NVSMI_MAX_GPUS] = { 0 }, addr_seen[NVSMI_MAX_GPUS] = { 0 };
	size_t cols = 0, lineno = 0;

	*out = (struct nvsmi){ 0 };
	if (!copy)
		return -ENOMEM;
	for (char *line = copy; line; line = next) {
		char buf[512];
		size_t n;
		int i;
		struct pci_addr a;

		if ((next = strchr(line, '\n')))
			*next++ = '\0';
		lineno++;
		if (csv_line(line, &i, &a) == 0) {
			out->addr[i] = a;
			addr_seen[i] = true;
			continue;
		}
		snprintf(buf, sizeof(buf), "%s", line);
		n = split(buf, tok, ARRAY_SIZE(tok));
		if (n == 0 || gpu_index(tok[0]) < 0)
			continue;
		if (gpu_index(tok[n - 1]) >= 0 && (n == 1 || gpu_index(tok[1]) >= 0)) {
			cols = n; /* the header: GPU0 GPU1 ... */
			continue;
		}
		i = gpu_index(tok[0]);
		if (!cols || n != cols + 1)
			return err_set(e,
				       "%s:%zu: a matrix row with %zu cells where the header has %zu GPUs; paste "
				       "the output of `nvidia-smi topo -p2p r` unchanged",
				       path, lineno, n - 1, cols),
			       -EINVAL;
		for (size_t k = 1; k < n; k++)
			out->ok[i][k - 1] = !strcmp(tok[k], "OK");
		row_seen[i] = true;
	}
	if (!cols)
		return err_set(e, "%s: no `nvidia-smi topo -p2p r` matrix found (a line \"GPU0 GPU1 ...\")", path),
		       -EINVAL;
	out->n = cols;
	for (size_t i = 0; i < cols; i++) {
		if (!row_seen[i])
			return err_set(e, "%s: the matrix has no row GPU%zu", path, i), -EINVAL;
		if (!addr_seen[i])
			return err_set(e,
				       "%s: no bus id for GPU%zu; append the output of `nvidia-smi "
				       "--query-gpu=index,pci.bus_id --format=csv`",
				       path, i),
			       -EINVAL;
	}
	for (size_t i = 0; i < cols; i++)
		for (size_t k = 0; k < cols; k++)
			out->ok[i][k] = i != k && out->ok[i][k] && out->ok[k][i];
	return 0;
}
