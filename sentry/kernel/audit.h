/* SPDX-License-Identifier: MIT */
/* The audit trail: one JSON object per line (--audit-log FILE), written with
 * a single append so concurrent records never interleave. Records: start,
 * exit, exec (with argv), deny (a refused syscall with its arguments;
 * rate-limited, see audit.c), deny-suppressed (how many deny records the
 * limit dropped), kill, connect (a flow the guest started under
 * --net=sandbox, with its verdict; written by the network helper,
 * rate-limited like deny, with connect-suppressed). */
#pragma once
struct json_object;

int audit_open(const char *path);
/* Build a fields object from key/value string pairs ending with NULL. */
struct json_object *audit_fields(const char *key, ...);
/* Write one record of `type` with the given fields (consumed; may be NULL).
 * A no-op without an audit log. */
void audit_event(const char *type, struct json_object *fields);
/* Report deny records the rate limit dropped and not yet reported (at exit). */
void audit_flush(void);
