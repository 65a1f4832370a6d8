/* tinykiln's QEMU TCG plugin: exact counts of executed guest instructions, sampled at every
 * call of the firmware's marker function (tk_layer_mark).
 *
 * Usage: qemu-system-... -icount shift=0 -plugin libtk_count.so,marker=0xADDR,out=FILE[,classes=1]
 * Every instruction adds 1 to a 64-bit counter (inline, no helper call). When the instruction at
 * the marker address executes, the counter's value is appended to a list; at exit the list is
 * written to FILE, one sample a line. The host turns differences between successive samples into
 * per-layer counts.
 *
 * With classes=1 (Arm Thumb code) every instruction is also classified once, when QEMU translates
 * it, from its disassembly (load, store, load/store multiple, multiply, DSP multiply-accumulate,
 * 64-bit multiply, divide, branch, ...; see tk_class below) and adds 1 to its class's counter (a
 * second inline add); a load/store multiple (or LDRD/STRD, VLDM/VPUSH, 64-bit VLDR) also adds its
 * register count to a counter of transferred registers. A taken control transfer is found at the
 * start of each executed translation block: QEMU ends a block at every branch, so a block that
 * does not start where the previously executed block ended was entered by a taken branch (or a
 * load or data-processing instruction writing the PC, an exception entry or return). That check is
 * one helper call per executed block; it is exact for branches, except that a taken branch to the
 * very next instruction looks sequential. The back-branch of an Armv8.1-M loop end (LE/LETP) is
 * not counted as taken: the Cortex-M55 runs a cached low-overhead loop without a refill.
 * Each sample line then reads
 *   instructions class_0 ... class_{N-1} registers_transferred taken_transfers
 * and the host turns the classes into estimated cycles (compiler/targets/cycles.py).
 * dump=FILE also writes every translated instruction (address, class, disassembly).
 *
 * Debian ships no qemu-plugin.h, so the few declarations of QEMU's stable plugin API (version 1,
 * QEMU 6.0 to 8.x) that this file uses are written out here. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TK_EXPORT __attribute__((visibility("default")))

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;     /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };

typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

TK_EXPORT int qemu_plugin_version = 1;

/* Instruction classes; the names are written to the output file's first line and
 * compiler/targets/cycles.py gives each one a cost per core. */
enum {
    C_ALU,          /* everything else: data processing, compare, move, IT, SIMD add/sub, ... */
    C_LD,           /* single load (LDR/LDRB/LDRH/LDRSB/LDRSH/LDREX, VLDR of an S register) */
    C_LS_PIPE,      /* single load or store the Cortex-M4 pipelines: after a single load, or
                     * a store with an immediate offset */
    C_ST,           /* other single store (register offset, not after a load) */
    C_LDM,          /* load/store multiple or double: LDM STM PUSH POP LDRD STRD VLDM VSTM VPUSH
                     * VPOP, 64-bit VLDR/VSTR; its register count goes to `regs` */
    C_MUL,          /* MUL MLA MLS */
    C_DSPMAC,       /* DSP multiplies: SMLAD family, SMUAD/SMUSD, SMLAxy SMULxy SMLAWy SMULWy,
                     * SMMUL SMMLA SMMLS */
    C_MUL64,        /* 64-bit results: SMULL UMULL SMLAL UMLAL UMAAL SMLALD SMLSLD SMLALxy */
    C_DIV,          /* SDIV UDIV */
    C_BRANCH,       /* B, Bcc, BL, BX, BLX, CBZ, CBNZ, TBB, TBH (taken ones also count in `taken`) */
    C_FMAC,         /* floating-point multiply-accumulate: VMLA VMLS VNMLA VNMLS VFMA VFMS ... */
    C_FDIV,         /* VDIV VSQRT */
    N_CLASSES
};
static const char *const class_names[N_CLASSES] = {
    "alu", "load", "ldst_pipelined", "store", "multiple", "mul", "dsp_mac", "mul64", "div",
    "branch", "fp_mac", "fp_div"};

#define N_COUNTERS (1 + N_CLASSES + 2)
static uint64_t counters[N_COUNTERS];   /* instructions, classes..., regs, taken (single vCPU) */
#define INSNS counters[0]
#define REGS counters[1 + N_CLASSES]
#define TAKEN counters[2 + N_CLASSES]

static uint64_t marker;         /* address of tk_layer_mark */
static int with_classes;
static uint64_t *samples;       /* n_samples rows of n_cols counters */
static size_t n_samples, cap_samples, n_cols = 1;
static char out_path[4096];
static FILE *dump;

struct tb_span { uint64_t start, end; int loop_end; };
static uint64_t last_end;       /* end address of the previously executed block, 0 at first */
static int last_loop_end;       /* that block ended in LE/LETP (no refill: see below) */

static void on_marker(unsigned int vcpu, void *userdata) {
    (void)vcpu;
    (void)userdata;
    if (n_samples == cap_samples) {
        cap_samples = cap_samples ? 2 * cap_samples : 4096;
        samples = realloc(samples, cap_samples * n_cols * sizeof *samples);
        if (!samples) abort();
    }
    memcpy(samples + n_samples * n_cols, counters, n_cols * sizeof *samples);
    n_samples++;
}

static void on_tb_exec(unsigned int vcpu, void *userdata) {
    (void)vcpu;
    const struct tb_span *s = userdata;
    if (last_end && s->start != last_end && !last_loop_end) TAKEN++;
    last_end = s->end;
    last_loop_end = s->loop_end;
}

/* Registers named in a {list}: "r4, r5, lr" = 3, "d8, d9" = 4 (a D register is two words),
 * "r4-r7" = 4. */
static int list_regs(const char *ops) {
    const char *p = strchr(ops, '{');
    if (!p) return 0;
    int n = 0;
    while (*p && *p != '}') {
        while (*p && !isalpha((unsigned char)*p) && *p != '}') p++;
        if (!*p || *p == '}') break;
        char kind = *p;
        long a = strtol(p + 1, (char **)&p, 10), b = a;
        if (*p == '-') {
            p++;
            while (*p && isalpha((unsigned char)*p)) p++;
            b = strtol(p, (char **)&p, 10);
        }
        int words = (kind == 'd') ? 2 : 1;
        n += (int)(b >= a ? b - a + 1 : 1) * words;
        while (*p && *p != ',' && *p != '}') p++;
    }
    return n;
}

static int starts(const char *m, const char *prefix) { return strncmp(m, prefix, strlen(prefix)) == 0; }

static int is_one_of(const char *m, const char *const *names) {
    for (; *names; ++names)
        if (strcmp(m, *names) == 0) return 1;
    return 0;
}

/* The base mnemonic: lower case, without a ".w"/".n"/".f32"/... suffix. */
static void base_mnemonic(const char *text, char *m, size_t cap, const char **ops) {
    size_t i = 0;
    while (*text == ' ') text++;
    while (text[i] && text[i] != ' ' && text[i] != '\t' && text[i] != '.' && i + 1 < cap) {
        m[i] = (char)tolower((unsigned char)text[i]);
        i++;
    }
    m[i] = 0;
    const char *p = text + i;
    while (*p && *p != ' ' && *p != '\t') p++;
    *ops = p;
}

static const char *const cond_suffixes[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs",
                                            "vc", "hi", "ls", "ge", "lt", "gt", "le", "al", 0};
static const char *const muls[] = {"mul", "muls", "mla", "mls", 0};
static const char *const dsp_macs[] = {
    "smlad", "smladx", "smlsd", "smlsdx", "smuad", "smuadx", "smusd", "smusdx", "smlabb", "smlabt",
    "smlatb", "smlatt", "smulbb", "smulbt", "smultb", "smultt", "smlawb", "smlawt", "smulwb",
    "smulwt", "smmul", "smmulr", "smmla", "smmlar", "smmls", "smmlsr", 0};
static const char *const mul64s[] = {
    "smull", "umull", "smlal", "umlal", "umaal", "smlald", "smlaldx", "smlsld", "smlsldx",
    "smlalbb", "smlalbt", "smlaltb", "smlaltt", 0};
static const char *const divs[] = {"sdiv", "udiv", 0};
static const char *const branches[] = {"b", "bl", "bx", "blx", "cbz", "cbnz", "tbb", "tbh",
                                       "bxns", "blxns", 0};
static const char *const fmacs[] = {"vmla", "vmls", "vnmla", "vnmls", "vfma", "vfms", "vfnma",
                                    "vfnms", 0};
static const char *const fdivs[] = {"vdiv", "vsqrt", 0};
static const char *const multiples[] = {"ldm", "ldmia", "ldmdb", "ldmfd", "stm", "stmia", "stmdb",
                                        "stmea", "stmfd", "push", "pop", "vldm", "vldmia",
                                        "vldmdb", "vstm", "vstmia", "vstmdb", "vpush", "vpop", 0};
static const char *const doubles[] = {"ldrd", "strd", "ldrexd", "strexd", 0};

/* Class of a mnemonic that names a whole instruction (no condition code), or -1. */
static int exact_class(const char *m) {
    static const struct { const char *const *names; int cls; } table[] = {
        {multiples, C_LDM}, {doubles, C_LDM}, {muls, C_MUL}, {dsp_macs, C_DSPMAC},
        {mul64s, C_MUL64}, {divs, C_DIV}, {branches, C_BRANCH}, {fmacs, C_FMAC},
        {fdivs, C_FDIV}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i)
        if (is_one_of(m, table[i].names)) return table[i].cls;
    return -1;
}

/* A store's address has a register offset: "[rn, rm...]" (not "[rn]" or "[rn, #imm]"). */
static int register_offset(const char *ops) {
    const char *b = strchr(ops, '[');
    if (!b) return 0;
    const char *close = strchr(b, ']');
    const char *c = strchr(b, ',');
    if (!c || (close && c > close)) return 0;
    c++;
    while (*c == ' ') c++;
    return *c != '#' && *c != '-';
}

/* Armv8.1-M low-overhead-branch instructions, which QEMU 7.2's disassembler prints as ".byte":
 * 1 for WLS/WLSTP/LE/LETP (branches), 2 for LE/LETP (loop end), 3 for DLS/DLSTP, else 0. */
static int lob_kind(const uint8_t *b) {
    unsigned hw1 = b[0] | (unsigned)b[1] << 8, hw2 = b[2] | (unsigned)b[3] << 8;
    if ((hw1 & 0xFF80) != 0xF000 || (hw2 & 0xD001) != 0xC001) return 0;
    if ((hw1 & 0xFFCF) == 0xF00F) return 2;            /* LE, LETP (0xF00F, 0xF01F, 0xF02F) */
    if (hw2 & 0x2000) return hw2 == 0xE001 ? 3 : 0;    /* DLS, DLSTP */
    return 1;                                           /* WLS, WLSTP */
}

/* Class of one instruction from its disassembly; *regs gets the registers a multiple or double
 * moves, *is_load whether it is a single load (the Cortex-M4 pipelines a load or store right
 * after one). prev_load: the previous instruction of the same block was a single load. */
static int tk_class(const char *text, int prev_load, int *regs, int *is_load) {
    char m[32];
    const char *ops;
    base_mnemonic(text, m, sizeof m, &ops);
    *regs = 0;
    *is_load = 0;
    int c = exact_class(m);
    if (c < 0 && strlen(m) > 2 && is_one_of(m + strlen(m) - 2, cond_suffixes)) {
        char base[32];
        memcpy(base, m, strlen(m) - 2);
        base[strlen(m) - 2] = 0;
        c = exact_class(base);          /* inside an IT block: "addne", "ldrdeq", "bls" = b + ls */
    }
    if (c == C_LDM) {
        *regs = is_one_of(m, doubles) || starts(m, "ldrd") || starts(m, "strd") ? 2
                                                                                : list_regs(ops);
        return C_LDM;
    }
    if (c >= 0) return c;
    if (strcmp(m, "vldr") == 0 || strcmp(m, "vstr") == 0 || starts(m, "vldr") ||
        starts(m, "vstr")) {
        const char *r = ops;
        while (*r == ' ' || *r == '\t') r++;
        if (*r == 'd') {
            *regs = 2;
            return C_LDM;
        }
        if (m[1] == 'l') {
            *is_load = 1;
            return prev_load ? C_LS_PIPE : C_LD;
        }
        return C_LS_PIPE;               /* VSTR: immediate offset */
    }
    if (starts(m, "ldr") || starts(m, "lda")) {
        *is_load = 1;
        return prev_load ? C_LS_PIPE : C_LD;
    }
    if (starts(m, "str") || starts(m, "stl"))
        return (!register_offset(ops) || prev_load) ? C_LS_PIPE : C_ST;
    return C_ALU;
}

/* Bytes of a Thumb instruction, from its first halfword: 0b11101, 0b11110 and 0b11111 in the top
 * five bits start a 32-bit instruction. (qemu_plugin_insn_size is not used: in QEMU 7.2 the last
 * instruction of a block can include the first halfword of the next one, which the translator
 * read to see whether it crosses a page.) */
static uint64_t thumb_size(const struct qemu_plugin_insn *insn) {
    const uint8_t *b = qemu_plugin_insn_data(insn);
    unsigned hw = b[0] | (unsigned)b[1] << 8;
    return (hw & 0xF800) >= 0xE800 ? 4 : 2;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    if (with_classes && n) {
        struct tb_span *s = malloc(sizeof *s);      /* lives as long as QEMU may run the block */
        if (!s) abort();
        struct qemu_plugin_insn *lastin = qemu_plugin_tb_get_insn(tb, n - 1);
        s->start = qemu_plugin_tb_vaddr(tb);
        s->end = qemu_plugin_insn_vaddr(lastin) + thumb_size(lastin);
        s->loop_end = thumb_size(lastin) == 4 && lob_kind(qemu_plugin_insn_data(lastin)) == 2;
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, s);
    }
    int prev_load = 0;
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t va = qemu_plugin_insn_vaddr(insn);
        /* the marker callback is registered first, so a sample excludes the marker's own
         * first instruction on every hit alike */
        if (va == marker)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, 0);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &INSNS, 1);
        if (!with_classes) continue;
        char *text = qemu_plugin_insn_disas(insn);
        int regs = 0, is_load = 0;
        int c = tk_class(text ? text : "", prev_load, &regs, &is_load);
        int lob = (!text || text[0] == '.') && thumb_size(insn) == 4
                      ? lob_kind(qemu_plugin_insn_data(insn)) : 0;
        if (lob == 1 || lob == 2) c = C_BRANCH;
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64,
                                                   &counters[1 + c], 1);
        if (regs)
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &REGS,
                                                       (uint64_t)regs);
        if (dump)
            fprintf(dump, "%#llx %s %d %s\n", (unsigned long long)va, class_names[c], regs,
                    text ? text : "?");
        prev_load = is_load;
        free(text);
    }
}

static void on_atexit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    if (dump) fclose(dump);
    FILE *f = fopen(out_path, "w");
    if (!f) return;
    fprintf(f, "total %llu\n", (unsigned long long)INSNS);
    fprintf(f, "columns instructions");
    if (with_classes) {
        for (int c = 0; c < N_CLASSES; ++c) fprintf(f, " %s", class_names[c]);
        fprintf(f, " registers taken");
    }
    fprintf(f, "\n");
    for (size_t i = 0; i < n_samples; ++i) {
        for (size_t k = 0; k < n_cols; ++k)
            fprintf(f, k ? " %llu" : "%llu", (unsigned long long)samples[i * n_cols + k]);
        fprintf(f, "\n");
    }
    fclose(f);
}

TK_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "marker=", 7) == 0) {
            marker = strtoull(argv[i] + 7, 0, 0);
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
        } else if (strcmp(argv[i], "classes=1") == 0) {
            with_classes = 1;
        } else if (strncmp(argv[i], "dump=", 5) == 0) {
            dump = fopen(argv[i] + 5, "w");
            if (!dump) {
                fprintf(stderr, "tk_count: cannot write '%s'\n", argv[i] + 5);
                return -1;
            }
        } else {
            fprintf(stderr, "tk_count: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!marker || !out_path[0]) {
        fprintf(stderr, "tk_count: needs marker=ADDRESS and out=FILE\n");
        return -1;
    }
    n_cols = with_classes ? N_COUNTERS : 1;
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_atexit, 0);
    return 0;
}
