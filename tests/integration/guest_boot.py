#!/usr/bin/env python3
"""qemu-p2p-guest boot and status against the libcuda test double
(tests/p2pbench/fakecuda.c) on a guest tree with two cliques, each boot in
a scratch --root: a healthy boot writes NCCL's topology file; writes that
land in a private mirror, or a clique the driver refuses, or a data path
that hangs give no file, our NCCL_P2P_DISABLE=1 line first in
/etc/nccl.conf (every other line kept), one line naming the pair, exit 1;
a healthy boot after that restores the file and takes out only our line;
no driver changes nothing; an nccl.conf that is no regular file or is
read-only is reported and left alone; links an unprivileged user could
plant are not followed. Then the systemd unit, through systemd-analyze
verify. Prints TAP."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, skip, tap  # noqa: E402

BUILD = os.environ["QP2P_BUILD"]
SRC = os.environ["QP2P_SRC"]
GUEST = os.path.join(BUILD, "src/guest/qemu-p2p-guest")
UNIT = os.path.join(SRC, "packaging/systemd/qemu-p2p-guest-topology.service")
TOPO = "var/run/nvidia-topologyd/virtualTopology.xml"
STATUS = "run/qemu-p2p-guest/status.json"
MARK = ("# qemu-p2p-guest boot: GPU P2P failed its test at boot (qemu-p2p-guest status says which pair); "
        "the next boot that passes removes this line and the next\nNCCL_P2P_DISABLE=1\n")
# The operator's own lines, their own NCCL_P2P_DISABLE among them: only our
# marked line may ever go.
OPERATOR = "NCCL_DEBUG=WARN\n# site settings\nNCCL_P2P_DISABLE=0\nNCCL_SOCKET_IFNAME=eth0"
# Cliques 0 and 1: 01+03 and 02+04; CUDA devices 0..3 are those GPUs.
CUDA = {"LD_LIBRARY_PATH": os.path.join(BUILD, "tests"), "FAKECUDA_DEVICES": "4",
        "FAKECUDA_BUSIDS": "0000:01:00.0,0000:02:00.0,0000:03:00.0,0000:04:00.0", "FAKECUDA_PEERS": "0-2,1-3"}


class Guest:
    def __init__(self, tmp):
        self.tmp = tmp
        self.sysfs = os.path.join(tmp, "sys")
        self.proc = os.path.join(tmp, "proc")
        subprocess.run([sys.executable, os.environ["MKHOST"], os.path.join(SRC, "tests/fixtures/guest/two-cliques.host"),
                        self.sysfs], check=True)
        os.makedirs(self.proc)
        with open(os.path.join(self.proc, "cpuinfo"), "w") as f:
            f.write("vendor_id\t: GenuineIntel\nflags\t\t: fpu vme hypervisor\n")

    def root(self, name, conf=OPERATOR):
        """A scratch root with the operator's /etc/nccl.conf (None: none)."""
        root = os.path.join(self.tmp, name)
        os.makedirs(os.path.join(root, "etc"))
        if conf is not None:
            with open(os.path.join(root, "etc/nccl.conf"), "w") as f:
                f.write(conf)
        return root

    def boot(self, root, *args, env=None, cuda=True):
        e = {**os.environ, **(CUDA if cuda else {}), **(env or {})}
        e.pop("JOURNAL_STREAM", None)
        start = time.monotonic()
        r = subprocess.run([GUEST, "boot", "--sysfs", self.sysfs, "--proc", self.proc, "--root", root] + list(args),
                           capture_output=True, text=True, env=e)
        r.seconds = time.monotonic() - start
        return r


def read(root, path):
    try:
        with open(os.path.join(root, path)) as f:
            return f.read()
    except OSError:
        return None


def status(root):
    return json.loads(read(root, STATUS) or "null")


def listing(root, path):
    return sorted(os.listdir(os.path.join(root, path)))


def test_healthy(g):
    root = g.root("healthy")
    r = g.boot(root)
    xml, st = read(root, TOPO), status(root)
    tap(r.returncode == 0 and xml and xml.count('<pci busid="ffff:') == 2 and '<pci busid="0000:03:00.0"' in xml,
        "healthy boot: exit 0, the topology file written (a switch per clique)", r.stdout + r.stderr)
    tap(read(root, "etc/nccl.conf") == OPERATOR and listing(root, "etc") == ["nccl.conf"],
        "healthy boot: the operator's nccl.conf untouched, nothing added beside it", read(root, "etc/nccl.conf"))
    tap(r.stdout.startswith("qemu-p2p-guest boot: P2P holds: 2 pairs granted") and r.stderr == "",
        "healthy boot: one line on stdout, nothing on stderr", r.stdout + r.stderr)
    pairs = {(p["a"], p["b"]): p for p in st["pairs"]} if st else {}
    ok = pairs.get(("0000:01:00.0", "0000:03:00.0"), {})
    tap(st and list(st)[0] == "version" and st["version"] == 1 and st["verdict"] == "ok" and st["exit_status"] == 0
        and len(st["pairs"]) == 6 and ok.get("tested") and ok.get("a_to_b") == {"copy": "PASS", "kernel": "PASS"}
        and ok.get("b_to_a") == {"copy": "PASS", "kernel": "PASS"} and ok.get("verdict") == "ok"
        and pairs[("0000:01:00.0", "0000:02:00.0")]["verdict"] == "none expected"
        and st["test"]["bytes_each_way"] == 4 << 20 and st["time"].endswith("Z")
        and st["driver"] == {"cuda_version": "12.4", "lookup": "cuGetProcAddress_v2"}
        and st["topology_file"]["action"] == "written" and st["nccl_conf"]["action"] == "unchanged",
        "status.json: version 1 first, time, verdict, each pair with what was tested both ways", json.dumps(st))
    s = subprocess.run([GUEST, "status", "--root", root], capture_output=True, text=True)
    tap(s.returncode == 0 and ": ok (exit status 0)" in s.stdout
        and "0000:01:00.0-0000:03:00.0     0/0       P2P     PASS/PASS  PASS/PASS  ok:" in s.stdout,
        "status: the report in text, exit status as boot's", s.stdout + s.stderr)
    s = subprocess.run([GUEST, "status", "--root", root, "--json"], capture_output=True, text=True)
    tap(s.returncode == 0 and json.loads(s.stdout) == st, "status --json: the status file's object", s.stdout)
    r = g.boot(root, "--json")
    tap(r.returncode == 0 and json.loads(r.stdout)["verdict"] == "ok" and list(json.loads(r.stdout))[0] == "version",
        "boot --json: the report as one object on stdout", r.stdout + r.stderr)
    return root


def test_broken(g, name, env, why):
    root = g.root(name)
    g.boot(root)  # healthy first: a topology file to remove
    r = g.boot(root, env=env)
    conf, st = read(root, "etc/nccl.conf"), status(root)
    tap(r.returncode == 1 and read(root, TOPO) is None, f"{name}: exit 1, the topology file removed",
        r.stdout + r.stderr)
    tap(conf == MARK + OPERATOR, f"{name}: our marked NCCL_P2P_DISABLE=1 first in nccl.conf, every operator line kept",
        conf)
    lines = r.stderr.splitlines()
    tap(len(lines) == 1 and lines[0].startswith("qemu-p2p-guest boot: P2P falls back: 0000:01:00.0-0000:03:00.0: ")
        and why in lines[0] and "(and 1 more: qemu-p2p-guest status)" in lines[0] and r.stdout == "",
        f"{name}: one line naming the pair and what failed", r.stderr)
    tap(st and st["verdict"] == "fallback" and st["exit_status"] == 1 and st["nccl_conf"]["action"] == "line added"
        and st["topology_file"]["action"] == "removed", f"{name}: status.json says fallback and what was done",
        json.dumps(st))
    r = g.boot(root, env=env)
    tap(r.returncode == 1 and read(root, "etc/nccl.conf") == MARK + OPERATOR,
        f"{name}, again: our line not added twice", read(root, "etc/nccl.conf"))
    return root


def test_recovery(g, root):
    r = g.boot(root)
    tap(r.returncode == 0 and read(root, TOPO) and read(root, "etc/nccl.conf") == OPERATOR
        and f"took our NCCL_P2P_DISABLE=1 out of {root}/etc/nccl.conf" in r.stdout
        and status(root)["nccl_conf"]["action"] == "line removed",
        "a healthy boot after a broken one: the topology file back, only our line taken out (byte for byte)",
        r.stdout + r.stderr + str(read(root, "etc/nccl.conf")))


def test_async(g):
    """The driver runs a memset or a copy from pageable memory on the legacy
    stream after the call returns; the proof's writer works on a
    non-blocking stream, which does not wait for them."""
    root = g.root("async")
    r = g.boot(root, env={"FAKECUDA_ASYNC": "1"})
    tap(r.returncode == 0 and read(root, TOPO) and read(root, "etc/nccl.conf") == OPERATOR,
        "a driver whose legacy-stream memset and copy return early: a healthy VM still passes", r.stdout + r.stderr)
    r = g.boot(root, env={"FAKECUDA_ASYNC": "1", "FAKECUDA_MIRROR": "1"})
    tap(r.returncode == 1 and read(root, TOPO) is None, "... and writes into a private mirror still fail there",
        r.stdout + r.stderr)


def test_no_clique(g, tmp):
    """GPUs the host gave no clique (its wrapper passed the VM through, e.g.
    with stale host facts): nothing is broken, but there is no P2P, and
    the verdict must not read "ok"."""
    with open(os.path.join(SRC, "tests/fixtures/guest/two-cliques.host")) as f:
        text = re.sub(r" clique=[0-9]+", "", f.read())
    host, sysfs = os.path.join(tmp, "no-clique.host"), os.path.join(tmp, "sys-no-clique")
    with open(host, "w") as f:
        f.write(text)
    subprocess.run([sys.executable, os.environ["MKHOST"], host, sysfs], check=True)
    root = g.root("no-clique")
    e = {**os.environ, **CUDA, "FAKECUDA_NO_PEER": "1"}
    e.pop("JOURNAL_STREAM", None)
    r = subprocess.run([GUEST, "boot", "--sysfs", sysfs, "--proc", g.proc, "--root", root], capture_output=True,
                       text=True, env=e)
    st = status(root)
    tap(r.returncode == 0 and st["verdict"] == "no-p2p" and read(root, "etc/nccl.conf") == OPERATOR
        and "no P2P between the 4 GPUs: no two share a clique" in r.stdout,
        "GPUs without cliques: exit 0, nothing changed in nccl.conf, but verdict no-p2p and said so",
        r.stdout + r.stderr + json.dumps(st))


def test_unlisted(g):
    root = g.root("unlisted")
    r = g.boot(root, env={"FAKECUDA_DEVICES": "3"})
    tap(r.returncode == 1 and read(root, TOPO) is None
        and "0000:02:00.0-0000:04:00.0: LOST: one clique, but the driver does not list both GPUs" in r.stderr,
        "a GPU the driver does not list: the fallback, and the line says so", r.stderr)


def test_no_driver(g):
    for name, env, cuda in (("no libcuda", {"LD_LIBRARY_PATH": "/nonexistent"}, False),
                            ("no GPU seen", {"FAKECUDA_DEVICES": "0"}, True)):
        root = g.root(name.replace(" ", "-"), conf=MARK + OPERATOR)
        os.makedirs(os.path.dirname(os.path.join(root, TOPO)))
        with open(os.path.join(root, TOPO), "w") as f:
            f.write("old")
        r = g.boot(root, env=env, cuda=cuda)
        tap(r.returncode == 2 and read(root, TOPO) == "old" and read(root, "etc/nccl.conf") == MARK + OPERATOR
            and "qemu-p2p-guest boot: no usable NVIDIA driver: " in r.stderr and "nothing changed" in r.stderr
            and status(root)["verdict"] == "no-driver",
            f"{name}: exit 2, says so, nothing changed (old topology file and our line stay)", r.stdout + r.stderr)


def test_timeout(g):
    root = g.root("hang")
    r = g.boot(root, "--timeout", "2", env={"FAKECUDA_HANG": "1"})
    tap(r.returncode == 1 and r.seconds < 10 and read(root, TOPO) is None and read(root, "etc/nccl.conf") == MARK + OPERATOR
        and "0000:01:00.0-0000:03:00.0: FAIL: the P2P test of this pair did not finish within 2 s" in r.stderr,
        "a data path that hangs: cut off at --timeout, the pair named, the fallback applied", r.stderr)


def test_no_fallback(g):
    root = g.root("no-fallback")
    r = g.boot(root, "--no-fallback", env={"FAKECUDA_MIRROR": "1"})
    st = status(root)
    tap(r.returncode == 1 and read(root, TOPO) and read(root, "etc/nccl.conf") == OPERATOR
        and "P2P is broken: 0000:01:00.0-0000:03:00.0" in r.stderr and st["verdict"] == "broken"
        and st["fallback"] is False,
        "--no-fallback: the failure reported (exit 1), the topology file written, nccl.conf untouched", r.stderr)


def test_odd_conf(g):
    cases = {
        "a directory": lambda p: os.mkdir(p),
        "a symbolic link": lambda p: (open(p + ".real", "w").write(OPERATOR), os.symlink("nccl.conf.real", p)),
        "a FIFO": lambda p: os.mkfifo(p),
        "read-only": lambda p: (open(p, "w").write(OPERATOR), os.chmod(p, 0o444)),
    }
    for what, make in cases.items():
        root = g.root("odd-" + what.replace(" ", "-"), conf=None)
        conf = os.path.join(root, "etc/nccl.conf")
        make(conf)
        before = listing(root, "etc")
        r = g.boot(root, env={"FAKECUDA_MIRROR": "1"})
        kept = (os.path.isdir(conf) if what == "a directory" else os.path.islink(conf) if "link" in what
                else not os.path.isfile(conf) if what == "a FIFO" else read(root, "etc/nccl.conf") == OPERATOR)
        tap(r.returncode == 1 and kept and listing(root, "etc") == before and read(root, "etc/nccl.conf.real") in (None, OPERATOR)
            and len(r.stderr.splitlines()) == 1 and "NCCL_P2P_DISABLE=1 NOT put in" in r.stderr
            and status(root)["nccl_conf"]["action"] == "failed",
            f"nccl.conf {what}, a pair failing: reported on the one line, the file left alone, nothing added",
            r.stderr + str(before) + str(listing(root, "etc")))
    root = g.root("odd-healthy", conf=None)
    os.mkdir(os.path.join(root, "etc/nccl.conf"))
    r = g.boot(root)
    tap(r.returncode == 0 and read(root, TOPO) and "warning: " in r.stderr and "not a regular file: left alone" in r.stderr
        and os.path.isdir(os.path.join(root, "etc/nccl.conf")),
        "nccl.conf a directory on a healthy boot: a warning, the directory left alone, exit 0", r.stdout + r.stderr)


def test_links(g):
    root = g.root("links")
    os.makedirs(os.path.join(root, "run"))
    os.makedirs(os.path.join(root, "var"))
    os.symlink("/run", os.path.join(root, "var/run"))
    r = g.boot(root)
    tap(r.returncode == 0 and read(root, "run/nvidia-topologyd/virtualTopology.xml"),
        "/var/run -> /run (root's link in a root-only directory): followed, below --root", r.stdout + r.stderr)
    root = g.root("planted")
    os.makedirs(os.path.join(root, "var/run"))
    os.makedirs(os.path.join(root, "elsewhere"))
    os.chmod(os.path.join(root, "var/run"), 0o1777)
    os.symlink("../../elsewhere", os.path.join(root, "var/run/nvidia-topologyd"))
    r = g.boot(root)
    tap(r.returncode == 1 and listing(root, "elsewhere") == [] and "not followed" in r.stderr,
        "a link in a directory others may write (as a user could plant it): not followed, nothing written",
        r.stdout + r.stderr)


def test_journal(g, tmp):
    root = g.root("journal")
    err = os.path.join(tmp, "journal-stderr")
    with open(err, "w") as f:
        st = os.fstat(f.fileno())
        e = dict(os.environ, **CUDA, FAKECUDA_MIRROR="1", JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}")
        subprocess.run([GUEST, "boot", "--sysfs", g.sysfs, "--proc", g.proc, "--root", root], stderr=f,
                       stdout=subprocess.DEVNULL, env=e)
    tap(read(tmp, "journal-stderr").startswith("<3>qemu-p2p-guest boot: P2P falls back: "),
        "stderr is the journal (JOURNAL_STREAM): the line filed at priority err", read(tmp, "journal-stderr"))


def test_usage(g):
    root = g.root("usage")
    for args, want in ((["--size", "3"], "--size 3: bytes, a multiple of 4"), (["--timeout", "0"], "--timeout 0: seconds"),
                       (["--timeout", "4294967356"], "--timeout 4294967356: seconds"),
                       (["--no-fallbak"], "did you mean --no-fallback?")):
        r = g.boot(root, *args)
        tap(r.returncode == 64 and len(r.stderr.splitlines()) == 1 and want in r.stderr and read(root, STATUS) is None,
            f"boot {' '.join(args)}: usage error 64, one line, nothing written", r.stderr)
    s = subprocess.run([GUEST, "status", "--root", root], capture_output=True, text=True)
    tap(s.returncode == 1 and "no report: qemu-p2p-guest boot has not run" in s.stderr,
        "status before any boot: exit 1, says boot has not run", s.stderr)
    s = subprocess.run([GUEST, "status", "--root", root, "--json"], capture_output=True, text=True)
    d = json.loads(s.stdout or "{}")
    tap(s.returncode == 1 and list(d)[:1] == ["version"] and "no report" in d.get("error", ""),
        "status --json before any boot: one JSON error object", s.stdout)


def test_cost(g):
    """The data test's cost per pair on the test double (host memcpy and
    compare): printed for the record, bounded so a regression shows."""
    root = g.root("cost")
    r = g.boot(root, "--json")
    pairs = [p for p in json.loads(r.stdout)["pairs"] if p["tested"]]
    ms = sum(p["ms"] for p in pairs) / len(pairs)
    tap(r.returncode == 0 and ms < 2000, f"per-pair cost on the test double: {ms:.1f} ms for 4 MiB each way", r.stdout)


def test_unit(tmp):
    if not shutil.which("systemd-analyze"):
        skip("systemd-analyze verify: the boot unit", "no systemd-analyze (make deps installs systemd)")
        return
    d = os.path.join(tmp, "units")
    os.makedirs(os.path.join(d, "qemu-p2p-guest-topology.service.d"))
    with open(UNIT) as f:
        unit = f.read()
    tap("ExecStart=/usr/bin/qemu-p2p-guest boot $QEMU_P2P_GUEST_BOOT_OPTIONS" in unit and "Type=oneshot" in unit
        and "DefaultDependencies=no" in unit and "TimeoutStartSec=" in unit and "SuccessExitStatus=2" in unit,
        "the unit runs boot, oneshot, with a time limit, outside multi-user.target's wait", unit)
    # systemd kills a unit past TimeoutStartSec before boot acts on the
    # test: no fallback, no status. Boot's own limit must end first.
    limit = int(unit.split("TimeoutStartSec=")[1].split()[0])
    r = subprocess.run([GUEST, "boot", "--timeout", "100000"], capture_output=True, text=True)
    most = re.search(r"seconds, 1 to ([0-9]+)", r.stderr)
    most = int(most.group(1)) if most else 0
    tap(r.returncode == 64 and 0 < most and most + 30 <= limit,
        f"the largest --timeout boot takes ({most} s) ends 30 s before the unit's TimeoutStartSec ({limit} s)",
        r.stderr)
    # The packaged path does not exist here: verify checks the command.
    path = os.path.join(d, "qemu-p2p-guest-topology.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/bin/qemu-p2p-guest", os.path.abspath(GUEST)))
    with open(os.path.join(d, "qemu-p2p-guest-topology.service.d/no-fallback.conf"), "w") as f:
        f.write("[Service]\nEnvironment=QEMU_P2P_GUEST_BOOT_OPTIONS=--no-fallback\n")
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True)
    tap(r.returncode == 0 and r.stdout + r.stderr == "",
        "systemd-analyze verify: the unit and the documented no-fallback drop-in, not a warning", r.stdout + r.stderr)
    with open(path, "a") as f:
        f.write("TimeoutStartSecs=1\n")
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", path], capture_output=True, text=True)
    tap("Unknown key 'TimeoutStartSecs'" in r.stderr, "... and verify does catch a typo (the check can fail)", r.stderr)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        g = Guest(tmp)
        test_healthy(g)
        root = test_broken(g, "mirror", {"FAKECUDA_MIRROR": "1"}, "data written over P2P did not land")
        test_recovery(g, root)
        root = test_broken(g, "no-peer", {"FAKECUDA_NO_PEER": "1"}, "LOST: one clique, but the driver refuses")
        test_recovery(g, root)
        test_async(g)
        test_no_clique(g, tmp)
        test_unlisted(g)
        test_no_driver(g)
        test_timeout(g)
        test_no_fallback(g)
        test_odd_conf(g)
        test_links(g)
        test_journal(g, tmp)
        test_usage(g)
        test_cost(g)
        test_unit(tmp)
    done()


if __name__ == "__main__":
    main()
