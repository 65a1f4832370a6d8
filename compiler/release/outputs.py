"""The files at the top of a release folder: manifest.json (the contract tinykiln diff and
release --verify read: versions, input and output hashes, every job's figures and budgets),
SUMMARY.md (a table for a CI job page) and junit.xml (one test case per job check and budget,
for CI test reporters). Nothing in them depends on the folder, the user or the time."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from .. import __version__

MANIFEST, SUMMARY, JUNIT, ARCHIVE = "manifest.json", "SUMMARY.md", "junit.xml", "release.tar.gz"
# files of a release folder that the manifest does not list: itself, the archive of the rest,
# and the marker every tinykiln output folder holds
NOT_LISTED = (MANIFEST, ARCHIVE, ".tinykiln-output")


def job_checks(job: dict) -> list[dict]:
    """The checks of a job beside its budgets: it built, fits its board and ran (its eval data
    too), and its device outputs equal the host's where both ran."""
    out = [{"name": "builds, fits and runs",
            "status": "pass" if job["status"] == "ok" else "fail",
            "message": job["message"] or "built"}]
    if job["device_matches_host"] is not None:
        ok = job["device_matches_host"]
        out.append({"name": "device output equals host", "status": "pass" if ok else "fail",
                    "message": "the eval outputs under QEMU equal the host's byte for byte" if ok
                    else "the eval outputs under QEMU differ from the host's: a tinykiln bug"})
    return out


def failed(jobs: list[dict]) -> list[tuple[dict, dict]]:
    """(job, check or budget line) of every failure."""
    return [(j, c) for j in jobs for c in job_checks(j) + j["budgets"] if c["status"] == "fail"]


def file_hashes(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and rel not in NOT_LISTED:
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def write_manifest(folder: Path, project, toolchain: dict, inputs: dict, jobs: list[dict]) -> None:
    m = {"format": 1, "tinykiln": __version__,
         "project": {"file": project.path.name, "name": project.name,
                     "version": project.version},
         "toolchain": toolchain, "inputs": inputs, "outputs": file_hashes(folder),
         "jobs": jobs}
    (folder / MANIFEST).write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")


def _n(v, unit: str = "") -> str:
    return "-" if v is None else f"{v:,}{unit}"


def _cell(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _accuracy(j: dict) -> str:
    if j["accuracy"] is None:
        return "-"
    extra = []
    if j["device_matches_host"] is None and j["host_accuracy"] is not None:
        extra.append("host")
    if j["float_accuracy"] is not None:
        extra.append(f"float {j['float_accuracy']:.2f}%")
    return f"{j['accuracy']:.2f}%" + (f" ({', '.join(extra)})" if extra else "")


def _delta(j: dict, base: dict | None) -> str:
    if base is None:
        return "new" if j["status"] == "ok" else "-"
    parts = []
    for key, what in (("flash", "flash"), ("ram", "RAM"), ("instructions", "instr")):
        old, new = base.get(key), j[key]
        if old is not None and new is not None:
            parts.append(f"{what} {new - old:+,}" + (f" ({new / old - 1:+.1%})" if old else ""))
    if base.get("accuracy") is not None and j["accuracy"] is not None:
        parts.append(f"accuracy {j['accuracy'] - base['accuracy']:+.2f} pts")
    return ", ".join(parts) or "-"


def write_summary(folder: Path, project, jobs: list[dict], baseline: dict | None) -> None:
    ok = sum(j["status"] == "ok" for j in jobs)
    lines_b = [b for j in jobs for b in j["budgets"]]
    fails = failed(jobs)
    head = [f"# {project.name} {project.version}: release",
            "",
            f"{len(jobs)} jobs: {ok} built, {len(jobs) - ok} failed. {len(lines_b)} budget "
            f"checks: {sum(b['status'] == 'pass' for b in lines_b)} pass, "
            f"{sum(b['status'] == 'fail' for b in lines_b)} fail. "
            + ("Deltas against the baseline release." if baseline is not None else
               "No baseline release given (--baseline)."),
            "",
            f"**{'FAIL' if fails else 'PASS'}**",
            "",
            "| target | board | status | flash | RAM | headroom flash / RAM | instructions | "
            "accuracy | budgets | vs baseline |",
            "|---|---|---|---:|---:|---:|---:|---:|---|---|"]
    rows = []
    for j in jobs:
        head_room = "-" if j["flash"] is None else \
            f"{j['flash_size'] - j['flash']:,} / {j['ram_size'] - j['ram']:,} B"
        budgets = ", ".join(f"{b['name']} {b['status'].upper()}" for b in j["budgets"]) or "-"
        base = None if baseline is None else baseline.get((j["target"], j["board"]))
        rows.append("| " + " | ".join(_cell(x) for x in (
            j["target"], j["board"], "ok" if j["status"] == "ok" else "FAILED",
            _n(j["flash"], " B"), _n(j["ram"], " B"), head_room, _n(j["instructions"]),
            _accuracy(j), budgets, "-" if baseline is None else _delta(j, base))) + " |")
    tail = ["", "## Failures", ""] + [
        f"- {j['target']} on {j['board']}: {c['name']} FAIL: {_cell(c['message'])}"
        for j, c in fails] if fails else ["", "Every job built and every budget passed."]
    notes = ["", "Flash and RAM: bytes the image uses (report.json in each job's folder). "
             "Instructions: the most of any inference run under QEMU (emulated boards). "
             "Accuracy: percent of eval rows whose top class is the label, on the emulated "
             "board (else on this computer, marked host)."]
    (folder / SUMMARY).write_text("\n".join(head + rows + tail + notes) + "\n")


def write_junit(folder: Path, project, jobs: list[dict]) -> None:
    cases = []
    for j in jobs:
        cls = quoteattr(f"{project.name}.{j['target']}.{j['board']}")
        for c in job_checks(j) + j["budgets"]:
            name = quoteattr(c["name"])
            if c["status"] == "pass":
                cases.append(f'    <testcase classname={cls} name={name}/>')
            elif c in j["budgets"] and j["status"] != "ok":
                cases.append(f'    <testcase classname={cls} name={name}>\n'
                             f'      <skipped message={quoteattr(c["message"])}/>\n'
                             f'    </testcase>')
            else:
                cases.append(f'    <testcase classname={cls} name={name}>\n'
                             f'      <failure message={quoteattr(c["message"])} '
                             f'type="{"budget" if c in j["budgets"] else "job"}">'
                             f'{escape(c["message"])}</failure>\n    </testcase>')
    n = len(cases)
    nfail = sum("<failure" in c for c in cases)
    nskip = sum("<skipped" in c for c in cases)
    suite = quoteattr(f"{project.name} {project.version}")
    text = ['<?xml version="1.0" encoding="UTF-8"?>',
            f'<testsuites name="tinykiln release" tests="{n}" failures="{nfail}" '
            f'skipped="{nskip}" errors="0">',
            f'  <testsuite name={suite} tests="{n}" failures="{nfail}" skipped="{nskip}" '
            f'errors="0">', *cases, '  </testsuite>', '</testsuites>']
    (folder / JUNIT).write_text("\n".join(text) + "\n")
