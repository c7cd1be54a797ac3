/* SPDX-License-Identifier: MIT */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Inspect the start of an executable (fd, read with pread). Returns:
 *  1 for an x86-64 ELF: *interp gets PT_INTERP ("" for static binaries);
 *  2 for a "#!" script: *interp gets the interpreter path, *arg its optional
 *    single argument and *ret_has_arg whether there is one (it may be ""),
 *    split as the kernel does (script_parse);
 *  -ENOEXEC for anything else (another machine, garbage), -errno on I/O;
 *  -ENAMETOOLONG when a string does not fit its buffer. */
int exec_probe(int fd, char *interp, size_t interp_len, char *arg, size_t arg_len,
	       bool *ret_has_arg);

/* The "#!" line of a file whose first n bytes are file (n >= 2, starting
 * with "#!"), as the kernel's binfmt_script splits it: 2 with interp, arg
 * and *ret_has_arg set, -ENOEXEC or -ENAMETOOLONG. */
int script_parse(const char *file, size_t n, char *interp, size_t interp_len, char *arg,
		 size_t arg_len, bool *ret_has_arg);
