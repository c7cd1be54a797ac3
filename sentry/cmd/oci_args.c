/* SPDX-License-Identifier: MIT */
/* What the OCI verbs share on the command line. */
#include <stdio.h>

#include "sentry/cmd/cmd.h"
#include "sentry/oci/state.h"

int oci_check_args(const char *verb, int have, int want, int mode)
{
	static const char *const how[] = { "exactly", "a minimum of", "a maximum of" };
	bool bad = mode == OCI_ARGS_EXACT ? have != want : mode == OCI_ARGS_MIN ? have < want : have > want;
	if (!bad)
		return 0;
	return oci_fail("moat: \"%s\" requires %s %d argument(s) (see 'moat %s --help')", verb, how[mode],
			want, verb);
}
