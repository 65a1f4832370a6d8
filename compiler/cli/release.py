"""`tinykiln release`: every target x board of a project file (tinykiln.toml) built in parallel
into a release folder with a manifest, a summary and JUnit results; `--verify DIR` re-hashes a
release against its manifest."""
from __future__ import annotations

import time

from ..errors import TinykilnError
from .common import EPILOG, add_force, folder_text, output_folder, terminal_text


def cmd_release(a) -> int:
    if a.verify is not None:
        return _verify(a)
    if a.output is None:
        raise TinykilnError("give the release folder with -o DIR (or --verify DIR to check "
                            "a release).")
    if a.jobs is not None and a.jobs < 1:
        raise TinykilnError(f"-j is {a.jobs}; give at least 1 (parallel jobs).")
    from ..release.project import find_project, load_project
    from ..release.runner import plan_jobs, run_release
    t0 = time.perf_counter()
    project = load_project(find_project(a.project))
    inputs = [project.path] + [project.root / p for j in plan_jobs(project)
                               for p in j["inputs"].values()
                               if p and not p.startswith("builtin:")]
    if a.baseline:
        inputs.append(a.baseline)
    # the folder's marker names the command without its paths: the same project gives the same
    # release folder whatever folder it is written to
    a.command = "tinykiln release"
    with output_folder(a, inputs):
        fails = run_release(project, a.output, a.jobs, a.baseline, not a.no_cache)
    for line in fails:
        print(f"  {terminal_text(line)}")
    print(f"wrote the release of {terminal_text(project.name)} {project.version} to "
          f"{folder_text(a.output)} (manifest.json, SUMMARY.md, junit.xml) in "
          f"{time.perf_counter() - t0:.1f} s" + (f"; {len(fails)} check"
                                                 f"{'s' if len(fails) != 1 else ''} FAILED"
                                                 if fails else "; every check passed"))
    return 1 if fails else 0


def _verify(a) -> int:
    try:
        from ..release.verify import verify_release
    except ImportError:
        raise TinykilnError("release --verify is not available in this version of "
                            "tinykiln.") from None
    problems = verify_release(a.verify)
    for p in problems:
        print(f"  {terminal_text(p)}")
    if problems:
        print(f"{folder_text(a.verify)} does NOT match its manifest: {len(problems)} "
              f"problem{'s' if len(problems) != 1 else ''}")
        return 1
    print(f"{folder_text(a.verify)} matches its manifest")
    return 0


def register(sub) -> None:
    """Add this subcommand to the `tinykiln` parser's subparsers."""
    r = sub.add_parser("release", help="build every target x board of a project file into a "
                                       "release folder (images, manifest, summary, JUnit)",
                       description="Build every target of a project file (tinykiln.toml) for "
                                   "each of its boards, in parallel, check the budgets, and "
                                   "write a release folder: <target>/<board>/ with the images "
                                   "and report.json, manifest.json, SUMMARY.md and junit.xml. "
                                   "Exit status 1 when a job or a budget fails.", epilog=EPILOG)
    r.add_argument("project", nargs="?", metavar="PROJECT",
                   help="the project file, or the folder holding tinykiln.toml (default: the "
                        "current folder's)")
    r.add_argument("-o", "--output", metavar="DIR",
                   help="release folder: new, empty, or written by tinykiln before")
    r.add_argument("-j", "--jobs", type=int, metavar="N",
                   help="jobs run at once (default: the number of CPUs)")
    r.add_argument("--baseline", metavar="OLD_RELEASE",
                   help="an earlier release folder: max_growth budgets and the summary's deltas "
                        "compare with it")
    r.add_argument("--no-cache", action="store_true",
                   help="run every job, not reusing the results of unchanged jobs")
    r.add_argument("--verify", metavar="DIR",
                   help="check a release folder against its manifest.json (every hash) "
                        "instead of building")
    add_force(r)
    r.set_defaults(fn=cmd_release)
