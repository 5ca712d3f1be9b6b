/* edgecraft bare-metal runtime for QEMU (see startup.c). */
#ifndef EC_RUNTIME_H
#define EC_RUNTIME_H
#include <stdint.h>

void ec_print(const char *s);
void ec_print_uint(const char *label, uint32_t v);
int ec_open(const char *path, int write);
int ec_read(int handle, void *buf, uint32_t n);
int ec_write(int handle, const void *buf, uint32_t n);
void ec_close(int handle);
void ec_exit(int code);
void ec_paint_stack(void);
uint32_t ec_stack_used(uint8_t *caller_sp);
void ec_marker_start(void);
void ec_marker_stop(void);
void ec_marker_op(void);

#endif
