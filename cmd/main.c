/* SPDX-License-Identifier: ISC */
/*
 * ipcrun: main and its global options. It sits above every command: it
 * finds one and runs it.
 */
#include "compat.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "version.h"

/* Only for the wording of errors: main takes these by their full names. */
static const struct option global_longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char **argv)
{
	const struct cmd_entry	*ce;
	const char		*cause = NULL;

	/*
	 * A dead reader must show up as EPIPE, so that each command can
	 * stop quietly with 141 instead of being killed mid-report.
	 */
	signal(SIGPIPE, SIG_IGN);

	if (argc < 2)
		return cmd_usage_error(NULL, "no command given");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		cmd_print_help();
		return cmd_flush_stdout(NULL);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("ipcrun %s\n", IPCRUN_VERSION);
		return cmd_flush_stdout(NULL);
	}
	if (strncmp(argv[1], "--", 2) == 0 && argv[1][2] != '\0') {
		cmd_long_option_error(NULL, argv[1] + 2, global_longopts, 0);
		return EXIT_FAIL;
	}
	if (argv[1][0] == '-')
		return cmd_usage_error(NULL, "unknown option '%s'", argv[1]);
	if ((ce = cmd_find(argv[1], &cause)) == NULL)
		return cmd_command_error(NULL, argv[1]);
	return ce->exec(ce, argc - 1, argv + 1);
}
