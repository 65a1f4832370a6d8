/* tinykiln firmware console: Arm PrimeCell PL011 UART (Stellaris, RP2040) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
#if TK_CONSOLE_SETUP
    tk_console_setup();             /* clocks, resets and pins (console_setup_<family>.c) */
    REG(0x24) = TK_CONSOLE_IBRD;    /* UARTIBRD: integer part of clock / (16 * baud) */
    REG(0x28) = TK_CONSOLE_FBRD;    /* UARTFBRD: fraction, in 64ths */
    REG(0x2C) = (3u << 5) | (1u << 4);  /* UARTLCR_H: 8N1, FIFOs on; latches IBRD/FBRD */
#endif
    REG(0x30) = (1u << 8) | 1u;     /* UARTCR: TXE | UARTEN */
}

void tk_console_putc(char c) {
    while (REG(0x18) & (1u << 5)) {}   /* UARTFR.TXFF */
    REG(0x00) = (uint8_t)c;
}
