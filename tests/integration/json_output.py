#!/usr/bin/env python3
"""One JSON convention across qemu-p2p, qemu-p2p-guest and p2pbench, checked
by running every --json there is, when it succeeds and when it fails:

  - stdout is exactly one JSON object, its first key "version" = 1;
  - a run that fails on bad input says why in "error";
  - PCI addresses are "0000:05:00.0" (lower case, domain written);
  - PCI ids and classes are the hex strings lspci -n prints ("10de",
    "030200"), never numbers;
  - every key printed is written down in the program's man page, in its
    JSON OUTPUT section (the schema is written once, there).
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, tap  # noqa: E402

SRC = os.environ["QP2P_SRC"]
BUILD = os.environ["QP2P_BUILD"]
MKHOST = os.environ["MKHOST"]
CLI = os.path.join(BUILD, "src/cli/qemu-p2p")
GUEST = os.path.join(BUILD, "src/guest/qemu-p2p-guest")
BENCH = os.path.join(BUILD, "src/p2pbench/p2pbench")
MAN = {CLI: "qemu-p2p.8.scd", GUEST: "qemu-p2p-guest.1.scd", BENCH: "p2pbench.1.scd"}
CANONICAL = re.compile(r"^[0-9a-f]{4}:[0-9a-f]{2}:[0-1][0-9a-f]\.[0-7]$")
LOOKS_LIKE_ADDR = re.compile(r"^(?:[0-9A-Fa-f]{4,8}:)?[0-9A-Fa-f]{1,2}:[0-9A-Fa-f]{1,2}\.[0-7]$")
HEX_KEYS = {"vendor_id": 4, "device_id": 4, "subsystem_vendor_id": 4, "subsystem_device_id": 4, "class": 6}
# Values copied from a command line or a file, as written there.
AS_WRITTEN = {"source", "text", "evidence", "action", "fix", "error", "note", "reason", "stop", "why"}


def json_section(man):
    text = open(os.path.join(SRC, "man", man)).read()
    start = text.find("# JSON OUTPUT")
    end = text.find("\n# ", start + 1)
    return text[start:end] if start >= 0 else ""


def keys_and_values(o, key=None):
    """(key, value) of every member, recursively; list items keep their key."""
    if isinstance(o, dict):
        for k, v in o.items():
            yield k, v
            yield from keys_and_values(v, k)
    elif isinstance(o, list):
        for v in o:
            if not isinstance(v, (dict, list)):
                yield key, v
            yield from keys_and_values(v, key)


def convention(obj):
    """What in obj breaks the convention (a list of lines)."""
    bad = []
    if not isinstance(obj, dict) or list(obj)[:1] != ["version"] or obj["version"] != 1:
        bad.append("not an object with \"version\": 1 first")
        return bad
    for k, v in keys_and_values(obj):
        if k in HEX_KEYS and not (isinstance(v, str) and re.fullmatch(f"[0-9a-f]{{{HEX_KEYS[k]}}}", v)) \
                and v is not None:
            bad.append(f"{k}: {v!r} is not a {HEX_KEYS[k]}-digit hex string")
        if isinstance(v, str) and k not in AS_WRITTEN and LOOKS_LIKE_ADDR.match(v) and not CANONICAL.match(v):
            bad.append(f"{k}: {v!r} is not an address in the form 0000:05:00.0")
    return bad


def undocumented(prog, obj):
    section = json_section(MAN[prog])
    return sorted({k for k, _ in keys_and_values(obj)
                   if k is not None and f'"{k}"' not in section and f"*{k}*" not in section})


def run_json(desc, argv, env=None, fails=False):
    env = dict(os.environ, **(env or {}))
    p = subprocess.run(argv, capture_output=True, text=True, env=env)
    try:
        obj = json.loads(p.stdout)
    except ValueError as e:
        tap(False, f"{desc}: one JSON object on stdout", f"{e}\nstdout: {p.stdout[:500]}\nstderr: {p.stderr[:500]}")
        return
    bad = convention(obj)
    if fails:
        if p.returncode == 0 or not isinstance(obj.get("error"), str) or not obj["error"]:
            bad.append(f"exit {p.returncode}, error {obj.get('error')!r}: a failure must say why in \"error\"")
        elif obj["error"] not in p.stderr:
            bad.append("the error object does not carry the line said on stderr")
    tap(not bad, f"{desc}: one object, the convention" + (", an error" if fails else ""), "\n".join(bad))
    if not fails:
        missing = undocumented(argv[0], obj)
        tap(not missing, f"{desc}: every key is in {MAN[argv[0]]}, JSON OUTPUT",
            f"undocumented: {', '.join(missing)}")


def host_side(tmp):
    sys_ = os.path.join(tmp, "blog")
    subprocess.run([sys.executable, MKHOST, os.path.join(SRC, "examples/blog-8gpu.host"), sys_], check=True)
    etc = os.path.join(tmp, "etc")
    os.makedirs(os.path.join(etc, "qemu-p2p.d"))
    conf = os.path.join(etc, "qemu-p2p.conf")
    with open(conf, "w") as f:
        f.write("[cliques]\nmode = auto\n")
    proc = os.path.join(tmp, "proc")
    os.makedirs(os.path.join(proc, "42"))
    with open(os.path.join(proc, "42/cmdline"), "w") as f:
        f.write("\0".join(["/usr/bin/qemu-system-x86_64", "-name", "guest=vm,debug-threads=on", "-device",
                           '{"driver":"vfio-pci","host":"0000:05:00.0","id":"hostdev0"}', "-device",
                           '{"driver":"vfio-pci","host":"0000:85:00.0","id":"hostdev1","x-nv-gpudirect-clique":0}',
                           ""]))
    root = os.path.join(tmp, "root")
    os.makedirs(root)
    c = ["-c", conf]
    s = ["--sysfs", sys_]
    run_json("topo", [CLI, "topo", "--json", *s])
    run_json("plan", [CLI, "plan", "--json", *s, *c])
    run_json("plan --level NODE", [CLI, "plan", "--json", "--level", "NODE", *s, *c])
    run_json("plan --from-nvidia-smi", [CLI, "plan", "--json", *s, *c, "--from-nvidia-smi",
                                        os.path.join(SRC, "tests/fixtures/nvsmi/not-transitive.txt")])
    run_json("plan --write --dry-run", [CLI, "plan", "--json", "--write", "--dry-run", *s, *c])
    for target in ("proxmox", "nova", "libvirt"):
        run_json(f"plan --for {target}", [CLI, "plan", "--json", "--for", target, "--hostname", "h1", *s, *c])
    run_json("refresh --dry-run", [CLI, "refresh", "--json", "--dry-run", "--qemu", "/usr/bin/qemu-system-x86_64",
                                   *s, *c])
    run_json("doctor", [CLI, "doctor", "--json", "--proc", proc, *s, *c])
    run_json("vms", [CLI, "vms", "--json", "--proc", proc, *s, *c])
    run_json("status", [CLI, "status", "--json", *s, *c])
    run_json("install --dry-run --root", [CLI, "install", "--json", "--dry-run", "--root", root])
    run_json("uninstall --dry-run --root", [CLI, "uninstall", "--json", "--dry-run", "--root", root])
    gone = os.path.join(tmp, "gone")
    for cmd in (["topo"], ["plan"], ["doctor"], ["vms"], ["status"], ["refresh", "--dry-run"]):
        run_json(f"{cmd[0]} on a missing sysfs root", [CLI, *cmd, "--json", "--sysfs", gone], fails=True)
    run_json("plan --bogus", [CLI, "plan", "--json", "--bogus"], fails=True)
    with open(conf, "w") as f:
        f.write("[cliques]\nlevel = SYSS\n")
    run_json("plan on a rejected configuration", [CLI, "plan", "--json", *s, *c], fails=True)
    run_json("plan --for nova on a rejected configuration", [CLI, "plan", "--json", "--for", "nova", *s, *c],
             fails=True)


def guest_side(tmp):
    sys_ = os.path.join(tmp, "guest")
    subprocess.run([sys.executable, MKHOST, os.path.join(SRC, "tests/fixtures/guest/two-cliques.host"), sys_],
                   check=True)
    proc = os.path.join(tmp, "gproc")
    os.makedirs(proc)
    with open(os.path.join(proc, "cpuinfo"), "w") as f:
        f.write("vendor_id\t: GenuineIntel\nflags\t\t: hypervisor\n")
    root = os.path.join(tmp, "groot")
    os.makedirs(root)
    cuda = {"LD_LIBRARY_PATH": os.path.join(BUILD, "tests"), "FAKECUDA_DEVICES": "4",
            "FAKECUDA_BUSIDS": "0000:01:00.0,0000:02:00.0,0000:03:00.0,0000:04:00.0",
            "FAKECUDA_PEERS": "0-2,1-3"}
    nocuda = {"LD_LIBRARY_PATH": "/nonexistent"}
    s = ["--sysfs", sys_]
    run_json("guest cliques", [GUEST, "cliques", "--json", *s])
    run_json("guest check", [GUEST, "check", "--json", *s], env=cuda)
    run_json("guest check without a driver", [GUEST, "check", "--json", *s], env=nocuda)
    run_json("guest boot", [GUEST, "boot", "--json", *s, "--proc", proc, "--root", root], env=cuda)
    run_json("guest status", [GUEST, "status", "--json", "--root", root])
    run_json("guest cliques on a missing sysfs root", [GUEST, "cliques", "--json", "--sysfs",
                                                      os.path.join(tmp, "gone")], fails=True)
    run_json("guest check --bogus", [GUEST, "check", "--json", "--bogus"], fails=True)
    run_json("p2pbench", [BENCH, "--json", "--size", "1M", "--iters", "2", "--reps", "2"],
             env=dict(cuda, FAKECUDA_DEVICES="2"))
    run_json("p2pbench --bogus", [BENCH, "--json", "--bogus"], fails=True)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        host_side(tmp)
        guest_side(tmp)
    done()


if __name__ == "__main__":
    main()
