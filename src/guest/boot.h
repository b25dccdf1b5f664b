/* What qemu-p2p-guest boot found and did: its report, printed, kept as
 * /run/qemu-p2p-guest/status.json for monitoring and shown again by
 * qemu-p2p-guest status (bootstatus.c). */
#ifndef QP2P_BOOT_H
#define QP2P_BOOT_H

#include <json.h>
#include <stdbool.h>
#include <time.h>

#include "datatest.h"
#include "guestscan.h"
#include "util.h"

#define BOOT_STATUS_DIR "run/qemu-p2p-guest"
#define BOOT_STATUS_NAME "status.json"

struct boot_pair {
	const char *verdict; /* "ok", "LOST", "FAIL", "none expected", "not run" */
	char why[320];
};

/* A file boot touches and what it did: "written", "removed", "none",
 * "line added", "line removed", "unchanged", "left alone", "failed". */
struct boot_file {
	const char *action;
	char path[512]; /* as shown: below --root */
	char error[512];
};

struct boot_report {
	const char *verdict; /* "ok", "fallback", "broken" (fallback off), "no-driver", "no-gpu", "error" */
	int exit_status;
	char message[2048];
	bool fallback; /* on: a failed pair disables NCCL's P2P */
	size_t bytes;  /* written each way per pair */
	int timeout_s;
	const struct guest *g;         /* NULL when none was read */
	const struct datatest *dt;     /* NULL when it did not run */
	const struct boot_pair *pairs; /* one per dt->pairs */
	struct boot_file topology, nccl_conf;
};

/* The report as a JSON object, version 1 (qemu-p2p-guest(1) has the
 * schema). Owned. */
struct json_object *boot_status_json(const struct boot_report *r, time_t when);

/* Writes it to /run/qemu-p2p-guest/status.json below root. */
int boot_status_write(int root, struct json_object *status, struct err *e);

#endif
