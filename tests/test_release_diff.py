"""`tinykiln diff`, `release --verify` and the reproducible archive, on small release folders made
here with a manifest.json per the contract (no builds): verify passes on a consistent folder and
names the file after one byte changes, a file goes or one appears; diff shows a changed model's
hash and the size and instruction deltas; the archive is byte-identical for equal trees."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
import time

import pytest

from tinykiln.cli.main import main
from tinykiln.errors import TinykilnError
from tinykiln.release.archive import write_archive
from tinykiln.release.diff import diff_releases, release_diff
from tinykiln.release.verify import verify_release, verify_summary

KWS_ELF = "kws/mps2-an386/firmware.elf"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def job(target, board, flash, ram, instructions, accuracy, inputs, status="ok", message=""):
    return {"target": target, "board": board, "status": status, "message": message,
            "inputs": {"model": next(iter(inputs))}, "input_hashes": inputs,
            "flags": {"optimize": "balanced"}, "flash": flash, "ram": ram,
            "flash_size": 4194304, "ram_size": 4194304, "instructions": instructions,
            "accuracy": accuracy, "host_accuracy": accuracy, "float_accuracy": None,
            "device_matches_host": True, "budgets": [],
            "outputs": [f"{target}/{board}/firmware.elf", f"{target}/{board}/report.json"]}


def make_release(folder, model=b"kws model v1", flash=41232, instructions=3539281,
                 gcc="13.2.1", extra_job=None, accuracy=93.75):
    """A release folder of two jobs (kws on two boards), written as `tinykiln release` does."""
    inputs = {"tinykiln.toml": sha(b"project"), "models/kws.tflite": sha(model)}
    jobs = [job("kws", "mps2-an386", flash, 11020, instructions, accuracy, inputs),
            job("kws", "sifive_e", 52100, 12000, None, None, inputs)]
    if extra_job:
        jobs.append(extra_job)
    files = {}
    for j in jobs:
        files[f"{j['target']}/{j['board']}/firmware.elf"] = f"elf {j['board']} {flash}".encode()
        files[f"{j['target']}/{j['board']}/report.json"] = f'{{"flash": {flash}}}\n'.encode()
    files["SUMMARY.md"] = b"| target |\n"
    for p, data in files.items():
        (folder / p).parent.mkdir(parents=True, exist_ok=True)
        (folder / p).write_bytes(data)
    manifest = {"format": 1, "tinykiln": "0.1.0",
                "project": {"file": "tinykiln.toml", "name": "demo", "version": "1.2.0"},
                "toolchain": {"arm-none-eabi-gcc": gcc, "python": "3.11"},
                "inputs": inputs, "outputs": {p: sha(d) for p, d in files.items()},
                "jobs": sorted(jobs, key=lambda j: (j["target"], j["board"]))}
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return folder


@pytest.fixture
def rel(tmp_path):
    return make_release(tmp_path / "release")


# verify

def test_verify_passes_on_a_consistent_folder(rel):
    assert verify_release(rel) == []
    ok, text = verify_summary(rel)
    assert ok and text == f"release {rel}/ verified: 5 files match its manifest."


def test_verify_names_a_file_with_one_byte_changed(rel):
    f = rel / KWS_ELF
    data = bytearray(f.read_bytes())
    data[3] ^= 1
    f.write_bytes(bytes(data))
    problems = verify_release(rel)
    assert len(problems) == 1 and problems[0].startswith(f"{KWS_ELF} has changed")
    ok, text = verify_summary(rel)
    assert not ok and text.endswith("does not match its manifest: 1 problem.")


def test_verify_names_a_removed_and_an_extra_file(rel):
    (rel / "SUMMARY.md").unlink()
    (rel / "kws" / "notes.txt").write_text("mine\n")
    assert verify_release(rel) == ["SUMMARY.md is listed in the manifest but missing.",
                                   "kws/notes.txt is in the folder but not in the manifest."]


def test_verify_checks_each_jobs_outputs_are_listed(rel):
    m = json.loads((rel / "manifest.json").read_text())
    m["jobs"][0]["outputs"].append("kws/mps2-an386/firmware.signed.bin")
    (rel / "manifest.json").write_text(json.dumps(m))
    [problem] = verify_release(rel)
    assert "kws on mps2-an386" in problem and "firmware.signed.bin" in problem


def test_verify_checks_the_archive_and_ignores_the_marker(rel, tmp_path):
    (rel / ".tinykiln-output").write_text('{"command": "tinykiln release -o somewhere/"}\n')
    write_archive(rel, tmp_path / "good.tar.gz")
    elf = rel / KWS_ELF
    data = elf.read_bytes()
    elf.write_bytes(data + b"!")
    write_archive(rel, tmp_path / "bad.tar.gz")
    elf.write_bytes(data)
    os.replace(tmp_path / "good.tar.gz", rel / "release.tar.gz")
    ok, text = verify_summary(rel)
    assert ok and text.endswith("5 files match its manifest, and release.tar.gz holds them.")
    with tarfile.open(rel / "release.tar.gz") as t:
        assert ".tinykiln-output" not in t.getnames()
    os.replace(tmp_path / "bad.tar.gz", rel / "release.tar.gz")
    assert verify_release(rel) == [f"release.tar.gz holds a {KWS_ELF} that differs from the "
                                   f"manifest's."]
    with_time = bytearray(write_archive(rel, tmp_path / "again.tar.gz").read_bytes())
    with_time[4] = 1                                # a gzip mtime: same members, other bytes
    (rel / "release.tar.gz").write_bytes(bytes(with_time))
    [problem] = verify_release(rel)
    assert problem.startswith("release.tar.gz does not start with the gzip header")
    (rel / "release.tar.gz").write_bytes(b"not gzip")
    [problem] = verify_release(rel)
    assert problem.startswith("release.tar.gz is not a readable .tar.gz archive")


@pytest.mark.parametrize("text, words", [
    ("{not json", "is not valid JSON"),
    ("[]", "not the object of a release manifest"),
    ('{"format": 2}', "has format 2"),
    ('{"format": 1, "inputs": {}, "outputs": {"../x": "' + "0" * 64 + '"}, "jobs": []}',
     "not a path inside the release folder"),
])
def test_an_invalid_manifest_is_one_sentence(tmp_path, text, words):
    (tmp_path / "manifest.json").write_text(text)
    with pytest.raises(TinykilnError, match=words) as e:
        verify_release(tmp_path)
    assert "\n" not in str(e.value)


# diff

def test_diff_shows_the_changed_model_and_the_deltas(tmp_path):
    old = make_release(tmp_path / "old")
    new = make_release(tmp_path / "new", model=b"kws model v2", flash=41488,
                       instructions=3540000, gcc="13.3.0", accuracy=92.5)
    m = json.loads((new / "manifest.json").read_text())
    m["jobs"][0]["flags"]["optimize"] = "speed"
    (new / "manifest.json").write_text(json.dumps(m))
    d = release_diff(old, new)
    assert d["inputs"] == {"changed": ["models/kws.tflite"], "added": [], "removed": []}
    assert d["toolchain"] == {"arm-none-eabi-gcc": {"old": "13.2.1", "new": "13.3.0"}}
    m4 = next(j for j in d["jobs"] if j["board"] == "mps2-an386")
    assert m4["change"] == "changed"
    assert m4["inputs"]["changed"] == ["models/kws.tflite"]
    assert m4["flash"] == {"old": 41232, "new": 41488, "delta": 256, "percent": 0.6209}
    assert m4["instructions"]["delta"] == 719
    assert m4["ram"] == {"old": 11020, "new": 11020, "delta": 0, "percent": 0.0}
    assert m4["accuracy"] == {"old": 93.75, "new": 92.5, "delta": -1.25, "percent": -1.3333}
    text = diff_releases(old, new)
    assert "41,232 -> 41,488 (+256, +0.62%)" in text
    assert "3,539,281 -> 3,540,000 (+719, +0.02%)" in text
    assert "93.75% -> 92.50% (-1.25 pp, -1.33%)" in text
    assert "changed models/kws.tflite; optimize balanced -> speed" in text
    assert m4["flags"] == {"optimize": {"old": "balanced", "new": "speed"}}
    assert "toolchain: arm-none-eabi-gcc 13.2.1 -> 13.3.0" in text


def test_diff_new_gone_and_failed_jobs(tmp_path):
    inputs = {"models/ad01.tflite": sha(b"ad01")}
    old = make_release(tmp_path / "old", extra_job=job("ad01", "mps2-an386", 30000, 9000,
                                                       100, 50.0, inputs))
    failed = job("kws", "sifive_e", None, None, None, None, {"models/kws.tflite": sha(b"x")},
                 status="failed", message="kws needs 70,000 bytes of RAM; sifive_e has 16,384.")
    new = make_release(tmp_path / "new", extra_job=job("vww", "mps2-an386", 9, 9, 9, 50.0,
                                                       inputs))
    m = json.loads((new / "manifest.json").read_text())
    m["jobs"] = [j if j["board"] != "sifive_e" else failed for j in m["jobs"]]
    (new / "manifest.json").write_text(json.dumps(m))
    d = release_diff(old, new)
    change = {(j["target"], j["board"]): j["change"] for j in d["jobs"]}
    assert change == {("ad01", "mps2-an386"): "gone", ("kws", "mps2-an386"): "same",
                      ("kws", "sifive_e"): "changed", ("vww", "mps2-an386"): "new"}
    text = diff_releases(old, new)
    assert "ok -> failed" in text and "gone (was ok)" in text and "new (ok)" in text
    assert "52,100 -> - " in text
    assert "4 jobs: 1 changed, 1 new, 1 gone, 1 same." in text
    assert "kws on sifive_e failed: kws needs 70,000 bytes" in text


def test_diff_command(tmp_path, capsys):
    old = make_release(tmp_path / "old")
    new = make_release(tmp_path / "new", flash=40000)
    assert main(["diff", old, new]) == 0
    out = capsys.readouterr().out
    assert "41,232 -> 40,000 (-1,232, -2.99%)" in out
    assert main(["diff", "--json", old, new]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["jobs"][0]["flash"]["delta"] == -1232
    (tmp_path / "empty").mkdir()
    assert main(["diff", tmp_path / "empty", new]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "empty/ has no manifest.json" in err
    assert main(["diff", old, tmp_path / "absent"]) == 1
    assert "absent/ does not exist." in capsys.readouterr().err
    assert main(["diff", old, old / "manifest.json"]) == 1
    assert "manifest.json is a file, not a release folder." in capsys.readouterr().err


def test_diff_as_a_rich_table(tmp_path):
    rich_console = pytest.importorskip("rich.console")
    from tinykiln.cli.diff import rich_table
    d = release_diff(make_release(tmp_path / "old"),
                     make_release(tmp_path / "new", model=b"v2", flash=41488))
    buf = io.StringIO()
    assert rich_table(d, rich_console.Console(file=buf, width=220, color_system=None))
    out = buf.getvalue()
    assert "41,232 -> 41,488" in out and "(+256, +0.62%)" in out
    assert "changed models/kws.tflite" in out and "2 jobs: 2 changed." in out
    narrow = io.StringIO()          # too narrow for the table: the caller prints plain text
    assert not rich_table(d, rich_console.Console(file=narrow, width=80))
    assert narrow.getvalue() == ""


# archive

def tree(folder, stamp, private):
    """The same files, with other modification times and permission bits."""
    make_release(folder)
    (folder / "tool.sh").write_text("#!/bin/sh\n")
    os.chmod(folder / "tool.sh", 0o700 if private else 0o775)
    for p in sorted(folder.rglob("*"), reverse=True):
        os.utime(p, (stamp, stamp))
        if private and p.is_file() and p.name != "tool.sh":
            os.chmod(p, 0o600)
    return folder


def test_archives_of_equal_trees_are_byte_identical(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    a = tree(tmp_path / "one" / "release", 1_000_000, private=False)
    b = tree(tmp_path / "two" / "elsewhere", 2_000_000, private=True)
    write_archive(a, a / "release.tar.gz")          # inside the folder: left out of itself
    time.sleep(1.1)
    write_archive(b, tmp_path / "b.tar.gz")
    data = (a / "release.tar.gz").read_bytes()
    assert data == (tmp_path / "b.tar.gz").read_bytes()
    assert data[3] == 0 and data[4:8] == b"\0\0\0\0"    # gzip: no file name, mtime 0
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        members = t.getmembers()
    names = [m.name for m in members]
    assert "release.tar.gz" not in names and "manifest.json" in names
    assert names.index("kws") < names.index("kws/mps2-an386") < names.index(KWS_ELF)
    assert all(m.mtime == 0 and m.uid == 0 and m.gid == 0 and m.uname == "" for m in members)
    modes = {m.name: m.mode for m in members}
    assert modes["tool.sh"] == 0o755 and modes[KWS_ELF] == 0o644 and modes["kws"] == 0o755
    assert gzip.decompress(data)                    # a valid gzip stream


def test_source_date_epoch_sets_the_mtimes(tmp_path, monkeypatch):
    rel = make_release(tmp_path / "release")
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    plain = write_archive(rel, tmp_path / "a.tar.gz").read_bytes()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    dated = write_archive(rel, tmp_path / "b.tar.gz", members=["SUMMARY.md", KWS_ELF],
                          root="demo-1.2.0").read_bytes()
    assert dated != plain
    with tarfile.open(fileobj=io.BytesIO(dated)) as t:
        assert {m.mtime for m in t.getmembers()} == {1700000000}
        assert t.getnames() == ["demo-1.2.0", "demo-1.2.0/SUMMARY.md", "demo-1.2.0/kws",
                                "demo-1.2.0/kws/mps2-an386", f"demo-1.2.0/{KWS_ELF}"]
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(TinykilnError, match="SOURCE_DATE_EPOCH is 'yesterday'"):
        write_archive(rel, tmp_path / "c.tar.gz")
