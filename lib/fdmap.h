/* SPDX-License-Identifier: ISC */
/*
 * fdmap.c: place descriptors at chosen numbers before exec.
 */
#ifndef FDMAP_H
#define FDMAP_H

#include <stddef.h>

int		 fdmap_place(int *, const int *, size_t);

#endif
