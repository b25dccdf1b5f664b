#!/usr/bin/env python3
"""One verdict: every command that reads the configuration agrees with the
wrapper, so the next command added cannot drift from it.

On the real-machine trees (tests/fixtures/real) and the example host, for a
set of configurations — maps whole and partial, auto at every level, mode
off, every kind of rejection, a missing default file, a [qemu] binary typo
— the real wrapper starts a VM holding every GPU of the host (a stand-in
QEMU records what it got), and

  - `rewrite --explain` prints the argv the wrapper exec'd and its log line;
  - `plan --json`, `doctor --json` and `status --json` name the same groups
    (the GPUs the wrapper gave one clique), or the same rejection (the
    wrapper's "configuration rejected: FILE:LINE: ..." is their error), or
    the same reason the wrapper added nothing, and the QEMU it ran;
  - `doctor` FAILs and `status` exits non-zero on a rejection; `plan`
    refuses to plan (exit 1, an error object).
A --config file that does not exist is an error in every command (the
wrapper, which has no --config, would read defaults).
"""
import json
import os
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, tap  # noqa: E402

SRC = os.environ["QP2P_SRC"]
BUILD = os.environ["QP2P_BUILD"]
CLI = os.path.join(BUILD, "src/cli/qemu-p2p")
WRAP = os.path.join(BUILD, "src/wrap/qemu-p2p-wrap")
MKHOST = os.environ["MKHOST"]
PROP = "x-nv-gpudirect-clique"
TREES = {
    "blog-8gpu": os.path.join(SRC, "examples/blog-8gpu.host"),
    **{n: os.path.join(SRC, "tests/fixtures/real", n + ".host")
       for n in ("torch-ipc-8gpu", "wrx80-2gpu", "h12ssl-2gpu")},
}
# A QEMU >= 8.1 that records how it was started (as tests/integration/recorder.sh).
STANDIN = """#!/bin/sh
[ "$1" = -version ] && { echo "QEMU emulator version 8.2.2"; exit 0; }
: > "$RECORD.args"
for a in "$@"; do printf '%s\\0' "$a" >> "$RECORD.args"; done
"""


def run(*argv, env=None):
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    return p.returncode, p.stdout, p.stderr


def gpus_of(tree):
    d = json.loads(run(CLI, "topo", "--json", "--sysfs", tree)[1])
    return [g["address"] for g in d["gpus"]]


def configs(gpus, standin):
    """(name, operator file text, how it is written) per case."""
    half = len(gpus) // 2
    q = f"[qemu]\nbinary = {standin}\n"
    yield "map, one group", q + "[cliques]\nmode = map\n[map]\n0 = " + " ".join(gpus[:4]) + \
        ("\n    " + " ".join(gpus[4:]) if gpus[4:] else "") + "\n", None
    yield "map, two groups", q + "[cliques]\nmode = map\n[map]\n0 = " + " ".join(gpus[:half]) + \
        "\n1 = " + " ".join(gpus[half:]) + "\n", None
    yield "map, partial", q + "[cliques]\nmode = map\n[map]\n7 = " + " ".join(gpus[:2]) + "\n", None
    for level in ("PIX", "PXB", "PHB", "NODE", "SYS", "auto"):
        yield f"auto, level {level}", q + f"[cliques]\nmode = auto\nlevel = {level}\n", None
    yield "mode = off", q + "[cliques]\nmode = off\n", None
    yield "an unknown key (warns only)", q + "[cliques]\nflavour = strawberry\n", None
    yield "rejected: level = SYSS", q + "[cliques]\nlevel = SYSS\n", None
    yield "rejected: mode = mpa, level = SYS", q + "[cliques]\nmode = mpa\nlevel = SYS\n", None
    yield "rejected: a malformed address", q + "[cliques]\nmode = map\n[map]\n0 = 0000:zz:00.0\n", None
    yield "rejected: an address in two groups", q + f"[cliques]\nmode = map\n[map]\n0 = {gpus[0]}\n1 = {gpus[0]}\n", None
    yield "rejected: a line of 200 characters", q + "[cliques]\nexclude = " + "x" * 200 + "\n", None
    yield "rejected: writable by others", q + "[cliques]\nmode = auto\n", "chmod 666"
    yield "rejected: not owned by root", q + "[cliques]\nmode = auto\n", "chown nobody"
    yield "a [qemu] binary typo", "[qemu]\nbinary = /nonexistent/qemu-system-x86_64x\n", None
    yield "no operator file: defaults", None, None


def write_conf(path, text, how):
    if os.path.lexists(path):
        os.unlink(path)
    if text is None:
        return
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o666 if how == "chmod 666" else 0o644)
    if how == "chown nobody":
        os.chown(path, 65534, -1)


def wrapper_run(tmp, tree, conf, vm):
    """The real wrapper: the cliques QEMU got per address, and its log."""
    rec = os.path.join(tmp, "rec")
    if os.path.exists(rec + ".args"):
        os.unlink(rec + ".args")
    env = dict(os.environ, QEMU_P2P_CONFIG=conf, QEMU_P2P_SYSFS=tree, RECORD=rec)
    _, _, err = run(os.path.join(tmp, "bin/qemu-system-x86_64"), *vm, env=env)
    got = open(rec + ".args").read().split("\0")[:-1] if os.path.exists(rec + ".args") else None
    return got, err


def cliques(argv):
    """{address: clique} of the -device arguments in argv."""
    out = {}
    for i, a in enumerate(argv or []):
        if i and argv[i - 1] == "-device" and a.startswith("{"):
            d = json.loads(a)
            if PROP in d:
                out[d["host"]] = d[PROP]
    return out


def partition(ids):
    groups = {}
    for addr, i in ids.items():
        groups.setdefault(i, set()).add(addr)
    return sorted(sorted(g) for g in groups.values())


def verdict_groups(v):
    return sorted(sorted(g) for g in v["grouping"]["groups"])


def check_case(tmp, tname, tree, gpus, name, conf, standin):
    """Every command against the wrapper for one configuration."""
    vm = ["-name", "guest=agree", "-machine", "q35,accel=tcg", "-nodefaults", "-display", "none", "-S"]
    for k, a in enumerate(gpus):
        vm += ["-device", json.dumps({"driver": "vfio-pci", "host": a, "id": f"hostdev{k}"}, separators=(",", ":"))]
    got, log = wrapper_run(tmp, tree, conf, vm)
    ids = cliques(got)
    common = ["--sysfs", tree, "-c", conf] if os.path.exists(conf) else ["--sysfs", tree]
    env = dict(os.environ, QEMU_P2P_CONFIG=conf)
    what = f"{tname}, {name}"

    rc, out, err = run(CLI, "rewrite", "--explain", *common, "--", os.path.join(tmp, "bin/qemu-system-x86_64"), *vm,
                       env=env)
    ours = [l for l in log.splitlines() if l.startswith("qemu-p2p: ") and "is not an executable file" not in l]
    same_argv = out.split("\n")[1:-1] == (got if got is not None else vm)
    tap(rc == 0 and same_argv and [l for l in err.splitlines() if not l.startswith("qemu-p2p: exec ")] == ours,
        f"{what}: rewrite --explain = the wrapper's argv and log", f"wrapper log:\n{log}\nrewrite:\n{err}")

    rc_d, out_d, _ = run(CLI, "doctor", "--json", "--proc", os.path.join(tmp, "proc"), *common, env=env)
    rc_s, out_s, _ = run(CLI, "status", "--json", *common, env=env)
    rc_p, out_p, _ = run(CLI, "plan", "--json", *common, env=env)
    d, s, p = json.loads(out_d), json.loads(out_s), json.loads(out_p)
    vd, vs = d["verdict"], s["verdict"]
    tap(vd == vs, f"{what}: doctor and status give one verdict", f"doctor {vd}\nstatus {vs}")

    if vd["config"] == "rejected":
        said = f"qemu-p2p: configuration rejected: {vd['error']}; VM started unchanged"
        tap(got == vm and said in log.splitlines() and vd["stop"] == said[len("qemu-p2p: "):] and
            rc_p == 1 and vd["error"] in p.get("error", "") and rc_s != 0 and rc_d == 2 and
            any(c["name"] == "config" and c["status"] == "FAIL" and vd["error"] in c["evidence"] for c in d["checks"]),
            f"{what}: the wrapper, plan, doctor and status name one rejection",
            f"log: {log}\nplan: {p}\nstatus rc {rc_s}\ndoctor rc {rc_d}: {vd}")
        return
    if got is None and not vd["qemu_binary_ignored"]:
        tap(False, f"{what}: the wrapper exec'd the stand-in", log)
        return
    expected = verdict_groups(vd) if vd["adds_cliques"] else []
    plan_groups = sorted(sorted(g["gpus"]) for g in p["groups"] if len(g["gpus"]) >= 2)
    tap(partition(ids) == expected and plan_groups == verdict_groups(vd) and p["in_effect"] == (vd["stop"] is None),
        f"{what}: the wrapper's cliques = the verdict's groups = plan's",
        f"wrapper {partition(ids)}\nverdict {vd}\nplan {p}")
    tap((vd["stop"] is None) == (not any(vd["stop"] in l for l in log.splitlines() if vd["stop"])) and
        (vd["stop"] is None or f"qemu-p2p: {vd['stop']}" in log.splitlines()),
        f"{what}: what stops the wrapper is what the verdict says", f"log: {log}\nstop: {vd['stop']}")
    if vd["qemu_binary_ignored"]:
        tap(f"[qemu] binary {vd['qemu_binary_ignored']} is not an executable file (or is this wrapper); running "
            f"{vd['qemu']}" in log and rc_s != 0 and
            any(c["name"] == "qemu" and c["status"] == "FAIL" for c in d["checks"]),
            f"{what}: doctor, status and the wrapper name the QEMU that really runs", f"log: {log}\n{vd}")


def missing_config(tmp, tree):
    """--config naming a file that does not exist: an error everywhere."""
    gone = os.path.join(tmp, "nonexistent/qemu-p2p.conf")
    for cmd in (["plan", "--json"], ["doctor", "--json"], ["status", "--json"], ["vms", "--json"],
                ["refresh", "--json"], ["plan", "--write", "--json"], ["rewrite"],
                ["capture", "-o", os.path.join(tmp, "c.tgz")]):
        rc, out, err = run(CLI, *cmd, "-c", gone, "--sysfs", tree, *(["--", "qemu-system-x86_64"]
                                                                     if cmd[0] == "rewrite" else []))
        try:
            obj = json.loads(out) if "--json" in cmd else {"error": err}
        except ValueError:
            obj = {}
        tap(rc != 0 and gone in obj.get("error", "") and "no such file" in obj.get("error", "") and
            not os.path.exists(os.path.dirname(gone)),
            f"-c of a missing file: {' '.join(cmd)} says so, exit {rc}, creates nothing", f"{out}\n{err}")


def main():
    tmp = tempfile.mkdtemp(prefix="qp2p-agree.")
    os.makedirs(os.path.join(tmp, "bin"))
    os.makedirs(os.path.join(tmp, "proc"))
    os.makedirs(os.path.join(tmp, "etc/qemu-p2p.d"))
    # The wrapper where no QEMU search of the CLI finds it: both then fall
    # back to the same QEMU on libvirt's PATH for the typo case.
    subprocess.run(["cp", WRAP, os.path.join(tmp, "bin/qemu-system-x86_64")], check=True)
    standin = os.path.join(tmp, "standin-qemu")
    with open(standin, "w") as f:
        f.write(STANDIN)
    os.chmod(standin, 0o755)
    os.chmod(tmp, 0o755)
    conf = os.path.join(tmp, "etc/qemu-p2p.conf")
    for tname, desc in TREES.items():
        tree = os.path.join(tmp, tname)
        subprocess.run([sys.executable, MKHOST, desc, tree], check=True)
        gpus = gpus_of(tree)
        for name, text, how in configs(gpus, standin):
            # Facts for the stand-in, written while the file is valid.
            write_conf(conf, f"[qemu]\nbinary = {standin}\n", None)
            run(CLI, "refresh", "-c", conf, "--sysfs", tree, "--qemu", standin)
            write_conf(conf, text, how)
            check_case(tmp, tname, tree, gpus, name, conf, standin)
        missing_config(tmp, tree)
    subprocess.run(["rm", "-rf", tmp])
    done()


if __name__ == "__main__":
    main()
