/* edgecraft instruction counter: a QEMU TCG plugin (plugin API version 1).
 *
 * Counts every executed guest instruction exactly, per instruction class (an inline add per
 * instruction into its class's counter), and records all counters when the first instruction
 * at address `start` and at address `stop` executes (the harness's marker functions around one
 * inference), and, when `op` is given, at every execution of that address between the two (the
 * model's per-operator hook).
 *
 * Classes come from the instruction's disassembly (QEMU's, through capstone) at translation
 * time, with the raw encoding as a fallback for what capstone 4 cannot name (Helium/MVE):
 * single loads and stores (and those that directly follow another single load or store in the
 * same translation block: the Cortex-M3/M4 pipeline overlaps them), load/store multiple (with
 * the number of registers moved), 32-bit multiply, long multiply, DSP multiply-accumulate, SIMD,
 * divide, FPU (arithmetic, divide/square root, loads/stores), MVE (arithmetic, loads/stores, and
 * either directly after one of the other kind in the same block: mve_overlapped, since a
 * dual-beat core starts it while the other finishes on its own pipe),
 * branches (unconditional, calls, conditional, loads into pc), low-overhead loop start and end
 * (Armv8.1-M) and the rest (ALU). A conditional branch
 * always ends a translation block, so it was taken exactly when the next block executed does
 * not start at the address after it: a per-block callback counts taken and not taken (a branch
 * to the very next instruction counts as not taken; compilers do not emit those).
 *
 * Memory (when `flash=<lo>:<hi>` names the machine's flash, where code and constants are linked; a
 * second `flash=` names a separate constants region):
 * every data access the core makes is counted by region and direction (flash_load, flash_store,
 * ram_load, ram_store; a load or store multiple counts one access per register), and two small
 * caches are simulated in front of flash, as on the boards whose flash needs wait states: a data
 * cache that flash data reads go through (`dcache=<lines>x<bytes>`) and an instruction cache that
 * every executed block's instruction lines go through (`icache=<lines>x<bytes>`), both fully
 * associative with least-recently-used replacement. flash_load_miss and fetch_miss count the
 * lines each had to read from flash; fetch_lines counts the instruction lines executed blocks
 * touched (hits and misses). A second, bigger pair (`dcache_big=`, `icache_big=`, default 256x32
 * each: the 8 KB and larger flash caches of most boards) counts flash_load_miss_big and
 * fetch_miss_big on the same accesses, so one run prices boards with either kind of cache.
 *
 * At exit it writes the file `out`: "total <n>", "start <class counts...>", "stop <...>", one
 * "op <...>" line per hook call, each a space-separated list in the order of CLASS_NAMES (the
 * first line, "classes ..."). With `log=<path>` it also writes each translated instruction
 * (address, class, disassembly) once, for checking the classifier.
 *
 * Arguments: start=<hex>,stop=<hex>,out=<path>[,op=<hex>][,log=<path>][,flash=<lo>:<hi>]
 * [,dcache=<lines>x<bytes>][,icache=<lines>x<bytes>][,dcache_big=...][,icache_big=...] (caches default
 * to 32x8, 32x32, 256x32 and 256x32).
 * Debian ships no qemu-plugin.h, so the few API declarations used are written out here; they
 * match include/qemu/qemu-plugin.h of QEMU 4.2 to 8.x. */
#include <ctype.h>
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
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
                                          enum qemu_plugin_cb_flags flags, void *userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
char *qemu_plugin_insn_disas(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_mem_rw { QEMU_PLUGIN_MEM_R = 1, QEMU_PLUGIN_MEM_W, QEMU_PLUGIN_MEM_RW };
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info, uint64_t vaddr,
                                          void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags, enum qemu_plugin_mem_rw rw, void *userdata);
_Bool qemu_plugin_mem_is_store(qemu_plugin_meminfo_t info);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum {
  C_ALU, C_LOAD, C_LOAD_PIPE, C_STORE, C_STORE_PIPE, C_LDM, C_STM, C_LDM_REGS, C_STM_REGS, C_MUL, C_MULL,
  C_MAC, C_SIMD, C_DIV, C_BRANCH, C_CALL, C_BRANCH_COND, C_TAKEN, C_NOT_TAKEN, C_LOAD_PC, C_FPU, C_FPU_DIV,
  C_FPU_LDST, C_MVE, C_MVE_LDST, C_MVE_OVERLAP, C_LOOP_START, C_LOOP_END, C_SYSTEM, C_TOTAL, C_FLASH_LOAD, C_FLASH_STORE,
  C_RAM_LOAD, C_RAM_STORE, C_FLASH_LOAD_MISS, C_FETCH_LINES, C_FETCH_MISS, C_FLASH_LOAD_MISS_BIG, C_FETCH_MISS_BIG,
  N_COUNTERS
};
static const char *const CLASS_NAMES[N_COUNTERS] = {
    "alu", "load", "load_pipelined", "store", "store_pipelined", "load_multiple", "store_multiple",
    "load_multiple_regs", "store_multiple_regs", "mul", "mul_long", "mac", "simd", "div", "branch",
    "call", "branch_cond", "branch_taken", "branch_not_taken", "load_pc", "fpu", "fpu_div", "fpu_ldst", "mve",
    "mve_ldst", "mve_overlapped", "loop_start", "loop_end", "system", "total", "flash_load", "flash_store", "ram_load", "ram_store",
    "flash_load_miss", "fetch_lines", "fetch_miss", "flash_load_miss_big", "fetch_miss_big"};

#define MAX_OPS 4096
static uint64_t counts[N_COUNTERS];
static uint64_t start_counts[N_COUNTERS], stop_counts[N_COUNTERS];
static uint64_t (*op_counts)[N_COUNTERS];
static uint64_t start_addr, stop_addr, op_addr;
static int n_ops, started, stopped;
static char out_path[4096], log_path[4096];
static FILE *log_file;

/* What the block-exec callback needs to know about a translated block. */
struct tb_info {
  uint64_t vaddr;
  uint64_t fallthrough; /* address after its last instruction */
  int ends_in_cond_branch;
};
static const struct tb_info *last_tb;

/* ---- memory regions and the caches in front of flash ---- */
#define MAX_REGIONS 2 /* code flash, and a separate constants region where the machine has one */
static uint64_t flash_lo[MAX_REGIONS], flash_hi[MAX_REGIONS]; /* [lo, hi) */
static int n_flash;                                          /* 0: memory is not counted */
#define MAX_LINES 256
struct cache {
  unsigned lines, shift; /* line size 1 << shift bytes */
  uint64_t tag[MAX_LINES], used[MAX_LINES], clock;
};
static struct cache dcache = {32, 3, {0}, {0}, 0}, icache = {32, 5, {0}, {0}, 0};
static struct cache dcache_big = {256, 5, {0}, {0}, 0}, icache_big = {256, 5, {0}, {0}, 0};

/* Look `addr`'s line up; on a miss it replaces the least recently used line. Returns 1 on a miss.
 * Tags are stored plus one so that zero means an empty line. */
static int cache_access(struct cache *c, uint64_t addr) {
  uint64_t tag = (addr >> c->shift) + 1;
  unsigned victim = 0;
  c->clock++;
  for (unsigned i = 0; i < c->lines; i++) {
    if (c->tag[i] == tag) {
      c->used[i] = c->clock;
      return 0;
    }
    if (c->used[i] < c->used[victim]) victim = i;
  }
  c->tag[victim] = tag;
  c->used[victim] = c->clock;
  return 1;
}

static int in_flash(uint64_t addr) {
  for (int i = 0; i < n_flash; i++)
    if (addr >= flash_lo[i] && addr < flash_hi[i]) return 1;
  return 0;
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *udata) {
  (void)vcpu;
  (void)udata;
  int store = qemu_plugin_mem_is_store(info);
  if (!in_flash(vaddr)) {
    counts[store ? C_RAM_STORE : C_RAM_LOAD]++;
  } else if (store) {
    counts[C_FLASH_STORE]++;
  } else {
    counts[C_FLASH_LOAD]++;
    counts[C_FLASH_LOAD_MISS] += cache_access(&dcache, vaddr);
    counts[C_FLASH_LOAD_MISS_BIG] += cache_access(&dcache_big, vaddr);
  }
}

/* The instruction lines a block occupies, through the instruction cache (blocks in flash only). */
static void fetch_block(uint64_t lo, uint64_t hi) {
  if (hi <= lo || !in_flash(lo)) return;
  for (uint64_t line = lo >> icache.shift; line <= (hi - 1) >> icache.shift; line++) {
    counts[C_FETCH_LINES]++;
    counts[C_FETCH_MISS] += cache_access(&icache, line << icache.shift);
  }
  for (uint64_t line = lo >> icache_big.shift; line <= (hi - 1) >> icache_big.shift; line++)
    counts[C_FETCH_MISS_BIG] += cache_access(&icache_big, line << icache_big.shift);
}

static int parse_cache(const char *arg, struct cache *c) {
  char *end;
  unsigned long lines = strtoul(arg, &end, 10), bytes;
  if (*end != 'x') return -1;
  bytes = strtoul(end + 1, &end, 10);
  if (*end || lines < 1 || lines > MAX_LINES || bytes < 4 || (bytes & (bytes - 1))) return -1;
  c->lines = (unsigned)lines;
  for (c->shift = 0; (1ul << c->shift) < bytes; c->shift++) {
  }
  return 0;
}

static void on_start(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (!started) {
    started = 1;
    memcpy(start_counts, counts, sizeof counts);
  }
}

static void on_stop(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (started && !stopped) {
    stopped = 1;
    memcpy(stop_counts, counts, sizeof counts);
  }
}

static void on_op(unsigned int vcpu, void *udata) {
  (void)vcpu;
  (void)udata;
  if (started && !stopped && n_ops < MAX_OPS) memcpy(op_counts[n_ops++], counts, sizeof counts);
}

static void on_tb_exec(unsigned int vcpu, void *udata) {
  (void)vcpu;
  const struct tb_info *tb = udata;
  if (last_tb && last_tb->ends_in_cond_branch) counts[tb->vaddr == last_tb->fallthrough ? C_NOT_TAKEN : C_TAKEN]++;
  if (n_flash) fetch_block(tb->vaddr, tb->fallthrough);
  last_tb = tb;
}

/* ---- the classifier ---- */
static const char *const CONDS[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs",
                                    "vc", "hi", "ls", "ge", "lt", "gt", "le", NULL};

static int is_cond(const char *s) {
  for (int i = 0; CONDS[i]; i++)
    if (strcmp(s, CONDS[i]) == 0) return 1;
  return 0;
}

static int starts(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int in_list(const char *s, const char *const *list) {
  for (int i = 0; list[i]; i++)
    if (strcmp(s, list[i]) == 0) return 1;
  return 0;
}

/* `base` without a trailing condition code, if what is left is in `list`. */
static int base_in(const char *m, const char *const *list, int *cond) {
  if (in_list(m, list)) {
    *cond = 0;
    return 1;
  }
  size_t n = strlen(m);
  if (n > 2 && is_cond(m + n - 2)) {
    char b[32];
    if (n - 2 >= sizeof b) return 0;
    memcpy(b, m, n - 2);
    b[n - 2] = 0;
    if (in_list(b, list)) {
      *cond = 1;
      return 1;
    }
  }
  return 0;
}

static int count_regs(const char *ops) {
  const char *open = strchr(ops, '{');
  if (!open) return 0;
  int n = 1;
  for (const char *p = open; *p && *p != '}'; p++) n += *p == ',';
  for (const char *p = open; *p && *p != '}'; p++)
    if (*p == '-') { /* a range r4-r7 */
      int a = atoi(p - 1), b = atoi(p + 2);
      if (p[1] == 'r' && b > a) n += b - a;
    }
  return n;
}

/* Thumb-2 encodings capstone 4 does not decode: Armv8.1-M low-overhead loops (DLS/WLS start a
 * loop, LE/LETP end an iteration) and MVE, which lives in the coprocessor and Advanced SIMD
 * spaces (first halfword 111x 11xx xxxx xxxx). */
static int raw_class(const uint8_t *b, size_t size) {
  if (size != 4) return C_ALU;
  unsigned hw1 = b[0] | (unsigned)b[1] << 8, hw2 = b[2] | (unsigned)b[3] << 8;
  if ((hw1 & 0xFFCFu) == 0xF00Fu && (hw2 & 0xF001u) == 0xC001u) return C_LOOP_END;
  if ((hw1 & 0xFFC0u) == 0xF040u && (hw2 & 0xD001u) == 0xC001u) return C_LOOP_START;
  if ((hw1 & 0xFFC0u) == 0xF000u && (hw2 & 0xF001u) == 0xE001u) return C_LOOP_START; /* DLSTP */
  if ((hw1 & 0xEC00u) != 0xEC00u) return C_ALU;
  unsigned cp = (hw2 >> 8) & 0xFu;
  if ((hw1 & 0xFE00u) == 0xEC00u || (hw1 & 0xFF00u) == 0xED00u || (hw1 & 0xFF00u) == 0xFC00u ||
      (hw1 & 0xFF00u) == 0xFD00u)
    return (cp == 0xA || cp == 0xB) && (hw1 & 0xF000u) == 0xE000u ? C_FPU_LDST : C_MVE_LDST;
  return (cp == 0xA || cp == 0xB) && (hw1 & 0xF000u) == 0xE000u ? C_FPU : C_MVE;
}

static const char *const LOADS[] = {"ldr", "ldrb", "ldrh", "ldrsb", "ldrsh", "ldrex", "ldrexb", "ldrexh",
                                    "ldrt", "ldrbt", "ldrht", "ldrsbt", "ldrsht", "lda", "ldab", "ldah",
                                    "ldaex", NULL};
static const char *const STORES[] = {"str", "strb", "strh", "strex", "strexb", "strexh", "strt", "strbt",
                                     "strht", "stl", "stlb", "stlh", "stlex", NULL};
static const char *const LDMS[] = {"ldm", "ldmia", "ldmdb", "ldmfd", "pop", "ldrd", NULL};
static const char *const STMS[] = {"stm", "stmia", "stmdb", "stmea", "push", "strd", NULL};
static const char *const MULS[] = {"mul", "muls", "mla", "mls", NULL};
static const char *const MULLS[] = {"smull", "umull", "smlal", "umlal", "umaal", NULL};
static const char *const DIVS[] = {"sdiv", "udiv", NULL};
static const char *const BRANCHES[] = {"b", "bl", "blx", "bx", "tbb", "tbh", NULL}; /* bl, blx: calls */
static const char *const SYSTEM[] = {"bkpt", "svc", "dsb", "dmb", "isb", "msr", "mrs", "cpsid", "cpsie",
                                     "wfi", "wfe", "sev", "udf", NULL};
/* DSP multiplies (Armv7E-M): 16x16 and 32x16 multiply(-accumulate), dual and most-significant-word. */
static const char *const MAC_PREFIXES[] = {"smla", "smlsd", "smlsld", "smul", "smuad", "smusd", "smmul",
                                           "smmla", "smmls", "usad", NULL};
static const char *const SIMD_PREFIXES[] = {"sxtb16", "uxtb16", "sxtab16", "uxtab16", "sadd", "ssub", "uadd",
                                            "usub", "qadd", "qsub", "qdadd", "qdsub", "shadd", "shsub",
                                            "uqadd", "uqsub", "uhadd", "uhsub", "pkh", "sel", "ssat16",
                                            "usat16", "sasx", "ssax", "qasx", "qsax", "uasx", "usax", NULL};

static int classify(const char *disas, const uint8_t *bytes, size_t size, int *regs) {
  char m[32] = {0};
  size_t i = 0;
  while (disas[i] && !isspace((unsigned char)disas[i]) && i < sizeof m - 1) {
    m[i] = (char)tolower((unsigned char)disas[i]);
    i++;
  }
  const char *ops = disas + i;
  char *dot = strstr(m, ".w");
  if (!dot) dot = strstr(m, ".n");
  if (dot && dot[2] == 0) *dot = 0;
  int cond = 0;
  *regs = 0;
  /* capstone 4 shows MVE as generic coprocessor instructions (ldc, stc, cdp, mcr, ...) */
  if (m[0] == 0 || strcmp(m, "unknown") == 0 || starts(m, ".") || starts(m, "ldc") || starts(m, "stc") ||
      starts(m, "cdp") || starts(m, "mcr") || starts(m, "mrc"))
    return raw_class(bytes, size);
  int writes_pc = strstr(ops, "pc}") != NULL || (strncmp(ops + strspn(ops, " \t"), "pc,", 3) == 0);
  if (base_in(m, LDMS, &cond)) {
    *regs = starts(m, "ldrd") ? 2 : count_regs(ops);
    return writes_pc ? (cond ? C_BRANCH_COND : C_LOAD_PC) : C_LDM;
  }
  if (base_in(m, STMS, &cond)) {
    *regs = starts(m, "strd") ? 2 : count_regs(ops);
    return C_STM;
  }
  if (base_in(m, LOADS, &cond)) {
    if (writes_pc) {
      *regs = 1;
      return cond ? C_BRANCH_COND : C_LOAD_PC;
    }
    return C_LOAD;
  }
  if (base_in(m, STORES, &cond)) return C_STORE;
  if (strcmp(m, "cbz") == 0 || strcmp(m, "cbnz") == 0) return C_BRANCH_COND;
  if (base_in(m, BRANCHES, &cond)) return cond ? C_BRANCH_COND : (starts(m, "bl") ? C_CALL : C_BRANCH);
  if (writes_pc) return C_BRANCH; /* mov pc, add pc */
  if (base_in(m, DIVS, &cond)) return C_DIV;
  if (base_in(m, MULLS, &cond)) return C_MULL;
  if (base_in(m, MULS, &cond)) return C_MUL;
  for (int k = 0; MAC_PREFIXES[k]; k++)
    if (starts(m, MAC_PREFIXES[k])) return C_MAC;
  for (int k = 0; SIMD_PREFIXES[k]; k++)
    if (starts(m, SIMD_PREFIXES[k])) return C_SIMD;
  if (base_in(m, SYSTEM, &cond)) return C_SYSTEM;
  if (m[0] == 'v') {
    if (strstr(ops, " q") || strstr(ops, "{q"))
      return starts(m, "vld") || starts(m, "vst") ? C_MVE_LDST : C_MVE;
    if (starts(m, "vldr") || starts(m, "vstr") || starts(m, "vldm") || starts(m, "vstm") || starts(m, "vpush") ||
        starts(m, "vpop")) {
      *regs = starts(m, "vldr") || starts(m, "vstr") ? 1 : count_regs(ops);
      return C_FPU_LDST;
    }
    if (starts(m, "vdiv") || starts(m, "vsqrt")) return C_FPU_DIV;
    return C_FPU;
  }
  return C_ALU;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  struct tb_info *info = calloc(1, sizeof *info); /* lives as long as the block may run */
  if (!info) abort();
  info->vaddr = qemu_plugin_tb_vaddr(tb);
  int prev = -1, prev_kind = -1; /* the class before the rewrites below */
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    uint64_t pc = qemu_plugin_insn_vaddr(insn);
    size_t size = qemu_plugin_insn_size(insn);
    char *disas = qemu_plugin_insn_disas(insn);
    int regs = 0;
    int cls = classify(disas ? disas : "", qemu_plugin_insn_data(insn), size, &regs);
    if (cls == C_LOAD && (prev == C_LOAD || prev == C_LOAD_PIPE || prev == C_STORE || prev == C_STORE_PIPE))
      cls = C_LOAD_PIPE;
    else if (cls == C_STORE && (prev == C_LOAD || prev == C_LOAD_PIPE)) cls = C_STORE_PIPE;
    int kind = cls;
    if ((cls == C_MVE && prev_kind == C_MVE_LDST) || (cls == C_MVE_LDST && prev_kind == C_MVE))
      cls = C_MVE_OVERLAP;
    if (log_file) fprintf(log_file, "%#llx %s %s\n", (unsigned long long)pc, CLASS_NAMES[cls], disas ? disas : "?");
    free(disas);
    /* Marker callbacks are registered first, so they see the counts before this instruction. */
    if (pc == start_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (pc == stop_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
    if (op_addr && pc == op_addr) qemu_plugin_register_vcpu_insn_exec_cb(insn, on_op, QEMU_PLUGIN_CB_NO_REGS, NULL);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[C_TOTAL], 1);
    qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[cls], 1);
    if (regs && (cls == C_LDM || cls == C_LOAD_PC || cls == C_BRANCH_COND))
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[C_LDM_REGS], regs);
    if (regs && cls == C_STM)
      qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &counts[C_STM_REGS], regs);
    if (n_flash) qemu_plugin_register_vcpu_mem_cb(insn, on_mem, QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_MEM_RW, NULL);
    if (i + 1 == n) {
      info->fallthrough = pc + size;
      info->ends_in_cond_branch = cls == C_BRANCH_COND;
    }
    prev = cls;
    prev_kind = kind;
  }
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_tb_exec, QEMU_PLUGIN_CB_NO_REGS, info);
}

static void write_line(FILE *f, const char *key, const uint64_t *c) {
  fputs(key, f);
  for (int k = 0; k < N_COUNTERS; k++) fprintf(f, " %llu", (unsigned long long)c[k]);
  fputc('\n', f);
}

static void write_counts(qemu_plugin_id_t id, void *udata) {
  (void)id;
  (void)udata;
  if (log_file) fclose(log_file);
  FILE *f = fopen(out_path, "w");
  if (!f) return;
  fputs("classes", f);
  for (int k = 0; k < N_COUNTERS; k++) fprintf(f, " %s", CLASS_NAMES[k]);
  fprintf(f, "\ntotal %llu\nstarted %d\nstopped %d\n", (unsigned long long)counts[C_TOTAL], started, stopped);
  write_line(f, "start", start_counts);
  write_line(f, "stop", stop_counts);
  for (int i = 0; i < n_ops; i++) write_line(f, "op", op_counts[i]);
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
    else if (strncmp(argv[i], "log=", 4) == 0) snprintf(log_path, sizeof log_path, "%s", argv[i] + 4);
    else if (strncmp(argv[i], "flash=", 6) == 0) {
      char *end;
      if (n_flash == MAX_REGIONS) return -1;
      flash_lo[n_flash] = strtoull(argv[i] + 6, &end, 0);
      if (*end != ':') return -1;
      flash_hi[n_flash] = strtoull(end + 1, &end, 0);
      if (*end || flash_hi[n_flash] <= flash_lo[n_flash]) return -1;
      n_flash++;
    } else if (strncmp(argv[i], "dcache=", 7) == 0) {
      if (parse_cache(argv[i] + 7, &dcache)) return -1;
    } else if (strncmp(argv[i], "icache=", 7) == 0) {
      if (parse_cache(argv[i] + 7, &icache)) return -1;
    } else if (strncmp(argv[i], "dcache_big=", 11) == 0) {
      if (parse_cache(argv[i] + 11, &dcache_big)) return -1;
    } else if (strncmp(argv[i], "icache_big=", 11) == 0) {
      if (parse_cache(argv[i] + 11, &icache_big)) return -1;
    } else
      return -1;
  }
  if (!out_path[0]) return -1;
  op_counts = calloc(MAX_OPS, sizeof *op_counts);
  if (!op_counts) return -1;
  if (log_path[0] && !(log_file = fopen(log_path, "w"))) return -1;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, write_counts, NULL);
  return 0;
}
