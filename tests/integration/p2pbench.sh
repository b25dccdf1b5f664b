#!/bin/bash
# p2pbench against the test double of libcuda.so.1 (tests/p2pbench/fakecuda.c),
# loaded through the same dlopen path: matrices' shape, verdicts (the
# mirror case must FAIL), JSON, and the error paths.
. "$(dirname "$0")/tap.sh"
PB=$QP2P_BUILD/src/p2pbench/p2pbench
export LD_LIBRARY_PATH=$QP2P_BUILD/tests
run() { env "$@" "$PB" --size 1M --iters 3 --reps 3 > "$TMP/out" 2> "$TMP/err"; echo $? > "$TMP/rc"; }
rc_is() { [ "$(cat "$TMP/rc")" = "$1" ]; }
has() { contains "$TMP/out" "$1"; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not ($1))" "$TMP/out"; }

run FAKECUDA_DEVICES=3
check "three GPUs with peer access: exit 0" rc_is 0
check "six matrices of 3x3 (header row and three GPU rows each)" sh -c "[ \$(grep -cE '^ +[0-2]( +[0-9.]+){3}\$' '$TMP/out') -eq 18 ]"
check "the peer access table with attributes" has "1 (0/1/1/0)"
check "the summary table: metric, P2P off, P2P on, change" grep -qE '^unidirectional bandwidth \(GB/s\) +[0-9.]+ +[0-9.]+ +\+[0-9]+%' "$TMP/out"
check "P2P on is faster in the model (the double's 50 vs 20 GB/s)" grep -qE '^bidirectional bandwidth \(GB/s\) +[0-9.]+ +[0-9.]+ +\+[1-9][0-9]*%' "$TMP/out"
check "correctness per ordered pair, copy and kernel" has "GPU2 -> GPU0: peer access, copy PASS, kernel PASS"
check "verdict PASS" has "PASS: every pair with peer access wrote where it should"

run FAKECUDA_DEVICES=2 FAKECUDA_MIRROR=1
check "writes landing in a private mirror: exit 1" rc_is 1
check "... each pair named as FAIL" has "GPU0 -> GPU1: peer access, copy FAIL, kernel FAIL"
check "... while each GPU alone passes (the mirror is only a peer's)" has "GPU1 alone (the control): copy PASS, kernel PASS"
check "... verdict FAIL" has "FAIL: a pair with peer access lost data written over P2P"

run FAKECUDA_DEVICES=2 FAKECUDA_ASYNC=1
check "a driver whose legacy-stream memset and copy return early: still PASS, controls too" sh -c "[ \$(cat '$TMP/rc') = 0 ] && grep -q 'GPU1 alone (the control): copy PASS, kernel PASS' '$TMP/out'"
run FAKECUDA_DEVICES=2 FAKECUDA_ASYNC=1 FAKECUDA_MIRROR=1
check "... and the mirror still FAILs with it" has "GPU0 -> GPU1: peer access, copy FAIL, kernel FAIL"

run FAKECUDA_DEVICES=2 FAKECUDA_NO_PEER=1
check "no peer access: exit 0 (nothing claims P2P, nothing to fail)" rc_is 0
check "no peer access: correctness not run, said so" has "GPU0 -> GPU1: no peer access: copy n/a, kernel n/a"
check "no peer access: the last line says there is no P2P, not PASS" sh -c "tail -n 1 '$TMP/out' | grep -q '^NO P2P: no pair of GPUs has peer access'"

env FAKECUDA_DEVICES=2 "$PB" --size 1M --iters 2 --reps 3 --json > "$TMP/out"
check "--json: one object, matrices 2x2, verdicts per pair" json 'd["version"]==1 and len(d["unidirectional_gbps"]["p2p_on"])==2 and len(d["latency_us"]["p2p_off"][1])==2 and len(d["pairs"])==2 and d["pairs"][0]["copy"]=="PASS" and d["verdict"]=="PASS" and d["pairs"][0]["attributes"]["access_supported"]==1'

run FAKECUDA_DEVICES=1
check "one GPU: local copies only, exit 0" sh -c "grep -q '^Summary (local copies)' '$TMP/out' && [ \$(cat '$TMP/rc') = 0 ]"
check "one GPU: the proof still runs on it alone (the control), PASS" sh -c "grep -q 'GPU0 alone (the control): copy PASS, kernel PASS' '$TMP/out' && grep -q '^PASS: the proof works on this GPU; one GPU' '$TMP/out'"
run FAKECUDA_DEVICES=2 FAKECUDA_BAD_KERNEL=1
check "a kernel the driver runs wrongly: the control fails, exit 1, said to be no P2P verdict" sh -c "[ \$(cat '$TMP/rc') = 1 ] && grep -q 'GPU1 alone (the control): copy PASS, kernel FAIL' '$TMP/out' && grep -q '^FAIL: the proof fails on one GPU alone' '$TMP/out'"
run FAKECUDA_DEVICES=0
check "no GPU: exit 2 and a clear message" sh -c "[ \$(cat '$TMP/rc') = 2 ] && grep -q 'p2pbench: cuInit: no CUDA-capable device' '$TMP/err'"
run FAKECUDA_FAIL_ALLOC=1
check "a failed allocation: exit 1, the call named" sh -c "[ \$(cat '$TMP/rc') = 1 ] && grep -q 'cuMemAlloc: out of memory' '$TMP/err'"
LD_LIBRARY_PATH=/nonexistent "$PB" > "$TMP/out" 2> "$TMP/err"; echo $? > "$TMP/rc"
check "no driver at all: exit 2, says libcuda.so.1 is missing" sh -c "[ \$(cat '$TMP/rc') = 2 ] && grep -q 'no NVIDIA driver: cannot load libcuda.so.1' '$TMP/err'"
run FAKECUDA_DEVICES=2 --devices 0,5
"$PB" --devices 0,5 > "$TMP/out" 2> "$TMP/err"; echo $? > "$TMP/rc"
check "--devices naming a missing GPU: usage error 64" sh -c "[ \$(cat '$TMP/rc') = 64 ] && grep -q 'no GPU 5' '$TMP/err'"
"$PB" --size 3 2> "$TMP/err"; echo $? > "$TMP/rc"
check "--size not a multiple of 4: usage error 64" rc_is 64
check "... one line in the error shape, naming the value" sh -c "[ \$(wc -l < '$TMP/err') = 1 ] && grep -q '^p2pbench: --size 3: bytes, a multiple of 4' '$TMP/err'"
"$PB" --iters 5x 2> "$TMP/err"; echo $? > "$TMP/rc"
check "--iters 5x: usage error 64 (no number with trailing text)" rc_is 64
"$PB" --sise 1M 2> "$TMP/err"; echo $? > "$TMP/rc"
check "an unknown option: 64, one line, the nearest one suggested" sh -c "[ \$(cat '$TMP/rc') = 64 ] && [ \$(wc -l < '$TMP/err') = 1 ] && grep -q 'p2pbench: --sise: unknown option; did you mean --size?' '$TMP/err'"

# Every --json run prints one object, errors included.
LD_LIBRARY_PATH=/nonexistent "$PB" --json > "$TMP/out" 2> /dev/null; echo $? > "$TMP/rc"
check "--json without a driver: exit 2 and one JSON object with the error" sh -c "[ \$(cat '$TMP/rc') = 2 ] && python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not (list(d)[0]==\"version\" and \"libcuda.so.1\" in d[\"error\"] and d[\"exit_status\"]==2))' '$TMP/out'"
"$PB" --json --size 3 > "$TMP/out" 2> /dev/null; echo $? > "$TMP/rc"
check "--json with a bad option value: exit 64 and a JSON error object" sh -c "[ \$(cat '$TMP/rc') = 64 ] && grep -q '\"exit_status\":64' '$TMP/out'"
env FAKECUDA_DEVICES=2 FAKECUDA_BUSIDS=00000000:3B:00.0,0000:5e:00.0 "$PB" --size 64K --iters 1 --reps 1 --json > "$TMP/out"
check "--json: addresses in the one form (0000:3b:00.0, from the driver's 00000000:3B:00.0)" json 'd["gpus"][0]["address"]=="0000:3b:00.0" and d["gpus"][1]["address"]=="0000:5e:00.0"'
check "--json: the driver's CUDA version and the lookup used" json 'd["driver"]=={"cuda_version": "12.4", "lookup": "cuGetProcAddress_v2"}'

# The loader: cuGetProcAddress_v2 (CUDA 12+) where exported, else the old one.
run FAKECUDA_DEVICES=2
check "a CUDA 12 driver: entry points through cuGetProcAddress_v2" has "Driver: CUDA 12.4, entry points through cuGetProcAddress_v2"
run FAKECUDA_DEVICES=2 FAKECUDA_V1_BROKEN=1
check "... never through the old lookup where _v2 exists (the old one broken: still PASS)" sh -c "[ \$(cat '$TMP/rc') = 0 ] && grep -q '^PASS' '$TMP/out'"
run FAKECUDA_DEVICES=2 FAKECUDA_DRIVER_VERSION=11080
check "a driver older than the API asked for: asked for its own version, loads" sh -c "[ \$(cat '$TMP/rc') = 0 ] && grep -q 'Driver: CUDA 11.8' '$TMP/out'"
run FAKECUDA_DEVICES=2 LD_LIBRARY_PATH=$QP2P_BUILD/tests/p2pbench
check "a CUDA 11 driver (no _v2 exported): the 4-argument cuGetProcAddress, PASS" sh -c "[ \$(cat '$TMP/rc') = 0 ] && grep -q 'Driver: CUDA 11.8, entry points through cuGetProcAddress\$' '$TMP/out'"
run FAKECUDA_DEVICES=2 FAKECUDA_MISSING=cuLaunchKernel
check "an entry point the driver lacks: exit 2, named with the lookup" sh -c "[ \$(cat '$TMP/rc') = 2 ] && grep -q 'does not provide cuLaunchKernel through cuGetProcAddress_v2' '$TMP/err'"
check "p2pbench --help names every option it takes" sh -c "'$PB' --help | grep -q -- '--devices LIST'"
done_testing
