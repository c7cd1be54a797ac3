/* SPDX-License-Identifier: MIT */
/* The audit trail (audit.h). Denials are rate-limited: a guest that loops on
 * a refused syscall must not fill the disk of whoever keeps the log, nor
 * hide the records that matter among millions of copies. A token bucket
 * (AUDIT_DENY_BURST records at once, AUDIT_DENY_RATE per second after that)
 * admits deny records; the ones dropped are counted and reported in one
 * "deny-suppressed" record before the next deny record that gets through,
 * and at exit. Other record types (start, exec, kill, exit) are never
 * dropped: each costs the guest an exec or ends the sandbox. */
#include "sentry/kernel/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"

#define AUDIT_DENY_BURST 200
#define AUDIT_DENY_RATE 50 /* per second */

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

struct bucket {
	double tokens;
	struct timespec last;
	uint64_t suppressed;
	bool started;
};
/* "deny" records, and "connect" records (the network helper's, one per
 * new flow: a guest can start flows as fast as it can refused syscalls). */
static struct bucket buckets[2];
static const char *const limited[2] = { "deny", "connect" };
static const char *const suppressed_type[2] = { "deny-suppressed", "connect-suppressed" };

static void audit_write(const char *type, struct json_object *fields);

static double ts_diff(const struct timespec *a, const struct timespec *b)
{
	return (double)(a->tv_sec - b->tv_sec) + (double)(a->tv_nsec - b->tv_nsec) / 1e9;
}

/* May a rate-limited record be written now? Returns how many were dropped
 * before it (to report first), or -1 to drop this one too. Under audit_lock. */
static int64_t bucket_admit(struct bucket *b)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (!b->started) {
		b->started = true;
		b->tokens = AUDIT_DENY_BURST;
	} else {
		b->tokens += ts_diff(&now, &b->last) * AUDIT_DENY_RATE;
		if (b->tokens > AUDIT_DENY_BURST)
			b->tokens = AUDIT_DENY_BURST;
	}
	b->last = now;
	if (b->tokens < 1) {
		b->suppressed++;
		return -1;
	}
	b->tokens -= 1;
	int64_t n = (int64_t)b->suppressed;
	b->suppressed = 0;
	return n;
}

static struct json_object *suppressed_fields(int64_t n)
{
	struct json_object *f = json_object_new_object();
	json_object_object_add(f, "count", json_object_new_int64(n));
	return f;
}

void audit_flush(void)
{
	if (sentry.audit_fd < 0)
		return;
	for (size_t i = 0; i < ARRAY_SIZE(buckets); i++) {
		pthread_mutex_lock(&audit_lock);
		int64_t n = (int64_t)buckets[i].suppressed;
		buckets[i].suppressed = 0;
		pthread_mutex_unlock(&audit_lock);
		if (n > 0)
			audit_write(suppressed_type[i], suppressed_fields(n));
	}
}

int audit_open(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return neg_errno();
	sentry.audit_fd = fd;
	return 0;
}

struct json_object *audit_fields(const char *key, ...)
{
	struct json_object *o = json_object_new_object();
	va_list ap;
	va_start(ap, key);
	for (const char *k = key; k; k = va_arg(ap, const char *)) {
		const char *v = va_arg(ap, const char *);
		json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
	}
	va_end(ap);
	return o;
}

void audit_event(const char *type, struct json_object *fields)
{
	if (sentry.audit_fd < 0) {
		json_object_put(fields);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(buckets); i++) {
		if (strcmp(type, limited[i]))
			continue;
		pthread_mutex_lock(&audit_lock);
		int64_t dropped = bucket_admit(&buckets[i]);
		pthread_mutex_unlock(&audit_lock);
		if (dropped < 0) {
			json_object_put(fields);
			return;
		}
		if (dropped > 0)
			audit_write(suppressed_type[i], suppressed_fields(dropped));
	}
	audit_write(type, fields);
}

static void audit_write(const char *type, struct json_object *fields)
{
	struct json_object *rec = json_object_new_object();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	char when[64];
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	size_t n = strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(when + n, sizeof(when) - n, ".%06ldZ", ts.tv_nsec / 1000);
	json_object_object_add(rec, "time", json_object_new_string(when));
	json_object_object_add(rec, "type", json_object_new_string(type));
	if (fields) {
		/* A field never replaces the record's time or type (a socket
		 * refusal's "type" once did: the record read "type":3). */
		json_object_object_foreach(fields, k, v)
			if (strcmp(k, "time") && strcmp(k, "type"))
				json_object_object_add(rec, k, json_object_get(v));
		json_object_put(fields);
	}
	const char *line = json_object_to_json_string_ext(rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(line);
	_cleanup_free_ char *buf = malloc(len + 2);
	if (buf) {
		memcpy(buf, line, len);
		buf[len] = '\n';
		pthread_mutex_lock(&audit_lock);
		(void)write_all(sentry.audit_fd, buf, len + 1);
		pthread_mutex_unlock(&audit_lock);
	}
	json_object_put(rec);
}
