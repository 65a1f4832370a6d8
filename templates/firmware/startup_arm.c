/* tinykiln firmware: Arm Cortex-M reset and fault handling. The vector table holds the initial
 * stack pointer, the reset handler, and one shared handler for every other exception: the image
 * enables no interrupts, so any other exception is a fault worth reporting. */
#include <string.h>
#include "tk_firmware.h"

extern uint32_t __data_load__[], __data_start__[], __data_end__[], __bss_start__[], __bss_end__[];
/* (start, end) address pairs of the arena's parts in RAM regions beyond RAM (link.ld) */
extern const uint32_t __tk_zero_start__[], __tk_zero_end__[];
int main(void);
__attribute__((noreturn, used)) void tk_reset(void);
__attribute__((naked)) void tk_fault_entry(void);
__attribute__((noreturn, used)) void tk_fault_c(const uint32_t *frame, uint32_t exc_return);

#ifdef TK_CHAINLOADED
/* An image a bootloader (MCUboot) starts by jumping to its reset vector, not from reset: the
 * entry points VTOR at this image's table (faults come here, not to the bootloader's handlers),
 * masks the interrupts the bootloader may leave pending, and takes the main stack from the
 * table (CONTROL = 0: MSP, privileged) before the C reset code runs. */
__attribute__((naked, noreturn)) void tk_chain_entry(void);
#define TK_ENTRY tk_chain_entry
#else
#define TK_ENTRY tk_reset
#endif

#define TK_F tk_fault_entry
__attribute__((section(".isr_vector"), used))
void (*const tk_vectors[16])(void) = {
    (void (*)(void))__stack_top__, TK_ENTRY, TK_F, TK_F, TK_F, TK_F, TK_F, TK_F,
    TK_F, TK_F, TK_F, TK_F, TK_F, TK_F, TK_F, TK_F,
};

void tk_reset(void) {
#if TK_HAS_FPU
    /* CPACR: full access to CP10/CP11 (FPU, and MVE on v8.1-M) before any FP instruction */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
    memcpy(__data_start__, __data_load__,
           (size_t)((uintptr_t)__data_end__ - (uintptr_t)__data_start__));
    memset(__bss_start__, 0, (size_t)((uintptr_t)__bss_end__ - (uintptr_t)__bss_start__));
    for (const uint32_t *z = __tk_zero_start__; z < __tk_zero_end__; z += 2)
        memset((void *)(uintptr_t)z[0], 0, (size_t)(z[1] - z[0]));
    /* paint the unused stack (leaving 64 bytes below this frame) for tk_stack_peak() */
    uint32_t *sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    for (volatile uint32_t *p = __stack_bottom__; p < sp - 16; ++p) *p = TK_STACK_PAINT;
    tk_exit(main());
}

#ifdef TK_CHAINLOADED
/* Thumb-1 instructions only (ARMv6-M cores with a VTOR: Cortex-M0+) */
void tk_chain_entry(void) {
    __asm__ volatile(
        "cpsid i\n\t"
        "ldr r0, =tk_vectors\n\t"
        "ldr r1, =0xE000ED08\n\t"      /* SCB->VTOR */
        "str r0, [r1]\n\t"
        "ldr r1, [r0]\n\t"
        "msr msp, r1\n\t"
        "movs r1, #0\n\t"
        "msr control, r1\n\t"
        "dsb\n\t"
        "isb\n\t"
        "ldr r2, =tk_reset\n\t"
        "bx r2\n\t"
        ".ltorg\n");
}
#endif

/* Pick the stack the exception frame was pushed on (EXC_RETURN bit 2) and hand it to C.
 * Thumb-1 instructions only, so the same code runs on ARMv6-M. */
void tk_fault_entry(void) {
    __asm__ volatile(
        "movs r0, #4\n\t"
        "mov r1, lr\n\t"
        "tst r0, r1\n\t"
        "beq 1f\n\t"
        "mrs r0, psp\n\t"
        "b 2f\n"
        "1:\n\t"
        "mrs r0, msp\n"
        "2:\n\t"
        "mov r1, lr\n\t"
        "ldr r2, =tk_fault_c\n\t"
        "bx r2\n\t"
        ".ltorg\n");
}

static const char *const tk_exc_names[16] = {
    "Thread", "Reset", "NMI", "HardFault", "MemManage", "BusFault", "UsageFault", "SecureFault",
    "Reserved8", "Reserved9", "Reserved10", "SVCall", "DebugMonitor", "Reserved13", "PendSV",
    "SysTick",
};

static char *tk_reg(char *p, const char *name, uint32_t v) {
    p = tk_str(p, " ");
    p = tk_str(p, name);
    p = tk_str(p, "=");
    return tk_fmt_hex(p, v);
}

void tk_fault_c(const uint32_t *frame, uint32_t exc_return) {
    static char line[300];     /* longest report: about 270 characters */
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1FFu;
    char *p = tk_str(line, "tinykiln-fault: ");
    if (ipsr < 16) {
        p = tk_str(p, tk_exc_names[ipsr]);
    } else {
        p = tk_str(p, "IRQ");
        p = tk_fmt_u32(p, ipsr - 16);
    }
    static const char *const names[8] = {"r0", "r1", "r2", "r3", "r12", "lr", "pc", "xpsr"};
    for (int i = 0; i < 8; ++i) p = tk_reg(p, names[i], frame[i]);
    p = tk_reg(p, "sp", (uint32_t)(uintptr_t)(frame + 8));
    p = tk_reg(p, "exc_return", exc_return);
#if TK_HAS_FAULT_REGS
    p = tk_reg(p, "cfsr", *(volatile uint32_t *)0xE000ED28u);
    p = tk_reg(p, "hfsr", *(volatile uint32_t *)0xE000ED2Cu);
    p = tk_reg(p, "mmfar", *(volatile uint32_t *)0xE000ED34u);
    p = tk_reg(p, "bfar", *(volatile uint32_t *)0xE000ED38u);
#endif
    tk_str(p, "\n");
    tk_report(line);
    tk_exit(TK_EXIT_FAULT);
}
