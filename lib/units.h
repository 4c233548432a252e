/* SPDX-License-Identifier: ISC */
/*
 * units.c: durations and byte counts as options write them.
 */
#ifndef UNITS_H
#define UNITS_H

#include <stddef.h>
#include <stdint.h>

int		 units_duration(const char *, int64_t *, const char **);
int		 units_size(const char *, size_t *, const char **);

#endif
