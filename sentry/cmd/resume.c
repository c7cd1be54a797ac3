/* SPDX-License-Identifier: MIT */
/* `moat resume ID`: runc's resume, the reverse of pause (pause.c). */
#include "sentry/cmd/cmd.h"

int command_resume(int argc, char **argv)
{
	return oci_pause_verb("resume", argc, argv, false);
}
