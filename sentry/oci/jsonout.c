/* SPDX-License-Identifier: MIT */
#include "sentry/oci/jsonout.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <json-c/json.h>
#include <string.h>

#include "common/cleanup.h"

static void put_string(FILE *f, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '<':
		case '>':
		case '&':
			fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			break;
		default:
			if (c < 0x20) {
				fprintf(f, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
			} else if (c == 0xe2 && i + 2 < len && (unsigned char)s[i + 1] == 0x80 &&
				   ((unsigned char)s[i + 2] == 0xa8 || (unsigned char)s[i + 2] == 0xa9)) {
				/* U+2028 and U+2029, which Go escapes for JavaScript */
				fprintf(f, "\\u202%c", s[i + 2] == (char)0xa8 ? '8' : '9');
				i += 2;
			} else {
				fputc(c, f);
			}
		}
	}
	fputc('"', f);
}

static void newline(FILE *f, const char *indent, int depth)
{
	fputc('\n', f);
	for (int i = 0; i < depth; i++)
		fputs(indent, f);
}

static void put_value(FILE *f, struct json_object *v, const char *indent, int depth)
{
	switch (json_object_get_type(v)) {
	case json_type_null:
		fputs("null", f);
		break;
	case json_type_boolean:
		fputs(json_object_get_boolean(v) ? "true" : "false", f);
		break;
	case json_type_int:
		fprintf(f, "%" PRId64, json_object_get_int64(v));
		break;
	case json_type_double:
		fprintf(f, "%.17g", json_object_get_double(v));
		break;
	case json_type_string:
		put_string(f, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		break;
	case json_type_array: {
		size_t n = json_object_array_length(v);
		fputc('[', f);
		for (size_t i = 0; i < n; i++) {
			if (i)
				fputc(',', f);
			if (indent)
				newline(f, indent, depth + 1);
			put_value(f, json_object_array_get_idx(v, i), indent, depth + 1);
		}
		if (n && indent)
			newline(f, indent, depth);
		fputc(']', f);
		break;
	}
	case json_type_object: {
		bool first = true;
		fputc('{', f);
		json_object_object_foreach(v, key, val) {
			if (!first)
				fputc(',', f);
			first = false;
			if (indent)
				newline(f, indent, depth + 1);
			put_string(f, key, strlen(key));
			fputs(indent ? ": " : ":", f);
			put_value(f, val, indent, depth + 1);
		}
		if (!first && indent)
			newline(f, indent, depth);
		fputc('}', f);
		break;
	}
	}
}

int oci_json_print(FILE *f, struct json_object *v, const char *indent)
{
	put_value(f, v, indent, 0);
	return ferror(f) ? -EIO : 0;
}
