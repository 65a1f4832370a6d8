/* tinykiln's QEMU TCG plugin: exact counts of executed guest instructions, sampled at every
 * call of the firmware's marker function (tk_layer_mark).
 *
 * Usage: qemu-system-... -icount shift=0 -plugin libtk_count.so,marker=0xADDR,out=FILE
 * Every instruction adds 1 to a 64-bit counter (inline, no helper call). When the instruction at
 * the marker address executes, the counter's value is appended to a list; at exit the list is
 * written to FILE, one decimal number per line. The host turns differences between successive
 * samples into per-layer counts.
 *
 * Debian ships no qemu-plugin.h, so the few declarations of QEMU's stable plugin API (version 1,
 * QEMU 6.0 to 8.x) that this file uses are written out here. */
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
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

TK_EXPORT int qemu_plugin_version = 1;

static uint64_t insns;          /* instructions executed so far (single vCPU) */
static uint64_t marker;         /* address of tk_layer_mark */
static uint64_t *samples;
static size_t n_samples, cap_samples;
static char out_path[4096];

static void on_marker(unsigned int vcpu, void *userdata) {
    (void)vcpu;
    (void)userdata;
    if (n_samples == cap_samples) {
        cap_samples = cap_samples ? 2 * cap_samples : 4096;
        samples = realloc(samples, cap_samples * sizeof *samples);
        if (!samples) abort();
    }
    samples[n_samples++] = insns;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; ++i) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        /* the marker callback is registered first, so a sample excludes the marker's own
         * first instruction on every hit alike */
        if (qemu_plugin_insn_vaddr(insn) == marker)
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_marker, QEMU_PLUGIN_CB_NO_REGS, 0);
        qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &insns, 1);
    }
}

static void on_atexit(qemu_plugin_id_t id, void *userdata) {
    (void)id;
    (void)userdata;
    FILE *f = fopen(out_path, "w");
    if (!f) return;
    fprintf(f, "total %llu\n", (unsigned long long)insns);
    for (size_t i = 0; i < n_samples; ++i) fprintf(f, "%llu\n", (unsigned long long)samples[i]);
    fclose(f);
}

TK_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
    (void)info;
    for (int i = 0; i < argc; ++i) {
        if (strncmp(argv[i], "marker=", 7) == 0) {
            marker = strtoull(argv[i] + 7, 0, 0);
        } else if (strncmp(argv[i], "out=", 4) == 0) {
            strncpy(out_path, argv[i] + 4, sizeof out_path - 1);
        } else {
            fprintf(stderr, "tk_count: unknown argument '%s'\n", argv[i]);
            return -1;
        }
    }
    if (!marker || !out_path[0]) {
        fprintf(stderr, "tk_count: needs marker=ADDRESS and out=FILE\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, on_atexit, 0);
    return 0;
}
