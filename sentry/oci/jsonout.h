/* SPDX-License-Identifier: MIT */
/* JSON printed as runc prints it (Go's encoding/json), so that engines and
 * scripts comparing moat's output with runc's see the same text. */
#pragma once
#include <stdio.h>

struct json_object;

/* Print v with keys in insertion order (build Go maps with sorted keys),
 * strings escaped as Go does (<, > and & as \u003c...), empty containers as
 * {} and []. indent NULL: compact, as json.Encoder (the caller adds its
 * newline); else json.MarshalIndent with that indent. Returns 0 or -errno
 * (a write error). */
int oci_json_print(FILE *f, struct json_object *v, const char *indent);
