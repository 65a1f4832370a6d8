/* tinykiln firmware: what the startup code, the console driver, the exit method and the firmware
 * main share. tk_config.h is generated per build from the board file and the model. */
#ifndef TK_FIRMWARE_H
#define TK_FIRMWARE_H

#include <stdint.h>
#include "tk_config.h"

/* exit codes seen by the host (QEMU's exit status under semihosting) */
#define TK_EXIT_OK 0
#define TK_EXIT_IO 2        /* semihosting file missing, short row, write failed */
#define TK_EXIT_FAULT 3     /* a CPU fault or trap; a "tinykiln-fault:" line says which */

/* stack painting: every word of the stack is set to this before main (peak-stack measurement) */
#define TK_STACK_PAINT 0xA5A5A5A5u

extern uint32_t __stack_bottom__[], __stack_top__[];

void tk_console_init(void);
void tk_console_putc(char c);
void tk_console_puts(const char *s);

/* Ends the program: under semihosting QEMU exits with `code`; on a real board the core sleeps. */
__attribute__((noreturn)) void tk_exit(int code);

/* Reports a fault line on every channel the board has (semihosting debug output, console). */
void tk_report(const char *line);

/* The profiling marker: called before each layer and with -1 after the last (TK_LAYER_HOOK).
 * Never inlined, so an instruction-counting emulator plugin can find it by address. */
void tk_layer_mark(int op_index);

/* Bytes of stack ever used since reset (highest painted word overwritten). */
uint32_t tk_stack_peak(void);

/* Decimal and hex formatting without printf; return the end of the written text (NUL added). */
char *tk_fmt_u32(char *out, uint32_t v);
char *tk_fmt_hex(char *out, uint32_t v);
char *tk_str(char *out, const char *s);

/* Console bring-up on boards whose board file has console.setup (TK_CONSOLE_SETUP): the chip's
 * clocks and pin routing, called by tk_console_init before it programs the UART. */
void tk_console_setup(void);

#endif /* TK_FIRMWARE_H */
