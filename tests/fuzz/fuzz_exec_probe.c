/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: what the sentry reads of a program before it runs it
 * (exec_probe in sentry/kernel/elf.c): the ELF header and PT_INTERP, and
 * the "#!" line with its interpreter and one optional argument. The guest
 * writes the file, so every byte is its own. The input's first byte picks
 * the sizes of the caller's buffers (small ones try -ENAMETOOLONG), the
 * rest is the file, served from a memfd as the sentry's files are. The
 * buffers are allocated at their exact size so AddressSanitizer sees any
 * write past them. Whatever is accepted must be what the file says:
 *  - an ELF (1) starts with the magic, and its interpreter ("" when none)
 *    is a NUL-terminated string that the file holds at some offset;
 *  - a script (2) starts with "#!", its interpreter is one word
 *    (no blank, no newline) and its argument ("" when there is none) has
 *    no newline and does not start with a blank, both within the line's
 *    255 bytes (that they are the kernel's split is checked against the
 *    host kernel by tests/integration/exec.sh);
 *  - anything else is -ENOEXEC (or -ENAMETOOLONG for the buffers).
 * Run by tests/fuzz/parsers.sh. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sentry/kernel/elf.h"

static const size_t sizes[4] = { 4096, 64, 8, 1 };

static void die(const char *what)
{
	fprintf(stderr, "fuzz_exec_probe: %s\n", what);
	abort();
}

static bool blank(char c) { return c == ' ' || c == '\t'; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	if (fd < 0 && (fd = memfd_create("fuzz_exec_probe", MFD_CLOEXEC)) < 0)
		die("memfd_create");
	if (size < 1)
		return 0;
	size_t ilen = sizes[data[0] & 3], alen = sizes[(data[0] >> 2) & 3];
	const uint8_t *file = data + 1;
	size_t n = size - 1;
	if (ftruncate(fd, 0) < 0 || pwrite(fd, file, n, 0) != (ssize_t)n)
		die("memfd write");
	char *interp = malloc(ilen), *arg = malloc(alen);
	if (!interp || !arg)
		abort();
	memset(interp, 0x55, ilen);
	memset(arg, 0x55, alen);
	bool has_arg = false;
	int r = exec_probe(fd, interp, ilen, arg, alen, &has_arg);
	if (r == 1) {
		if (n < 4 || memcmp(file, "\177ELF", 4))
			die("an ELF without the magic");
		size_t il = strnlen(interp, ilen);
		if (il == ilen)
			die("ELF interpreter not terminated");
		if (il && !memmem(file, n, interp, il + 1))
			die("ELF interpreter not in the file");
	} else if (r == 2) {
		if (n < 2 || memcmp(file, "#!", 2))
			die("a script without #!");
		size_t il = strnlen(interp, ilen), al = strnlen(arg, alen);
		if (il == ilen || al == alen)
			die("script strings not terminated");
		if (strpbrk(interp, " \t\n")) /* "" for "#!" alone, as the kernel */
			die("script interpreter not one word");
		if (strchr(arg, '\n') || (al && blank(arg[0])) || (!has_arg && al))
			die("script argument not trimmed");
		size_t line = n < 255 ? n : 255;
		if ((il && !memmem(file, line, interp, il)) || (al && !memmem(file, line, arg, al)))
			die("script strings not in the line");
	} else if (r != -ENOEXEC && r != -ENAMETOOLONG) {
		die("unexpected error");
	}
	free(interp);
	free(arg);
	return 0;
}
