/* tinykiln firmware console bring-up for the RP2040 (register map: RP2040 datasheet). After boot2
 * the chip runs from the ring oscillator (nominally 6.5 MHz, anywhere in 1.8-12 MHz): no baud
 * rate can be derived from it. This starts the crystal oscillator and runs clk_ref, clk_sys and
 * clk_peri (the UART's clock) from it, takes the UART, the GPIO muxes and the pads out of reset,
 * and gives the console pins their UART function. */
#include "tk_firmware.h"

#define R(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define CLOCKS 0x40008000u
#define RESETS 0x4000C000u
#define IO_BANK0 0x40014000u
#define XOSC 0x40024000u

#define RESET_IO_BANK0 (1u << 5)
#define RESET_PADS_BANK0 (1u << 8)
#define FUNCSEL_UART 2u

void tk_console_setup(void) {
    R(XOSC + 0x00u) = 0xAA0u;                       /* CTRL.FREQ_RANGE: 1-15 MHz */
    R(XOSC + 0x0Cu) = TK_XOSC_STARTUP_DELAY;        /* STARTUP.DELAY, 256-cycle units */
    R(XOSC + 0x00u) = (0xFABu << 12) | 0xAA0u;      /* CTRL.ENABLE */
    while (!(R(XOSC + 0x04u) & (1u << 31))) {}      /* STATUS.STABLE */

    R(CLOCKS + 0x34u) = 1u << 8;                    /* CLK_REF_DIV: 1 */
    R(CLOCKS + 0x30u) = 2u;                         /* CLK_REF_CTRL.SRC: xosc_clksrc */
    while (R(CLOCKS + 0x38u) != 1u << 2) {}         /* CLK_REF_SELECTED (one-hot) */
    R(CLOCKS + 0x40u) = 1u << 8;                    /* CLK_SYS_DIV: 1 */
    R(CLOCKS + 0x3Cu) = 0u;                         /* CLK_SYS_CTRL.SRC: clk_ref */
    while (R(CLOCKS + 0x44u) != 1u) {}              /* CLK_SYS_SELECTED */
    R(CLOCKS + 0x48u) = 1u << 11;                   /* CLK_PERI_CTRL: ENABLE, AUXSRC clk_sys */

    uint32_t bits = (1u << TK_CONSOLE_RESET_BIT) | RESET_IO_BANK0 | RESET_PADS_BANK0;
    R(RESETS + 0x0u) &= ~bits;                      /* RESET */
    while ((R(RESETS + 0x8u) & bits) != bits) {}    /* RESET_DONE */

    R(IO_BANK0 + 8u * TK_CONSOLE_TX_PIN + 4u) = FUNCSEL_UART;      /* GPIOn_CTRL */
#if TK_CONSOLE_HAS_RX
    R(IO_BANK0 + 8u * TK_CONSOLE_RX_PIN + 4u) = FUNCSEL_UART;
#endif
}
