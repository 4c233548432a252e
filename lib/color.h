/* SPDX-License-Identifier: ISC */
/*
 * color.c: whether to colour (--color=auto|always|never, NO_COLOR,
 * TERM=dumb, a terminal), and the few SGR sequences ipcrun uses, so that
 * every command decides alike.
 */
#ifndef COLOR_H
#define COLOR_H

enum color_mode { COLOR_AUTO, COLOR_ALWAYS, COLOR_NEVER };

#define COLOR_KEY	"\033[36m"	/* object keys: cyan */
#define COLOR_STR	"\033[32m"	/* strings: green */
#define COLOR_NUM	"\033[33m"	/* numbers: yellow */
#define COLOR_LIT	"\033[35m"	/* true, false, null: magenta */
#define COLOR_ERR	"\033[1;31m"	/* errors and carets: bold red */
#define COLOR_GUTTER	"\033[1;34m"	/* an excerpt's line numbers: bold blue */
#define COLOR_DIM	"\033[2m"	/* the prompt, frame headers */
#define COLOR_OFF	"\033[0m"

int		 color_parse(const char *, enum color_mode *);
int		 color_on(enum color_mode, int);

#endif
