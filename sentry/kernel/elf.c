/* SPDX-License-Identifier: MIT */
/* What the kernel's binfmt_elf and binfmt_script look at before loading:
 * the ELF header and PT_INTERP, or the "#!" line. */
#include "sentry/kernel/elf.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"

#define BINPRM_BUF_SIZE 256

static int probe_script(const char *buf, size_t n, char *interp, size_t ilen, char *arg,
			size_t alen)
{
	/* Kernel semantics: the line ends at '\n' or at 256 bytes; leading
	 * blanks skipped; the interpreter ends at the first blank; the rest,
	 * trimmed, is one optional argument. */
	char line[BINPRM_BUF_SIZE + 1];
	size_t len = n < BINPRM_BUF_SIZE ? n : BINPRM_BUF_SIZE;
	memcpy(line, buf, len);
	line[len] = 0;
	char *nl = memchr(line, '\n', len);
	if (nl)
		*nl = 0;
	else if (len == BINPRM_BUF_SIZE) {
		/* A truncated interpreter name would run the wrong program. */
		char *p = line + 2;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!strpbrk(p, " \t"))
			return -ENOEXEC;
	}
	char *p = line + 2;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return -ENOEXEC;
	char *end = p + strcspn(p, " \t");
	char *rest = *end ? end + 1 : end;
	*end = 0;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	size_t rl = strlen(rest);
	while (rl && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t' || rest[rl - 1] == '\r'))
		rest[--rl] = 0;
	if (strlen(p) >= ilen || rl >= alen)
		return -ENAMETOOLONG;
	strcpy(interp, p);
	strcpy(arg, rest);
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

int exec_probe(int fd, char *interp, size_t ilen, char *arg, size_t alen)
{
	char buf[BINPRM_BUF_SIZE];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0)
		return neg_errno();
	if (n >= 2 && buf[0] == '#' && buf[1] == '!')
		return probe_script(buf, n, interp, ilen, arg, alen);
	if ((size_t)n >= sizeof(Elf64_Ehdr) && !memcmp(buf, ELFMAG, SELFMAG))
		return probe_elf(fd, (const Elf64_Ehdr *)buf, interp, ilen);
	return -ENOEXEC;
}
