#!/usr/bin/env python3
"""The cheap check of `qemu-p2p plan --for` output that make check runs
everywhere: our reading of the schedulers' formats, with the line of their
code each rule comes from. pve_check.pl and nova_check.py run the real code
where it is installed (make check-recipes).

    format_check.py proxmox RECIPE SYSFS NODE    pve-guest-common PVE/Mapping/PCI.pm,
                                                 pve-common SectionConfig.pm, JSONSchema.pm
    format_check.py proxmox-cfg FILE             a pci.cfg alone (no host to check against)
    format_check.py nova RECIPE SYSFS PLAN_JSON  nova/pci/request.py _ALIAS_SCHEMA,
                                                 nova/pci/devspec.py, os-resource-classes

Prints TAP lines without numbers; the caller numbers them.
"""
import json
import os
import re
import sys

FAILED = 0


def result(ok, desc, why=""):
    global FAILED
    print(("ok" if ok else "not ok") + " - " + desc)
    if not ok:
        FAILED += 1
        for line in str(why).splitlines():
            print("# " + line)


# --- Proxmox -----------------------------------------------------------------

# JSONSchema.pm: $CONFIGID_RE, pve_verify_node_name; patterns are anchored.
CONFIGID = re.compile(r"[a-z][a-z0-9_-]+\Z", re.I)
NODE = re.compile(r"[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\Z")
# PCI.pm: $PCI_RE and $map_fmt.
PCI_RE = r"[a-f0-9]{4,}:[a-f0-9]{2}:[a-f0-9]{2}(?:\.[a-f0-9])?"
ID = re.compile(r"[0-9A-Fa-f]{4}:[0-9A-Fa-f]{4}\Z")
MAP_FMT = {
    "node": (True, NODE),
    "id": (True, ID),
    "subsystem-id": (False, ID),
    "path": (True, re.compile(rf"(?:{PCI_RE};)*{PCI_RE}\Z")),
    "iommugroup": (False, re.compile(r"-?\d+\Z")),
    "description": (False, re.compile(r".{0,4096}\Z")),
}
# PCI.pm options(): map is the only array; the others appear at most once.
SECTION_KEYS = {"description", "mdev", "live-migration-capable", "map"}


def parse_map_entry(s):
    """parse_property_string($map_fmt, ...): key=value, comma-separated."""
    entry = {}
    for part in s.split(","):
        k, eq, v = part.partition("=")
        if not eq or k not in MAP_FMT or k in entry:
            raise ValueError(f"{part!r}: not a key of the map format, or twice")
        if not MAP_FMT[k][1].match(v):
            raise ValueError(f"{k}={v}: does not match the format")
        entry[k] = v
    missing = [k for k, (req, _) in MAP_FMT.items() if req and k not in entry]
    if missing:
        raise ValueError(f"missing {missing}")
    return entry


def parse_pci_cfg(text):
    """SectionConfig::parse_config with PCI.pm's parse_section_header."""
    sections, order, errors, cur = {}, [], [], None
    for n, line in enumerate(text.split("\n"), 1):
        if re.match(r"\s*#", line):
            continue
        if not line:
            cur = None
            continue
        if cur is None:
            m = re.match(r"(\S+)\s*$", line)
            if not m or not CONFIGID.match(m.group(1)):
                errors.append(f"line {n}: not a section header: {line!r}")
                continue
            cur = sections.setdefault(m.group(1), {"map": [], "_keys": []})
            order.append(m.group(1))
            continue
        m = re.match(r"\s+(\S+)(\s+(.*\S))?\s*$", line)
        if not m or m.group(1) not in SECTION_KEYS:
            errors.append(f"line {n}: ignored or unknown: {line!r}")
            continue
        k, v = m.group(1), m.group(3) or ""
        cur["_keys"].append(k)
        try:
            if k == "map":
                cur["map"].append((v, parse_map_entry(v)))
            elif k in cur:
                raise ValueError("duplicate attribute")
            else:
                cur[k] = v
        except ValueError as e:
            errors.append(f"line {n}: {k}: {e}")
    return sections, order, errors


def sysfs_info(sysfs, path):
    """SysFSTools::pci_device_info($path, 1): what assert_valid expects."""
    d = os.path.join(sysfs, "bus/pci/devices", path)

    def first(name):
        try:
            with open(os.path.join(d, name)) as f:
                return f.readline().strip().replace("0x", "")
        except OSError:
            return None
    want = {"id": f"{first('vendor')}:{first('device')}", "iommugroup": None, "subsystem-id": None}
    if os.path.islink(os.path.join(d, "iommu_group")):
        want["iommugroup"] = os.readlink(os.path.join(d, "iommu_group")).rsplit("/", 1)[1]
    if first("subsystem_vendor") is not None and first("subsystem_device") is not None:
        want["subsystem-id"] = f"{first('subsystem_vendor')}:{first('subsystem_device')}"
    return want


def check_proxmox_cfg(text):
    sections, order, errors = parse_pci_cfg(text)
    result(not errors and sections, f"pci.cfg parses (mappings: {' '.join(order)})", "\n".join(errors))
    for name, s in sections.items():
        # SectionConfig::write_config: required keys (map) first, then the
        # optional ones sorted; so a file Proxmox wrote lists map first.
        keys = [k for k in s["_keys"] if k != "map"]
        written = ["map"] * len(s["map"]) + sorted(keys)
        result(s["_keys"] == written, f"{name}: keys in the order Proxmox writes them", s["_keys"])
    return sections


def check_proxmox(recipe, sysfs, node):
    text = open(recipe).read()
    sections = check_proxmox_cfg(text)
    plan_gpus = set()
    for name, s in sections.items():
        for raw, e in s["map"]:
            plan_gpus.add(e["path"])
            ok = e["node"] == node and list(e) == sorted(e)
            result(ok, f"{name}: {e['path']}: for node {node}, keys sorted as Proxmox's files show them", raw)
            want = sysfs_info(sysfs, e["path"])
            # PCI.pm assert_valid: each property present exactly when the
            # device has it, and equal.
            bad = {k: (v, e.get(k)) for k, v in want.items() if v != e.get(k)}
            result(not bad, f"{name}: {e['path']}: assert_valid's properties match the host", bad)
    gpus = sorted(a for a in os.listdir(os.path.join(sysfs, "bus/pci/devices"))
                  if open(os.path.join(sysfs, "bus/pci/devices", a, "class")).read().startswith("0x03")
                  and open(os.path.join(sysfs, "bus/pci/devices", a, "vendor")).read().strip() == "0x10de")
    result(sorted(plan_gpus) == gpus, "every NVIDIA GPU of the host is in exactly one mapping", sorted(plan_gpus))
    vm = re.findall(r"^#   hostpci(\d+): mapping=([^,\s]+)", text, re.M)
    names = {m for _, m in vm}
    result(len(names) == 1 and names <= set(sections) and
           len(vm) <= len(sections[vm[0][1]]["map"]) and
           [int(i) for i, _ in vm] == list(range(len(vm))),
           "the VM lines name one mapping, hostpci0 up, no more than it holds", vm)


# --- Nova ----------------------------------------------------------------------

HEX4 = re.compile(r"[\da-fA-F]{4}\Z")
# nova/pci/request.py _ALIAS_SCHEMA as of Zed (26.x); 2023.1 (27.0) added
# resource_class and traits, a later release live_migratable.
ALIAS_ZED = {
    "name": lambda v: isinstance(v, str) and 1 <= len(v) <= 256,
    "capability_type": lambda v: v == "pci",
    "product_id": lambda v: isinstance(v, str) and HEX4.match(v),
    "vendor_id": lambda v: isinstance(v, str) and HEX4.match(v),
    "device_type": lambda v: v in ("type-PCI", "type-PF", "type-VF"),
    "numa_policy": lambda v: v in ("required", "legacy", "preferred", "socket"),
}
ALIAS_2023 = dict(ALIAS_ZED, resource_class=lambda v: isinstance(v, str), traits=lambda v: isinstance(v, str))
# os-resource-classes: a custom class is CUSTOM_ and [A-Z0-9_]+, at most 255.
CUSTOM_RC = re.compile(r"CUSTOM_[A-Z0-9_]{1,248}\Z")


def check_alias(line, schema, what):
    try:
        a = json.loads(line)
        bad = [k for k, v in a.items() if k not in schema or not schema[k](v)] if isinstance(a, dict) else ["?"]
        ok = isinstance(a, dict) and not bad and "name" in a and "device_type" in a
    except ValueError as e:
        a, bad, ok = None, [str(e)], False
    # Zed's _get_alias_from_config reads dev_type of a repeated name without
    # a default: each alias line carries device_type.
    result(ok, f"{what} alias {line} fits _ALIAS_SCHEMA", bad)
    return a if ok else None


def nova_dev_type(sysfs, addr):
    """What Nova's libvirt driver makes of the function: type-PF when it is
    SR-IOV capable (libvirt's virt_functions, from sriov_totalvfs > 0)."""
    try:
        with open(os.path.join(sysfs, "bus/pci/devices", addr, "sriov_totalvfs")) as f:
            return "type-PF" if int(f.read()) > 0 else "type-PCI"
    except FileNotFoundError:
        return "type-PCI"


def check_nova(recipe, sysfs, plan):
    text = open(recipe).read()
    group_of = {a: g["label"] for g in json.load(open(plan))["groups"] for a in g["gpus"]}
    addrs = set(os.listdir(os.path.join(sysfs, "bus/pci/devices")))
    types = {nova_dev_type(sysfs, a) for a in group_of}
    section, specs, aliases = None, {}, {}
    for line in text.split("\n"):
        if line.startswith("["):
            section = line
        elif section == "[pci]" and line.startswith("device_spec = "):
            d = json.loads(line[len("device_spec = "):])
            rc, a = d.get("resource_class"), d.get("address")
            ok = set(d) == {"address", "resource_class"} and a in addrs and a not in specs and \
                CUSTOM_RC.match(rc or "") and rc == f"CUSTOM_P2P_G{group_of.get(a)}"
            result(ok, f"device_spec {line[14:]}: one GPU of the host, its group's custom class", d)
            specs[a] = rc
        elif section == "[pci]" and line.startswith("alias = "):
            a = check_alias(line[8:], ALIAS_2023, "2023.1")
            result(a is not None and {a["device_type"]} == types,
                   f"alias {line[8:]}: the device type Nova gives the GPUs ({' '.join(sorted(types))})", a)
            if a:
                aliases[a["name"]] = a.get("resource_class")
    result(set(specs) == set(group_of), "every GPU has one device_spec", sorted(set(group_of) ^ set(specs)))
    result(sorted(aliases.values()) == sorted(set(specs.values())) and len(aliases) == len(set(specs.values())),
           "one alias per group's class", aliases)
    m = re.search(r"^#   \[pci\]\n((?:#   .*\n)+)", text, re.M)
    block = m.group(1).split("\n") if m else []
    zed = [l[4:] for l in block if l.startswith("#   device_spec = ") or l.startswith("#   alias = ")]
    result(bool(zed), "a block for releases before 2023.1", text[-400:])
    for line in zed:
        if line.startswith("alias = "):
            a = check_alias(line[8:], ALIAS_ZED, "Zed")
            result(a is not None and {a["device_type"]} == types,
                   f"Zed alias {line[8:]}: the device type Nova gives the GPUs ({' '.join(sorted(types))})", a)
        else:
            d = json.loads(line[len("device_spec = "):])
            result(set(d) == {"address"} and d["address"] in group_of, f"Zed device_spec {d}: one GPU", d)
    for n, v in re.findall(r"pci_passthrough:alias=(\S+?):(N|\d+)", text):
        result(n in aliases or any(f'"name": "{n}"' in l for l in zed), f"flavor alias {n} is defined", n)


def main():
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "proxmox":
        check_proxmox(*args)
    elif mode == "proxmox-cfg":
        check_proxmox_cfg(open(args[0]).read())
    elif mode == "nova":
        check_nova(*args)
    else:
        sys.exit(f"unknown mode {mode}")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
