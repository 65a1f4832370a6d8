/* tinykiln firmware console: NS16550A-compatible UART with byte-wide registers (reg-shift 0,
 * QEMU's virt machines) (base address TK_CONSOLE_BASE from the board file). */
#include "tk_firmware.h"

#define REG(off) (*(volatile uint8_t *)(TK_CONSOLE_BASE + (off)))

void tk_console_init(void) {
    REG(1) = 0x00;      /* IER: no interrupts */
    REG(3) = 0x03;      /* LCR: 8 data bits, no parity, 1 stop bit, DLAB off */
    REG(2) = 0x07;      /* FCR: FIFOs on and cleared */
}

void tk_console_putc(char c) {
    while (!(REG(5) & 0x20u)) {}    /* LSR.THRE: the transmit holding register is empty */
    REG(0) = (uint8_t)c;
}
