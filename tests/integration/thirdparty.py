#!/usr/bin/env python3
"""The wrapper on command lines that third-party software generated.

Every case in tests/fixtures/thirdparty/SOURCES (libvirt's and Proxmox's own
test outputs) runs through `qemu-p2p rewrite` on a fixture host built for
it: every vfio `host=` address QEMU accepts is an NVIDIA function, a GPU
(class 0x030200) unless its function number is 1 (HDMI audio, 0x040300).
Two plans: all GPUs in one group, then GPUs alternating between two groups.
The expected result is computed here, independently of the C code, from
QEMU's rules; then:
  - exactly the expected GPUs got one property each, with one id per group
    and distinct ids for distinct groups (0, 1, ... in order of appearance);
  - every other argument is byte-identical and in order;
  - Debian's real QEMU accepts every rewritten -device (its only complaint
    is "no such host device"), with the controllers its bus needs;
  - the log names a -readconfig file whose devices are not seen.
Also Proxmox's manual way: `args: -set device.ID.x-nv-gpudirect-clique=K`.
Prints TAP, and a table of every case and its result.
"""
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, tap  # noqa: E402

SRC = os.environ["QP2P_SRC"]
CLI = os.path.join(os.environ["QP2P_BUILD"], "src/cli/qemu-p2p")
MKHOST = os.environ["MKHOST"]
CORPUS = os.path.join(SRC, "tests/fixtures/thirdparty")
QEMU = "/usr/bin/qemu-system-x86_64"
PROP = "x-nv-gpudirect-clique"
ADDR = re.compile(r"^(?:([0-9a-fA-F]{1,8}):)?([0-9a-fA-F]{1,8}):([0-9a-fA-F]{1,8})\.([0-9])$")


def sources():
    for line in open(os.path.join(CORPUS, "SOURCES")):
        if line.strip() and not line.startswith("#"):
            f, gen, repo, path, commit, what = line.split(None, 5)
            yield dict(file=f, generator=gen, repo=repo, path=path, commit=commit, what=what.strip())


def conf_env(work):
    """The environment naming work's operator file, which may not exist yet."""
    return dict(os.environ, QEMU_P2P_CONFIG=os.path.join(work, "etc/qemu-p2p.conf"))


def read_argv(path):
    """The file as the generator wrote it: one shell command line."""
    return shlex.split(open(path).read().replace("\\\n", " "))


def qemu_addr(s):
    """QEMU's host= grammar: [domain:]bus:slot.func, domain <= ffff,
    slot <= 1f; None for what QEMU refuses. Canonical form otherwise."""
    m = ADDR.match(s or "")
    if not m:
        return None
    dom, bus, slot, fn = (int(x, 16) if x else 0 for x in m.groups())
    if dom > 0xFFFF or bus > 0xFF or slot > 0x1F or fn > 7:
        return None
    return f"{dom:04x}:{bus:02x}:{slot:02x}.{fn}"


def legacy_opts(text, implied):
    """QemuOpts: ',,' is a literal comma, a first element without '=' is the
    implied key, a bare key means 'on', the last value of a key wins."""
    opts, key, cur, parts = {}, None, "", []
    i = 0
    while i < len(text):
        if text[i] == ",":
            if text[i + 1:i + 2] == ",":
                cur += ","
                i += 2
                continue
            parts.append(cur)
            cur = ""
        else:
            cur += text[i]
        i += 1
    if cur:
        parts.append(cur)
    for k, part in enumerate(parts):
        key, eq, value = part.partition("=")
        if not eq:
            key, value = (implied, part) if k == 0 else (part, "on")
        opts[key] = value
    return opts


def device_opts(text):
    if text.startswith("{"):
        return {k: str(v) if not isinstance(v, str) else v for k, v in json.loads(text).items()}
    return legacy_opts(text, "driver")


def num(v):
    return int(v, 0) if v is not None else None


def vfio_devices(argv):
    """(index, opts) of every vfio-pci -device, with -set applied to
    legacy devices defined before it, as QEMU does."""
    devs = []
    for i in range(1, len(argv) - 1):
        if argv[i] == "-device":
            o = device_opts(argv[i + 1])
            if o.get("driver") in ("vfio-pci", "vfio-pci-nohotplug"):
                devs.append((i + 1, o))
        if argv[i] == "-set" and argv[i + 1].startswith("device."):
            dev_id, _, rest = argv[i + 1][7:].partition(".")
            key, _, value = rest.partition("=")
            for j, o in devs:
                if not argv[j].startswith("{") and o.get("id") == dev_id:
                    o[key] = value
    return devs


def host_of(o):
    if "fd" in o or "sysfsdev" in o:
        return None  # mdev here; the corpus has no iommufd descriptor
    return qemu_addr(o.get("host"))


def fixture_functions(argv):
    return sorted({a for _, o in vfio_devices(argv) if (a := host_of(o))})


def is_gpu(addr):
    return not addr.endswith(".1")


def write_host(functions, out):
    """A sysfs tree: per PCI domain one Intel root complex on a bus no
    function uses, one root port, the functions below it."""
    lines = []
    for dom in sorted({a[:4] for a in functions}):
        used = {a[5:7] for a in functions if a.startswith(dom)}
        bus = next(f"{b:02x}" for b in range(0xFF, 0, -1) if f"{b:02x}" not in used)
        lines.append(f"root {dom}:{bus} vendor=8086 device=2020 numa=0")
        for k, a in enumerate(a for a in functions if a.startswith(dom)):
            kind = "class=030200 device=2330 caps=60:01,68:10,b0:11" if is_gpu(a) else "class=040300 device=22e8"
            lines.append(f"dev {dom}:{bus}:01.0/{a} vendor=10de {kind} driver=vfio-pci iommu={k + 10}")
    desc = out + ".host"
    open(desc, "w").write("\n".join(lines) + "\n")
    subprocess.run([sys.executable, MKHOST, desc, out], check=True)


def expected(argv, label):
    """{argv index: clique id} the wrapper must add, by DESIGN's rules."""
    gpus = []
    for i, o in vfio_devices(argv):
        a = host_of(o)
        vendor = num(o.get("x-pci-vendor-id")) if "x-pci-vendor-id" in o else 0x10DE
        cls = num(o.get("x-pci-class-code")) if "x-pci-class-code" in o else (0x030200 if a and is_gpu(a) else 0x040300)
        if a and vendor == 0x10DE and cls >> 16 == 0x03:
            gpus.append((i, label[a], num(o[PROP]) if PROP in o else None))
    count = {}
    for _, g, _ in gpus:
        count[g] = count.get(g, 0) + 1
    used = {e for _, _, e in gpus if e is not None}
    ids, want, cursor = {}, {}, 0
    for _, g, e in gpus:
        if e is not None and g not in ids:
            ids[g] = e
    for i, g, e in gpus:
        if e is not None or count[g] < 2:
            continue
        if g not in ids:
            while cursor in used:
                cursor += 1
            ids[g] = cursor
            used.add(cursor)
        want[i] = ids[g]
    return want


def rewrite(argv, work, label):
    conf = os.path.join(work, "etc/qemu-p2p.conf")
    groups = {}
    for a, g in label.items():
        groups.setdefault(g, []).append(a)
    body = "".join(f"{g} = {' '.join(v[:4])}\n" + "".join(f"    {' '.join(v[k:k + 4])}\n" for k in range(4, len(v), 4))
                   for g, v in sorted(groups.items()))
    open(conf, "w").write(f"[cliques]\nmode = map\n[map]\n{body}")
    os.chmod(conf, 0o644)
    r = subprocess.run([CLI, "rewrite", "-0", "--explain", "--config", conf, "--sysfs", os.path.join(work, "sys"),
                        "--qemu", QEMU, "--"] + argv, capture_output=True)
    out = r.stdout.split(b"\0")[:-1]
    return r.returncode, [x.decode("utf-8", "surrogateescape") for x in out], r.stderr.decode()


def machine_of(argv):
    for i, a in enumerate(argv[:-1]):
        if a in ("-machine", "-M"):
            o = legacy_opts(argv[i + 1], "type")
            t = o.get("type", "")
            return "q35" if "q35" in t else "pseries" if "pseries" in t else "pc"
    return "pc"


def context(argv, dev_text, machine):
    """The controllers the device's bus needs: those the argv defines (by
    id), else a stand-in for one Proxmox defines in its -readconfig file."""
    roots = {"q35": "pcie.0", "pc": "pci.0", "pseries": "pci.0"}
    defined = {}
    for i in range(1, len(argv) - 1):
        if argv[i] == "-device":
            o = device_opts(argv[i + 1])
            if "id" in o:
                defined[o["id"]] = (argv[i + 1], o)
    chain, bus, k = [], device_opts(dev_text).get("bus"), 0
    while bus and bus != roots[machine] and k < 8:
        k += 1
        name = bus if bus in defined else re.sub(r"\.0$", "", bus)
        if name in defined:
            text, o = defined[name]
            chain.insert(0, text)
            bus = o.get("bus")
        elif "pcie-port" in bus:
            chain.insert(0, f"pcie-root-port,id={bus},chassis={100 + k},bus=pcie.0")
            bus = None
        else:
            chain.insert(0, f"pci-bridge,id={bus},chassis_nr={100 + k}")
            bus = None
    return chain


def qemu_accepts(argv, dev_text, sets):
    machine = machine_of(argv)
    binary = "/usr/bin/qemu-system-ppc64" if machine == "pseries" else QEMU
    cmd = [binary, "-machine", f"{machine},accel=tcg", "-nodefaults", "-no-user-config", "-display", "none", "-S"]
    for c in context(argv, dev_text, machine):
        cmd += ["-device", c]
    cmd += ["-device", dev_text] + sets
    r = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=60)
    lines = [x for x in r.stderr.splitlines() if x.strip()]
    return len(lines) == 1 and "no such host device" in lines[0], r.stderr


def check_case(name, argv, work, label, plan):
    want = expected(argv, label)
    rc, out, log = rewrite(argv, work, label)
    changed = {i for i in range(min(len(argv), len(out))) if argv[i] != out[i]}
    diag = f"log: {log}\nwant {want}\nchanged {sorted(changed)}"
    tap(rc == 0 and len(out) == len(argv) and changed == set(want),
        f"{name} ({plan}): the expected {len(want)} GPU arguments changed, every other argument byte-identical", diag)
    exact = True
    for i, cid in want.items():
        text = argv[i]
        add = f',"{PROP}":{cid}}}' if text.startswith("{") else f",{PROP}={cid}"
        exact &= i < len(out) and out[i] == (text[:-1] + add if text.startswith("{") else text + add)
    tap(exact, f"{name} ({plan}): each is its original plus {PROP}, one id per group", diag)
    if "-readconfig" in argv:
        cfg = argv[argv.index("-readconfig") + 1]
        tap(f"devices in {cfg} are not seen (-readconfig)" in log, f"{name}: the log names the -readconfig file", log)
    return want, out, log


def accept_all(name, argv, out, want):
    for i in sorted(want):
        dev_id = device_opts(out[i]).get("id")
        sets = [x for k in range(1, len(out) - 1) if out[k] == "-set" and out[k + 1].startswith(f"device.{dev_id}.")
                for x in ("-set", out[k + 1])]
        ok, err = qemu_accepts(argv, out[i], sets)
        tap(ok, f"{name}: QEMU accepts {out[i]}", err)


def main():
    cases = list(sources())
    listed = {c["file"] for c in cases}
    on_disk = {os.path.relpath(os.path.join(d, f), CORPUS) for d, _, fs in os.walk(CORPUS) for f in fs} - {"SOURCES"}
    tap(listed == on_disk, f"SOURCES names every corpus file and only those ({len(cases)} cases)",
        f"unlisted {on_disk - listed}, missing {listed - on_disk}")
    tap(len({c['generator'] for c in cases}) == 2 and len(cases) >= 25, "both generators, at least 25 cases")
    table = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, c in enumerate(cases):
            name = c["file"]
            argv = read_argv(os.path.join(CORPUS, name))
            funcs = fixture_functions(argv)
            for a in funcs:
                if os.path.exists(f"/sys/bus/pci/devices/{a}"):
                    print(f"Bail out! {a} exists on this machine: QEMU would find it")
                    sys.exit(1)
            work = os.path.join(tmp, str(k))
            os.makedirs(os.path.join(work, "etc/qemu-p2p.d"))
            write_host(funcs, os.path.join(work, "sys"))
            gpus = [a for a in funcs if is_gpu(a)]
            # The operator file comes later: no --config (which must exist).
            r = subprocess.run([CLI, "refresh", "--sysfs", os.path.join(work, "sys"), "--qemu", QEMU],
                               capture_output=True, text=True, env=conf_env(work))
            if r.returncode:
                print(f"Bail out! {name}: qemu-p2p refresh exited {r.returncode}: {r.stderr.strip()}")
                sys.exit(1)
            one, out, log = check_case(name, argv, work, {a: 0 for a in gpus}, "one group")
            gpu_devs = [i for i, o in vfio_devices(argv) if (a := host_of(o)) and is_gpu(a)]
            if len(gpu_devs) > 1:
                tap(len(one) == len(gpu_devs), f"{name}: every GPU of this {len(gpu_devs)}-GPU VM got a clique")
            accept_all(name, argv, out, one)
            two, out2, _ = check_case(name, argv, work, {a: k % 2 for k, a in enumerate(gpus)}, "two groups")
            accept_all(name, argv, out2, two)
            summary = log.splitlines()[0].replace("qemu-p2p: ", "") if log else ""
            table.append((name, len(gpu_devs), len(one), len(two), summary))
        proxmox_set(tmp)
    print("# case | GPUs in the VM | cliques added (one group) | (two groups) | the log line, one group")
    for row in table:
        print("# " + " | ".join(str(x) for x in row))
    done()


def proxmox_set(tmp):
    """Proxmox's manual way, `args: -set device.hostpci4.x-nv-gpudirect-clique=9`
    (args are appended last): that GPU keeps the operator's value, no second
    property; its group partner joins 9."""
    name = "proxmox/q35-linux-hostpci.conf.cmd"
    argv = read_argv(os.path.join(CORPUS, name)) + ["-set", f"device.hostpci4.{PROP}=9"]
    work = os.path.join(tmp, "set")
    os.makedirs(os.path.join(work, "etc/qemu-p2p.d"))
    funcs = fixture_functions(argv)
    write_host(funcs, os.path.join(work, "sys"))
    subprocess.run([CLI, "refresh", "--sysfs", os.path.join(work, "sys"), "--qemu", QEMU], capture_output=True,
                   check=True, env=conf_env(work))
    want, out, log = check_case(f"{name} + args: -set", argv, work, {a: 0 for a in funcs if is_gpu(a)}, "one group")
    hostpci4 = next(i for i, o in vfio_devices(argv) if o.get("id") == "hostpci4")
    tap(out[hostpci4] == argv[hostpci4] and sorted(want.values()) == [9, 9],
        "-set: hostpci4 keeps the operator's 9 (no second property), the other GPUs join 9", log)
    accept_all(f"{name} + args: -set", argv, out, {**want, hostpci4: 9})


if __name__ == "__main__":
    main()
