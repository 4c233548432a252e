/* SPDX-License-Identifier: ISC */
/*
 * proc.c: what /proc says of the processes ipcrun started.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>
#include <sys/types.h>

ssize_t		 proc_group(pid_t, pid_t *, size_t);
ssize_t		 proc_groups(const pid_t *, size_t, unsigned char *);
int		 proc_is_node(pid_t);
int		 proc_env_has(pid_t, const char *, int);
long long	 proc_cpu(pid_t);
int		 proc_forking(const pid_t *, size_t);
int		 proc_holds_socket(pid_t, unsigned long long, int);
int		 proc_reopen_nonblock(int, int *);

#endif
