/* SPDX-License-Identifier: ISC */
/*
 * ipcrun help and ipcrun commands: the list of commands for people, and
 * the same list with every option for the completion scripts.
 */
#include "compat.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"

static const char *global_usage =
    "usage: ipcrun [--help] [--version] COMMAND [ARGS]";

void
cmd_print_help(void)
{
	const struct cmd_entry	**cp;

	printf("%s\n\ncommands:\n", global_usage);
	for (cp = cmd_table; *cp != NULL; cp++) {
		if (!(*cp)->hidden)
			printf("  %-10s %s\n", (*cp)->name, (*cp)->summary);
	}
	printf("\nSee 'ipcrun help COMMAND' or man ipcrun-COMMAND.\n");
}

/* An empty option table: the command takes only -h and --help. */
static const struct cmd_opt help_only[] = {
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/* ipcrun help [COMMAND]: the same text as COMMAND --help. */
static int
cmd_help_exec(const struct cmd_entry *self, int argc, char **argv)
{
	const struct cmd_entry	*ce;
	const char		*cause = NULL;
	int			 ch;

	optind = 1;
	while ((ch = cmd_getopts(self, argc, argv)) != -1) {
		if (ch == 'h')
			return cmd_help(self);
		return EXIT_FAIL;
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		return cmd_usage_error(self, "too many operands");
	if (argc == 0) {
		cmd_print_help();
		return cmd_flush_stdout(self);
	}
	if ((ce = cmd_find(argv[0], &cause)) == NULL)
		return cmd_command_error(self, argv[0]);
	cmd_print_usage(ce, 1);
	return cmd_flush_stdout(self);
}

const struct cmd_entry cmd_help_entry = {
	.name = "help",
	.usage = "[COMMAND]",
	.summary = "show the usage of ipcrun or of one command",
	.exec = cmd_help_exec,
	.opts = help_only
};

/* The global options, as `ipcrun commands ipcrun` describes them. */
static const struct cmd_opt global_opts[] = {
	{ "version", 'V', 'V', NULL, NULL, "print the version and exit" },
	{ NULL, 0, 0, NULL, NULL, NULL }
};

/* A command's options as `ipcrun commands` lists them. */
static void
print_option_tokens(const struct cmd_opt *opts)
{
	const struct cmd_opt	*o;

	for (o = opts; !CMD_OPT_END(o); o++) {
		if (o->name != NULL)
			printf("--%s%s%s ", o->name, o->arg != NULL ? "=" : "",
			    o->arg != NULL && o->values != NULL ?
			    o->values : "");
		if (o->letter != 0)
			printf("-%c ", o->letter);
	}
	printf("--%s -%c", cmd_help_opt.name, cmd_help_opt.letter);
}

/*
 * One option as `ipcrun commands COMMAND` describes it:
 * LONG<TAB>SHORT<TAB>ARG<TAB>VALUES<TAB>HELP, an empty field for what it
 * lacks.
 */
static void
print_option_detail(const struct cmd_opt *o)
{
	printf("%s%s\t", o->name != NULL ? "--" : "",
	    o->name != NULL ? o->name : "");
	if (o->letter != 0)
		printf("-%c", o->letter);
	printf("\t%s\t%s\t%s\n", o->arg != NULL ? o->arg : "",
	    o->values != NULL ? o->values : "", o->help);
}

/*
 * ipcrun commands: every visible command with its summary, its options
 * and its operands, tab-separated, for the completion scripts. With a
 * COMMAND (or "ipcrun" for the global options), one line per option of
 * it, with what it takes and its help.
 */
static int
cmd_commands_exec(const struct cmd_entry *self, int argc, char **argv)
{
	const struct cmd_entry	**cp, *ce;
	const struct cmd_opt	 *o;
	const char		 *cause = NULL;
	int			  ch;

	optind = 1;
	while ((ch = cmd_getopts(self, argc, argv)) != -1) {
		if (ch == 'h')
			return cmd_help(self);
		return EXIT_FAIL;
	}
	if (argc > optind + 1)
		return cmd_usage_error(self, "too many operands");
	if (argc == optind + 1) {
		if (strcmp(argv[optind], "ipcrun") == 0)
			o = global_opts;
		else if ((ce = cmd_find(argv[optind], &cause)) != NULL)
			o = ce->opts;
		else
			return cmd_command_error(self, argv[optind]);
		print_option_detail(&cmd_help_opt);
		for (; !CMD_OPT_END(o); o++)
			print_option_detail(o);
		return cmd_flush_stdout(self);
	}
	printf("ipcrun\tglobal options\t");
	print_option_tokens(global_opts);
	printf("\tCOMMAND [ARGS]\n");
	for (cp = cmd_table; *cp != NULL; cp++) {
		if ((*cp)->hidden)
			continue;
		printf("%s\t%s\t", (*cp)->name, (*cp)->summary);
		print_option_tokens((*cp)->opts);
		printf("\t%s\n", (*cp)->usage);
	}
	return cmd_flush_stdout(self);
}

const struct cmd_entry cmd_commands_entry = {
	.name = "commands",
	.usage = "[COMMAND]",
	.summary = "list commands and options for completion scripts",
	.hidden = 1,
	.exec = cmd_commands_exec,
	.opts = help_only
};
