#!/usr/bin/env python3
"""bighost.py GPUS FUNCTIONS > FILE.host: a host description (mkhost.py
format) with GPUS NVIDIA GPUs, two under each PCIe switch, the switches
split over two sockets, and network functions to make FUNCTIONS PCI
functions in all (host bridges and bridges included).

Every address is one a real host could have: GPU switches hang off root
ports 01..10 of bus 00 (socket 0) or 80 (socket 1), 16 switches to a PCI
domain, each switch taking four buses; network functions fill buses of 256
functions (32 devices x 8) behind root ports 01..1f of their own domains,
0100 upwards."""
import sys

SWITCHES_PER_DOMAIN = 16
NIC_PORTS_PER_DOMAIN = 31
NIC_DOMAIN_BASE = 0x100

gpus, total = int(sys.argv[1]), int(sys.argv[2])
lines, roots = [], set()
count = 0


def root(dom, bus, numa):
    global count
    if (dom, bus) not in roots:
        roots.add((dom, bus))
        lines.append(f"root {dom:04x}:{bus:02x} vendor=8086 numa={numa}")
        count += 1


def dev(path, attrs):
    global count
    lines.append(f"dev {path} {attrs}")
    count += 1


switches = gpus // 2
per_socket = (switches + 1) // 2
for s in range(switches):
    sock, k = divmod(s, per_socket)
    dom, slot = divmod(k, SWITCHES_PER_DOMAIN)
    top = 0x80 * sock
    base = top + 1 + 4 * slot
    root(dom, top, sock)
    rp = f"{dom:04x}:{top:02x}:{slot + 1:02x}.0"
    up = f"{dom:04x}:{base:02x}:00.0"
    dev(rp, "class=060400 vendor=8086 device=2030")
    dev(f"{rp}/{up}", "class=060400 vendor=1000 device=c030")
    for g in range(2):
        port = f"{dom:04x}:{base + 1:02x}:{g:02x}.0"
        gpu = f"{dom:04x}:{base + 2 + g:02x}:00.0"
        dev(f"{rp}/{up}/{port}", "class=060400 vendor=1000 device=c030")
        dev(f"{rp}/{up}/{port}/{gpu}", "class=030200 vendor=10de device=2330 driver=vfio-pci")
n = 0
while count < total:
    port, fn = divmod(n, 256)
    dom, p = divmod(port, NIC_PORTS_PER_DOMAIN)
    dom += NIC_DOMAIN_BASE
    root(dom, 0, dom % 2)
    rp = f"{dom:04x}:00:{p + 1:02x}.0"
    if fn == 0:
        dev(rp, "class=060400 vendor=8086 device=2031")
    dev(f"{rp}/{dom:04x}:{p + 1:02x}:{fn // 8:02x}.{fn % 8}", "class=020000 vendor=15b3 device=101e")
    n += 1
print("\n".join(lines))
