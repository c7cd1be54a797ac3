/* SPDX-License-Identifier: MIT */
/* flock and fcntl's record-lock commands (F_SETLK, F_SETLKW, F_GETLK and
 * the F_OFD_ ones; every other fcntl command runs natively, see the table).
 * The guest holds real host fds, so a lock taken natively on a host file
 * would be a lock on the host's inode: the locks are kept by the sentry
 * (sentry/kernel/flock.c, docs/architecture.md "File locks").
 *
 * Each handler takes the guest's file once with pidfd_getfd and decides
 * on that copy only: a sibling thread may dup2 another file onto the fd
 * number meanwhile, and the number is never looked at again. The struct
 * flock is read once. */
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "sentry/kernel/flock.h"
#include "sentry/kernel/procwatch.h"
#include "sentry/kernel/task.h"
#include "syscalls/handlers.h"

/* A copy of the guest's open file fd (the same open file description),
 * with its open flags in *ret_flags; an O_PATH file takes no locks (EBADF).
 * Returns the copy or -errno. */
static int guest_lock_file(struct sysreq *r, int fd, int *ret_flags)
{
	if (fd < 0)
		return -EBADF;
	if (!r->task)
		return -ESRCH;
	_cleanup_close_ int f = task_file_dup(r->task, fd);
	if (f < 0)
		return f;
	int fl = fcntl(f, F_GETFL);
	if (fl < 0)
		return neg_errno();
	if (fl & O_PATH)
		return -EBADF;
	*ret_flags = fl;
	return TAKE_FD(f);
}

long sys_flock(struct sysreq *r)
{
	unsigned op = (unsigned)r->args[1];
	int fl;
	_cleanup_close_ int f = guest_lock_file(r, (int)r->args[0], &fl);
	if (f < 0)
		return f;
	unsigned cmd = op & ~(unsigned)LOCK_NB;
	if (cmd != LOCK_SH && cmd != LOCK_EX && cmd != LOCK_UN)
		return -EINVAL;
	return flock_flock(r, r->task, f, (int)op);
}

/* Linux's flock_to_posix_lock: the range [start, end] the struct names. */
static int flock_range(int f, const struct flock *l, int64_t *ret_start, int64_t *ret_end)
{
	int64_t base;
	switch (l->l_whence) {
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR: {
		/* The copy shares the guest's file position. */
		off_t pos = lseek(f, 0, SEEK_CUR);
		base = pos < 0 ? 0 : pos; /* pipes and sockets: 0, as f_pos */
		break;
	}
	case SEEK_END: {
		struct stat st;
		if (fstat(f, &st) < 0)
			return neg_errno();
		base = st.st_size;
		break;
	}
	default:
		return -EINVAL;
	}
	int64_t start, end;
	if (l->l_start > FLOCK_OFFSET_MAX - base)
		return -EOVERFLOW;
	start = base + l->l_start;
	if (start < 0)
		return -EINVAL;
	if (l->l_len > 0) {
		if (l->l_len - 1 > FLOCK_OFFSET_MAX - start)
			return -EOVERFLOW;
		end = start + l->l_len - 1;
	} else if (l->l_len < 0) {
		if (start + l->l_len < 0)
			return -EINVAL;
		end = start - 1;
		start += l->l_len;
	} else {
		end = FLOCK_OFFSET_MAX;
	}
	*ret_start = start;
	*ret_end = end;
	return 0;
}

long sys_fcntl_lock(struct sysreq *r)
{
	int cmd = (int)r->args[1];
	bool ofd = cmd == F_OFD_GETLK || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
	bool get = cmd == F_GETLK || cmd == F_OFD_GETLK;
	bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
	if (!ofd && !get && !wait && cmd != F_SETLK)
		return -EINVAL; /* the filter sends nothing else here */

	int fl;
	_cleanup_close_ int f = guest_lock_file(r, (int)r->args[0], &fl);
	if (f < 0)
		return f;
	struct flock l;
	ssize_t n = req_read(r, r->args[2], &l, sizeof(l));
	if (n < 0)
		return n;
	if (n != sizeof(l))
		return -EFAULT;
	if (req_id_valid(r) < 0)
		return -ENOENT;

	if (l.l_type != F_RDLCK && l.l_type != F_WRLCK && (get || l.l_type != F_UNLCK))
		return -EINVAL;
	if (ofd && l.l_pid != 0)
		return -EINVAL;
	int64_t start, end;
	int ret = flock_range(f, &l, &start, &end);
	if (ret < 0)
		return ret;

	if (get) {
		struct flock_info info;
		ret = flock_getlk(r->task, f, ofd, l.l_type, start, end, &info);
		if (ret < 0)
			return ret;
		l.l_type = info.type;
		if (info.type != F_UNLCK) {
			l.l_whence = SEEK_SET;
			l.l_start = info.start;
			l.l_len = info.end == FLOCK_OFFSET_MAX ? 0 : info.end - info.start + 1;
			l.l_pid = info.vpid;
		}
		n = req_write(r, r->args[2], &l, sizeof(l));
		return n == sizeof(l) ? 0 : n < 0 ? n : -EFAULT;
	}

	/* As the kernel: a read lock needs a file open for reading, a write
	 * lock one open for writing. */
	int acc = fl & O_ACCMODE;
	if ((l.l_type == F_RDLCK && acc == O_WRONLY) || (l.l_type == F_WRLCK && acc == O_RDONLY))
		return -EBADF;
	return flock_setlk(r, r->task, f, ofd, l.l_type, start, end, wait);
}
