"""What a command's --help and its man page say its options are.

  helpopts.py help PKGFLAT [CMD]   options in 'pkgflat [CMD] --help'
  helpopts.py page FILE.1          options a man page lists (.It Fl ...)
  helpopts.py commands PKGFLAT     commands in 'pkgflat --help'
  helpopts.py check PKGFLAT MANDIR every page against its --help, both ways

An option of --help is one named in the usage lines or in the left
column of an option line (indented, starting with '-'); prose that
mentions an option does not count. A page's options are the .It items
that start with Fl.
"""
import os
import re
import subprocess
import sys

OPT = re.compile(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)")


def help_text(pkgflat, cmd):
    argv = [pkgflat] + ([cmd] if cmd else []) + ["--help"]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        sys.exit("%s: exit %d" % (" ".join(argv), r.returncode))
    return r.stdout


def help_options(pkgflat, cmd=None):
    opts = set()
    in_usage = False
    for line in help_text(pkgflat, cmd).splitlines():
        if line.startswith("usage:"):
            in_usage = True
        elif not line.strip():
            in_usage = False
        if in_usage:
            opts.update(OPT.findall(line))
        elif re.match(r"^ {2,6}-", line):  # deeper: a description's continuation
            spec = \
                re.split(r"(?<=\S) {2,}", line.strip(), 1)[0]
            opts.update(OPT.findall(spec))
    return opts


def commands(pkgflat):
    text = help_text(pkgflat, None)
    block = text.split("commands:\n", 1)[1].split("\n\n", 1)[0]
    return [l.split()[0] for l in block.splitlines() if l.strip()]


def page_options(path):
    opts = set()
    with open(path) as f:
        for line in f:
            if line.startswith(".It Fl "):
                opts.update("-" + m for m in re.findall(r"\bFl +(\S+)", line))
    return opts


def check(pkgflat, mandir):
    problems = []
    cmds = commands(pkgflat)
    pages = {"pkgflat.1": None}
    pages.update({"pkgflat-%s.1" % c: c for c in cmds})
    for name in sorted(os.listdir(mandir)):
        if name.endswith(".1") and name not in pages:
            problems.append("%s/%s: no such command in 'pkgflat --help'" % (mandir, name))
    main = os.path.join(mandir, "pkgflat.1")
    main_text = open(main).read() if os.path.exists(main) else ""
    for c in cmds:
        if ".Xr pkgflat-%s 1" % c not in main_text:
            problems.append("%s: command %s is in 'pkgflat --help' but not in the page" % (main, c))
    for name, cmd in pages.items():
        path = os.path.join(mandir, name)
        what = "'pkgflat %s--help'" % (cmd + " " if cmd else "")
        if not os.path.exists(path):
            problems.append("%s: missing: no page for %s" % (path, what))
            continue
        h, p = help_options(pkgflat, cmd), page_options(path)
        for o in sorted(h - p):
            problems.append("%s: option %s is in %s but not in the page" % (path, o, what))
        for o in sorted(p - h):
            problems.append("%s: option %s is in the page but not in %s" % (path, o, what))
    return problems


def main():
    what = sys.argv[1]
    if what == "help":
        print("\n".join(sorted(help_options(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None))))
    elif what == "page":
        print("\n".join(sorted(page_options(sys.argv[2]))))
    elif what == "commands":
        print("\n".join(commands(sys.argv[2])))
    elif what == "check":
        problems = check(sys.argv[2], sys.argv[3])
        for p in problems:
            print(p)
        sys.exit(1 if problems else 0)
    else:
        sys.exit("usage: helpopts.py help|page|commands|check ...")


if __name__ == "__main__":
    main()
