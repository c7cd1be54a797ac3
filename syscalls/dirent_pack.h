/* SPDX-License-Identifier: MIT */
/* Records of getdents64 (struct linux_dirent64) and of the old getdents
 * (struct linux_dirent, d_type in the record's last byte), packed exactly as
 * the kernel's filldir64/filldir do. Header-only and free of sentry state so
 * tests/unit/test_dirent.c checks it directly. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Offsets of the kernel's structures (x86-64). */
#define DIRENT64_NAME_OFF 19 /* u64 ino, s64 off, u16 reclen, u8 type */
#define DIRENT_OLD_NAME_OFF 18 /* ulong ino, ulong off, u16 reclen */

static inline size_t dirent_align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Record length for a name of namelen bytes. */
static inline size_t dirent64_reclen(size_t namelen)
{
	return dirent_align8(DIRENT64_NAME_OFF + namelen + 1);
}
static inline size_t dirent_old_reclen(size_t namelen)
{
	/* name, its NUL, and d_type in the last byte */
	return dirent_align8(DIRENT_OLD_NAME_OFF + namelen + 2);
}

static inline void dirent_put_u64(unsigned char *p, uint64_t v) { memcpy(p, &v, 8); }
static inline void dirent_put_u16(unsigned char *p, uint16_t v) { memcpy(p, &v, 2); }

/* Pack one record into buf (room bytes free). Returns its length, or 0 when
 * it does not fit. Padding is zeroed: the buffer goes to the guest and must
 * not carry sentry memory. off is the d_off the guest sees (the position
 * of the next entry, as the kernel reports it). */
static inline size_t dirent64_pack(void *buf, size_t room, uint64_t ino, int64_t off,
				   unsigned char type, const char *name)
{
	size_t nl = strlen(name), rl = dirent64_reclen(nl);
	if (rl > room || rl > UINT16_MAX)
		return 0;
	unsigned char *p = buf;
	memset(p, 0, rl);
	dirent_put_u64(p, ino);
	dirent_put_u64(p + 8, (uint64_t)off);
	dirent_put_u16(p + 16, (uint16_t)rl);
	p[18] = type;
	memcpy(p + DIRENT64_NAME_OFF, name, nl);
	return rl;
}

static inline size_t dirent_old_pack(void *buf, size_t room, uint64_t ino, int64_t off,
				     unsigned char type, const char *name)
{
	size_t nl = strlen(name), rl = dirent_old_reclen(nl);
	if (rl > room || rl > UINT16_MAX)
		return 0;
	unsigned char *p = buf;
	memset(p, 0, rl);
	dirent_put_u64(p, ino);
	dirent_put_u64(p + 8, (uint64_t)off);
	dirent_put_u16(p + 16, (uint16_t)rl);
	memcpy(p + DIRENT_OLD_NAME_OFF, name, nl);
	p[rl - 1] = type;
	return rl;
}
