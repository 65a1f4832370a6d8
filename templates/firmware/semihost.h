/* tinykiln firmware: ARM-compatible semihosting (Arm M-profile `bkpt 0xab`; RISC-V's
 * slli/ebreak/srai sequence). The host side is QEMU with -semihosting-config enable=on. */
#ifndef TK_SEMIHOST_H
#define TK_SEMIHOST_H
#include <stdint.h>

#define TK_SH_OPEN 0x01
#define TK_SH_CLOSE 0x02
#define TK_SH_WRITE0 0x04
#define TK_SH_WRITE 0x05
#define TK_SH_READ 0x06
#define TK_SH_EXIT_EXTENDED 0x20
#define TK_SH_MODE_RB 1
#define TK_SH_MODE_WB 5
#define TK_SH_APPLICATION_EXIT 0x20026

intptr_t tk_semihost(intptr_t op, void *arg);

int tk_sh_open(const char *name, uint32_t mode);
void tk_sh_close(int fd);
uint32_t tk_sh_read(int fd, void *buf, uint32_t n);          /* bytes read */
uint32_t tk_sh_write(int fd, const void *buf, uint32_t n);   /* bytes written */
#endif
