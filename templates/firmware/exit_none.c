/* tinykiln firmware: the exit method of a real board without a debugger: report on the console,
 * then sleep forever. */
#include "tk_firmware.h"

void tk_report(const char *line) { tk_console_puts(line); }

void tk_exit(int code) {
    (void)code;
    for (;;) __asm__ volatile("wfi");   /* same mnemonic on Arm M-profile and RISC-V */
}
