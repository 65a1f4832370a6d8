/* tinykiln firmware console: Arm CMSDK APB UART (MPS2/MPS3) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(0x10) = 16;     /* BAUDDIV: the smallest divider the UART accepts */
    REG(0x08) = 1;      /* CTRL: TX enable */
}

void tk_console_putc(char c) {
    while (REG(0x04) & 1u) {}      /* STATE bit 0: TX buffer full */
    REG(0x00) = (uint8_t)c;
}
