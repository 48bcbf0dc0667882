/* SPDX-License-Identifier: BSD-3-Clause */
typedef int egress_placeholder_t;
