"""A release: every target x board job of a project, run in parallel worker processes (or
taken from the cache), then the release folder written whole: release/<target>/<board>/ with the
images and report.json, and manifest.json, SUMMARY.md, junit.xml at the top."""
from __future__ import annotations

import json
import multiprocessing as mp
import os
import queue
import shutil
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from ..errors import TinykilnError
from ..outdir import staged_output
from ..resources import resource_dir
from . import cache
from .budgets import check_budgets
from .display import Display
from .jobs import JobSpec, empty_record, job_id, run_job
from .outputs import ARCHIVE, MANIFEST, failed, write_junit, write_manifest, write_summary
from .project import Project
from .toolchain import toolchain_versions

_QUEUE = None


def _init_worker(q) -> None:
    global _QUEUE
    _QUEUE = q


def _work(i: int, spec: JobSpec, work: str) -> dict:
    return run_job(spec, Path(work), lambda stage: _QUEUE.put((i, stage)))


def load_baseline(folder: str | Path) -> dict:
    """(target, board) -> job record of a baseline release's manifest."""
    p = Path(folder) / MANIFEST
    try:
        m = json.loads(p.read_text())
        return {(j["target"], j["board"]): j for j in m["jobs"]}
    except OSError:
        raise TinykilnError(f"baseline {folder} has no {MANIFEST}; give a folder tinykiln "
                            f"release wrote.") from None
    except (ValueError, KeyError, TypeError):
        raise TinykilnError(f"baseline {p} is not a release manifest (format 1).") from None


def _board_ref_hash(project: Project, t, i: int) -> tuple[str, str]:
    b = t.boards[i]
    if t.board_refs[i].startswith("builtin:"):
        return t.board_refs[i], cache.hash_path(resource_dir("boards") / f"{b.name}.toml")
    return project.rel(b.path), cache.hash_path(b.path)


def plan_jobs(project: Project) -> list[dict]:
    """Every job's spec, inputs (role -> path), input hashes and flags, sorted by (target,
    board)."""
    out, hashes = [], {}

    def h(p: Path) -> tuple[str, str]:
        rel = project.rel(p)
        if rel not in hashes:
            hashes[rel] = cache.hash_path(p)
        return rel, hashes[rel]

    for t in project.targets:
        for i, b in enumerate(t.boards):
            roles = {"model": h(t.model)}
            if t.kind == "impulse":
                from ..impulse.spec import load_impulse
                roles["impulse_model"] = h(load_impulse(t.model).model_path)
            if t.calibration is not None:
                roles["calibration"] = h(t.calibration)
            roles["eval"] = h(t.eval) if t.eval is not None else None
            roles["board"] = _board_ref_hash(project, t, i)
            if project.signing_key is not None and b.mcuboot is not None:
                roles["key"] = h(project.signing_key)
            out.append({
                "spec": JobSpec(t, b, project.version, project.signing_key),
                "inputs": {k: (v[0] if v else None) for k, v in roles.items()},
                "input_hashes": dict(v for v in roles.values() if v),
                "flags": {"optimize": t.optimize, "stack": None,
                          "helium": b.cpu == "cortex-m55"},
            })
    return sorted(out, key=lambda j: (j["spec"].target.name, j["spec"].board.name))


def project_inputs(project: Project, jobs: list[dict]) -> dict[str, str]:
    inputs = {project.rel(project.path): cache.hash_path(project.path)}
    for j in jobs:
        inputs.update(j["input_hashes"])
    if project.signing_key is not None:
        inputs[project.rel(project.signing_key)] = cache.hash_path(project.signing_key)
    return dict(sorted(inputs.items()))


def _toolchain(jobs: list[dict]) -> dict[str, str]:
    boards = [j["spec"].board for j in jobs]
    return toolchain_versions(tuple(sorted({b.arch for b in boards})),
                              tuple(sorted({b.arch for b in boards if b.emulated})))


def run_release(project: Project, out_dir: str | Path, workers: int | None = None,
                baseline: str | Path | None = None, use_cache: bool = True,
                live: bool | None = None) -> list[str]:
    """Build every job and write the release folder; returns one line per failed job or budget
    (empty: the release passed)."""
    base = load_baseline(baseline) if baseline is not None else None
    jobs = plan_jobs(project)
    toolchain = _toolchain(jobs)
    for j in jobs:
        j["key"] = cache.job_key(j["input_hashes"], j["flags"], toolchain,
                                 {"version": project.version, "inputs": j["inputs"],
                                  "kind": j["spec"].target.kind,
                                  "target": j["spec"].target.name,
                                  "board": j["spec"].board.name})
    with tempfile.TemporaryDirectory(prefix="tinykiln-release-") as scratch:
        _run_all(jobs, Path(scratch), workers, use_cache, live)
        for j in jobs:      # a tinykiln bug in a job: its traceback, for the report
            if "traceback" in j["record"]:
                print(f"{job_id(j['spec'])}: {j['record']['traceback']}", file=sys.stderr)
        with staged_output(out_dir) as tmp:
            records = _write_jobs(tmp, jobs, base)
            write_summary(tmp, project, records, base)
            write_junit(tmp, project, records)
            write_manifest(tmp, project, toolchain, project_inputs(project, jobs), records)
            _archive(tmp)
    return [f"{j['target']} on {j['board']}: {c['name']} FAILED: {c['message']}"
            for j, c in failed(records)]


def _run_all(jobs: list[dict], scratch: Path, workers: int | None, use_cache: bool,
             live: bool | None) -> None:
    """Fill j["record"] and j["files_dir"] of every job: from the cache, else run. The worker
    processes are forked before the live display starts its thread."""
    todo = []
    for i, j in enumerate(jobs):
        hit = cache.load(j["key"]) if use_cache else None
        if hit is not None:
            j["record"], j["files_dir"], j["cached"] = *hit, True
        else:
            todo.append(i)
    n = max(1, min(workers or os.cpu_count() or 1, len(todo)))
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    with ProcessPoolExecutor(n, mp_context=ctx, initializer=_init_worker,
                             initargs=(q,)) as pool:
        futs = {}
        for i in todo:
            work = scratch / f"job{i}"
            work.mkdir()
            futs[pool.submit(_work, i, jobs[i]["spec"], str(work))] = (i, work)
        with Display([job_id(j["spec"]) for j in jobs], live) as disp:
            for i, j in enumerate(jobs):
                if j.get("cached"):
                    disp.done(i, j["record"], cached=True)
            while futs:
                _drain(q, disp, 0.2)
                for f in [f for f in futs if f.done()]:
                    i, work = futs.pop(f)
                    _drain(q, disp, 0.0)
                    rec = _result(f)
                    jobs[i]["record"], jobs[i]["files_dir"] = rec, work
                    if use_cache and rec.get("deterministic", True):
                        cache.store(jobs[i]["key"], rec, work)
                    disp.done(i, rec, cached=False)


def _result(f) -> dict:
    """A finished job's record; a worker that died (killed, out of memory) is a failed job."""
    try:
        return f.result()
    except Exception as e:      # noqa: BLE001
        rec = empty_record(message=f"the job's worker process failed ({type(e).__name__}); "
                                   f"run the release again.")
        rec["deterministic"] = False
        return rec


def _drain(q, disp: Display, timeout: float) -> None:
    try:
        while True:
            i, stage = q.get(timeout=timeout)
            disp.stage(i, stage)
            timeout = 0.0
    except queue.Empty:
        pass


def _write_jobs(tmp: Path, jobs: list[dict], base: dict | None) -> list[dict]:
    """Copy every job's files into tmp/<target>/<board>/ and make its manifest record."""
    out = []
    for j in jobs:
        spec, rec = j["spec"], j["record"]
        rel = f"{spec.target.name}/{spec.board.name}"
        d = tmp / rel
        d.mkdir(parents=True)
        for f in rec["files"]:
            shutil.copyfile(Path(j["files_dir"]) / f, d / f)
        m = {k: v for k, v in rec.items() if k not in ("files", "deterministic", "traceback")}
        m.update(target=spec.target.name, board=spec.board.name, inputs=j["inputs"],
                 input_hashes=j["input_hashes"], flags=j["flags"],
                 outputs=[f"{rel}/{f}" for f in rec["files"]])
        old = None if base is None else base.get((spec.target.name, spec.board.name))
        m["budgets"] = check_budgets(spec.target.budgets, rec, spec.board.emulated, old,
                                     base is not None)
        out.append(m)
    return out


def _archive(tmp: Path) -> None:
    """release.tar.gz of the folder, where archive.write_archive exists (another module)."""
    try:
        from .archive import write_archive
    except ImportError:
        return
    with tempfile.TemporaryDirectory() as d:
        write_archive(tmp, Path(d) / ARCHIVE)
        shutil.move(str(Path(d) / ARCHIVE), tmp / ARCHIVE)
