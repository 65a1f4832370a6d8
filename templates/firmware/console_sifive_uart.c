/* tinykiln firmware console: SiFive UART (FE310) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(0x08) = 1;      /* txctrl.txen */
}

void tk_console_putc(char c) {
    while (REG(0x00) & 0x80000000u) {}  /* txdata.full */
    REG(0x00) = (uint8_t)c;
}
