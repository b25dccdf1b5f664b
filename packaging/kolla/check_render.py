#!/usr/bin/env python3
"""CI: render template-overrides.j2 the way kolla-build does (it extends a
parent template with a nova_libvirt_footer block) for deb and RPM images,
and check the lines that matter are there. kolla itself is not built here."""
import sys

import jinja2

PARENT = "FROM base\nRUN install libvirt\n{% block nova_libvirt_footer %}{% endblock %}\n"
here = sys.argv[1] if len(sys.argv) > 1 else "."
env = jinja2.Environment(loader=jinja2.DictLoader({"parent": PARENT}), undefined=jinja2.StrictUndefined)
with open(f"{here}/template-overrides.j2") as f:
    tmpl = env.from_string(f.read())
failed = 0
for kind, pkg in (("deb", "qemu-p2p_*.deb"), ("rpm", "qemu-p2p-[0-9]*.rpm")):
    out = tmpl.render(parent_template="parent", base_package_type=kind)
    for want in (f"COPY {pkg} /tmp/", "qemu-p2p install --mode shadow --no-refresh", "kolla_extend_start",
                 "RUN install libvirt"):
        ok = want in out
        failed += not ok
        print(f"{'ok' if ok else 'not ok'} - kolla override, {kind} image: renders '{want}'")
sys.exit(1 if failed else 0)
