"""Targets: the host build, boards, firmware images, QEMU runs, PlatformIO projects, boot2 and UF2."""
