/* tinykiln firmware console: Arm PrimeCell PL011 UART (Stellaris, RP2040) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(0x30) = (1u << 8) | 1u;     /* UARTCR: TXE | UARTEN (clocks and pins set up by the board) */
}

void tk_console_putc(char c) {
    while (REG(0x18) & (1u << 5)) {}   /* UARTFR.TXFF */
    REG(0x00) = (uint8_t)c;
}
