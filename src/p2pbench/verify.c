/* p2pbench's correctness: the proof of proof.h for each ordered pair with
 * peer access, and on each GPU alone as the control: a FAIL there is the
 * proof failing (a kernel the driver cannot run), not the P2P path. */
#include <stdlib.h>

#include "bench.h"

int bench_peer(struct bench *b, int from, int to, bool on)
{
	if (!b->can[from][to])
		return 0;
	return proof_peer(&b->cu, &b->g[from].p, &b->g[to].p, on);
}

int bench_verify(struct bench *b)
{
	size_t bytes = b->size < PROOF_BYTES ? b->size : PROOF_BYTES;
	uint32_t *host = malloc(bytes);
	int r = 0;

	if (!host)
		return -1;
	for (int w = 0; w < b->n && r == 0; w++)
		for (int o = 0; o < b->n && r == 0; o++) {
			b->ok[w][o] = (struct proof_result){ V_NOT_RUN, V_NOT_RUN };
			if (w == o || b->can[w][o])
				r = proof_pair(&b->cu, &b->g[w].p, &b->g[o].p, bytes, host, &b->ok[w][o]);
		}
	free(host);
	return r;
}
