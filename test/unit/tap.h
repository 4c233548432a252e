/* SPDX-License-Identifier: ISC */
/*
 * A minimal TAP producer for the C unit tests: ok() for a condition,
 * is_str() and is_int() to show what was got against what was wanted,
 * done() for the plan and the exit status (1 when any test failed).
 */
#ifndef TAP_H
#define TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int	tap_n, tap_failed;

/* Not every test uses every helper. */
#define TAP_FN	static __attribute__((unused))

TAP_FN int __attribute__((format(printf, 2, 3)))
ok(int pass, const char *fmt, ...)
{
	va_list	 ap;
	char	 what[512], *p;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	/* One line per test, whatever the description holds. */
	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	for (p = what; *p != '\0'; p++) {
		if (*p == '\n')
			fputs("\\n", stdout);
		else
			putchar(*p);
	}
	putchar('\n');
	if (!pass)
		tap_failed++;
	return pass;
}

TAP_FN int
is_str(const char *got, const char *want, const char *what)
{
	int	pass = got != NULL && want != NULL ? strcmp(got, want) == 0 :
		    got == want;

	if (!ok(pass, "%s", what))
		printf("#   got:  '%s'\n#   want: '%s'\n",
		    got != NULL ? got : "(null)",
		    want != NULL ? want : "(null)");
	return pass;
}

TAP_FN int
is_int(int64_t got, int64_t want, const char *what)
{
	if (!ok(got == want, "%s", what)) {
		printf("#   got:  %" PRId64 "\n#   want: %" PRId64 "\n", got,
		    want);
		return 0;
	}
	return 1;
}

TAP_FN int
done(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed != 0)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed != 0;
}

#endif
