#!/usr/bin/env python3
"""Fail open under every fault (DESIGN: a wrapper problem never stops a VM).

1. The log cannot stop a start: stderr a pipe whose reader is gone (SIGPIPE
   left at its default, and ignored), /dev/full, a closed stderr; QEMU (a
   recording stand-in) still starts, with the cliques.
2. QEMU inherits exactly the signal dispositions and mask the wrapper got:
   SigIgn and SigBlk of the stand-in equal those of the same stand-in
   started directly with the same settings.
3. Every C library call the wrapper makes before exec (files, links,
   memory, signals, the exec itself) fails once in turn, through an
   LD_PRELOAD shim over a dynamically linked copy, in map and in auto mode:
   each time QEMU starts with the original argv or the correctly rewritten
   one. Prints how many faults were injected and how many starts survived.
"""
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import done, skip, tap  # noqa: E402

SRC = os.environ["QP2P_SRC"]
BUILD = os.environ["QP2P_BUILD"]
WRAP = os.path.join(BUILD, "src/wrap/qemu-p2p-wrap")
WRAP_DYNAMIC = os.path.join(BUILD, "tests/qemu-p2p-wrap-dynamic")
SHIM = os.path.join(BUILD, "tests/libfaultshim.so")
STANDIN = os.path.join(BUILD, "tests/standin")
GPU0 = '{"driver":"vfio-pci","host":"0000:43:00.0","id":"hostdev0"}'
GPU1 = "vfio-pci,host=0000:44:00.0,id=hostdev1"
ARGS = ["-name", "guest=vm1", "-device", GPU0, "-device", GPU1]
REWRITTEN = ["-name", "guest=vm1", "-device", GPU0[:-1] + ',"x-nv-gpudirect-clique":0}', "-device",
             GPU1 + ",x-nv-gpudirect-clique=0"]


class Host:
    """A fixture host, a configuration, current facts for the stand-in."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.bin = os.path.join(tmp, "bin")
        os.makedirs(self.bin)
        os.makedirs(os.path.join(tmp, "etc/qemu-p2p.d"))
        subprocess.run([sys.executable, os.environ["MKHOST"], os.path.join(os.environ["HOSTS"], "c8-free-gpus.host"),
                        os.path.join(tmp, "sys")], check=True)
        self.recorder = self.copy(STANDIN, "standin")
        self.wrapper = self.copy(WRAP, "qemu-system-x86_64")
        # The dynamic copy in a directory of its own, with a stand-in as
        # <self>.real: where the configuration is lost to a fault, that is
        # the QEMU it finds (as a divert layout would), not the packaged one.
        self.dynamic = self.copy(WRAP_DYNAMIC, "dyn/qemu-system-x86_64")
        self.copy(STANDIN, "dyn/qemu-system-x86_64.real")
        st = os.stat(self.recorder)
        host = os.path.join(tmp, "etc/qemu-p2p.d/host.conf")
        open(host, "w").write(f"[qemu]\nbinary = {self.recorder}\nversion = 8.2.2\n"
                              f"identity = {st.st_dev}:{st.st_ino}:{st.st_size}:{int(st.st_mtime)}\n")
        self.record = os.path.join(tmp, "rec")
        self.configure("map")

    def copy(self, src, name):
        dst = os.path.join(self.bin, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        open(dst, "wb").write(open(src, "rb").read())
        os.chmod(dst, 0o755)
        return dst

    def configure(self, mode):
        conf = os.path.join(self.tmp, "etc/qemu-p2p.conf")
        text = f"[qemu]\nbinary = {self.recorder}\n[cliques]\nmode = {mode}\n[log]\ntarget = stderr\n"
        if mode == "map":
            text += "[map]\n0 = 0000:43:00.0 0000:44:00.0\n"
        open(conf, "w").write(text)
        os.chmod(conf, 0o644)

    def env(self, **extra):
        return dict(os.environ, RECORD=self.record, QEMU_P2P_SYSFS=os.path.join(self.tmp, "sys"),
                    QEMU_P2P_CONFIG=os.path.join(self.tmp, "etc/qemu-p2p.conf"), **extra)

    def clear(self):
        for ext in ("args", "sig"):
            try:
                os.unlink(f"{self.record}.{ext}")
            except FileNotFoundError:
                pass

    def recorded(self):
        try:
            return open(self.record + ".args", "rb").read().decode("utf-8", "replace").split("\0")[:-1]
        except FileNotFoundError:
            return None

    def signals(self):
        return open(self.record + ".sig").read()

    def start(self, program, args, stderr=subprocess.DEVNULL, preexec=None, **extra):
        """Runs program argv[0]=qemu-system-x86_64 with args; returns its status."""
        self.clear()
        r = subprocess.run([program] + args, env=self.env(**extra), stderr=stderr, stdout=subprocess.DEVNULL,
                           stdin=subprocess.DEVNULL, preexec_fn=preexec, timeout=30)
        return r.returncode


def log_faults(h):
    """1. Writes to stderr that fail never stop the start."""
    def dead_pipe(sigpipe):
        r, w = os.pipe()
        os.close(r)

        def pre():
            signal.signal(signal.SIGPIPE, sigpipe)
        rc = h.start(h.wrapper, ARGS, stderr=w, preexec=pre)
        os.close(w)
        return rc

    for name, sig in (("default", signal.SIG_DFL), ("ignored", signal.SIG_IGN)):
        rc = dead_pipe(sig)
        tap(rc == 0 and h.recorded() == REWRITTEN,
            f"stderr a pipe whose reader is gone, SIGPIPE {name}: QEMU starts with the cliques", f"exit {rc}")
    with open("/dev/full", "w") as full:
        rc = h.start(h.wrapper, ARGS, stderr=full)
    tap(rc == 0 and h.recorded() == REWRITTEN, "stderr /dev/full (ENOSPC): QEMU starts with the cliques", f"exit {rc}")
    rc = h.start(h.wrapper, ARGS, preexec=lambda: os.close(2))
    tap(rc == 0 and h.recorded() == REWRITTEN, "stderr closed (EBADF): QEMU starts with the cliques", f"exit {rc}")


def signal_inheritance(h):
    """2. QEMU gets the dispositions and the mask the wrapper got."""
    cases = {
        "SIGPIPE default": lambda: signal.signal(signal.SIGPIPE, signal.SIG_DFL),
        "SIGPIPE ignored": lambda: signal.signal(signal.SIGPIPE, signal.SIG_IGN),
        "SIGHUP and SIGPIPE ignored, SIGUSR1 and SIGTERM blocked": lambda: (
            signal.signal(signal.SIGHUP, signal.SIG_IGN), signal.signal(signal.SIGPIPE, signal.SIG_IGN),
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1, signal.SIGTERM})),
    }
    for name, pre in cases.items():
        h.start(h.recorder, ARGS, preexec=pre)
        direct = h.signals()
        h.start(h.wrapper, ARGS, preexec=pre)
        wrapped = h.signals() if h.recorded() == REWRITTEN else "(QEMU did not start with the cliques)"
        tap(direct == wrapped, f"{name}: QEMU's SigIgn and SigBlk equal those of a direct start",
            f"direct:\n{direct}wrapped:\n{wrapped}")


def injection(h):
    """3. Each call before exec fails once in turn."""
    if os.environ.get("QP2P_SANITIZE", "none") != "none":
        skip("fault injection", "the sanitizer runtime must come first; LD_PRELOAD runs in the plain build")
        return
    log = os.path.join(h.tmp, "fault.log")
    totals = []
    for mode in ("map", "auto"):
        h.configure(mode)
        rc = h.start(h.dynamic, ARGS, LD_PRELOAD=SHIM, QP2P_FAULT_AT="0", QP2P_FAULT_LOG=log)
        counted = open(log).read() if os.path.exists(log) else ""
        calls = int(counted.split()[0].split("=")[1]) if counted.startswith("calls=") else 0
        tap(rc == 0 and h.recorded() == REWRITTEN and calls > 20,
            f"{mode}: without a fault the dynamic copy starts QEMU with the cliques ({calls} calls before exec)",
            f"exit {rc}, {counted}")
        survived = rewritten = 0
        bad = []
        for n in range(1, calls + 1):
            os.unlink(log) if os.path.exists(log) else None
            rc = h.start(h.dynamic, ARGS, LD_PRELOAD=SHIM, QP2P_FAULT_AT=str(n), QP2P_FAULT_LOG=log)
            got = h.recorded()
            what = open(log).read().split("failed=")[-1].strip() if os.path.exists(log) else "?"
            if got in (ARGS, REWRITTEN) and what != "none":
                survived += 1
                rewritten += got == REWRITTEN
            else:
                bad.append(f"call {n} ({what}): exit {rc}, QEMU got {got}")
        unchanged = survived - rewritten
        print(f"# {mode}: {calls} faults injected, {survived} starts reached QEMU "
              f"({rewritten} with the cliques, {unchanged} unchanged)")
        totals.append((calls, survived))
        tap(not bad and survived == calls, f"{mode}: every one of {calls} failing calls still starts QEMU, "
            "with the original or the rewritten argv", "\n".join(bad[:20]))
    print(f"# fault injection: {sum(c for c, _ in totals)} faults injected, "
          f"{sum(s for _, s in totals)} starts reached QEMU")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        h = Host(tmp)
        rc = h.start(h.wrapper, ARGS)
        tap(rc == 0 and h.recorded() == REWRITTEN, "the fixture: QEMU starts with the cliques", h.recorded())
        log_faults(h)
        signal_inheritance(h)
        injection(h)
    done()


if __name__ == "__main__":
    main()
