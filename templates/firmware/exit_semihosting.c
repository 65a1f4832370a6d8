/* tinykiln firmware: the semihosting exit method, plus the semihosting calls themselves. */
#include "semihost.h"
#include "tk_firmware.h"

#if defined(__riscv)
/* The three instructions must be uncompressed and lie in one page (QEMU checks both). */
__asm__(".section .text.tk_semihost, \"ax\"\n"
        ".balign 16\n"
        ".globl tk_semihost\n"
        "tk_semihost:\n"
        ".option push\n"
        ".option norvc\n"
        "slli x0, x0, 0x1f\n"
        "ebreak\n"
        "srai x0, x0, 7\n"
        ".option pop\n"
        "ret\n");
#else
intptr_t tk_semihost(intptr_t op, void *arg) {
    register intptr_t r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}
#endif

int tk_sh_open(const char *name, uint32_t mode) {
    uint32_t len = 0;
    while (name[len]) ++len;
    uintptr_t blk[3] = {(uintptr_t)name, mode, len};
    return (int)tk_semihost(TK_SH_OPEN, blk);
}

void tk_sh_close(int fd) {
    uintptr_t blk[1] = {(uintptr_t)fd};
    tk_semihost(TK_SH_CLOSE, blk);
}

uint32_t tk_sh_read(int fd, void *buf, uint32_t n) {
    uintptr_t blk[3] = {(uintptr_t)fd, (uintptr_t)buf, n};
    return n - (uint32_t)tk_semihost(TK_SH_READ, blk);     /* the call returns bytes NOT read */
}

uint32_t tk_sh_write(int fd, const void *buf, uint32_t n) {
    uintptr_t blk[3] = {(uintptr_t)fd, (uintptr_t)buf, n};
    return n - (uint32_t)tk_semihost(TK_SH_WRITE, blk);
}

void tk_report(const char *line) {
    tk_semihost(TK_SH_WRITE0, (void *)line);
    tk_console_puts(line);
}

void tk_exit(int code) {
    uintptr_t blk[2] = {TK_SH_APPLICATION_EXIT, (uintptr_t)code};
    for (;;) tk_semihost(TK_SH_EXIT_EXTENDED, blk);
}
