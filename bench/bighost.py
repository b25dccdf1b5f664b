#!/usr/bin/env python3
"""bighost.py GPUS FUNCTIONS > FILE.host: a host description (mkhost.py
format) with GPUS NVIDIA GPUs, two under each PCIe switch, the switches
spread over two sockets, and NIC functions (8 per device, 256 per bus,
each bus on its own root port) to make FUNCTIONS PCI functions in all."""
import sys

gpus, total = int(sys.argv[1]), int(sys.argv[2])
lines = ["root 0000:00 vendor=8086 numa=0", "root 0000:80 vendor=8086 numa=1"]
count = 2
half = gpus // 4
for s in range(gpus // 2):
    sock = 0x80 if s >= half else 0x00
    k = s % half
    base = sock + 1 + 4 * k
    rp = f"0000:{sock:02x}:{k + 1:02x}.0"
    up = f"0000:{base:02x}:00.0"
    lines.append(f"dev {rp} class=060400 vendor=8086 device=2030")
    lines.append(f"dev {rp}/{up} class=060400 vendor=1000 device=c030")
    count += 2
    for g in range(2):
        port = f"0000:{base + 1:02x}:{g:02x}.0"
        gpu = f"0000:{base + 2 + g:02x}:00.0"
        lines.append(f"dev {rp}/{up}/{port} class=060400 vendor=1000 device=c030")
        lines.append(f"dev {rp}/{up}/{port}/{gpu} class=030200 vendor=10de device=2330 driver=vfio-pci")
        count += 2
n = 0
while count < total:
    bus, dev, fn = 0x40 + n // 256, (n // 8) % 32, n % 8
    rp = f"0000:00:1c.{bus - 0x40}" if bus - 0x40 < 8 else f"0000:00:1d.{bus - 0x48}"
    if n % 256 == 0:
        lines.append(f"dev {rp} class=060400 vendor=8086 device=2031")
        count += 1
    lines.append(f"dev {rp}/0000:{bus:02x}:{dev:02x}.{fn} class=020000 vendor=15b3 device=101e")
    count += 1
    n += 1
print("\n".join(lines))
