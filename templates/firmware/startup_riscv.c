/* tinykiln firmware: RV32 machine-mode reset and trap handling. _start sets gp, sp and the trap
 * vector; every trap is a fault worth reporting (the image enables no interrupts). */
#include <string.h>
#include "tk_firmware.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
/* (start, end) address pairs of the arena's parts in RAM regions beyond RAM (link.ld) */
extern const uint32_t __tk_zero_start__[], __tk_zero_end__[];
int main(void);
__attribute__((noreturn, used)) void tk_reset(void);
__attribute__((noreturn, used)) void tk_trap_c(uint32_t mcause, uint32_t mepc, uint32_t mtval,
                                               uint32_t sp);

/* binutils 2.40 wants zicsr named explicitly for csr instructions */
__asm__(".section .text.tk_start, \"ax\"\n"
        ".globl _start\n"
        "_start:\n"
        ".option push\n"
        ".option norelax\n"
        "    la gp, __global_pointer$\n"
        ".option pop\n"
        "    la sp, __stack_top__\n"
        "    la t0, tk_trap_entry\n"
        ".option push\n"
        ".option arch, +zicsr\n"
        "    csrw mtvec, t0\n"
        ".option pop\n"
        "    j tk_reset\n"
        ".balign 4\n"
        "tk_trap_entry:\n"
        ".option push\n"
        ".option arch, +zicsr\n"
        "    csrr a0, mcause\n"
        "    csrr a1, mepc\n"
        "    csrr a2, mtval\n"
        ".option pop\n"
        "    mv a3, sp\n"
        "    la sp, __stack_top__\n"
        "    j tk_trap_c\n");

void tk_reset(void) {
    memcpy(__data_start__, __data_load__,
           (size_t)((uintptr_t)__data_end__ - (uintptr_t)__data_start__));
    memset(__bss_start__, 0, (size_t)((uintptr_t)__bss_end__ - (uintptr_t)__bss_start__));
    for (const uint32_t *z = __tk_zero_start__; z < __tk_zero_end__; z += 2)
        memset((void *)(uintptr_t)z[0], 0, (size_t)(z[1] - z[0]));
    uint32_t *sp;
    __asm__ volatile("mv %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = __stack_bottom__; p < sp - 16; ++p) *p = TK_STACK_PAINT;
    tk_exit(main());
}

static char *tk_reg(char *p, const char *name, uint32_t v) {
    p = tk_str(p, " ");
    p = tk_str(p, name);
    p = tk_str(p, "=");
    return tk_fmt_hex(p, v);
}

void tk_trap_c(uint32_t mcause, uint32_t mepc, uint32_t mtval, uint32_t sp) {
    static char line[200];
    char *p = tk_str(line, "tinykiln-fault: trap");
    p = tk_reg(p, "mcause", mcause);
    p = tk_reg(p, "pc", mepc);
    p = tk_reg(p, "mtval", mtval);
    p = tk_reg(p, "sp", sp);
    tk_str(p, "\n");
    tk_report(line);
    tk_exit(TK_EXIT_FAULT);
}
