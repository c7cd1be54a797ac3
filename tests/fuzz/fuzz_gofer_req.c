/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the gofer's decoder of the sentry's requests
 * (gofer_req_decode), fed arbitrary frames, the way a compromised sentry
 * could send them. Besides what AddressSanitizer and UBSan catch, it
 * checks that whatever is accepted is what the encoder can produce: a
 * decoded request, encoded again with the sentry's functions, decodes to
 * the same request (so the decoder accepts nothing the protocol does not
 * define), and names are valid components. Run by tests/fuzz/proto.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gofer/proto.h"

static uint8_t buf[GOFER_MAX_REQUEST + 64];

static void same_mut(const struct gofer_mut *a, const struct gofer_mut *b)
{
	if (a->dir_id != b->dir_id || a->dir2_id != b->dir2_id || a->ino != b->ino ||
	    a->flags != b->flags || a->mode != b->mode || a->uid != b->uid || a->gid != b->gid ||
	    a->size != b->size || a->atime.tv_sec != b->atime.tv_sec ||
	    a->atime.tv_nsec != b->atime.tv_nsec || a->mtime.tv_sec != b->mtime.tv_sec ||
	    a->mtime.tv_nsec != b->mtime.tv_nsec || a->name_len != b->name_len ||
	    a->name2_len != b->name2_len || a->data_len != b->data_len ||
	    (a->name_len && memcmp(a->name, b->name, a->name_len)) ||
	    (a->name2_len && memcmp(a->name2, b->name2, a->name2_len)) ||
	    (a->data_len && memcmp(a->data, b->data, a->data_len)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gofer_request r, again;
	if (gofer_req_decode(data, size, &r) < 0)
		return 0;
	ssize_t n = -1;
	switch (r.hdr.op) {
	case GOFER_OP_ATTACH:
		n = gofer_req_attach(buf, sizeof(buf), r.hdr.tag, r.attach.idx);
		break;
	case GOFER_OP_WALK:
		if (!gofer_name_valid(r.walk.name, strlen(r.walk.name)))
			abort();
		n = gofer_req_walk(buf, sizeof(buf), r.hdr.tag, r.walk.dir_id, r.walk.name);
		break;
	case GOFER_OP_RELEASE:
		n = gofer_req_release(buf, sizeof(buf), r.release.id);
		break;
	default:
		if (!gofer_op_is_mut(r.hdr.op))
			abort(); /* the decoder accepted an op nobody sends (READY, 4) */
		n = gofer_req_mut(buf, sizeof(buf), r.hdr.op, r.hdr.tag, &r.mut);
		break;
	}
	/* Accepted, so the sentry's encoder must be able to say it, and
	 * what it says must decode to the same request. */
	if (n < 0 || gofer_req_decode(buf, (size_t)n, &again) < 0)
		abort();
	if (again.hdr.op != r.hdr.op || again.hdr.tag != r.hdr.tag || again.hdr.len != r.hdr.len)
		abort();
	switch (r.hdr.op) {
	case GOFER_OP_ATTACH:
		if (again.attach.idx != r.attach.idx)
			abort();
		break;
	case GOFER_OP_WALK:
		if (again.walk.dir_id != r.walk.dir_id || strcmp(again.walk.name, r.walk.name))
			abort();
		break;
	case GOFER_OP_RELEASE:
		if (again.release.id != r.release.id)
			abort();
		break;
	default:
		same_mut(&r.mut, &again.mut);
		break;
	}
	return 0;
}
