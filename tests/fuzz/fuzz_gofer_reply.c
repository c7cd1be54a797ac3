/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: the sentry's checks of the gofer's replies, fed
 * arbitrary frames, the way a compromised gofer could send them. The first
 * input byte picks the op the sentry was waiting for (so mismatches are
 * tried too), the rest is the frame, decoded as the client does
 * (gofer/client.c): header, reply check, then the body of a successful
 * reply. Accepted node replies must be what the encoder can produce, and
 * no header naming the reserved op 4 (once READDIR) is accepted. Run by
 * tests/fuzz/proto.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gofer/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint16_t op = (uint16_t)(data[0] % (GOFER_OP_MAX_ + 2));
	const uint8_t *frame = data + 1;
	size_t len = size - 1;
	struct gofer_hdr h;
	if (gofer_hdr_decode(frame, len, &h) < 0)
		return 0;
	if (h.len != len || h.op == GOFER_OP_RESERVED_4)
		abort(); /* the header's length is the frame's; op 4 is no reply */
	int st = gofer_reply_check(&h, op);
	if (st != 0)
		return 0; /* -EBADMSG, or an error reply: a bare header */
	if (op != GOFER_OP_READY && op != GOFER_OP_UNLINK && op != GOFER_OP_RENAME &&
		   op != GOFER_OP_SETXATTR && op != GOFER_OP_REMOVEXATTR) {
		uint64_t id;
		struct stat s;
		if (gofer_reply_node_decode(frame, len, &id, &s) == 0) {
			/* Round trip through the gofer's encoder. */
			uint8_t again[GOFER_NODE_REPLY_SIZE];
			if (gofer_reply_node(again, sizeof(again), op, h.tag, id, &s,
					     h.flags & GOFER_F_FD) != GOFER_NODE_REPLY_SIZE)
				abort();
			uint64_t id2;
			struct stat s2;
			if (gofer_reply_node_decode(again, sizeof(again), &id2, &s2) < 0 || id2 != id ||
			    s2.st_mode != s.st_mode || s2.st_ino != s.st_ino || s2.st_size != s.st_size)
				abort();
		}
	}
	return 0;
}
