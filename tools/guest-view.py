#!/usr/bin/env python3
"""guest-view.py ARGV-FILE: the guest a QEMU command line makes, as a host
description for tests/fixtures/mkhost.py (make demo). A model, not QEMU:
each vfio-pci GPU on a PCIe root port of its own (as libvirt places them),
on guest bus 1, 2, ...; where the argv gives it x-nv-gpudirect-clique, the
capability QEMU adds, at 0xD4 (these GPUs keep MSI-X at 0xC8). ARGV-FILE
holds one argument a line, as `qemu-p2p rewrite` prints them."""
import json
import sys


def clique_of(arg):
    if arg.startswith("{"):
        d = json.loads(arg)
        return d.get("driver"), d.get("x-nv-gpudirect-clique")
    opts = dict(kv.partition("=")[::2] for kv in arg.replace(",,", "\0").split(",")[1:])
    clique = opts.get("x-nv-gpudirect-clique")
    return arg.split(",")[0], int(clique, 0) if clique is not None else None


def main():
    args = open(sys.argv[1]).read().splitlines()
    print("root 0000:00 vendor=8086 device=29c0 numa=0\nbridge vendor=1b36 device=000c\nnode 0 cpumap=000000ff")
    n = 0
    for i in range(len(args) - 1):
        if args[i] != "-device":
            continue
        driver, clique = clique_of(args[i + 1])
        if driver not in ("vfio-pci", "vfio-pci-nohotplug"):
            continue
        n += 1
        cap = f" clique={clique} cliqueat=d4" if clique is not None else ""
        print(f"dev 0000:00:{n + 1:02x}.0/0000:{n:02x}:00.0 class=030200 vendor=10de device=2bb5 "
              f"caps=60:01,68:05,78:10,c8:11{cap} speed=32.0 width=16")


if __name__ == "__main__":
    main()
