#!/usr/bin/env python3
"""The recipe of `qemu-p2p plan --for nova`, checked with Nova's own code.

Runs with the Python of a root where Debian's python3-nova is installed
(tests/recipe/prepare.sh builds them): Debian 12's Zed (26.2) and Debian 13's
2025.1 (31.0). Usage:

    nova_check.py RECIPE SYSFS PLAN_JSON

RECIPE is the text output, loaded as nova.conf is, by oslo.config with
Nova's options; SYSFS the fixture tree the recipe was made from; PLAN_JSON
the --json output, whose groups are the truth the allocations are held to.
What each Nova checks:

- both: the device_spec lines parse (Whitelist); each matches its GPU and
  no other function of the host (not the GPUs' audio functions); Nova's
  Placement translator gives each GPU its group's resource class;
- both: the Zed lines (the commented block after "#   [pci]") parse, and
  PciDeviceStats, fed the host's devices, never allocates 1, 2 or 4 GPUs of
  that alias across groups, VM after VM until the GPUs run out;
- where the recipe says NUMA cannot, that Nova's NUMA policy "required"
  with one NUMA cell does put one VM's GPUs in two groups;
- the aliases by resource class parse from 27.0 (2023.1) on and are refused
  before; from 27.0 the whole Placement route: Nova's translator builds the
  resource providers, Placement (in process, SQLite) answers the request
  groups Nova makes of each alias, every allocation candidate lies in one
  group, and PciDeviceStats consumes exactly the devices Placement chose.

Prints TAP lines without numbers ("ok - ...", "not ok - ..."; "# ..."
explains a failure); the caller numbers them.
"""
import inspect
import json
import logging
import os
import sys
import types
import uuid

import nova.conf
from nova import exception, objects, version
from nova.compute import pci_placement_translator as ppt
from nova.pci import request as pci_request
from nova.pci import stats as pci_stats
from nova.pci import whitelist

objects.register_all()
logging.disable(logging.CRITICAL)  # Nova's own warnings are not findings here
CONF = nova.conf.CONF
RELEASE = version.version_string()
MAJOR = int(RELEASE.split(".")[0])
FAILED = 0


def result(ok, desc, why=""):
    global FAILED
    print(("ok" if ok else "not ok") + f" - Nova {RELEASE}: {desc}")
    if not ok:
        FAILED += 1
        for line in str(why).splitlines():
            print("# " + line)


def functions(sysfs):
    """Every PCI function of the tree, as the libvirt driver reports it: a
    function with sriov_totalvfs > 0 gets libvirt's virt_functions
    capability, which Nova's _get_device_type reads as type-PF."""
    out = []
    d = os.path.join(sysfs, "bus/pci/devices")
    for a in sorted(os.listdir(d)):
        def attr(name, default=None):
            try:
                with open(os.path.join(d, a, name)) as f:
                    return f.read().strip()
            except FileNotFoundError:
                return default
        out.append({
            "address": a, "vendor_id": attr("vendor")[2:], "product_id": attr("device")[2:],
            "numa_node": int(attr("numa_node")),
            "dev_type": "type-PF" if int(attr("sriov_totalvfs", "0")) > 0 else "type-PCI", "parent_addr": None,
            "label": f"label_{attr('vendor')[2:]}_{attr('device')[2:]}",
        })
    return out


def load(path):
    CONF.clear()
    CONF(["--config-file", path], project="nova", default_config_files=[], default_config_dirs=[])


def host_devices(wl, funcs):
    """PciDevice objects for the functions the device_spec lines admit."""
    devs = []
    for f in funcs:
        if wl.device_assignable(dict(f)):
            dev = objects.PciDevice.create(None, dict(f))
            dev.compute_node_id = 1
            devs.append(dev)
    return devs


def new_stats(wl, devs):
    stats = pci_stats.PciDeviceStats(None, dev_filter=wl)
    for dev in devs:
        stats.add_device(dev)
    if any("rp_uuid" in dev.extra_info for dev in devs):
        # As nova-compute does once the translator recorded each RP.
        stats.populate_pools_metadata_from_assigned_devices()
    return stats


def check_device_spec(funcs, group_of):
    wl = whitelist.Whitelist(CONF.pci.device_spec)
    result(len(wl.specs) == len(group_of), "every device_spec line parses (Whitelist)", wl.specs)
    for spec in wl.specs:
        hits = [f["address"] for f in funcs if spec.match(dict(f))]
        ok = len(hits) == 1 and hits[0] in group_of
        result(ok, f"device_spec {spec.tags} matches one GPU and nothing else", hits)
        if ok:
            dev = objects.PciDevice.create(None, dict(next(f for f in funcs if f["address"] == hits[0])))
            rc = ppt._get_rc_for_dev(dev, spec.get_tags())
            want = f"CUSTOM_P2P_G{group_of[hits[0]]}"
            result(rc == want, f"{hits[0]}: the translator's resource class is {want}", rc)
    return wl


def check_aliases(group_of):
    try:
        aliases = pci_request._get_alias_from_config()
    except exception.PciInvalidAlias as e:
        result(MAJOR < 27, "an alias by resource_class is refused before 27.0 (2023.1), as the recipe says", e)
        return None
    result(MAJOR >= 27, "aliases by resource_class parse (the recipe says 27.0 or later)", aliases)
    for g in sorted(set(group_of.values())):
        spec = aliases.get(f"p2p-g{g}", (None, [{}]))[1][0]
        result(spec.get("resource_class") == f"CUSTOM_P2P_G{g}", f"alias p2p-g{g} asks for CUSTOM_P2P_G{g}", spec)
    return aliases


def zed_section(recipe):
    """The commented block the recipe gives for releases before 2023.1."""
    lines, on = [], False
    for line in open(recipe):
        if line.startswith("#   [pci]"):
            on = True
        elif on and line.startswith("#   ") and "=" in line and not line.startswith("#   flavor"):
            lines.append(line[4:])
        elif on and not line.startswith("#   "):
            break
    return "[pci]\n" + "".join(lines)


def supports(stats, reqs, cells):
    """support_requests: 2023.1 added the Placement mapping before the cells."""
    if "provider_mapping" in inspect.signature(stats.support_requests).parameters:
        return stats.support_requests(reqs, {}, cells)
    return stats.support_requests(reqs, cells)


def one_group(devs, group_of):
    return len({group_of[d.address] for d in devs}) == 1


def check_pools(recipe, funcs, group_of, tmp):
    """Zed's way: PciDeviceStats with the block's device_spec and alias."""
    path = os.path.join(tmp, "zed.conf")
    with open(path, "w") as f:
        f.write(zed_section(recipe))
    load(path)
    wl = whitelist.Whitelist(CONF.pci.device_spec)
    aliases = pci_request._get_alias_from_config()
    (name, (policy, _)), = aliases.items()
    devs = host_devices(wl, funcs)
    nodes = sorted({d.numa_node for d in devs}) if policy == "required" else [None]
    for n in (1, 2, 4):
        for node in nodes:
            cells = None if node is None else [objects.InstanceNUMACell(id=node, cpuset=set(), pcpuset={0}, memory=512)]
            stats, vms, split = new_stats(wl, devs), 0, []
            while True:
                reqs = pci_request._translate_alias_to_requests(f"{name}:{n}")
                if not supports(stats, reqs, cells):
                    break
                got = stats.consume_requests(reqs, cells)
                vms += 1
                if not one_group(got, group_of):
                    split.append([d.address for d in got])
            where = "" if node is None else f" with hw:numa_nodes=1 on NUMA node {node}"
            room = sum(1 for d in devs if node is None or d.numa_node == node)
            result(not split and (vms > 0) == (n <= room),
                   f"the pre-2023.1 block: {vms} VMs of {name}:{n}{where}, each in one group", split)


def check_numa_claim(funcs, group_of):
    """Where the recipe says NUMA cannot: Nova's NUMA policy splits a VM."""
    dev_type = next(f["dev_type"] for f in funcs if f["address"] in group_of)
    CONF.set_override("alias", [json.dumps({"name": "numa", "device_type": dev_type, "numa_policy": "required"})], "pci")
    CONF.set_override("device_spec", [json.dumps({"address": a}) for a in group_of], "pci")
    wl = whitelist.Whitelist(CONF.pci.device_spec)
    devs = host_devices(wl, funcs)
    for node in sorted({d.numa_node for d in devs}):
        on_node = [d for d in devs if d.numa_node == node]
        if one_group(on_node, group_of):
            continue
        cells = [objects.InstanceNUMACell(id=node, cpuset=set(), pcpuset={0}, memory=512)]
        got = new_stats(wl, devs).consume_requests(
            pci_request._translate_alias_to_requests(f"numa:{len(on_node)}"), cells)
        result(not one_group(got, group_of),
               f"NUMA cannot, as the recipe says: numa_policy required on node {node} takes GPUs of two groups",
               [d.address for d in got])
        break
    CONF.clear_override("alias", "pci")
    CONF.clear_override("device_spec", "pci")


def placement_conf():
    from oslo_config import cfg
    from placement import conf as pconf
    conf = cfg.ConfigOpts()
    pconf.register_opts(conf)
    conf.set_override("connection", "sqlite://", group="placement_database")
    conf.set_override("sync_on_startup", True, group="placement_database")
    conf([], default_config_files=[])
    return conf


def put_tree(client, tree):
    """The provider tree nova-compute would report, written to Placement."""
    for rp_uuid in tree.get_provider_uuids():
        data = tree.data(rp_uuid)
        r = client.post("/resource_providers", json={
            "name": data.name, "uuid": rp_uuid, "parent_provider_uuid": data.parent_uuid})
        assert r.status_code == 200, r.text
        for rc in data.inventory:
            if rc.startswith("CUSTOM_"):
                client.put(f"/resource_classes/{rc}")
        r = client.put(f"/resource_providers/{rp_uuid}/inventories",
                       json={"resource_provider_generation": 0, "inventories": data.inventory})
        assert r.status_code == 200, r.text
        if data.traits:
            r = client.put(f"/resource_providers/{rp_uuid}/traits",
                           json={"resource_provider_generation": 1, "traits": sorted(data.traits)})
            assert r.status_code == 200, r.text


def check_placement(funcs, group_of, aliases):
    from placement import direct
    from nova.compute import provider_tree
    from nova.compute import utils as compute_utils
    from nova.scheduler import utils as sched_utils

    result(CONF.pci.report_in_placement and CONF.filter_scheduler.pci_in_placement,
           "the recipe turns on report_in_placement and pci_in_placement")
    wl = whitelist.Whitelist(CONF.pci.device_spec)
    devs = host_devices(wl, funcs)
    tracker = types.SimpleNamespace(pci_devs=devs, dev_filter=wl, stats=new_stats(wl, devs))
    tree = provider_tree.ProviderTree()
    root = str(uuid.uuid4())
    tree.new_root("host1", root)
    tree.update_inventory("host1", {"VCPU": {"total": 64}, "MEMORY_MB": {"total": 65536}})
    ppt.update_provider_tree_for_pci(tree, "host1", tracker, {}, [])
    dev_of_rp = {d.extra_info["rp_uuid"]: d.address for d in devs}
    flavor = objects.Flavor(vcpus=1, memory_mb=512, root_gb=0, ephemeral_gb=0, swap=0, extra_specs={})
    with direct.PlacementDirect(placement_conf(), latest_microversion=True) as client:
        put_tree(client, tree)
        for name in sorted(aliases):
            size = sum(1 for g in group_of.values() if f"p2p-g{g}" == name)
            for n in (1, 2, 4):
                reqs = pci_request._translate_alias_to_requests(f"{name}:{n}")
                spec = objects.RequestSpec(flavor=flavor, image=objects.ImageMeta.from_dict({}),
                                           pci_requests=objects.InstancePCIRequests(requests=reqs),
                                           requested_resources=[], is_bfv=False)
                spec.generate_request_groups_from_pci_requests()
                qs = sched_utils.resources_from_request_spec(None, spec, None).to_querystring()
                r = client.get("/allocation_candidates?" + qs)
                cands = r.json().get("allocation_requests", [])
                split = [sorted(dev_of_rp[rp] for rp in c["allocations"] if rp != root) for c in cands]
                split = [s for s in split if len({group_of[a] for a in s}) != 1]
                result(r.status_code == 200 and not split and bool(cands) == (n <= size),
                       f"Placement: {len(cands)} candidates for {name}:{n}, each in one group",
                       f"{r.status_code} {r.text[:300]} split={split}")
                if not cands:
                    continue
                sched_utils.fill_provider_mapping(spec, types.SimpleNamespace(
                    allocation_request=json.dumps(cands[-1])))
                compute_utils.update_pci_request_with_placement_allocations(
                    None, None, reqs, spec.get_request_group_mapping())
                got = new_stats(wl, devs).consume_requests(reqs)
                chosen = sorted(dev_of_rp[rp] for rp in cands[-1]["allocations"] if rp != root)
                result(sorted(d.address for d in got) == chosen,
                       f"PciDeviceStats consumes the devices Placement chose for {name}:{n}",
                       [d.address for d in got])


def main():
    recipe, sysfs, plan = sys.argv[1:4]
    tmp = os.path.dirname(os.path.abspath(recipe))
    group_of = {a: g["label"] for g in json.load(open(plan))["groups"] for a in g["gpus"]}
    funcs = functions(sysfs)
    load(recipe)
    check_device_spec(funcs, group_of)
    aliases = check_aliases(group_of)
    if aliases is not None:
        check_placement(funcs, group_of, aliases)
    if "Here it cannot" in open(recipe).read():
        check_numa_claim(funcs, group_of)
    check_pools(recipe, funcs, group_of, tmp)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
