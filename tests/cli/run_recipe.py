"""Run the shell steps of a CI recipe in docs/ci/ here, in the current
directory, as the CI service would run them.

  run_recipe.py github FILE [--job NAME] [--ctx secrets.X=VALUE ...]
  run_recipe.py gitlab FILE [--job NAME]

GitHub Actions: every job in file order; each 'run:' step under
'bash -eo pipefail' with the job's and the step's env, '${{ a.b }}'
replaced from --ctx (empty when not given, as GitHub does); 'uses:' steps
(checkout, artifacts, reports) are skipped. GitLab CI: every job in stage
order, its 'script:' lines in one 'bash -eo pipefail' with the global and
the job's variables ('extends' followed). Steps named 'Install pkgflat' and
'before_script' (which install pkgflat) are skipped: the pkgflat under test
is on PATH. Exit 0 when every step passed; else 1, naming the step.
"""
import os
import re
import subprocess
import sys

import yaml


def sh(script, env, label):
    print("==> %s" % label, flush=True)
    r = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], env=env)
    if r.returncode != 0:
        print("FAILED (exit %d): %s" % (r.returncode, label), flush=True)
        sys.exit(1)


def github(doc, only, ctx):
    def expand(v):
        return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda m: ctx.get(m.group(1), ""), str(v))

    for name, job in doc["jobs"].items():
        if only and name != only:
            continue
        jenv = {k: expand(v) for k, v in (job.get("env") or {}).items()}
        for i, step in enumerate(job["steps"]):
            label = "%s: %s" % (name, step.get("name") or step.get("uses") or "step %d" % i)
            if "uses" in step or step.get("name") == "Install pkgflat":
                print("skip %s" % label)
                continue
            env = dict(os.environ)
            env.update(jenv)
            env.update({k: expand(v) for k, v in (step.get("env") or {}).items()})
            sh(expand(step["run"]), env, label)


RESERVED = {"stages", "variables", "default", "include", "workflow", "image", "services",
            "before_script", "after_script", "cache"}


def gitlab(doc, only):
    def resolved(job):
        base = {}
        for parent in ([job["extends"]] if isinstance(job.get("extends"), str) else job.get("extends", [])):
            base.update(resolved(doc[parent]))
        merged = dict(base)
        merged.update(job)
        merged["variables"] = dict(base.get("variables") or {}, **(job.get("variables") or {}))
        return merged

    stages = doc.get("stages", ["build", "test", "deploy"])
    jobs = [(n, resolved(j)) for n, j in doc.items()
            if n not in RESERVED and not n.startswith(".") and isinstance(j, dict)]
    jobs.sort(key=lambda nj: stages.index(nj[1].get("stage", "test")))
    for name, job in jobs:
        if only and name != only:
            continue
        if "before_script" in job:
            print("skip %s: before_script" % name)
        env = dict(os.environ)
        env.update({k: str(v) for k, v in (doc.get("variables") or {}).items()})
        env.update({k: str(v) for k, v in job["variables"].items()})
        sh("\n".join(job["script"]), env, "%s: script" % name)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    only, ctx = None, {}
    while args:
        if args[0] == "--job":
            only = args[1]
        elif args[0] == "--ctx":
            k, v = args[1].split("=", 1)
            ctx[k] = v
        else:
            sys.exit("run_recipe.py: unknown argument %s" % args[0])
        args = args[2:]
    with open(path) as f:
        doc = yaml.safe_load(f)
    if kind == "github":
        github(doc, only, ctx)
    elif kind == "gitlab":
        gitlab(doc, only)
    else:
        sys.exit("run_recipe.py: github or gitlab")


if __name__ == "__main__":
    main()
