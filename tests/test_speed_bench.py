"""benchmarks/speed_bench.py and benchmarks/mlperf_models.py: the goal arithmetic, one real profiled
run, and the generated MLPerf Tiny models' architecture (their MACs and op counts)."""
import collections
import hashlib
import json
import shutil
import sys
from pathlib import Path

import pytest

from conftest import ROOT, shared_model

sys.path.insert(0, str(ROOT / "benchmarks"))
import mlperf_models  # noqa: E402
import speed_bench  # noqa: E402


def _layer(op, opcode, macs, ins, channels, elements):
    return {"op": op, "opcode": opcode, "kernel": None, "macs": macs, "instructions": ins,
            "channels": channels, "elements": elements}


def test_goal2_lists_slow_layers_narrow_ones_apart_and_elementwise_costs():
    layers = [_layer(0, "CONV_2D", 1000, 1000, 16, 16), _layer(1, "CONV_2D", 499, 1000, 16, 16),
              _layer(2, "DEPTHWISE_CONV_2D", 100, 1000, 4, 4),
              _layer(3, "FULLY_CONNECTED", 500, 1000, 10, 10),
              _layer(4, "ADD", 0, 61, 10, 10), _layer(5, "ADD", 0, 60, 10, 10),
              _layer(6, "AVERAGE_POOL_2D", 0, 5000, 16, 16)]
    f = speed_bench.layer_findings(layers)
    assert [L["op"] for L in f["below"]] == [1]        # 0.499 is below 0.5; 0.5 is not
    assert [L["op"] for L in f["narrow"]] == [2]       # 4 output channels: reported apart
    assert [(e["op"], e["per_element"]) for e in f["elementwise"]] == [(4, 6.1), (5, 6.0)]
    kinds = speed_bench.op_kinds(layers)
    assert kinds[0] == ("AVERAGE_POOL_2D", 5000, 1) and ("CONV_2D", 2000, 2) in kinds


def test_goal1_bounds_are_the_issues():
    m = {"instructions": 3_850_000, "macs": 2_656_768, "mpi": 0.69}
    assert speed_bench.goal1("KWS", m).endswith("met")
    assert "BELOW" in speed_bench.goal1("KWS", {**m, "instructions": 3_850_001})
    assert "BELOW" in speed_bench.goal1("AD", {**m, "instructions": 291_001})
    r = {"instructions": 0, "macs": 12_501_632}
    assert speed_bench.goal1("IC", {**r, "mpi": 0.85}).endswith("met")
    assert "BELOW" in speed_bench.goal1("IC", {**r, "mpi": 0.849})
    assert "BELOW" in speed_bench.goal1("VWW", {**r, "mpi": 0.649})
    assert speed_bench.key_of("resnet8") == "IC" and speed_bench.key_of("mobilenet_v1_025") == "VWW"
    rv = {"board": "qemu-virt-rv32", "macs": 2_656_768, "mpi": 0.2}
    assert speed_bench.goal6("KWS", {**rv, "instructions": 10_486_867}).endswith("met")
    assert speed_bench.goal6("KWS", {**rv, "instructions": 10_486_868}).endswith("BELOW")
    m55 = {"board": "mps3-an547", "macs": 2_656_768, "mpi": 3.0}
    assert speed_bench.goal1("KWS", {**m55, "instructions": 910_000}).endswith("met")
    assert "BELOW" in speed_bench.goal1("KWS", {**m55, "instructions": 910_001})
    assert "BELOW" in speed_bench.goal1("IC", {**r, "board": "mps3-an547", "mpi": 4.99})


def test_bench_runs_ad01_and_its_layers_add_up(tmp_path, capsys):
    shared_model("ad01_int8.tflite")
    out = tmp_path / "speed.json"
    assert speed_bench.main(["ad01_int8", "--boards", "mps2-an386", "--no-build",
                             "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "goal <= 0.291 M instr" in text and "MISMATCH" not in text
    (m,) = json.loads(out.read_text())
    assert m["bitexact"].split()[0].split("/")[0] == m["bitexact"].split()[0].split("/")[1]
    assert m["profile_total"] == m["instructions"] == sum(L["instructions"] for L in m["layers"])
    assert m["macs"] == sum(L["macs"] for L in m["layers"]) == 264_192
    assert [L["opcode"] for L in m["layers"]] == ["FULLY_CONNECTED"] * 10


def test_unknown_board_is_one_sentence(capsys):
    assert speed_bench.main(["ad01_int8", "--boards", "mps2-an999"]) == 1
    assert "mps2-an999" in capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.skipif(not mlperf_models.tensorflow_available(),
                    reason="building the MLPerf models needs TensorFlow and Keras")
def test_generated_models_have_the_reference_architectures(tmp_path):
    """Converts both models afresh (about 10 s: one TensorFlow child process each) and ResNet-8
    once more to check that the conversion is byte-identical; then issue 13's memory goals on
    both (_memory_goals)."""
    from tinykiln.inputs import compile_file
    built = []
    for name in mlperf_models.NAMES:
        p = mlperf_models.model_path(name, directory=tmp_path)
        c = compile_file(p)
        assert c.report["macs"] == mlperf_models.EXPECTED_MACS[name]
        assert abs(c.report["macs"] / mlperf_models.BASELINE_MACS[name] - 1) < 0.001
        assert collections.Counter(op.opcode for op in c.graph.ops) == \
            mlperf_models.EXPECTED_OPS[name]
        for t in (c.graph.inputs[0], c.graph.outputs[0]):
            assert c.graph.tensors[t].dtype == "int8"
        built.append((name, p, c))
    first = hashlib.sha256(mlperf_models.model_path("resnet8", directory=tmp_path).read_bytes())
    again = mlperf_models.model_path("resnet8", force=True, directory=tmp_path / "again")
    assert hashlib.sha256(again.read_bytes()).hexdigest() == first.hexdigest()
    for name, p, c in built:
        _memory_goals(name, p, c, tmp_path)


def _memory_goals(name, path, c, tmp_path):
    """Issue 13's goals 1 and 2 on the generated model with the default (balanced): the arena
    below whole tensors' max-live bound, and the RAM the mps2-an386 image reserves (arena, static
    data and the computed worst-case stack, never below the measured peak) at most half of TFLM +
    CMSIS-NN's (BASELINES.md); two rows bit-exact with TFLM on the host."""
    import numpy as np
    from firmware_bench import BASELINES
    from tflm_oracle import tflm_run
    from tinykiln.targets.board import get_board
    from tinykiln.targets.firmware import build_firmware
    from tinykiln.targets.hostrun import HostBuild
    assert c.report["arena_bytes"] < c.report["max_live_bound"], c.report["in_place_ops"]
    g = c.graph
    x = np.random.default_rng(1).integers(-128, 128, (2, *g.tensors[g.inputs[0]].shape),
                                          dtype=np.int8)
    with HostBuild(c) as hb:
        y = hb.run([x])[0]
    ref = tflm_run(path.read_bytes(), [x], 1)[0]
    assert (y.reshape(ref.shape) == ref).all(), name
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc is not installed: the images' RAM is not measured")
    r = build_firmware(c, get_board("mps2-an386"), tmp_path / f"fw_{name}")
    tflm = BASELINES[speed_bench.key_of(name)]["ram"]
    assert r["ram"]["used"] <= tflm // 2, (name, r["ram"], tflm)


def test_unknown_model_name_is_refused():
    with pytest.raises(ValueError, match="resnet8"):
        mlperf_models.model_path("resnet9")
