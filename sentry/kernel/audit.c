/* SPDX-License-Identifier: MIT */
#include "sentry/kernel/audit.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/util.h"
#include "sentry/kernel/sentry.h"

static pthread_mutex_t audit_lock = PTHREAD_MUTEX_INITIALIZER;

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
		json_object_object_foreach(fields, k, v)
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
