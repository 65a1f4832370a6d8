"""A job's budgets checked against its record (and the baseline release's record of the same
target and board): one line each, pass or fail with a sentence. Accuracies are percentages;
max_growth is a fraction (0.05: 5 %) of the baseline's flash, RAM and instruction count."""
from __future__ import annotations

from .project import BUDGETS

GROWTH_KEYS = (("flash", "flash", "B"), ("ram", "RAM", "B"), ("instructions", "instructions", ""))


def check_budgets(budgets: dict, rec: dict, emulated: bool, baseline: dict | None,
                  has_baseline: bool) -> list[dict]:
    """Budget lines in BUDGETS order; max_instructions only on emulated boards, max_growth only
    with a baseline release."""
    out = []
    for name in BUDGETS:
        if name not in budgets or (name == "max_instructions" and not emulated) or \
                (name == "max_growth" and not has_baseline):
            continue
        limit = budgets[name]
        if rec["status"] != "ok":
            out.append(_line(name, limit, None, False, "not checked: the job failed"))
            continue
        out.append(_CHECKS[name](name, limit, rec, baseline))
    return out


def _line(name, limit, value, ok: bool, message: str) -> dict:
    return {"name": name, "limit": limit, "value": value, "status": "pass" if ok else "fail",
            "message": message}


def _max(name, limit, rec, _baseline, key: str, what: str, unit: str) -> dict:
    v = rec[key]
    if v is None:
        return _line(name, limit, None, False, f"no {what} was measured")
    ok = v <= limit
    return _line(name, limit, v, ok, f"{what} {v:,}{unit} {'within' if ok else 'exceeds'} "
                                     f"{name} {limit:,}{unit}")


def _min_accuracy(name, limit, rec, _baseline) -> dict:
    v = rec["accuracy"]
    if v is None:
        return _line(name, limit, None, False, "no accuracy was measured")
    ok = v >= limit
    return _line(name, limit, v, ok, f"accuracy {v:.2f}% {'meets' if ok else 'is below'} "
                                     f"{name} {limit:.2f}%")


def _max_drop(name, limit, rec, _baseline) -> dict:
    a, f = rec["accuracy"], rec["float_accuracy"]
    if a is None or f is None:
        return _line(name, limit, None, False, "no float or device accuracy to compare")
    drop = round(f - a, 4)
    ok = drop <= limit
    return _line(name, limit, drop, ok,
                 f"accuracy {a:.2f}% against float {f:.2f}%: a drop of {drop:.2f} points, "
                 f"{'within' if ok else 'more than'} {name} {limit:.2f}")


def _growth(name, limit, rec, baseline) -> dict:
    if baseline is None or baseline.get("status") != "ok":
        return _line(name, limit, None, True, "no built image of this target and board in the "
                                              "baseline")
    worst, parts, fails = None, [], []
    for key, what, unit in GROWTH_KEYS:
        old, new = baseline.get(key), rec[key]
        if not old or new is None:
            continue
        g = round(new / old - 1.0, 6)
        worst = g if worst is None else max(worst, g)
        text = f"{what} {old:,}{unit} -> {new:,}{unit} ({g:+.2%})"
        (fails if g > limit else parts).append(text)
    if worst is None:
        return _line(name, limit, None, True, "nothing to compare with the baseline")
    if fails:
        return _line(name, limit, worst, False, f"{'; '.join(fails)}: more than {name} "
                                                f"{limit:.2%}")
    return _line(name, limit, worst, True, f"{'; '.join(parts)}: within {name} {limit:.2%}")


_CHECKS = {
    "max_flash": lambda n, lim, r, b: _max(n, lim, r, b, "flash", "flash", " B"),
    "max_ram": lambda n, lim, r, b: _max(n, lim, r, b, "ram", "RAM", " B"),
    "max_instructions": lambda n, lim, r, b: _max(n, lim, r, b, "instructions",
                                                  "instructions per inference", ""),
    "min_accuracy": _min_accuracy,
    "max_accuracy_drop": _max_drop,
    "max_growth": _growth,
}
