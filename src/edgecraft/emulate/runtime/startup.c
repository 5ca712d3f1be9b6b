/* edgecraft bare-metal runtime for QEMU's Cortex-M machines: vector table, reset handler,
 * semihosting calls (no C library I/O), stack painting and the markers around one inference.
 * The reset handler copies .data, zeroes .bss, enables the FPU/MVE coprocessors where the core
 * has them, calls main and exits QEMU through semihosting with main's result. */
#include <stdint.h>

#include "ec_runtime.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint8_t __stack_limit[], __stack_top[];
int main(void);

/* ---- semihosting ---- */
enum { SYS_OPEN = 0x01, SYS_CLOSE = 0x02, SYS_WRITE0 = 0x04, SYS_WRITE = 0x05, SYS_READ = 0x06,
       SYS_EXIT = 0x18 };

static int semihost(int op, const void *arg) {
  register int r0 __asm__("r0") = op;
  register const void *r1 __asm__("r1") = arg;
  __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
  return r0;
}

static uint32_t length(const char *s) {
  uint32_t n = 0;
  while (s[n]) ++n;
  return n;
}

void ec_print(const char *s) { semihost(SYS_WRITE0, s); }

void ec_print_uint(const char *label, uint32_t v) {
  char buf[12];
  int i = 11;
  buf[i] = 0;
  do {
    buf[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v && i > 0);
  ec_print(label);
  ec_print(buf + i);
}

int ec_open(const char *path, int write) {
  const uint32_t args[3] = {(uint32_t)(uintptr_t)path, write ? 5u : 1u, length(path)};
  return semihost(SYS_OPEN, args);
}

int ec_read(int handle, void *buf, uint32_t n) {
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, n};
  return semihost(SYS_READ, args) == 0 ? 0 : -1; /* returns the bytes NOT read */
}

int ec_write(int handle, const void *buf, uint32_t n) {
  const uint32_t args[3] = {(uint32_t)handle, (uint32_t)(uintptr_t)buf, n};
  return semihost(SYS_WRITE, args) == 0 ? 0 : -1;
}

void ec_close(int handle) {
  const uint32_t args[1] = {(uint32_t)handle};
  semihost(SYS_CLOSE, args);
}

void ec_exit(int code) {
  /* ADP_Stopped_ApplicationExit makes QEMU exit 0; RunTimeErrorUnknown makes it exit 1. */
  semihost(SYS_EXIT, (const void *)(uintptr_t)(code == 0 ? 0x20026 : 0x20023));
  for (;;) {
  }
}

/* ---- stack painting ---- */
#define PAINT 0xC5u
static uint8_t *painted_top;

__attribute__((noinline)) void ec_paint_stack(void) {
  uint8_t *sp;
  __asm__ volatile("mov %0, sp" : "=r"(sp));
  painted_top = sp - 64; /* leave this function's own frame alone */
  for (volatile uint8_t *p = __stack_limit; p < painted_top; ++p) *p = PAINT;
}

uint32_t ec_stack_used(uint8_t *caller_sp) {
  const uint8_t *p = __stack_limit;
  while (p < painted_top && *p == PAINT) ++p;
  return (uint32_t)(caller_sp - p);
}

/* ---- markers: the instruction-counting plugin watches their first instructions ---- */
__attribute__((noinline)) void ec_marker_start(void) { __asm__ volatile("" ::: "memory"); }
__attribute__((noinline)) void ec_marker_stop(void) { __asm__ volatile("" ::: "memory"); }
/* Called before each operator when the model is built with -DEC_PROFILE. */
__attribute__((noinline)) void ec_marker_op(void) { __asm__ volatile("" ::: "memory"); }

/* ---- reset and faults ---- */
void Reset_Handler(void) {
  for (uint32_t *src = __data_load, *dst = __data_start; dst < __data_end;) *dst++ = *src++;
  for (uint32_t *dst = __bss_start; dst < __bss_end;) *dst++ = 0;
#if defined(__ARM_FP) || defined(__ARM_FEATURE_MVE)
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: CP10 and CP11 full access */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  ec_exit(main());
}

void Fault_Handler(void) {
  ec_print("edgecraft: the core took a fault (bad memory access or instruction)\n");
  ec_exit(99);
}

typedef void (*vector)(void);
__attribute__((section(".vectors"), used)) const vector ec_vectors[16] = {
    (vector)(uintptr_t)__stack_top, Reset_Handler, Fault_Handler, Fault_Handler, Fault_Handler,
    Fault_Handler, Fault_Handler, Fault_Handler, 0, 0, 0, Fault_Handler, Fault_Handler, 0,
    Fault_Handler, Fault_Handler,
};
