"""What every board with the same chip shares, once: per CPU the architecture, gcc flags, FPUs
and fault registers (CPU_FAMILIES); per architecture the cross tools (ARCH_TOOLS); the second
boot stages a chip's boot ROM loads (BOOT2_KINDS)."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CpuFamily:
    arch: str                       # "arm" | "riscv" | "host"
    gcc_flags: tuple[str, ...]      # selects the core (and, for riscv, the ABI)
    fpus: dict                      # fpu name in a board file -> extra gcc flags
    fault_regs: bool = False        # has CFSR/HFSR/MMFAR/BFAR (ARMv7-M and later mainline)
    profile: str = ""               # architecture profile, for people reading `tinykiln boards`


CPU_FAMILIES: dict[str, CpuFamily] = {
    "cortex-m0": CpuFamily("arm", ("-mcpu=cortex-m0", "-mthumb"), {"none": ()}, False, "armv6-m"),
    "cortex-m0plus": CpuFamily("arm", ("-mcpu=cortex-m0plus", "-mthumb"), {"none": ()}, False,
                               "armv6-m"),
    "cortex-m3": CpuFamily("arm", ("-mcpu=cortex-m3", "-mthumb"), {"none": ()}, True, "armv7-m"),
    "cortex-m4": CpuFamily("arm", ("-mcpu=cortex-m4", "-mthumb"),
                           {"none": (), "fpv4-sp-d16": ("-mfpu=fpv4-sp-d16",)}, True, "armv7e-m"),
    "cortex-m7": CpuFamily("arm", ("-mcpu=cortex-m7", "-mthumb"),
                           {"none": (), "fpv5-sp-d16": ("-mfpu=fpv5-sp-d16",),
                            "fpv5-d16": ("-mfpu=fpv5-d16",)}, True, "armv7e-m"),
    "cortex-m33": CpuFamily("arm", ("-mcpu=cortex-m33", "-mthumb"),
                            {"none": (), "fpv5-sp-d16": ("-mfpu=fpv5-sp-d16",)}, True,
                            "armv8-m.main"),
    # the M55's FPU and MVE come with -mcpu=cortex-m55 itself (gcc's -mfpu=auto)
    "cortex-m55": CpuFamily("arm", ("-mcpu=cortex-m55", "-mthumb"), {"mve": ()}, True,
                            "armv8.1-m.main"),
    "rv32imac": CpuFamily("riscv", ("-march=rv32imac", "-mabi=ilp32"), {"none": ()}, False,
                          "rv32imac"),
    "host": CpuFamily("host", (), {"none": ()}, False, "host"),
}
# Per architecture: cross-compiler prefix, QEMU binary, libc specs.
ARCH_TOOLS = {
    "arm": {"prefix": "arm-none-eabi-", "qemu": "qemu-system-arm",
            "libc_flags": ("--specs=nano.specs",),
            "packages": "gcc-arm-none-eabi libnewlib-arm-none-eabi", "qemu_package": "qemu-system-arm"},
    "riscv": {"prefix": "riscv64-unknown-elf-", "qemu": "qemu-system-riscv32",
              "libc_flags": ("--specs=picolibc.specs",),
              "packages": "gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf",
              "qemu_package": "qemu-system-misc"},
}


@dataclass(frozen=True)
class Boot2Kind:
    """A second boot stage the chip's boot ROM loads from the start of flash and checks."""
    cpu: str
    flash_origin: int
    size: int               # bytes, checksum included
    source: str             # templates/firmware/<source>: the code, assembled by tinykiln
    uf2_family: int = 0     # UF2 family ID of the chip: build writes firmware.uf2 too (0: none)


BOOT2_KINDS = {
    # RP2040 bootrom: copies the first 256 bytes of flash to SRAM, checks their CRC-32, runs them.
    "rp2040_03h": Boot2Kind("cortex-m0plus", 0x10000000, 256, "boot2_rp2040_03h.c", 0xE48BFF56),
}
U32 = (1 << 32) - 1
MAX_CLOCK_HZ = U32          # C code and PlatformIO's f_cpu hold it in 32 bits
