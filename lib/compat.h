/* SPDX-License-Identifier: ISC */
/*
 * Portability in one place: the libbsd overlay gives strtonum, closefrom,
 * strlcpy, setproctitle and reallocarray from the usual BSD headers.
 */
#ifndef COMPAT_H
#define COMPAT_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#endif
