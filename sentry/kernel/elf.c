/* SPDX-License-Identifier: MIT */
/* What the kernel's binfmt_elf and binfmt_script look at before loading:
 * the ELF header and PT_INTERP, or the "#!" line. */
#include "sentry/kernel/elf.h"

#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

#define BINPRM_BUF_SIZE 256

static bool blank(char c) { return c == ' ' || c == '\t'; }

int script_parse(const char *file, size_t n, char *interp, size_t ilen, char *arg, size_t alen,
		 bool *ret_has_arg)
{
	/* As the kernel's binfmt_script reads its buffer (checked against it,
	 * tests/integration/exec.sh): the file's first 256 bytes, zeros past
	 * its end. The line ends at the first '\n' that comes before any NUL;
	 * with none, at the buffer's last byte, which is never part of it,
	 * and only if a blank or NUL ends the interpreter's name within the
	 * buffer (else the name may be cut: -ENOEXEC). Blanks (not '\r') at
	 * the line's end go. The name runs from the first non-blank to a
	 * blank or NUL; if a blank ended it, the argument runs from the next
	 * non-blank (which may be a NUL: an empty argument) to the line's end
	 * or a NUL. Indices, not pointers, so that nothing reads outside buf. */
	char buf[BINPRM_BUF_SIZE + 1] = { 0 };
	memcpy(buf, file, n < BINPRM_BUF_SIZE ? n : BINPRM_BUF_SIZE);
	const size_t last = BINPRM_BUF_SIZE - 1;
	size_t end = 0;
	while (end < BINPRM_BUF_SIZE && buf[end] && buf[end] != '\n')
		end++;
	if (end == BINPRM_BUF_SIZE || buf[end] != '\n') {
		size_t i = 2;
		while (i <= last && blank(buf[i]))
			i++;
		if (i > last)
			return -ENOEXEC;
		while (i <= last && buf[i] && !blank(buf[i]))
			i++;
		if (i > last)
			return -ENOEXEC;
		end = last;
	}
	while (blank(buf[end - 1]))
		end--;
	size_t name = 2;
	while (name <= end && blank(buf[name]))
		name++;
	if (name >= end)
		return -ENOEXEC;
	size_t sep = name;
	while (sep <= end && buf[sep] && !blank(buf[sep]))
		sep++;
	size_t argi = 0;
	bool has_arg = false;
	if (sep <= end && buf[sep]) {
		argi = sep;
		while (argi <= end && blank(buf[argi]))
			argi++;
		has_arg = argi <= end;
	}
	buf[end] = 0;
	if (has_arg)
		buf[sep] = 0;
	if (strlen(buf + name) >= ilen || (has_arg && strlen(buf + argi) >= alen))
		return -ENAMETOOLONG;
	strcpy(interp, buf + name);
	strcpy(arg, has_arg ? buf + argi : "");
	*ret_has_arg = has_arg;
	return 2;
}

static int probe_elf(int fd, const Elf64_Ehdr *eh, char *interp, size_t ilen)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) || eh->e_phentsize != sizeof(Elf64_Phdr) ||
	    eh->e_phnum == 0 || eh->e_phnum > 128)
		return -ENOEXEC;
	Elf64_Phdr ph[128];
	size_t sz = eh->e_phnum * sizeof(Elf64_Phdr);
	if (pread(fd, ph, sz, (off_t)eh->e_phoff) != (ssize_t)sz)
		return -ENOEXEC;
	interp[0] = 0;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_INTERP)
			continue;
		if (ph[i].p_filesz < 2 || ph[i].p_filesz > ilen)
			return -ENOEXEC;
		if (pread(fd, interp, ph[i].p_filesz, (off_t)ph[i].p_offset) != (ssize_t)ph[i].p_filesz)
			return -ENOEXEC;
		if (interp[ph[i].p_filesz - 1] != 0)
			return -ENOEXEC;
		break;
	}
	return 1;
}

int exec_probe(int fd, char *interp, size_t ilen, char *arg, size_t alen, bool *ret_has_arg)
{
	char buf[BINPRM_BUF_SIZE];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return neg_errno();
	if (n >= 2 && buf[0] == '#' && buf[1] == '!')
		return script_parse(buf, n, interp, ilen, arg, alen, ret_has_arg);
	if ((size_t)n >= sizeof(Elf64_Ehdr) && !memcmp(buf, ELFMAG, SELFMAG))
		return probe_elf(fd, (const Elf64_Ehdr *)buf, interp, ilen);
	return -ENOEXEC;
}
