"""One job of a release: a target built for one board, in a worker process. Stages: compile (a
Keras model is quantized first), build (the firmware image), run (the instruction count under
QEMU, emulated boards), eval (the whole eval set on the host and, on an emulated board, in one
QEMU boot, compared byte for byte). The job writes its images and report.json into its work
folder and returns its record; a user's mistake or an image that does not fit is a failed record,
never an exception."""
from __future__ import annotations

import json
import shutil
import traceback
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TinykilnError
from ..targets.board import Board
from .project import Target

# the files of a build that a release keeps (firmware.map names the toolchain's absolute paths)
IMAGES = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.uf2", "firmware.signed.bin")


@dataclass(frozen=True)
class JobSpec:
    target: Target
    board: Board
    version: str                    # the project's version (signed images carry it)
    signing_key: Path | None


def job_id(spec: JobSpec) -> str:
    return f"{spec.target.name}/{spec.board.name}"


def empty_record(status: str = "failed", message: str = "") -> dict:
    return {"status": status, "message": message, "flash": None, "ram": None,
            "flash_size": None, "ram_size": None, "instructions": None, "accuracy": None,
            "host_accuracy": None, "float_accuracy": None, "device_matches_host": None,
            "files": []}


def run_job(spec: JobSpec, work: Path, say) -> dict:
    """Run the job into the (empty, existing) folder `work`; say(stage) reports progress.
    Returns the record (empty_record's keys); `deterministic` is False when the failure was not
    a user's mistake (a crash of the build, a tinykiln bug): such a record is not cached."""
    rec = empty_record("ok")
    rec["float_accuracy"] = spec.target.float_accuracy
    try:
        _stages(spec, work, say, rec)
    except TinykilnError as e:
        rec.update(status="failed", message=_sentence(str(e)))
    except Exception as e:      # noqa: BLE001  (a tinykiln bug: recorded, the release goes on)
        rec.update(status="failed", deterministic=False,
                   message=_sentence(f"internal error ({type(e).__name__}: "
                                     f"{str(e).strip().splitlines()[0] if str(e).strip() else ''})"
                                     f"; please report it"))
        rec["traceback"] = traceback.format_exc()
    rec["files"] = sorted(p.name for p in work.iterdir() if p.is_file())
    return rec


def _sentence(s: str) -> str:
    s = " ".join(s.split())
    return s if s.endswith(".") else s + "."


def _stages(spec: JobSpec, work: Path, say, rec: dict) -> None:
    t, board = spec.target, spec.board
    say("compile")
    c, extra = _compile(t, board)
    rec["float_accuracy"] = extra.get("float_accuracy", rec["float_accuracy"])
    if "tflite" in extra:
        (work / "model.tflite").write_bytes(extra["tflite"])
    say("build")
    from ..targets.firmware import build_firmware
    signed = spec.signing_key is not None and board.mcuboot is not None
    if signed:      # linked for MCUboot's slot 0 and signed
        from ..targets.mcuboot import slot_board
        image_board = slot_board(board)
    else:
        image_board = board
    rec["flash_size"], rec["ram_size"] = image_board.flash.length, board.ram.length
    fw = work / "build"
    report = build_firmware(c, image_board, fw)
    if signed:
        report["mcuboot"] = sign_image_hook(spec, board, fw)
    for name in IMAGES:
        if (fw / name).is_file():
            shutil.copyfile(fw / name, work / name)
    rec["flash"], rec["ram"] = report["flash"]["used"], report["ram"]["used"]
    if signed and board.emulated:   # QEMU boots the plain image, not the chain-loaded one
        shutil.rmtree(fw)
        build_firmware(c, board, fw)
    release = {}
    data = None
    if t.eval is not None:
        from .evaldata import load_eval
        data = load_eval(t.eval, c, keras=t.kind == "keras")
    if board.emulated:
        say("run" if data is None else "eval on device")
        _device(c, board, fw, data, rec, release)
    if data is not None:
        say("eval on host")
        _host_eval(c, data, rec, release)
    shutil.rmtree(fw)
    report["release"] = {"target": t.name, **release,
                         **{k: rec[k] for k in ("instructions", "accuracy", "host_accuracy",
                                                "float_accuracy", "device_matches_host")}}
    (work / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")


def _compile(t: Target, board: Board):
    """(Compiled, extras): extras hold a Keras model's int8 .tflite and float accuracy."""
    opts = {"optimize": t.optimize, "helium": board.cpu == "cortex-m55"}
    if t.kind != "keras":
        from ..inputs import compile_file
        return compile_file(t.model, prefix="model", **opts), {}
    from ..compile import compile_graph
    from ..frontend.tflite_import import parse_tflite
    from ..quant.keras import quantize_keras
    q = quantize_keras(str(t.model), str(t.calibration),
                       str(t.eval) if t.eval is not None else None, prefix="model")
    extra = {"tflite": q.tflite}
    ev = q.compiled.report["quantization"].get("eval") or {}
    if ev.get("float_accuracy") is not None:
        extra["float_accuracy"] = round(float(ev["float_accuracy"]), 4)
    graph = parse_tflite(q.tflite, name=q.name)
    return compile_graph(graph, prefix="model", model_name=q.name, **opts), extra


def _device(c, board: Board, fw: Path, data, rec: dict, release: dict) -> None:
    """One QEMU boot with the instruction counter: the eval rows, or one row of zeros."""
    from ..targets.qemu import run_firmware
    from ..ir import NP_TYPES
    if data is None:
        xs = [np.zeros((1, *t.shape), np.dtype(NP_TYPES[t.dtype]))
              for t in (c.graph.tensors[i] for i in c.graph.inputs)]
    else:
        xs = [data[0]]
    res = run_firmware(fw, board, c.graph, xs, profile=True, timeout=120.0 + 2.0 * len(xs[0]))
    per_row = res.profile["instructions_per_row"]
    rec["instructions"] = int(max(per_row))
    release["instructions_per_row"] = {"rows": len(per_row), "min": int(min(per_row)),
                                       "max": int(max(per_row))}
    release["stack_peak"] = res.stack_peak
    if data is not None:
        release["_device_outputs"] = res.outputs


def _host_eval(c, data, rec: dict, release: dict) -> None:
    from ..targets.hostrun import HostBuild
    from .evaldata import accuracy, same_bytes
    x, y = data
    with HostBuild(c, sanitize=False) as hb:
        host = hb.run([x])
    rec["host_accuracy"] = accuracy(host, y)
    dev = release.pop("_device_outputs", None)
    if dev is not None:
        rec["accuracy"] = accuracy(dev, y)
        rec["device_matches_host"] = same_bytes(dev, host)
    else:
        rec["accuracy"] = rec["host_accuracy"]
    release["eval_rows"] = int(len(y))


def sign_image_hook(spec: JobSpec, board: Board, fw: Path) -> dict:
    """firmware.signed.bin in fw (built with mcuboot.slot_board(board)): MCUboot's header and
    TLVs by imgtool, the project's version, its [signing] key; returns report.json's "mcuboot"
    entry."""
    from ..targets.mcuboot import signed_image_for
    signed_image_for(fw, board, spec.signing_key, spec.version)
    return json.loads((fw / "report.json").read_text())["mcuboot"]
