/* edgecraft instruction counter: a QEMU TCG plugin (plugin API version 1).
 *
 * Counts every executed guest instruction exactly (an inline add per instruction) and records
 * the count when the first instruction at address `start` and at address `stop` executes (the
 * harness's marker functions around one inference), and, when `op` is given, at every
 * execution of that address between the two (the model's per-operator hook). At exit it writes
 * "total <n>", "start <n>", "stop <n>" and one "op <n>" line per hook call to the file `out`.
 *
 * Arguments: start=<hex address>,stop=<hex address>,out=<path>[,op=<hex address>].
 * Debian ships no qemu-plugin.h, so the few API declarations used are written out here; they
 * match include/qemu/qemu-plugin.h of QEMU 4.2 to 8.x. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef struct qemu_info_t qemu_info_t;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS = 0 };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
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

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

#define MAX_OPS 4096
static uint64_t count, start_count, stop_count, start_addr, stop_addr, op_addr;
static uint64_t op_counts[MAX_OPS];
static int n_ops;
static int started, stopped;
static char out_path[4096];

static void on_start(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (!started) {
    started = 1;
    start_count = count;
  }
}

static void on_stop(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (started && !stopped) {
    stopped = 1;
    stop_count = count;
  }
}

static void on_op(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (started && !stopped && n_ops < MAX_OPS) op_counts[n_ops++] = count;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    /* Marker callbacks are registered first, so they see the count before this instruction. */
    if (pc == start_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (pc == stop_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (op_addr && pc == op_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_op, QEMU_PLUGIN_CB_NO_REGS, NULL);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
  }
}

static void write_counts(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  FILE *f = fopen(out_path, "w");
  if (!f) return;
  fprintf(f, "total %llu\nstart %llu\nstop %llu\nstarted %d\nstopped %d\n", (unsigned long long)count,
          (unsigned long long)start_count, (unsigned long long)stop_count, started, stopped);
  for (int i = 0; i < n_ops; i++) fprintf(f, "op %llu\n", (unsigned long long)op_counts[i]);
  fclose(f);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                                               int argc, char **argv) {
  (void)info;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "start=", 6) == 0) start_addr = strtoull(argv[i] + 6, NULL, 0);
    else if (strncmp(argv[i], "stop=", 5) == 0) stop_addr = strtoull(argv[i] + 5, NULL, 0);
    else if (strncmp(argv[i], "op=", 3) == 0) op_addr = strtoull(argv[i] + 3, NULL, 0);
    else if (strncmp(argv[i], "out=", 4) == 0) snprintf(out_path, sizeof out_path, "%s", argv[i] + 4);
    else return -1;
  }
  if (!out_path[0]) return -1;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, write_counts, NULL);
  return 0;
}
