/* SPDX-License-Identifier: MIT */
/* Learning --allow-host addresses from the DNS answers the helper forwards. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "net/policy.h"

/* One DNS message (a UDP payload, or a TCP one without its length
 * prefix). Returns how many addresses it taught the policy. */
int dns_learn(struct net_policy *p, const uint8_t *msg, size_t len);
