/* The driver's view of the pairs (see peers.h). */
#include "peers.h"

#include <stdio.h>
#include <string.h>

#include "sysfs.h"
#include "util.h"

int peers_map(struct cuda *cu, const struct guest *g, int *dev, char *msg, size_t size)
{
	int count = 0;
	CUresult r = cu->Init(0);

	if (r == CUDA_SUCCESS)
		r = cu->DeviceGetCount(&count);
	if (r != CUDA_SUCCESS || count == 0) {
		if (r != CUDA_SUCCESS)
			snprintf(msg, size, "cuInit: %s (%d)", cuda_error(cu, r), r);
		else
			snprintf(msg, size, "the driver sees no GPU");
		return -1;
	}
	for (size_t i = 0; i < g->n_gpus; i++)
		dev[i] = -1;
	for (int d = 0; d < count; d++) {
		char bus[32] = "";
		struct pci_addr a;
		CUdevice h;
		int gi;

		if (cu->DeviceGet(&h, d) == CUDA_SUCCESS &&
		    cu->DeviceGetPCIBusId(bus, sizeof(bus), h) == CUDA_SUCCESS && pci_addr_parse_sysfs(bus, &a) == 0 &&
		    (gi = guest_find(g->gpus, g->n_gpus, &a)) >= 0)
			dev[gi] = h;
	}
	return 0;
}

bool peers_granted(struct cuda *cu, int a, int b)
{
	int ab = 0, ba = 0;

	if (a < 0 || b < 0 || cu->DeviceCanAccessPeer(&ab, a, b) != CUDA_SUCCESS ||
	    cu->DeviceCanAccessPeer(&ba, b, a) != CUDA_SUCCESS)
		return false;
	return ab && ba;
}

bool peers_sees_hypervisor(int proc)
{
	_cleanup_free_ char *cpu = NULL;

	return proc >= 0 && read_file_at(proc, "cpuinfo", 1 << 22, &cpu, NULL) == 0 && strstr(cpu, " hypervisor");
}

struct peer_verdict peers_judge(const struct guest *g, size_t i, size_t k, bool listed, bool granted, bool hypervisor)
{
	int ca = g->gpus[i].clique, cb = g->gpus[k].clique;
	struct peer_verdict v = { .expected = ca >= 0 && ca == cb };

	if (v.expected && granted) {
		v.verdict = "granted";
		v.why = "P2P, as the clique says";
	} else if (v.expected && !listed) {
		/* Not the driver's version: a GPU gone from it. */
		v.verdict = "LOST";
		v.why = "one clique, but the driver does not list both GPUs (nvidia-smi; an Xid in dmesg?)";
	} else if (v.expected) {
		v.verdict = "LOST";
		v.why = hypervisor ? "one clique, but the driver refuses (its version or the GPU model does not honour "
				     "cliques)"
				   : "one clique, but the guest sees no hypervisor (-cpu kvm=off, libvirt <hidden "
				     "state='on'/>, Proxmox hidden=1): the driver ignores cliques";
	} else if (granted) {
		v.verdict = "granted";
		v.why = "P2P without a common clique (NVLink, or a driver that needs none)";
	} else {
		v.verdict = "none expected";
		v.why = ca < 0 || cb < 0 ? "a GPU without a clique" : "different cliques";
	}
	return v;
}

const char *peers_cliques_text(const struct guest *g, size_t i, size_t k, char *buf, size_t size)
{
	char x[12] = "-", y[12] = "-";

	if (g->gpus[i].clique >= 0)
		snprintf(x, sizeof(x), "%d", g->gpus[i].clique);
	if (g->gpus[k].clique >= 0)
		snprintf(y, sizeof(y), "%d", g->gpus[k].clique);
	snprintf(buf, size, "%s/%s", x, y);
	return buf;
}
