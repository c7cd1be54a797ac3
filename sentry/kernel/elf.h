/* SPDX-License-Identifier: MIT */
#pragma once
#include <stddef.h>

/* Inspect the start of an executable (fd, read with pread). Returns:
 *  1 for an x86-64 ELF: *interp gets PT_INTERP ("" for static binaries);
 *  2 for a "#!" script: *interp gets the interpreter path, *arg its optional
 *    single argument ("" if none), split as the kernel does (256 bytes);
 *  -ENOEXEC for anything else (another machine, garbage), -errno on I/O. */
int exec_probe(int fd, char *interp, size_t interp_len, char *arg, size_t arg_len);
