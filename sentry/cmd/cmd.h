/* SPDX-License-Identifier: MIT */
/* CLI verbs, one file each (cmd_<verb>.c), dispatched from main.c's table.
 * Each returns the process exit status: 0 success, 2 usage error, 125 when
 * moat itself fails (as runc does), else the guest's status. */
#pragma once
int command_run(int argc, char **argv);
int command_syscalls(int argc, char **argv);
