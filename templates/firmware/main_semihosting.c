/* tinykiln firmware main for emulated boards: reads input rows from the host file tk_in.bin
 * (every model input's bytes, in order), runs one inference per row, writes every output's bytes
 * to tk_out.bin, then writes tk_stats.txt (rows, peak stack) and exits with status 0. */
#include "semihost.h"
#include "tk_firmware.h"
#include TK_MODEL_HEADER

int main(void) {
    tk_console_init();
    tk_console_puts("tinykiln: " TK_MODEL_NAME " on " TK_BOARD_NAME "\n");
    int fin = tk_sh_open("tk_in.bin", TK_SH_MODE_RB);
    int fout = tk_sh_open("tk_out.bin", TK_SH_MODE_WB);
    if (fin < 0 || fout < 0) {
        tk_report("tinykiln-io: cannot open tk_in.bin or tk_out.bin over semihosting\n");
        return TK_EXIT_IO;
    }
    uint32_t rows = 0;
    for (;;) {
        int i;
        uint32_t got = 0, want = 0;
        for (i = 0; i < TK_NUM_INPUTS; ++i) {
            want = TK_INPUT_BYTES(i);
            got = tk_sh_read(fin, TK_INPUT(i), want);
            if (got != want) break;
        }
        if (i == 0 && got == 0) break;          /* end of file at a row boundary */
        if (i < TK_NUM_INPUTS) {
            tk_report("tinykiln-io: tk_in.bin ends inside a row\n");
            return TK_EXIT_IO;
        }
        TK_INVOKE();
        for (i = 0; i < TK_NUM_OUTPUTS; ++i) {
            if (tk_sh_write(fout, TK_OUTPUT(i), TK_OUTPUT_BYTES(i)) != TK_OUTPUT_BYTES(i)) {
                tk_report("tinykiln-io: writing tk_out.bin failed\n");
                return TK_EXIT_IO;
            }
        }
        ++rows;
    }
    tk_sh_close(fin);
    tk_sh_close(fout);
    static char stats[120];
    char *p = tk_str(stats, "rows ");
    p = tk_fmt_u32(p, rows);
    p = tk_str(p, "\nstack_peak ");
    p = tk_fmt_u32(p, tk_stack_peak());
    p = tk_str(p, "\nstack_size ");
    p = tk_fmt_u32(p, (uint32_t)((uintptr_t)__stack_top__ - (uintptr_t)__stack_bottom__));
    p = tk_str(p, "\n");
    int fs = tk_sh_open("tk_stats.txt", TK_SH_MODE_WB);
    if (fs < 0 || tk_sh_write(fs, stats, (uint32_t)(p - stats)) != (uint32_t)(p - stats))
        return TK_EXIT_IO;
    tk_sh_close(fs);
    return TK_EXIT_OK;
}
