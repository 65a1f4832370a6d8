/* tinykiln firmware main for real boards without a host link: runs one inference on the
 * (zeroed) input buffers and prints an output checksum and the peak stack on the console. */
#include "tk_firmware.h"
#include TK_MODEL_HEADER

int main(void) {
    tk_console_init();
    tk_console_puts("tinykiln: " TK_MODEL_NAME " on " TK_BOARD_NAME "\n");
    TK_INVOKE();
    uint32_t sum = 0;
    for (int i = 0; i < TK_NUM_OUTPUTS; ++i) {
        const uint8_t *o = (const uint8_t *)TK_OUTPUT(i);
        for (uint32_t k = 0; k < TK_OUTPUT_BYTES(i); ++k) sum = sum * 31u + o[k];
    }
    static char line[100];
    char *p = tk_str(line, "tinykiln: output checksum ");
    p = tk_fmt_hex(p, sum);
    p = tk_str(p, ", peak stack ");
    p = tk_fmt_u32(p, tk_stack_peak());
    tk_str(p, " bytes\n");
    tk_console_puts(line);
    return TK_EXIT_OK;
}
