/* tinykiln firmware console bring-up for STM32 (F4, F7, L4, H7 alike): sets the board file's
 * enable bits in order (peripheral clocks, supply-valid bits such as PWR_CR2.IOSV), then routes
 * the TX and RX pins to the UART's alternate function. The core clock stays as reset left it;
 * the UART's divisor for that clock comes from the board file (console.clock_hz). */
#include "tk_firmware.h"

#define GPIO(port, off) (*(volatile uint32_t *)(uintptr_t)((port) + (off)))

static const uint32_t tk_enables[][2] = TK_CONSOLE_ENABLES;

static void tk_pin_af(uint32_t port, uint32_t pin) {
    uint32_t s = 4u * (pin & 7u);
    uint32_t afr = 0x20u + 4u * (pin >> 3);                         /* AFRL or AFRH */
    GPIO(port, afr) = (GPIO(port, afr) & ~(0xFu << s)) | ((uint32_t)TK_CONSOLE_PIN_AF << s);
    s = 2u * pin;
    GPIO(port, 0x00u) = (GPIO(port, 0x00u) & ~(3u << s)) | (2u << s);  /* MODER: alternate */
}

void tk_console_setup(void) {
    for (uint32_t i = 0; i < sizeof tk_enables / sizeof tk_enables[0]; ++i) {
        volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)tk_enables[i][0];
        *r |= tk_enables[i][1];
        (void)*r;       /* read back: the clock runs before the peripheral is first accessed */
    }
    tk_pin_af(TK_CONSOLE_TX_PORT, TK_CONSOLE_TX_PIN);
#if TK_CONSOLE_HAS_RX
    tk_pin_af(TK_CONSOLE_RX_PORT, TK_CONSOLE_RX_PIN);
#endif
}
