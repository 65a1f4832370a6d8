/* Test and benchmark harness for runtime_c/dsp on an emulated board, built around the firmware's
 * startup, console, exit and flags by tinykiln.targets.firmware.build_harness (tests/dsp_harness.py
 * writes dsp_harness_cfg.h: the emitted tables and configs, the buffer types and sizes, the call).
 * For every frame in tk_in.bin (the input buffer's bytes, then an int16 pre-emphasis history when
 * TK_HAS_PREV) it calls the block between two calls of tk_dsp_mark (the counting plugin's marker)
 * and writes the block's int32 return value (0 for void blocks) and its output to tk_out.bin. */
#include "semihost.h"
#include "tk_firmware.h"
#include "dsp_harness_cfg.h"

void tk_dsp_mark(void);

/* noipa: a call site sees an ordinary external call (no inlining, no register-usage shortcuts),
 * as it would for a marker in another file; the body is a single return. */
__attribute__((noinline, noipa)) void tk_dsp_mark(void) {
    __asm__ volatile("" ::: "memory");
}

static TK_IN_T buf[TK_IN_LEN] __attribute__((aligned(8)));
static TK_OUT_T out[TK_OUT_LEN] __attribute__((aligned(8)));
#if TK_SCRATCH_WORDS
static int32_t scratch[TK_SCRATCH_WORDS] __attribute__((aligned(8)));
#endif

static int fail(const char *line) {
    tk_report(line);
    return TK_EXIT_IO;
}

int main(void) {
    int fin = tk_sh_open("tk_in.bin", TK_SH_MODE_RB);
    int fout = tk_sh_open("tk_out.bin", TK_SH_MODE_WB);
    if (fin < 0 || fout < 0) return fail("tinykiln-io: cannot open tk_in.bin or tk_out.bin\n");
    for (;;) {
        if (tk_sh_read(fin, buf, sizeof buf) != sizeof buf) break;
#if TK_HAS_PREV
        int16_t prev;
        if (tk_sh_read(fin, &prev, sizeof prev) != sizeof prev)
            return fail("tinykiln-io: tk_in.bin ends inside a frame\n");
#endif
        int32_t r = 0;
        tk_dsp_mark();
        TK_CALL();
        tk_dsp_mark();
        if (tk_sh_write(fout, &r, sizeof r) != sizeof r || tk_sh_write(fout, out, sizeof out) != sizeof out)
            return fail("tinykiln-io: writing tk_out.bin failed\n");
    }
    tk_sh_close(fin);
    tk_sh_close(fout);
    return TK_EXIT_OK;
}
