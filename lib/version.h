/* SPDX-License-Identifier: ISC */
/*
 * ipcrun's version: what --version prints, and the Makefile reads for
 * make dist's tarball name.
 */
#ifndef VERSION_H
#define VERSION_H

#define IPCRUN_VERSION "0.1.0"

#endif
