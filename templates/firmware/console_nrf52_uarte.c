/* tinykiln firmware console: nRF52 UARTE (EasyDMA from RAM; TX on P0.06 as on the nRF52840-DK) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

static volatile uint8_t tk_tx;

void tk_console_init(void) {
    REG(0x50C) = 6;             /* PSEL.TXD = P0.06 */
    REG(0x524) = 0x01D7E000u;   /* BAUDRATE 115200 */
    REG(0x500) = 8;             /* ENABLE (UARTE) */
}

void tk_console_putc(char c) {
    tk_tx = (uint8_t)c;
    REG(0x120) = 0;                         /* EVENTS_ENDTX */
    REG(0x544) = (uint32_t)(uintptr_t)&tk_tx;   /* TXD.PTR */
    REG(0x548) = 1;                         /* TXD.MAXCNT */
    REG(0x008) = 1;                         /* TASKS_STARTTX */
    while (REG(0x120) == 0) {}
}
