/* tinykiln firmware console bring-up for the nRF52 (register map: nRF52840 Product
 * Specification). The UARTE's baud rate is only as accurate as HFCLK, so the 32 MHz crystal
 * oscillator is started first; then the pins get the GPIO configuration the UARTE expects
 * before it is enabled: TXD an output driving high (idle), RXD an input. */
#include "tk_firmware.h"

#define R(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

#define CLOCK 0x40000000u
#define PORT(pin) (0x50000000u + 0x300u * ((uint32_t)(pin) >> 5))     /* P0, P1 */
#define PIN_CNF(pin) (PORT(pin) + 0x700u + 4u * ((uint32_t)(pin) & 31u))

void tk_console_setup(void) {
    R(CLOCK + 0x100u) = 0u;                         /* EVENTS_HFCLKSTARTED */
    R(CLOCK + 0x000u) = 1u;                         /* TASKS_HFCLKSTART */
    while (R(CLOCK + 0x100u) == 0u) {}

    R(PORT(TK_CONSOLE_TX_PIN) + 0x508u) = 1u << (TK_CONSOLE_TX_PIN & 31);  /* OUTSET */
    R(PIN_CNF(TK_CONSOLE_TX_PIN)) = 3u;             /* DIR output, input buffer disconnected */
#if TK_CONSOLE_HAS_RX
    R(PIN_CNF(TK_CONSOLE_RX_PIN)) = 0u;             /* DIR input, input buffer connected */
#endif
}
