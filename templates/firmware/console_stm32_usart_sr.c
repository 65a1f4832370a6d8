/* tinykiln firmware console: STM32 USART with SR/DR registers (F1/F2/F4) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
#if TK_CONSOLE_SETUP
    tk_console_setup();                     /* clocks and pins (console_setup_<family>.c) */
    REG(0x08) = TK_CONSOLE_BRR;             /* BRR: clock / baud, 16x oversampling */
#endif
    REG(0x0C) = (1u << 13) | (1u << 3);     /* CR1: UE | TE */
}

void tk_console_putc(char c) {
    while (!(REG(0x00) & (1u << 7))) {}     /* SR.TXE */
    REG(0x04) = (uint8_t)c;
}
