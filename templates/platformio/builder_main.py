# PlatformIO builder of the tinykiln platform: compiles src/, include/ and lib/ with the board's
# system cross compiler and the flags tinykiln uses for its own images (from the board JSON).
import os

from SCons.Script import Builder, Default, DefaultEnvironment

env = DefaultEnvironment()
tk = env.BoardConfig().get("build.tinykiln")
prefix = tk["prefix"]
hook = os.path.join(env.subst("$PROJECT_INCLUDE_DIR"), "tk_hook.h")
env.Replace(AR=prefix + "ar", AS=prefix + "gcc", CC=prefix + "gcc", CXX=prefix + "g++",
            LINK=prefix + "gcc", OBJCOPY=prefix + "objcopy", RANLIB=prefix + "ranlib",
            SIZETOOL=prefix + "size", PROGSUFFIX=".elf",
            SIZEPROGREGEXP=r"^(?:\.text|\.data|\.rodata)\s+(\d+).*",
            SIZEDATAREGEXP=r"^(?:\.data|\.bss|\.stack)\s+(\d+).*",
            SIZECHECKCMD="$SIZETOOL -A -d $SOURCES")
env.Append(CCFLAGS=[hook if f == "tk_hook.h" else f for f in tk["cflags"]],
           LINKFLAGS=tk["linkflags"])  # the -T link.ld comes from board_build.ldscript
env.Append(BUILDERS=dict(
    ElfToBin=Builder(action="$OBJCOPY -O binary $SOURCES $TARGET", suffix=".bin"),
    ElfToHex=Builder(action="$OBJCOPY -O ihex $SOURCES $TARGET", suffix=".hex")))
elf = env.BuildProgram()
Default([env.ElfToBin("$BUILD_DIR/firmware", elf), env.ElfToHex("$BUILD_DIR/firmware", elf)])
