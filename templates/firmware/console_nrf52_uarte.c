/* tinykiln firmware console: nRF52 UARTE (EasyDMA from RAM; base address TK_CONSOLE_BASE, pins and
 * baud rate from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint32_t *)(TK_CONSOLE_BASE + (off)))

static volatile uint8_t tk_tx;

void tk_console_init(void) {
    tk_console_setup();                     /* HFXO and the pins' GPIO configuration */
    REG(0x50C) = TK_CONSOLE_TX_PIN;         /* PSEL.TXD: port * 32 + pin, connected */
#if TK_CONSOLE_HAS_RX
    REG(0x514) = TK_CONSOLE_RX_PIN;         /* PSEL.RXD */
#endif
    REG(0x524) = TK_CONSOLE_BAUDRATE;       /* BAUDRATE (the UARTE's table, not the UART's) */
    REG(0x500) = 8;                         /* ENABLE: UARTE */
}

void tk_console_putc(char c) {
    tk_tx = (uint8_t)c;
    REG(0x120) = 0;                         /* EVENTS_ENDTX */
    REG(0x544) = (uint32_t)(uintptr_t)&tk_tx;   /* TXD.PTR */
    REG(0x548) = 1;                         /* TXD.MAXCNT */
    REG(0x008) = 1;                         /* TASKS_STARTTX */
    while (REG(0x120) == 0) {}
}
