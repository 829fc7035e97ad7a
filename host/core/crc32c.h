/* crc32c.h: CRC-32C (Castagnoli, reflected polynomial 0x82F63B78, initial
 * value and final xor 0xFFFFFFFF; check value 0xE3069283 for "123456789"),
 * the checksum of each record of the FIX gateway's durable files
 * (docs/fix-gateway.md, "Record checksums"). The x86-64 SSE4.2 crc32
 * instruction when the CPU has it (8 bytes a step), else a slice-by-8 table
 * walk; both give the same values (tests/core/test_crc32c.c). */
#ifndef BRS_CORE_CRC32C_H
#define BRS_CORE_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* The CRC-32C of n bytes, continuing from `crc` (0 to start): crc32c(0, a+b)
 * == crc32c(crc32c(0, a), b). */
uint32_t brs__crc32c(uint32_t crc, const void *p, size_t n);
/* The table walk alone (tests compare it with the instruction). */
uint32_t brs__crc32c_sw(uint32_t crc, const void *p, size_t n);
/* 1 when brs__crc32c uses the CPU's instruction. */
int brs__crc32c_hw(void);

#endif
