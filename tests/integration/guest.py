#!/usr/bin/env python3
"""qemu-p2p-guest on guest sysfs trees (tests/fixtures/guest) whose config
space holds the bytes the VFIO lab reads back from QEMU: cliques (text,
JSON, unprivileged), the NCCL topology (read with the rules of NCCL's own
XML reader, src/graph/xml.cc: then which GPUs share a switch, bus ids,
NUMA nodes and CPU maps, a NIC beside its GPU, the report), and check
against the libcuda test double. Prints TAP."""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, skip, tap  # noqa: E402

BUILD = os.environ["QP2P_BUILD"]
SRC = os.environ["QP2P_SRC"]
GUEST = os.path.join(BUILD, "src/guest/qemu-p2p-guest")
FIXTURES = os.path.join(SRC, "tests/fixtures/guest")


def run(*args, env=None):
    r = subprocess.run([GUEST] + list(args), capture_output=True, text=True, env=dict(os.environ, **(env or {})))
    return r.returncode, r.stdout, r.stderr


class NcclXmlError(Exception):
    pass


class NcclXml:
    """NCCL's topology reader, from its rules: nodes separated by ' ', '\\n'
    or '\\r' only; a name ends at ' ', '>', '/' or a newline; attributes are
    ' key="value"', one space each; '<!-- -->' comments; '/>' or '>';
    '</name>' closes; only <system> at the top, version 1; inside it
    <cpu>, then <pci> (holding <pci>, <gpu>, <nic>, <pcilink>)."""
    CHILDREN = {None: {"system"}, "system": {"cpu"}, "cpu": {"pci", "nic"}, "pci": {"pci", "gpu", "nic", "pcilink"}}

    def __init__(self, text):
        self.s, self.i = text, 0

    def char(self):
        if self.i >= len(self.s):
            raise NcclXmlError("unexpected end")
        c = self.s[self.i]
        self.i += 1
        return c

    def token(self):
        name = ""
        while True:
            c = self.char()
            if c == "=":
                return name, self.value()
            if c in " >/\n\r":
                return name, c
            name += c

    def value(self):
        q = self.char()
        if q not in "\"'":
            raise NcclXmlError("a value without quotes")
        v = ""
        while (c := self.char()) != q:
            v += c
        return v, self.char()

    def node(self):
        c = " "
        while c in " \n\r":
            if self.i >= len(self.s):
                return None
            c = self.char()
        if c != "<":
            raise NcclXmlError(f"expected '<', got {c!r} at {self.i}")
        name, last = self.token()
        if name.startswith("!--"):
            end = self.s.find("-->", self.i - 1)
            if end < 0:
                raise NcclXmlError("unterminated comment")
            self.i = end + 3
            return self.node()
        if name == "" and last == "/":
            name, last = self.token()
            if last != ">":
                raise NcclXmlError(f"bad closing tag {name}")
            return {"close": name}
        attrs = {}
        while last == " ":
            key, rest = self.token()
            if not isinstance(rest, tuple):
                raise NcclXmlError(f"attribute {key!r} of <{name}> has no value (two spaces?)")
            attrs[key], last = rest
        single = last == "/"
        if single:
            _, last = self.token()
        if last != ">":
            raise NcclXmlError(f"<{name}>: expected '>', got {last!r}")
        return {"name": name, "attrs": attrs, "single": single, "subs": []}

    def load(self, head=None):
        subs = []
        while True:
            n = self.node()
            if n is None:
                if head:
                    raise NcclXmlError(f"<{head['name']}> not closed")
                return subs
            if "close" in n:
                if not head or n["close"] != head["name"]:
                    raise NcclXmlError(f"</{n['close']}> closes nothing open")
                return subs
            if n["name"] not in self.CHILDREN.get(head["name"] if head else None, set()):
                raise NcclXmlError(f"<{n['name']}> is not read inside <{head['name'] if head else 'top'}>")
            if not n["single"]:
                n["subs"] = self.load(n)
            subs.append(n)


def load_xml(path):
    top = NcclXml(open(path).read()).load()
    if len(top) != 1 or top[0]["attrs"].get("version") != "1":
        raise NcclXmlError("one <system version=\"1\"> expected")
    return top[0]


def switches(system):
    """[(numaid, affinity, switch attrs, [member attrs])]"""
    out = []
    for cpu in system["subs"]:
        for sw in cpu["subs"]:
            out.append((cpu["attrs"].get("numaid"), cpu["attrs"].get("affinity"), sw["attrs"],
                        [m["attrs"] for m in sw["subs"]]))
    return out


def tree(tmp, name):
    out = os.path.join(tmp, name)
    if not os.path.isdir(out):
        subprocess.run([sys.executable, os.environ["MKHOST"], os.path.join(FIXTURES, name + ".host"), out], check=True)
    return out


def test_cliques(tmp):
    rc, out, _ = run("cliques", "--sysfs", tree(tmp, "two-cliques"))
    rows = [line.split() for line in out.splitlines() if line[:1].isdigit()]
    tap(rc == 0 and [(r[1], r[3]) for r in rows] == [("0000:01:00.0", "0"), ("0000:02:00.0", "1"),
                                                     ("0000:03:00.0", "0"), ("0000:04:00.0", "1")],
        "cliques: two cliques of two, ids as QEMU wrote them into config space", out)
    rc, out, _ = run("cliques", "--sysfs", tree(tmp, "eight-in-two"), "--json")
    d = json.loads(out)
    tap(rc == 0 and list(d)[0] == "version" and [g["clique"] for g in d["gpus"]] == [0] * 4 + [1] * 4
        and [g["numa_node"] for g in d["gpus"]] == [0] * 4 + [1] * 4,
        "cliques --json: 8 GPUs in 2 cliques of 4 (capability at 0xD4), NUMA nodes", out)
    tap((d["gpus"][0]["vendor_id"], d["gpus"][0]["device_id"], d["gpus"][0]["class"]) == ("10de", "2335", "030200")
        and (d["nics"][0]["vendor_id"], d["nics"][0]["class"]) == ("15b3", "020700"),
        "cliques --json: ids and classes as lspci -n prints them (the ConnectX too)", out)
    rc, out, _ = run("cliques", "--sysfs", tree(tmp, "one-without"))
    tap(rc == 0 and out.splitlines()[3].split()[-1] == "none", "cliques: a GPU without the capability: none", out)
    rc, out, _ = run("cliques", "--sysfs", tree(tmp, "unprivileged"))
    tap(rc == 1 and "unknown (needs root)" in out and "run qemu-p2p-guest cliques as root" in out,
        "cliques on 64 bytes of config space (unprivileged): unknown, says to run as root, exit 1", out)


def cpuinfo(tmp, name, text):
    """A proc root whose cpuinfo holds text."""
    proc = os.path.join(tmp, "proc-" + name)
    os.makedirs(proc, exist_ok=True)
    with open(os.path.join(proc, "cpuinfo"), "w") as f:
        f.write(text)
    return proc


INTEL = "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu hypervisor\n"
AMD = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu hypervisor\n"
ARM = "processor\t: 0\nBogoMIPS\t: 50.00\nCPU implementer\t: 0x41\n"


def test_nccl_topo(tmp):
    xml = os.path.join(tmp, "eight.xml")
    rc, out, err = run("nccl-topo", "--sysfs", tree(tmp, "eight-in-two"), "-o", xml, "--nic-with",
                       "0000:02:00.0=0000:09:00.0", "--proc", cpuinfo(tmp, "intel", INTEL), "--root", tmp)
    try:
        sw = switches(load_xml(xml))
        tap(True, "nccl-topo: the file reads with the rules of NCCL's XML reader")
    except (NcclXmlError, OSError) as e:
        tap(False, "nccl-topo: the file reads with the rules of NCCL's XML reader", f"{e}\n{out}{err}")
        return
    members = [sorted(m["busid"] for m in s[3]) for s in sw]
    tap(rc == 0 and members == [["0000:01:00.0", "0000:02:00.0", "0000:03:00.0", "0000:04:00.0", "0000:09:00.0"],
                                ["0000:05:00.0", "0000:06:00.0", "0000:07:00.0", "0000:08:00.0"]],
        "nccl-topo: each clique's GPUs under one switch, with their real bus ids; the NIC beside its GPU", members)
    tap([(s[0], s[1]) for s in sw] == [("0", "0000ffff"), ("1", "ffff0000")],
        "nccl-topo: each switch on its GPUs' NUMA node, with that node's CPU map", sw)
    tap(all(s[2]["class"] == "0x060400" and s[2]["busid"].startswith("ffff:") and s[2]["link_width"] == "16"
            and s[2]["link_speed"] == "32.0 GT/s PCIe" for s in sw)
        and all(m["class"] in ("0x030200", "0x020700") for s in sw for m in s[3]),
        "nccl-topo: synthetic switches (class 0x060400, domain ffff) carry link speed and width", sw)
    tap("0000:01:00.0-0000:02:00.0     0/0       PHB  no P2P (staged)    PIX: P2P" in out
        and "0000:04:00.0-0000:05:00.0     0/1       SYS  no P2P (no clique) unchanged: no common clique" in out,
        "nccl-topo on Intel: NCCL stages today (PHB above PXB), SYS across guest NUMA nodes; what the file changes",
        out)

    rc, out, err = run("nccl-topo", "--sysfs", tree(tmp, "one-without"), "-o", "-", "--proc",
                       cpuinfo(tmp, "intel", INTEL))
    sw = switches(NcclXml(out).load()[0]) if rc == 0 else []
    tap(rc == 0 and [sorted(m["busid"] for m in s[3]) for s in sw] == [["0000:01:00.0", "0000:02:00.0"]]
        and "0000:03:00.0" not in out and "unchanged: no common clique" in err,
        "nccl-topo -o -: the GPU without a clique stays where it is (not in the file); report on stderr", out + err)
    rc, out, err = run("nccl-topo", "--sysfs", tree(tmp, "clique-of-2"), "-o", "-", "--nic-with",
                       "0000:01:00.0=0000:09:00.0")
    tap(rc == 1 and "no network function at 0000:09:00.0 in this VM" in err, "--nic-with a NIC the VM lacks: says so", err)
    rc, _, err = run("nccl-topo", "--sysfs", tree(tmp, "clique-of-2"), "--nic-with", "0000:01:00.0")
    tap(rc == 64 and "write GPU=NIC" in err, "--nic-with without '=': usage error 64", err)
    rc, _, err = run("nccl-topo", "--sysfs", tree(tmp, "clique-of-2"), "--nccl-version", "2.23", "-o", "-")
    tap(rc == 64 and "--nccl-version 2.23: an NCCL release such as 2.23.4" in err,
        "--nccl-version that is no release: usage error 64", err)
    rc, _, err = run("nccl-topo", "--sysfs", tree(tmp, "unprivileged"), "-o", "-")
    tap(rc == 1 and "run it as root" in err, "nccl-topo unprivileged: refuses to guess, says to run as root", err)
    default_path(tmp)
    nccl_today(tmp)


def today(tmp, name, host, cpu, files=(), args=(), env=None):
    """nccl-topo's report on a guest tree, with cpuinfo text and files (path,
    text) below a --root of its own."""
    root = os.path.join(tmp, "root-" + name)
    for path, text in files:
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w") as f:
            f.write(text)
    os.makedirs(root, exist_ok=True)
    return run("nccl-topo", "--sysfs", tree(tmp, host), "--proc", cpuinfo(tmp, name, cpu), "--root", root,
               "-o", "-", *args, env=env)


def nccl_today(tmp):
    """The "today" column per NCCL release and CPU (shared FACTS.md §8)."""
    pair = "0000:01:00.0-0000:03:00.0     0/0       PHB  "
    rc, _, err = today(tmp, "amd-unknown", "two-cliques", AMD)
    tap(rc == 0 and "NCCL: no release found" in err and "today (<2.23.4)    today (>=2.23.4)" in err
        and pair + "P2P                no P2P (staged)    PIX: P2P" in err,
        "AMD, 4 GPUs, release unknown: both ranges (2.10.3-2.23.3: SYS, P2P; 2.23.4+: PXB, staged)", err)
    rc, _, err = today(tmp, "intel-unknown", "two-cliques", INTEL)
    tap(rc == 0 and "today (<2.23.4)" not in err and pair + "no P2P (staged)    PIX: P2P" in err,
        "Intel, release unknown: both ranges agree (PXB), one column", err)
    lib = "usr/lib/x86_64-linux-gnu/libnccl.so.2.21.5"
    rc, _, err = today(tmp, "amd-2.21", "two-cliques", AMD, files=[(lib, "")])
    tap(rc == 0 and f"NCCL 2.21.5 (/{lib})" in err and "today (<2.23.4)" not in err
        and pair + "P2P                PIX: P2P" in err,
        "AMD with libnccl.so.2.21.5 installed: that release only, P2P at any distance", err)
    header = "#define NCCL_MAJOR 2\n#define NCCL_MINOR 23\n#define NCCL_PATCH 4\n"
    rc, _, err = today(tmp, "amd-2.23-four", "two-cliques", AMD, files=[("usr/include/nccl.h", header)])
    tap(rc == 0 and "NCCL 2.23.4 (/usr/include/nccl.h)" in err and pair + "no P2P (staged)    PIX: P2P" in err
        and "a job on 2 of them gets SYS" in err,
        "AMD, NCCL 2.23.4 from nccl.h, 4 GPUs: PXB, staged (and the 2-GPU job noted)", err)
    rc, _, err = today(tmp, "amd-2.23-two", "clique-of-2", AMD, files=[("usr/include/nccl.h", header)])
    tap(rc == 0 and "0000:01:00.0-0000:02:00.0     0/0       PHB  P2P                PIX: P2P" in err,
        "AMD, NCCL 2.23.4, 2 GPUs: SYS, P2P at any distance", err)
    rc, _, err = today(tmp, "arm", "clique-of-2", ARM, args=["--nccl-version", "2.18.3"])
    tap(rc == 0 and "NCCL 2.18.3 (--nccl-version)" in err and "CPU: ARM" in err
        and "0000:01:00.0-0000:02:00.0     0/0       PHB  no P2P (staged)    PIX: P2P" in err,
        "ARM, --nccl-version 2.18.3: PXB, staged", err)
    rc, _, err = today(tmp, "numa", "eight-in-two", AMD, args=["--nccl-version", "2.21.5"])
    tap(rc == 0 and "0000:04:00.0-0000:05:00.0     0/1       SYS  no P2P (no clique)" in err
        and "0000:01:00.0-0000:04:00.0     0/0       PHB  P2P" in err,
        "GPUs on two guest NUMA nodes: SYS, not PHB", err)
    rc, _, err = today(tmp, "env", "clique-of-2", INTEL, env={"NCCL_TOPO_FILE": "/opt/topo.xml"})
    tap(rc == 0 and "Warning: NCCL_TOPO_FILE is set in the environment (/opt/topo.xml)" in err,
        "NCCL_TOPO_FILE in the environment: warned, NCCL never reads the default file then", err)
    rc, _, err = today(tmp, "conf", "clique-of-2", INTEL, files=[("etc/nccl.conf", "NCCL_TOPO_FILE=/opt/t.xml\n")])
    tap(rc == 0 and "/etc/nccl.conf (/opt/t.xml)" in err, "NCCL_TOPO_FILE in /etc/nccl.conf: warned, naming it", err)
    rc, _, err = today(tmp, "same", "clique-of-2", INTEL,
                       env={"NCCL_TOPO_FILE": "/var/run/nvidia-topologyd/virtualTopology.xml"})
    tap(rc == 0 and "Warning" not in err, "NCCL_TOPO_FILE naming the default file: no warning", err)


def default_path(tmp):
    """Without -o the file lands where NCCL looks (checked in a private
    mount namespace, over a tmpfs /run)."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        skip("nccl-topo writes /var/run/nvidia-topologyd/virtualTopology.xml by default", "needs root and unshare")
        return
    script = (f"mount -t tmpfs tmpfs /run && '{GUEST}' nccl-topo -q --sysfs '{tree(tmp, 'clique-of-2')}' && "
              "cat /var/run/nvidia-topologyd/virtualTopology.xml")
    r = subprocess.run(["unshare", "--mount", "sh", "-c", script], capture_output=True, text=True)
    tap(r.returncode == 0 and '<pci busid="0000:02:00.0"' in r.stdout,
        "nccl-topo writes /var/run/nvidia-topologyd/virtualTopology.xml by default (NCCL's own default)",
        r.stdout + r.stderr)


def test_check(tmp):
    proc = os.path.join(tmp, "proc")
    os.makedirs(proc, exist_ok=True)
    buses = "0000:01:00.0,0000:02:00.0,0000:03:00.0,0000:04:00.0"
    cuda = {"LD_LIBRARY_PATH": os.path.join(BUILD, "tests"), "FAKECUDA_DEVICES": "4", "FAKECUDA_BUSIDS": buses}
    cpuinfo = os.path.join(proc, "cpuinfo")
    open(cpuinfo, "w").write("flags\t\t: fpu vme hypervisor lahf_lm\n")
    sysfs = tree(tmp, "two-cliques")
    rc, out, _ = run("check", "--sysfs", sysfs, "--proc", proc, env=dict(cuda, FAKECUDA_PEERS="0-2,1-3"))
    tap(rc == 0 and out.count("granted: P2P, as the clique says") == 2 and out.count("none expected: different cliques") == 4,
        "check: the driver grants P2P within each clique only: exit 0", out)
    rc, out, _ = run("check", "--sysfs", sysfs, "--proc", proc, "--json", env=dict(cuda, FAKECUDA_NO_PEER="1"))
    d = json.loads(out)
    tap(rc == 1 and d["lost"] == 2 and d["hypervisor"] and "does not honour cliques" in d["pairs"][1]["why"],
        "check: cliques set, the driver refuses: LOST, exit 1 (JSON)", out)
    open(cpuinfo, "w").write("flags\t\t: fpu vme lahf_lm\n")
    rc, out, _ = run("check", "--sysfs", sysfs, "--proc", proc, env=dict(cuda, FAKECUDA_NO_PEER="1"))
    tap(rc == 1 and "the guest sees no hypervisor (-cpu kvm=off" in out,
        "check: no hypervisor flag: names KVM hidden as the cause", out)
    rc, out, _ = run("check", "--sysfs", tree(tmp, "one-without"), "--proc", proc,
                     env=dict(cuda, FAKECUDA_DEVICES="3", FAKECUDA_PEERS="0-1"))
    tap(rc == 0 and "0/-       no P2P   none expected: a GPU without a clique" in out,
        "check: a GPU without a clique: none expected", out)
    open(cpuinfo, "w").write("flags\t\t: fpu vme hypervisor lahf_lm\n")
    rc, out, _ = run("check", "--sysfs", sysfs, "--proc", proc, env=dict(cuda, FAKECUDA_DEVICES="3", FAKECUDA_PEERS="0-2"))
    tap(rc == 1 and "0000:02:00.0-0000:04:00.0     1/1       no P2P   LOST: one clique, but the driver does not list both GPUs" in out and "does not honour" not in out,
        "check: a GPU the driver does not list (fallen off the bus): LOST, said so, not the driver's version",
        out)
    rc, _, err = run("check", "--sysfs", sysfs, "--proc", proc, env={"LD_LIBRARY_PATH": "/nonexistent"})
    tap(rc == 2 and "no NVIDIA driver: cannot load libcuda.so.1" in err, "check without a driver: exit 2", err)
    rc, out, _ = run("check", "--sysfs", sysfs, "--proc", proc, "--json", env={"LD_LIBRARY_PATH": "/nonexistent"})
    d = json.loads(out or "{}")
    tap(rc == 2 and list(d)[:1] == ["version"] and "libcuda.so.1" in d.get("error", "") and d.get("exit_status") == 2,
        "check --json without a driver: one JSON object with the error", out)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        test_cliques(tmp)
        test_nccl_topo(tmp)
        test_check(tmp)
    done()


if __name__ == "__main__":
    main()
