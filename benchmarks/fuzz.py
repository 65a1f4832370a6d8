"""Fuzz the compiler with mutants of the reference models and print what happened to them.

    python benchmarks/fuzz.py [--count 20000] [--seed 0] [--start 0] [--jobs 2] [--run-share 0.05]
                              [--timeout 20] [--save DIR] [MODELS_DIR]
    python benchmarks/fuzz.py --replay DIR      (classify saved reproducers as they are)

Each mutant (byte flips, truncation, integer overwrites, structure-aware edits of shapes, buffers,
operands, quantization, options, opcodes and names; tests/fuzzing.py) is compiled in-process in
worker processes and classified: clean error (a one-sentence TinykilnError), accepted, crash (any
other exception), hang (over --timeout); a half-written output folder is a failure too. A share of
the accepted mutants is built on the host with ASan+UBSan and run on all-minimum, all-maximum and
random inputs. Failing mutants are saved as .tflite + .txt in --save. Mutant i of seed s is the same
on every machine: `--seed s --start i --count 1 --run-share 1` reproduces it. Exit status 1 if
anything failed."""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import fuzzing  # noqa: E402

DEFAULT_MODELS = ROOT.parent / "shared" / "models"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models_dir", nargs="?", type=Path, default=DEFAULT_MODELS,
                    help=f"folder of seed .tflite models (default {DEFAULT_MODELS}); the two "
                         f"reference models if present, else every .tflite in it")
    ap.add_argument("--count", type=int, default=20000, help="number of mutants (default 20000)")
    ap.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    ap.add_argument("--start", type=int, default=0,
                    help="index of the first mutant (default 0); with --count 1, one mutant")
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--run-share", type=float, default=0.05,
                    help="share of accepted byte-level mutants built and run on the host with "
                         "ASan+UBSan; structure-aware ones are chosen 4 times (names 10 times) as "
                         "often; 1 runs every accepted mutant (default 0.05)")
    ap.add_argument("--timeout", type=float, default=20.0,
                    help="seconds one mutant may take to compile before it counts as a hang "
                         "(default 20)")
    ap.add_argument("--save", type=Path, default=None,
                    help="folder for failing mutants (.tflite + .txt classification)")
    ap.add_argument("--replay", type=Path, default=None, metavar="DIR",
                    help="classify every .tflite in DIR as it is (e.g. the reproducers a "
                         "campaign saved), building every accepted one on the host")
    ap.add_argument("--plain", action="store_true",
                    help="plain-text tables even if rich is installed")
    a = ap.parse_args(argv)

    if a.replay is not None:
        files = sorted(a.replay.glob("*.tflite")) if a.replay.is_dir() else []
        if not files:
            print(f"nothing to replay: {a.replay} holds no .tflite file.", file=sys.stderr)
            return 2
        print(f"replaying {len(files)} models from {a.replay}", flush=True)
        return _finish(a, fuzzing.run_campaign(
            fuzzing.Replay(files), len(files), seed=a.seed, jobs=a.jobs, run_share=1.0,
            timeout=a.timeout, save=a.save, progress=_progress()))
    paths = fuzzing.seed_paths(a.models_dir) if a.models_dir.is_dir() else []
    if not paths:
        print(f"no seed models: {a.models_dir} holds no .tflite file.", file=sys.stderr)
        return 2
    try:
        seeds = fuzzing.load_seeds(paths)
    except ImportError as e:
        print(f"{e}.", file=sys.stderr)
        return 2
    print(f"fuzzing {a.count} mutants (seed {a.seed}, from index {a.start}) of "
          f"{', '.join(p.name for p in paths)} with {a.jobs} workers", flush=True)

    c = fuzzing.run_campaign(seeds, a.count, seed=a.seed, start=a.start, jobs=a.jobs,
                             run_share=a.run_share, timeout=a.timeout, save=a.save,
                             progress=_progress())
    return _finish(a, c)


def _progress():
    t0 = time.monotonic()
    last = [t0]

    def progress(done, total, r):
        now = time.monotonic()
        if r.failures():
            print(f"  FAIL {r.label} [{r.mutator}] {'; '.join(r.failures())[:200]}", flush=True)
        if now - last[0] > 30 or done == total:
            last[0] = now
            print(f"  {done}/{total} mutants, {done / max(now - t0, 1e-9):.1f}/s", flush=True)
    return progress


def _finish(a, c) -> int:
    print()
    text = fuzzing.render_tables(c, use_rich=not a.plain and sys.stdout.isatty())
    if text:
        print(text)
    bad = c.failing()
    ran = c.host_count(fuzzing.RAN)
    print(f"\n{len(c.results)} mutants in {c.seconds:.0f} s ({len(c.results) / c.seconds:.1f}/s); "
          f"{c.count(fuzzing.ACCEPTED)} accepted, {ran} ran clean on the host")
    if bad:
        print(fuzzing.failure_summary(c, 10))
        if a.save:
            print(f"reproducers in {a.save}")
    print(f"{'FAIL' if bad else 'PASS'}: {len(bad)} failing mutants (crash, hang, half-written "
          f"output, sanitizer report, crashed or unbuildable host run)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
