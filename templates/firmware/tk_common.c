/* tinykiln firmware: helpers every image links (marker, stack peak, formatting, console puts). */
#include "tk_firmware.h"

/* noipa: gcc must neither inline the call nor drop it as side-effect free; the empty asm keeps
 * the argument live. The body is a single return on every target. */
__attribute__((noinline, noipa)) void tk_layer_mark(int op_index) {
    __asm__ volatile("" : : "r"(op_index) : "memory");
}

uint32_t tk_stack_peak(void) {
    const uint32_t *p = __stack_bottom__;
    while (p < __stack_top__ && *p == TK_STACK_PAINT) ++p;
    return (uint32_t)((uintptr_t)__stack_top__ - (uintptr_t)p);
}

char *tk_str(char *out, const char *s) {
    while (*s) *out++ = *s++;
    *out = 0;
    return out;
}

char *tk_fmt_u32(char *out, uint32_t v) {
    char tmp[11];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v);
    while (n) *out++ = tmp[--n];
    *out = 0;
    return out;
}

char *tk_fmt_hex(char *out, uint32_t v) {
    out = tk_str(out, "0x");
    for (int s = 28; s >= 0; s -= 4) *out++ = "0123456789abcdef"[(v >> s) & 0xFu];
    *out = 0;
    return out;
}

void tk_console_puts(const char *s) {
    while (*s) {
        if (*s == '\n') tk_console_putc('\r');
        tk_console_putc(*s++);
    }
}
