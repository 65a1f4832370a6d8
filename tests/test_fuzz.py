"""The project's fuzzer in CI: a fixed-seed sample of mutants of the two reference models must
give no crash, no hang, no half-written output folder, and no sanitizer report, crash or failed
build among the accepted mutants run on the host; plus tests of the fuzzer itself (reproducible
mutants, a classifier that really classifies)."""
import multiprocessing
import shutil
import time

import pytest

import fuzzing
from conftest import shared_model

SEED = 0
COUNT = 1200            # both seed models alternate; every mutator appears many times
RUN_SHARE = 0.05        # of accepted byte-level mutants; structure-aware 4x, names 10x
TIMEOUT = 10.0          # a compile takes ~0.05 s; anything near this is a hang


def _seeds():
    try:
        fuzzing.schema()
    except ImportError as e:
        pytest.skip(str(e))
    return fuzzing.load_seeds([shared_model(n) for n in fuzzing.SEED_MODELS])


@pytest.mark.slow
def test_fixed_seed_campaign_has_no_failures(tmp_path):
    seeds = _seeds()
    c = fuzzing.run_campaign(seeds, COUNT, seed=SEED, jobs=2, run_share=RUN_SHARE,
                             timeout=TIMEOUT, save=tmp_path / "failing")
    assert len(c.results) == COUNT
    assert {r.model for r in c.results} == set(fuzzing.SEED_MODELS)
    assert {r.mutator for r in c.results} == set(fuzzing.MUTATORS)
    bad = c.failing()
    counts = (f"{c.count(fuzzing.CRASH)} crashes, {c.count(fuzzing.HANG)} hangs, "
              f"{sum(bool(r.info.get('half_written')) for r in c.results)} half-written folders, "
              + ", ".join(f"{c.host_count(o)} host runs {o}" for o in fuzzing.HOST_FAILURES))
    if bad:
        pytest.fail(f"{len(bad)} of {COUNT} mutants (seed {SEED}) failed: {counts}; reproducers "
                    f"in {tmp_path / 'failing'}; first ones:\n" + fuzzing.failure_summary(c, 6),
                    pytrace=False)
    # the campaign exercised both sides of the compiler and the host runs really happened
    assert c.count(fuzzing.CLEAN) > COUNT // 10 and c.count(fuzzing.ACCEPTED) > COUNT // 20
    if shutil.which("gcc"):
        assert c.host_count(fuzzing.RAN) >= 10, fuzzing.render_tables(c)


def test_mutant_is_reproducible_from_seed_and_index():
    seeds = _seeds()
    seen = set()
    for i in range(120):
        a = fuzzing.make_mutant(seeds, 7, i)
        b = fuzzing.make_mutant(seeds, 7, i)
        assert (a.data, a.mutator, a.detail) == (b.data, b.mutator, b.detail), i
        assert a.model == fuzzing.SEED_MODELS[i % 2]
        seen.add(a.mutator)
        if a.mutator not in fuzzing.BYTE_LEVEL and "options type" not in a.detail:
            # structure-aware edits write a well-formed flatbuffer (except a union whose type
            # tag no longer matches its table): they test the compiler's checks of meaning
            m = fuzzing.unpack(a.data)
            assert m.buffers is not None, (i, a.detail)
    assert seen == set(fuzzing.MUTATORS)
    assert fuzzing.make_mutant(seeds, 7, 3).data != fuzzing.make_mutant(seeds, 8, 3).data


def test_structural_edit_lands_in_the_file():
    seeds = _seeds()
    for i in range(400):
        m = fuzzing.make_mutant(seeds, 0, i)
        if m.mutator == "quantization" and " scale[" in m.detail and "(all)" not in m.detail:
            t = int(m.detail.split()[1])
            k = int(m.detail.split("scale[")[1].split("]")[0])
            new = float(m.detail.split("-> ")[1])
            got = float(fuzzing.unpack(m.data).subgraphs[0].tensors[t].quantization.scale[k])
            assert got == pytest.approx(new, rel=1e-6, nan_ok=True), m.detail
            return
    pytest.fail("no per-element scale edit among the first 400 mutants")


def test_classifier_counts_plain_exceptions_as_crashes(tmp_path, monkeypatch):
    import tinykiln.compile
    from tinykiln.errors import ModelError
    data = shared_model("ad01_int8.tflite").read_bytes()

    def parent(name):
        p = tmp_path / name
        p.mkdir()
        return p

    res, c = fuzzing.compile_one(data, "ad01.tflite", parent("ok"))
    assert res["outcome"] == fuzzing.ACCEPTED and not res["half_written"] and c is not None

    def boom(graph, *a, **k):
        raise ValueError("not a user's mistake")
    monkeypatch.setattr(tinykiln.compile, "compile_graph", boom)
    res, _ = fuzzing.compile_one(data, "ad01.tflite", parent("crash"))
    assert res["outcome"] == fuzzing.CRASH and res["error"] == "ValueError"
    assert "test_fuzz.py" in res["last_frame"] and "boom" in res["last_frame"]

    def refuse(graph, *a, **k):
        raise ModelError("two\nlines")
    monkeypatch.setattr(tinykiln.compile, "compile_graph", refuse)
    res, _ = fuzzing.compile_one(data, "ad01.tflite", parent("clean"))
    assert res["outcome"] == fuzzing.CLEAN and res["error"] == "ModelError"
    assert res["one_line"] is False and not res["half_written"]

    monkeypatch.undo()

    def half(c, out, extra=None):
        out.mkdir()
        (out / "model.c").write_text("/* cut")
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(tinykiln.compile, "write_output", half)
    res, _ = fuzzing.compile_one(data, "ad01.tflite", parent("half"))
    assert res["outcome"] == fuzzing.CRASH and res["half_written"] and res["leftovers"] == ["out"]


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                    reason="the patched compiler reaches the workers only when they are forked")
def test_workers_classify_hang_and_crash_and_save_reproducers(tmp_path, monkeypatch):
    import tinykiln.frontend.tflite_import
    seeds = _seeds()

    def patched(buf, name="model"):
        if name.startswith("kws"):          # even indices: kws_ref_model
            time.sleep(60)
        raise KeyError("internal")
    monkeypatch.setattr(tinykiln.frontend.tflite_import, "parse_tflite", patched)
    t0 = time.monotonic()
    c = fuzzing.run_campaign(seeds, 3, seed=SEED, jobs=1, run_share=0, timeout=1.5,
                             save=tmp_path)
    assert time.monotonic() - t0 < 30
    assert [r.outcome for r in c.results] == [fuzzing.HANG, fuzzing.CRASH, fuzzing.HANG]
    assert c.results[1].info["error"] == "KeyError"
    for r in c.results:            # the worker killed at each hang was replaced
        p = c.saved[r.index]
        assert p.read_bytes() == fuzzing.make_mutant(seeds, SEED, r.index).data
        assert f"mutant index {r.index}" in p.with_suffix(".txt").read_text()


@pytest.mark.skipif(shutil.which("gcc") is None, reason="host runs need gcc")
def test_host_run_classifier(tmp_path):
    import tinykiln.compile
    import tinykiln.frontend.tflite_import
    g = tinykiln.frontend.tflite_import.parse_tflite(shared_model("ad01_int8.tflite").read_bytes())
    c = tinykiln.compile.compile_graph(g)
    assert fuzzing.host_run(c, 0, 0)["host"] == fuzzing.RAN

    # an out-of-bounds write through a pointer, which no warning sees: ASan must report it
    c.files["fuzz_oob.c"] = ("static int fuzz_a[2];\nint *volatile fuzz_p = fuzz_a;\n"
                             "__attribute__((constructor)) static void fuzz_oob(void) "
                             "{ fuzz_p[2] = 1; }\n")
    r = fuzzing.host_run(c, 0, 0)
    assert r["host"] == fuzzing.SANITIZER and "global-buffer-overflow" in r["host_detail"], r
    # and UBSan an oversized shift (the class the issue found in tk_nn.h)
    c.files["fuzz_oob.c"] = ("volatile int fuzz_s = 40;\nvolatile int fuzz_x;\n"
                             "__attribute__((constructor)) static void fuzz_shift(void) "
                             "{ fuzz_x = 1 << fuzz_s; }\n")
    r = fuzzing.host_run(c, 0, 0)
    assert r["host"] == fuzzing.SANITIZER and "shift exponent 40" in r["host_detail"], r

    c.files["fuzz_oob.c"] = "#error generated C that does not compile\n"
    r = fuzzing.host_run(c, 0, 0)
    assert r["host"] == fuzzing.BUILD_FAILED and "does not compile" in r["host_detail"], r
