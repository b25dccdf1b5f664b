/* The proof that data written over P2P lands in the peer's memory, shared by
 * p2pbench and qemu-p2p-guest boot. Timing is no proof: one report shows
 * GeForce cards approving P2P while writes land in a private mirror, and
 * a check on the writing GPU passes that mirror. So the writer copies a
 * known pattern into the owner's buffer, and a kernel on the writer stores
 * another through the peer mapping; each time the owner reads its own
 * buffer back and compares every word. */
#ifndef P2P_PROOF_H
#define P2P_PROOF_H

#include <stdbool.h>
#include <stdint.h>

#include "cudaload.h"

/* The default proof size: a few MiB per direction keeps a pair's test in
 * milliseconds on real P2P (see qemu-p2p-guest(1), boot). */
#define PROOF_BYTES ((size_t)4 << 20)

/* What the proof needs of one GPU; all zero when unset, so a half-opened
 * one is closed by proof_close. */
struct proof_gpu {
	CUdevice dev;
	CUcontext ctx;
	CUstream stream;
	CUdeviceptr a, b; /* two buffers of `size` bytes: a receives, b sends */
	size_t size;
	CUmodule mod;
	CUfunction kernel; /* write_pattern, from PTX */
};

enum verdict { V_NOT_RUN = -1, V_FAIL = 0, V_PASS = 1 };

/* One direction: what the owner read back after each write. */
struct proof_result {
	enum verdict copy, kernel;
};

/* BYTES with a K, M or G suffix, a multiple of 4 (the pattern is 32-bit
 * words); -1 when s is none. */
int proof_parse_size(const char *s, size_t *out);

/* The primary context of dev, a stream, two buffers of size bytes and the
 * kernel. -1 on a failed call (cu->error says which); close it either way. */
int proof_open(struct cuda *cu, CUdevice dev, size_t size, struct proof_gpu *g);
void proof_close(struct cuda *cu, struct proof_gpu *g);

/* Peer access from `from`'s context to `to`'s memory, on or off; already
 * so is fine. */
int proof_peer(struct cuda *cu, const struct proof_gpu *from, const struct proof_gpu *to, bool on);

/* Writer w to owner o, bytes of each buffer (at most the smaller size;
 * host holds bytes): enables peer access both ways, copies, stores, reads
 * back, disables it. -1 on a failed call (cu->error). With w == o, the
 * same steps inside one GPU: the control that the proof itself works. */
int proof_pair(struct cuda *cu, const struct proof_gpu *w, const struct proof_gpu *o, size_t bytes, uint32_t *host,
	       struct proof_result *out);

const char *proof_verdict_name(enum verdict v);

#endif
