/* tinykiln firmware console: STM32 USART/LPUART with ISR/TDR registers (F7/L4/H7; LPUART too) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
#if TK_CONSOLE_SETUP
    tk_console_setup();                     /* clocks and pins (console_setup_<family>.c) */
    REG(0x0C) = TK_CONSOLE_BRR;             /* BRR, writable while UE = 0 (USART: clock / baud;
                                               LPUART: 256 * clock / baud) */
#endif
    REG(0x00) = (1u << 3) | 1u;             /* CR1: TE | UE */
}

void tk_console_putc(char c) {
    while (!(REG(0x1C) & (1u << 7))) {}     /* ISR.TXE */
    REG(0x28) = (uint8_t)c;
}
