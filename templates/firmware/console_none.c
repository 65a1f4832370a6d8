/* tinykiln firmware console: none (the board has no text channel). */
#include "tk_firmware.h"

void tk_console_init(void) {}
void tk_console_putc(char c) { (void)c; }
