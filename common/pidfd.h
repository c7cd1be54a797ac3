/* SPDX-License-Identifier: MIT */
/* pidfd flags younger than Debian 12's kernel headers (6.1): the values are
 * the kernel's ABI. Whether the running kernel has them is probed
 * (platform/kfeatures.h, KF_PIDFD_THREAD). */
#pragma once
#include <fcntl.h>

#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif
#ifndef PIDFD_THREAD /* pidfd_open of a thread, 6.9 */
#define PIDFD_THREAD O_EXCL
#endif
#ifndef PIDFD_SIGNAL_THREAD /* pidfd_send_signal's scopes, 6.9 */
#define PIDFD_SIGNAL_THREAD (1UL << 0)
#define PIDFD_SIGNAL_THREAD_GROUP (1UL << 1)
#define PIDFD_SIGNAL_PROCESS_GROUP (1UL << 2)
#endif
