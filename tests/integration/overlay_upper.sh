#!/bin/bash
# SPDX-License-Identifier: MIT
# Integration: overlay.sh again with the upper layer on the host (--upper
# DIR, a fresh directory per run): the same semantics, written through.
MOAT_TEST_UPPER=1 exec bash "$(dirname "$0")/overlay.sh" "$@"
