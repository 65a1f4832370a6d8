"""What changed between two releases, from their manifests only: per target x board the change in
flash, RAM, instructions and accuracy (absolute and percent), status changes, jobs present on one
side only, the inputs whose SHA-256 differ, the flags, and the tinykiln and toolchain versions. The structured
form is plain JSON data; `diff_text` lays it out as aligned columns."""
from __future__ import annotations

from pathlib import Path

from .verify import folder_name, read_manifest

METRICS = ("flash", "ram", "instructions", "accuracy")
HEADERS = ("target", "board", "status", "flash", "RAM", "instructions", "accuracy",
           "inputs and flags")
LOWER_IS_BETTER = {"flash": True, "ram": True, "instructions": True, "accuracy": False}


def _change(old, new) -> dict:
    """One value on both sides, its delta and the delta in percent of the old value (None where
    either side has no value, or the old one is 0)."""
    delta = pct = None
    if old is not None and new is not None:
        delta = new - old
        if isinstance(delta, float):
            delta = round(delta, 12)
        pct = round(100.0 * delta / old, 4) if old else None
    return {"old": old, "new": new, "delta": delta, "percent": pct}


def _hash_changes(old: dict, new: dict) -> dict:
    """The paths whose SHA-256 differ, and those on one side only, each sorted."""
    return {"changed": sorted(p for p in old.keys() & new.keys() if old[p] != new[p]),
            "added": sorted(new.keys() - old.keys()),
            "removed": sorted(old.keys() - new.keys())}


def _versions(old: dict, new: dict) -> dict:
    """{name: {"old", "new"}} for every tool whose version differs (None: absent on a side)."""
    return {k: {"old": old.get(k), "new": new.get(k)}
            for k in sorted(old.keys() | new.keys()) if old.get(k) != new.get(k)}


def _job_diff(target: str, board: str, old: dict | None, new: dict | None) -> dict:
    o, n = old or {}, new or {}
    inputs = _hash_changes(o.get("input_hashes") or {}, n.get("input_hashes") or {})
    out = {"target": target, "board": board,
           "status": {"old": old and old.get("status"), "new": new and new.get("status")},
           "message": n.get("message") or "",
           "inputs": inputs,
           "flags": _versions(o.get("flags") or {}, n.get("flags") or {}) if old and new else {}}
    for m in METRICS:
        out[m] = _change(o.get(m), n.get(m))
    if old is None:
        out["change"] = "new"
    elif new is None:
        out["change"] = "gone"
    elif (old.get("status") != new.get("status") or any(inputs.values()) or out["flags"]
          or any(out[m]["old"] != out[m]["new"] for m in METRICS)):
        out["change"] = "changed"
    else:
        out["change"] = "same"
    return out


def diff_manifests(old: dict, new: dict) -> dict:
    """The structured difference of two checked manifests (read_manifest): plain JSON data."""
    def jobs(m):
        return {(j["target"], j["board"]): j for j in m["jobs"]}
    oj, nj = jobs(old), jobs(new)
    keys = sorted(oj.keys() | nj.keys())
    ov, nv = old.get("tinykiln"), new.get("tinykiln")
    op, np_ = old.get("project") or {}, new.get("project") or {}
    return {
        "tinykiln": {"old": ov, "new": nv} if ov != nv else None,
        "project_version": ({"old": op.get("version"), "new": np_.get("version")}
                            if op.get("version") != np_.get("version") else None),
        "toolchain": _versions(old.get("toolchain") or {}, new.get("toolchain") or {}),
        "inputs": _hash_changes(old["inputs"], new["inputs"]),
        "jobs": [_job_diff(t, b, oj.get((t, b)), nj.get((t, b))) for t, b in keys],
    }


def release_diff(old: Path, new: Path) -> dict:
    """The structured difference of two release folders, with the folders' names."""
    d = diff_manifests(read_manifest(Path(old)), read_manifest(Path(new)))
    return {"old": folder_name(old), "new": folder_name(new), **d}


# Text: cells shared by the plain layout and the CLI's rich table.

def _number(v, metric: str) -> str:
    if v is None:
        return "-"
    if metric == "accuracy":            # percent, as report.json and compile --eval give it
        return f"{v:.2f}%"
    return f"{v:,}"


def _signed(delta, metric: str) -> str:
    if metric == "accuracy":            # percentage points
        return f"{delta:+.2f} pp"
    return f"{delta:+,}"


def metric_cell(c: dict, metric: str, sep: str = " ") -> str:
    """'41,232', or '41,232 -> 41,488 (+256, +0.62%)' when the value changed (sep before the
    parenthesis); accuracy '93.75% -> 92.50% (-1.25 pp, -1.33%)'."""
    if c["old"] == c["new"]:
        return _number(c["new"], metric)
    text = f"{_number(c['old'], metric)} -> {_number(c['new'], metric)}"
    if c["delta"] is not None:
        pct = c["percent"]
        text += f"{sep}({_signed(c['delta'], metric)}"
        text += f", {pct:+,.2f}%)" if pct is not None else ")"
    return text


def metric_trend(c: dict, metric: str) -> int:
    """+1 where the change is an improvement, -1 where it is worse, 0 where neither."""
    if not c["delta"]:
        return 0
    better = c["delta"] < 0 if LOWER_IS_BETTER[metric] else c["delta"] > 0
    return 1 if better else -1


def status_cell(job: dict) -> str:
    s = job["status"]
    if job["change"] == "new":
        return f"new ({s['new']})"
    if job["change"] == "gone":
        return f"gone (was {s['old']})"
    return s["new"] if s["old"] == s["new"] else f"{s['old']} -> {s['new']}"


def inputs_cell(changes: dict, flags: dict | None = None) -> str:
    """'changed a.tflite; added b.npz; optimize balanced -> speed', or 'same'."""
    parts = [f"{k} {', '.join(v)}" for k, v in changes.items() if v]
    parts += [f"{k} {_flag(v['old'])} -> {_flag(v['new'])}" for k, v in (flags or {}).items()]
    return "; ".join(parts) if parts else "same"


def _flag(v) -> str:
    return "-" if v is None else str(v).lower() if isinstance(v, bool) else str(v)


def job_row(job: dict, sep: str = " ") -> list[str]:
    """One row of the table (HEADERS); sep goes between a changed figure and its delta."""
    return [job["target"], job["board"], status_cell(job),
            *(metric_cell(job[m], m, sep) for m in METRICS),
            "-" if job["change"] in ("new", "gone") else inputs_cell(job["inputs"], job["flags"])]


def header_lines(d: dict) -> list[str]:
    """The lines above the table: the folders, versions and inputs that changed."""
    lines = [f"tinykiln diff {d.get('old', 'OLD/')} {d.get('new', 'NEW/')}"]
    for key, label in (("tinykiln", "tinykiln"), ("project_version", "project version")):
        if d[key]:
            lines.append(f"{label}: {d[key]['old'] or '-'} -> {d[key]['new'] or '-'}")
    for tool, v in d["toolchain"].items():
        lines.append(f"toolchain: {tool} {v['old'] or '(absent)'} -> {v['new'] or '(absent)'}")
    lines.append(f"inputs: {inputs_cell(d['inputs'])}")
    return lines


def footer_lines(d: dict) -> list[str]:
    """The count of jobs by change, and the message of each job that fails in the new release."""
    counts = {}
    for j in d["jobs"]:
        counts[j["change"]] = counts.get(j["change"], 0) + 1
    n = len(d["jobs"])
    parts = [f"{counts[k]} {k}" for k in ("changed", "new", "gone", "same") if counts.get(k)]
    lines = [f"{n} job{'s' * (n != 1)}: {', '.join(parts) or 'none'}."]
    for j in d["jobs"]:
        if j["status"]["new"] == "failed" and j["message"]:
            lines.append(f"{j['target']} on {j['board']} failed: {j['message']}")
    return lines


def table_text(headers, rows) -> str:
    """Aligned columns, two spaces apart; the last column is not padded."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = []
    for r in [headers, *rows]:
        cells = [c.ljust(w) for c, w in zip(r[:-1], widths)] + [r[-1]]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def diff_text(d: dict) -> str:
    """The structured diff as plain aligned text."""
    table = table_text(list(HEADERS), [job_row(j) for j in d["jobs"]])
    return "\n".join(header_lines(d) + ["", table, ""] + footer_lines(d)) + "\n"


def diff_releases(old: Path, new: Path) -> str:
    """What `tinykiln diff OLD NEW` prints when not on a terminal."""
    return diff_text(release_diff(old, new))
