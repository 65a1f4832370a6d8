/* tinykiln firmware console: nRF51 UART (legacy, non-DMA) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(0x500) = 4;     /* ENABLE */
    REG(0x008) = 1;     /* TASKS_STARTTX */
}

void tk_console_putc(char c) {
    REG(0x11C) = 0;     /* EVENTS_TXDRDY */
    REG(0x51C) = (uint8_t)c;
    while (REG(0x11C) == 0) {}
}
