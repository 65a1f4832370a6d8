/* tinykiln firmware console: STM32 USART with SR/DR registers (F1/F2/F4) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(0x0C) = (1u << 13) | (1u << 3);     /* CR1: UE | TE (clocks and pins set up by the board) */
}

void tk_console_putc(char c) {
    while (!(REG(0x00) & (1u << 7))) {}     /* SR.TXE */
    REG(0x04) = (uint8_t)c;
}
