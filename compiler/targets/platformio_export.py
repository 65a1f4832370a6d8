"""`tinykiln export-platformio`: the firmware sources as a PlatformIO project that builds offline
with `pio run`, wherever the folder is moved or copied. The project carries its own development
platform (platform/, driving the system cross gcc with tinykiln's flags; platformio.ini names it
as symlink://${PROJECT_DIR}/platform, which PlatformIO resolves in the folder it builds) and a
project-local PlatformIO core whose only package, tool-scons, is a folder in it that runs the
pip-installed SCons. No file of the project holds an absolute path."""
from __future__ import annotations

import json
from pathlib import Path

from .. import __version__
from .board import Board
from ..codegen.csource import template_env
from ..compile import Compiled
from ..errors import TinykilnError
from .firmware import build_flags, check_fit, firmware_sources
from ..outdir import staged_output
from ..resources import resource_dir

# The vendor platform and board id of PlatformIO's registry, for users with network access.
STOCK = {
    "nucleo-f446re": ("ststm32", "nucleo_f446re"),
    "nucleo-l4r5zi": ("ststm32", "nucleo_l4r5zi"),
    "nucleo-h743zi": ("ststm32", "nucleo_h743zi"),
    "stm32f746g-disco": ("ststm32", "disco_f746ng"),
    "nrf52840-dk": ("nordicnrf52", "nrf52840_dk"),
    "rpi-pico": ("raspberrypi", "pico"),
}
TOOL_SCONS_VERSION = "4.41101.0"     # PlatformIO's numbering of SCons 4.11.1


def project_files(c: Compiled, board: Board) -> dict[str, str]:
    """Relative path -> text of the project, except platformio.ini (see export)."""
    fw = firmware_sources(c, board)
    fw.pop("SConstruct")
    out: dict[str, str] = {"link.ld": fw.pop("link.ld")}
    for name, text in fw.items():
        if name in c.files:
            out[f"lib/{c.prefix}/{name}"] = text          # the model library
        elif name.endswith(".h"):
            out[f"include/{name}"] = text
        else:
            out[f"src/{name}"] = text
    cflags, linkflags = build_flags(board)
    pio = resource_dir("templates") / "platformio"
    out["platform/platform.json"] = (pio / "platform.json").read_text()
    out["platform/platform.py"] = (pio / "platform.py").read_text()
    out["platform/builder/main.py"] = (pio / "builder_main.py").read_text()
    out[f"platform/boards/{board.name}.json"] = json.dumps({
        "name": board.description, "vendor": "tinykiln", "url": "https://pypi.org/project/tinykiln",
        "frameworks": [],
        "build": {"cpu": board.cpu, "mcu": board.cpu, "f_cpu": f"{board.clock_hz}L",
                  "tinykiln": {"prefix": board.tools["prefix"], "cflags": cflags,
                               "linkflags": linkflags}},
        "upload": {"maximum_size": board.flash.length, "maximum_ram_size": board.ram.length},
    }, indent=2) + "\n"
    # tool-scons installed in the project's core as PlatformIO installs registry packages: the
    # folder, its manifest, and .piopm naming the owner and version `pio run` asks for.
    tool = ".pio-core/packages/tool-scons"
    out[f"{tool}/package.json"] = json.dumps(
        {"name": "tool-scons", "version": TOOL_SCONS_VERSION}) + "\n"
    out[f"{tool}/.piopm"] = json.dumps({
        "type": "tool", "name": "tool-scons", "version": TOOL_SCONS_VERSION,
        "spec": {"owner": "platformio", "id": None, "name": "tool-scons", "requirements": None,
                 "uri": None}}) + "\n"
    out[f"{tool}/scons.py"] = (pio / "scons.py").read_text()
    out[".pio-core/appstate.json"] = json.dumps(
        {"settings": {"enable_telemetry": False, "check_platformio_interval": 36500}}) + "\n"
    return out


def export(c: Compiled, board: Board, out_dir: str | Path) -> Path:
    if board.arch == "host":
        raise TinykilnError("the host board has no PlatformIO project; pick a microcontroller "
                            "board (see `tinykiln boards`).")
    check_fit(c, board)         # a project that certainly cannot fit is not written
    out_dir = Path(out_dir)
    final = out_dir.resolve()
    files = project_files(c, board)
    stock = STOCK.get(board.name)
    files["platformio.ini"] = template_env().get_template("platformio/platformio.ini.j2").render(
        version=__version__, board=board.name, model_name=c.report["model"],
        env_name=board.name.replace("-", "_"), lib_name=c.prefix,
        stock={"platform": stock[0], "board": stock[1]} if stock else None)
    with staged_output(final) as tmp:
        for rel, text in sorted(files.items()):
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(text)
    return final
