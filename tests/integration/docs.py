#!/usr/bin/env python3
"""The documentation keeps its promises.

Options: for qemu-p2p and each command, qemu-p2p-guest and each command, and
p2pbench, every option --help lists is in the man page (with the same short
form), and every option the man page gives exists: in the command's --help,
and accepted by the parser. A command that silently accepts an option its
--help does not list is reported too, as are the options the page calls
common that a command rejects. qemu-p2p-wrap has no options: its page must
document every environment variable it reads, and only those (the same for
qemu-p2p).

Links: README.md, docs/, packaging/*/README.md and man/ link only to files
in the repository (relative links and #anchors resolve, repository paths and
*.md names they mention exist); an external URL appears only as a citation,
"Its Title", publisher, <URL>, so the reader sees where it goes. docs/README.md lists
every man page.

Each failure names the option or link, the program or file, and where it is
missing."""
import glob
import os
import re
import subprocess
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(__file__))
import taplib  # noqa: E402
from taplib import done, tap  # noqa: E402

SRC = os.environ["QP2P_SRC"]
BUILD = os.environ["QP2P_BUILD"]
PROGRAMS = {
    "qemu-p2p": (f"{BUILD}/src/cli/qemu-p2p", "man/qemu-p2p.8.scd"),
    "qemu-p2p-guest": (f"{BUILD}/src/guest/qemu-p2p-guest", "man/qemu-p2p-guest.1.scd"),
    "p2pbench": (f"{BUILD}/src/p2pbench/p2pbench", "man/p2pbench.1.scd"),
}
# An option line of --help: "  -j, --json ...", "      --sysfs DIR ...", "  -x ...".
HELP_OPT = re.compile(r"^ {2,6}(?:(-[A-Za-z0-9]), +)?(--[a-z][a-z0-9-]*)|^ {2}(-[A-Za-z0-9])(?= )")
# In a page: *-x*|*--long* (synopsis), *-x*, *--long* (OPTIONS), *--long*, *-x*.
PAGE_PAIR = re.compile(r"\*(-[A-Za-z0-9])\*(?:\||, )\*(--[a-z][a-z0-9-]*)\*")
PAGE_LONG = re.compile(r"\*((?:[a-z][\w.-]* )*)(--[a-z][a-z0-9-]*)(?: [^*]*)?\*")
PAGE_SHORT = re.compile(r"\*(-[A-Za-z0-9])\*")


def run(argv):
    r = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def help_options(argv):
    """{long or lone short: short or None} from the Options: part of --help."""
    rc, out, _ = run(argv + ["--help"])
    opts, on = {}, False
    for line in out.splitlines():
        if line.startswith("Options:"):
            on = True
        elif on and line and not line.startswith(" "):
            on = False
        elif on and (m := HELP_OPT.match(line)):
            if m.group(2):
                opts[m.group(2)] = m.group(1)
            else:
                opts[m.group(3)] = None
    return rc, opts


def help_commands(prog):
    _, out, _ = run([prog, "--help"])
    cmds, on = [], False
    for line in out.splitlines():
        if line.startswith("Commands:"):
            on = True
        elif on and (m := re.match(r"^  ([a-z][a-z0-9-]*)\s", line)):
            cmds.append(m.group(1))
        elif on and not line.strip():
            on = False
    return cmds


def sections(page):
    """{SECTION NAME: text} of an scdoc page."""
    out, name = {}, None
    for line in open(f"{SRC}/{page}"):
        if m := re.match(r"^# (.+)", line):
            name = m.group(1).strip()
            out[name] = ""
        elif name:
            out[name] += line
    return out


def entries(text):
    """[(first line, body)] of the entries of a section: a line at column 0
    starting with *, then its tab-indented body."""
    out = []
    for line in text.splitlines():
        if line.startswith("*"):
            out.append([line, ""])
        elif line.startswith("\t") and out:
            out[-1][1] += line + "\n"
    return [tuple(e) for e in out]


def page_options(text):
    """{long or lone short: short or None} named in page text."""
    opts = {}
    for m in PAGE_PAIR.finditer(text):
        opts[m.group(2)] = m.group(1)
    for m in PAGE_LONG.finditer(text):
        opts.setdefault(m.group(2), None)
    paired = set(v for v in opts.values() if v)
    for m in PAGE_SHORT.finditer(PAGE_PAIR.sub("", text)):
        if m.group(1) not in paired:
            opts.setdefault(m.group(1), None)
    return opts


def mentions(body, default_cmd, commands):
    """(command, --option) for each *--opt* or *cmd --opt* in a body."""
    for m in PAGE_LONG.finditer(body):
        words = m.group(1).split()
        yield (words[-1] if words and words[-1] in commands else default_cmd), m.group(2)


def compare(what, help_opts, page_opts, where):
    """Problems between an option set from --help and one from a page."""
    problems = []
    for opt, short in sorted(help_opts.items()):
        if opt in ("--help", "-h"):
            continue
        if opt not in page_opts:
            problems.append(f"{opt}: in `{what} --help`, missing from {where}")
        elif short and page_opts[opt] != short:
            problems.append(f"{opt}: `{what} --help` gives it as {short}, {where} as {page_opts[opt] or 'no short form'}")
    for opt, short in sorted(page_opts.items()):
        if opt in ("--help", "-h"):
            continue
        if opt not in help_opts:
            problems.append(f"{opt}: in {where}, but `{what} --help` has no such option")
        elif short and not help_opts[opt]:
            problems.append(f"{opt}: {where} gives it as {short}, `{what} --help` with no short form")
    return problems


def accepts(argv, opt, takes_arg):
    """The parser takes opt: `argv opt [x] --help` shows the help."""
    rc, out, _ = run(argv + [opt] + (["x"] if takes_arg else []) + ["--help"])
    return rc == 0 and out.startswith("Usage:")


def takes_argument(page_text, opt):
    return bool(re.search(re.escape(f"*{opt}*") + r" _", page_text))


def check_commands(name, prog, page):
    """A program with commands: each command's --help against its entry."""
    secs = sections(page)
    cmds = help_commands(prog)
    tap(bool(cmds), f"{name} --help lists its commands")
    listed = {re.match(r"\*([a-z][a-z0-9-]*)\*", first).group(1): (first, body)
              for first, body in entries(secs.get("COMMANDS", ""))
              if re.match(r"\*([a-z][a-z0-9-]*)\*", first)}
    synopsis = {}
    for line in secs.get("SYNOPSIS", "").splitlines():
        if m := re.match(rf"\*{re.escape(name)}\* \*([a-z][a-z0-9-]*)\*", line):
            synopsis[m.group(1)] = line
    runs = {cmd: help_options([prog, cmd]) for cmd in cmds}
    all_help = {cmd: opts for cmd, (_, opts) in runs.items()}
    for cmd in cmds:
        rc, opts = runs[cmd]
        if cmd == "help":
            tap(cmd in listed or "help" in secs.get("SYNOPSIS", ""), f"{name} help: documented in {page}",
                f"`{name} help` exists; {page} has no *help* entry under COMMANDS or in SYNOPSIS")
            continue
        if cmd not in listed:
            tap(False, f"{name} {cmd}: the command has its entry in {page}",
                f"`{name} --help` lists {cmd}; {page} has no line starting *{cmd}* under # COMMANDS")
            continue
        first, body = listed[cmd]
        problems = [] if rc == 0 else [f"`{name} {cmd} --help` exited {rc}"]
        problems += compare(f"{name} {cmd}", opts, page_options(first), f"the *{cmd}* entry's first line in {page}")
        if cmd in synopsis:
            problems += compare(f"{name} {cmd}", opts, page_options(synopsis[cmd]), f"the SYNOPSIS line of {cmd} in {page}")
        elif any(c != "help" for c in synopsis):  # a page with a SYNOPSIS line per command
            problems.append(f"the SYNOPSIS of {page} has no line for {cmd}")
        for c, opt in mentions(body, cmd, cmds):
            if opt not in all_help[c]:
                problems.append(f"{opt}: the *{cmd}* entry of {page} mentions it for {c}, which has no such option")
        tap(not problems, f"{name} {cmd}: options match {page}", "\n".join(problems))
    for cmd in sorted(set(listed) - set(cmds)):
        tap(False, f"{name} {cmd}: documented command exists", f"{page} has an entry *{cmd}*; `{name} --help` lists no such command")
    return secs, cmds, all_help


def check_qemu_p2p():
    name = "qemu-p2p"
    prog, page = PROGRAMS[name]
    secs, cmds, all_help = check_commands(name, prog, page)
    text = open(f"{SRC}/{page}").read()
    # Options of the program itself (before a command).
    _, top = help_options([prog])
    documented = page_options(secs.get("OPTIONS", ""))
    problems = compare(name, top, documented, f"# OPTIONS of {page}")
    tap(not problems, f"{name}: the program's own options match # OPTIONS of {page}", "\n".join(problems))
    # What the page calls common must work after every command.
    common = page_options(secs.get("COMMON OPTIONS", ""))
    problems = []
    for opt in common:
        for cmd in cmds:
            if cmd != "help" and not accepts([prog, cmd], opt, takes_argument(text, opt)):
                problems.append(f"{opt}: listed under # COMMON OPTIONS of {page}, but `{name} {cmd} {opt}` is refused")
    tap(not problems, f"{name}: every command accepts the options # COMMON OPTIONS lists", "\n".join(problems))
    check_hidden(name, prog, cmds, all_help, text)
    every = set(top) | set(common) | {o for opts in all_help.values() for o in opts}
    # (Single-dash words in these pages are QEMU's options: -S, -name...)
    for other in ("man/qemu-p2p.conf.5.scd", "man/qemu-p2p-wrap.8.scd", page):
        unknown = sorted(o for o in page_options(open(f"{SRC}/{other}").read()) if o.startswith("--") and o not in every)
        tap(not unknown, f"{other}: every option it names is an option of qemu-p2p",
            "\n".join(f"{o}: named in {other}; no command of qemu-p2p has it" for o in unknown))


# Findings already reported to the owners of the code, as TAP TODO: still
# shown, not failing; once fixed the check passes "unexpectedly", which
# meson counts as a failure, so the entry is removed with the fix.
KNOWN = {
}


def tap_todo(ok, desc, why, diag):
    """A known finding: "not ok ... # TODO" is an expected failure, not a
    failure of this test; "ok ... # TODO" an unexpected pass."""
    taplib.counts["tests"] += 1
    print(f"{'ok' if ok else 'not ok'} {taplib.counts['tests']} - {desc} # TODO {why}")
    if diag and not ok:
        print("\n".join("# " + line for line in diag.splitlines()))


def check_hidden(name, prog, cmds, all_help, text):
    """Options a command accepts but neither its --help nor the page lists:
    every option any command has, tried on each command."""
    every = {}
    for opts in all_help.values():
        every.update(opts)
    for cmd in cmds:
        if cmd == "help":
            continue
        hidden = [o for o in sorted(every) if o not in all_help[cmd] and o not in ("--help", "--version")
                  and accepts([prog, cmd], o, takes_argument(text, o))]
        diag = "\n".join(f"{o}: `{name} {cmd} {o}` is accepted, but `{name} {cmd} --help` and the page do not"
                         " list it (document it or refuse it)" for o in hidden)
        todo = [why for (c, o), why in KNOWN.items() if c == f"{name} {cmd}"]
        if todo and all((f"{name} {cmd}", o) in KNOWN for o in hidden):
            tap_todo(not hidden, f"{name} {cmd}: accepts no option it does not document", "; ".join(todo), diag)
        else:
            tap(not hidden, f"{name} {cmd}: accepts no option it does not document", diag)


def check_guest():
    name = "qemu-p2p-guest"
    prog, page = PROGRAMS[name]
    secs, cmds, all_help = check_commands(name, prog, page)
    text = open(f"{SRC}/{page}").read()
    # Each option any command has is described under # OPTIONS, and only those.
    described = page_options("\n".join(first for first, _ in entries(secs.get("OPTIONS", ""))))
    _, top = help_options([prog])
    union = dict(top)
    for opts in all_help.values():
        union.update(opts)
    problems = compare(f"{name} [COMMAND]", union, described, f"# OPTIONS of {page}")
    tap(not problems, f"{name}: # OPTIONS of {page} describes its options and each command's", "\n".join(problems))
    check_hidden(name, prog, cmds, all_help, text)


def check_p2pbench():
    name = "p2pbench"
    prog, page = PROGRAMS[name]
    secs = sections(page)
    rc, opts = help_options([prog])
    tap(rc == 0 and bool(opts), f"{name} --help lists options")
    described = page_options("\n".join(first for first, _ in entries(secs.get("OPTIONS", ""))))
    problems = compare(name, opts, described, f"# OPTIONS of {page}")
    # The synopsis leaves out -h and -V (they are under # OPTIONS).
    problems += compare(name, opts, page_options(secs.get("SYNOPSIS", "")) | {"--help": "-h", "--version": "-V"},
                        f"the SYNOPSIS of {page}")
    rc, out, _ = run([prog, "--version"])
    if "--version" in opts and (rc != 0 or not out.startswith(name)):
        problems.append(f"--version: listed, but `{name} --version` prints no version")
    tap(not problems, f"{name}: options match {page}", "\n".join(problems))


def env_names(paths):
    names = set()
    for p in paths:
        for f in glob.glob(f"{SRC}/{p}"):
            names |= set(re.findall(r'"(QEMU_P2P_[A-Z_]+)"', open(f).read()))
    return {n for n in names if "_TEST_" not in n}  # test hooks, compiled only into test builds


def check_environment():
    for prog, page, srcs in (("qemu-p2p-wrap", "man/qemu-p2p-wrap.8.scd", ["src/wrap/*.c", "src/lib/*.c"]),
                             ("qemu-p2p", "man/qemu-p2p.8.scd", ["src/cli/*.c", "src/lib/*.c"])):
        secs = sections(page)
        read = env_names(srcs)
        documented = set(re.findall(r"^\*(QEMU_P2P_[A-Z_]+)\*", secs.get("ENVIRONMENT", ""), re.M))
        problems = [f"{n}: {prog} reads it ({', '.join(srcs)}); # ENVIRONMENT of {page} does not list it"
                    for n in sorted(read - documented)]
        problems += [f"{n}: listed under # ENVIRONMENT of {page}; {prog} does not read it" for n in sorted(documented - read)]
        tap(not problems, f"{prog}: # ENVIRONMENT of {page} lists exactly the variables it reads", "\n".join(problems))
    secs = sections("man/qemu-p2p-wrap.8.scd")
    tap("OPTIONS" not in secs, "qemu-p2p-wrap(8) documents no options (every argument is QEMU's)",
        "man/qemu-p2p-wrap.8.scd has an # OPTIONS section, but the wrapper takes no option of its own")


# Links and file mentions.
DOCS = ["README.md", "docs/*.md", "packaging/*/README.md", "man/*.scd"]
TOP = "src|tests|tools|docs|examples|packaging|man|bench|fuzz"
MD_LINK = re.compile(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)")
REPO_PATH = re.compile(rf"(?:^|[\s`(\[*_])((?:{TOP})/[\w./*-]*[\w*/])")
MD_NAME = re.compile(r"(?<![\w./-])([\w-]+\.md)\b")
URL = re.compile(r"\bhttps?://[^\s)>`\]]+")
# "Title", then up to a line of who published it, then <URL>.
CITATION = re.compile(r"[\"“][^\"”]+[\"”][^<\"“]{0,80}<(https?://[^>\s]+)>")


def slug(heading):
    """GitHub's anchor of a Markdown heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def anchors(path):
    return {slug(m.group(1)) for m in re.finditer(r"^#+ (.+)$", open(path).read(), re.M)}


def exists(doc_dir, target):
    for base in (doc_dir, SRC):
        if glob.glob(os.path.join(base, target)):
            return True
    return False


def check_doc(rel):
    path = f"{SRC}/{rel}"
    text = open(path).read()
    here = os.path.dirname(path)
    problems = []
    # Code blocks show commands and output, not references.
    prose = re.sub(r"^```.*?^```", "", text, flags=re.S | re.M) if rel.endswith(".md") else text
    for m in MD_LINK.finditer(prose):
        target = m.group(2)
        if re.match(r"https?://", target):
            problems.append(f"[{m.group(1)}]({target}): an external link behind link text; cite it as \"Title\" <{target}>")
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(here, file)) if file else path
        if not os.path.exists(dest):
            problems.append(f"[{m.group(1)}]({target}): {os.path.relpath(dest, SRC)} is not in the repository")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            problems.append(f"[{m.group(1)}]({target}): no heading #{anchor} in {os.path.relpath(dest, SRC)}")
    for m in REPO_PATH.finditer(prose):
        if not exists(here, m.group(1).rstrip("/")):
            problems.append(f"{m.group(1)}: named as a repository path, not in the repository")
    for m in MD_NAME.finditer(prose):
        if not exists(here, m.group(1)):
            problems.append(f"{m.group(1)}: named, not in the repository (next to {rel} or at the top)")
    cited = {m.group(1) for m in CITATION.finditer(text)}
    for m in URL.finditer(text):
        if m.group(0) not in cited:
            problems.append(f"{m.group(0)}: an external URL must be a citation: \"Its Title\", publisher, <{m.group(0)}>")
    tap(not problems, f"{rel}: links and file names resolve in the repository, URLs are citations", "\n".join(problems))


def check_docs():
    docs = sorted({os.path.relpath(f, SRC) for pattern in DOCS for f in glob.glob(f"{SRC}/{pattern}")})
    for rel in docs:
        check_doc(rel)
    index = open(f"{SRC}/docs/README.md").read()
    pages = sorted(os.path.basename(p)[: -len(".scd")] for p in glob.glob(f"{SRC}/man/*.scd"))
    missing = [p for p in pages if f"{p.rsplit('.', 1)[0]}({p.rsplit('.', 1)[1]})" not in index]
    tap(not missing, "docs/README.md lists every man page",
        "\n".join(f"{p.rsplit('.', 1)[0]}({p.rsplit('.', 1)[1]}): man/{p}.scd exists, docs/README.md does not list it"
                  for p in missing))


check_qemu_p2p()
check_guest()
check_p2pbench()
check_environment()
check_docs()
done()
