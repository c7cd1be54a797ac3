/* SPDX-License-Identifier: MIT */
/* The table of path-bound AF_UNIX sockets (unixaddr.h). Two hash chains
 * per entry: by file identity (connect, sendto) and by abstract name
 * (getsockname, getpeername). The names are random, so a guest cannot
 * take one before the sentry binds it; a clash only makes bind retry. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common/cleanup.h"
#include "sentry/kernel/unixaddr.h"

#define BUCKETS 1024
/* Each bind makes a file; a guest that binds without end fills its
 * filesystem long before this, but the table must stay bounded anyway. */
#define MAX_ENTRIES 65536
#define PREFIX "moat/"

struct uentry {
	dev_t dev;
	ino_t ino;
	uint64_t id;
	char *path;
	struct uentry *next_file, *next_id;
};

static struct uentry *by_file[BUCKETS], *by_id[BUCKETS];
static size_t nentries;

static size_t file_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	return (size_t)(h >> 32) % BUCKETS;
}

static size_t id_hash(uint64_t id)
{
	return (size_t)(id % BUCKETS);
}

static struct uentry **find_file(dev_t dev, ino_t ino)
{
	struct uentry **p = &by_file[file_hash(dev, ino)];
	while (*p && !((*p)->dev == dev && (*p)->ino == ino))
		p = &(*p)->next_file;
	return p;
}

static struct uentry **find_id(uint64_t id)
{
	struct uentry **p = &by_id[id_hash(id)];
	while (*p && (*p)->id != id)
		p = &(*p)->next_id;
	return p;
}

static void make_addr(uint64_t id, struct sockaddr_un *ret, socklen_t *ret_len)
{
	char name[UNIXADDR_ABSTRACT_LEN + 1];
	snprintf(name, sizeof(name), "%c" PREFIX "%016" PRIx64, 0, id);
	memset(ret, 0, sizeof(*ret));
	ret->sun_family = AF_UNIX;
	memcpy(ret->sun_path, name, UNIXADDR_ABSTRACT_LEN);
	*ret_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + UNIXADDR_ABSTRACT_LEN);
}

void unixaddr_forget(dev_t dev, ino_t ino)
{
	struct uentry **pf = find_file(dev, ino);
	struct uentry *e = *pf;
	if (!e)
		return;
	*pf = e->next_file;
	struct uentry **pi = find_id(e->id);
	if (*pi == e)
		*pi = e->next_id;
	free(e->path);
	free(e);
	nentries--;
}

int unixaddr_add(dev_t dev, ino_t ino, const char *path, struct sockaddr_un *ret,
		 socklen_t *ret_len)
{
	unixaddr_forget(dev, ino);
	if (nentries >= MAX_ENTRIES)
		return -ENOSPC;
	uint64_t id;
	do {
		if (getrandom(&id, sizeof(id), 0) != sizeof(id))
			return -EIO;
	} while (*find_id(id));
	_cleanup_free_ struct uentry *e = calloc(1, sizeof(*e));
	if (!e || !(e->path = strdup(path)))
		return -ENOMEM;
	e->dev = dev;
	e->ino = ino;
	e->id = id;
	struct uentry **pf = find_file(dev, ino), **pi = find_id(id);
	*pf = e;
	*pi = e;
	nentries++;
	make_addr(id, ret, ret_len);
	TAKE_PTR(e);
	return 0;
}

int unixaddr_find(dev_t dev, ino_t ino, struct sockaddr_un *ret, socklen_t *ret_len)
{
	struct uentry *e = *find_file(dev, ino);
	if (!e)
		return -ECONNREFUSED;
	make_addr(e->id, ret, ret_len);
	return 0;
}

int unixaddr_translate(struct sockaddr_un *addr, socklen_t *len)
{
	const size_t base = offsetof(struct sockaddr_un, sun_path);
	if (*len != base + UNIXADDR_ABSTRACT_LEN || addr->sun_family != AF_UNIX ||
	    addr->sun_path[0] || memcmp(addr->sun_path + 1, PREFIX, strlen(PREFIX)))
		return 0;
	char hex[17];
	memcpy(hex, addr->sun_path + 1 + strlen(PREFIX), 16);
	hex[16] = 0;
	char *end;
	uint64_t id = strtoull(hex, &end, 16);
	if (*end)
		return 0;
	struct uentry *e = *find_id(id);
	if (!e)
		return 0;
	/* Linux reports a path address as bound: the path and its NUL. */
	size_t n = strlen(e->path);
	if (n >= sizeof(addr->sun_path))
		n = sizeof(addr->sun_path) - 1;
	memset(addr->sun_path, 0, sizeof(addr->sun_path));
	memcpy(addr->sun_path, e->path, n);
	*len = (socklen_t)(base + n + 1);
	return 1;
}

size_t unixaddr_count(void)
{
	return nentries;
}
