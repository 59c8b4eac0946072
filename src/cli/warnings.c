/*
 * Warnings once. A metapackage's components often share a mistake (the
 * same misspelled key in seven Info.plists): its warning is printed once,
 * with how many times and where, instead of seven near-identical lines.
 * The JSON report keeps every occurrence; this is only what a person
 * reads. A warning is "SUBJECT: TEXT" (the library's form); those with the
 * same TEXT are one group, in the order their first one came.
 */
#include <string.h>

#include "cli.h"

/* Where TEXT starts: after the first ": ", or the whole line. */
static const char *text_of(const char *w)
{
	const char *s = strstr(w, ": ");

	return s && s[2] ? s + 2 : w;
}

void warnings_print(FILE *f, const char *const *w, size_t n)
{
	unsigned char *done = calloc(n ? n : 1, 1);

	for (size_t i = 0; i < n; i++) {
		if (done && done[i])
			continue;
		const char *t = text_of(w[i]);
		size_t count = 1;
		for (size_t k = i + 1; done && t != w[i] && k < n; k++)
			if (!done[k] && text_of(w[k]) != w[k] &&
			    !strcmp(text_of(w[k]), t))
				count++;
		struct msg line;
		msg_start(&line, f);
		msg_add(&line, "%s: warning: ", progname);
		if (count == 1) {
			msg_text(&line, w[i]);
			msg_add(&line, "\n");
			msg_end(&line);
			continue;
		}
		msg_text(&line, t);
		msg_add(&line, " (%zu times: ", count);
		for (size_t k = i, m = 0; k < n; k++) {
			if (k != i && (done[k] || text_of(w[k]) == w[k] ||
			    strcmp(text_of(w[k]), t)))
				continue;
			done[k] = 1;
			if (m++)
				msg_add(&line, ", ");
			char *subject = strndup(w[k],
			    (size_t)(text_of(w[k]) - 2 - w[k]));
			msg_text(&line, subject ? subject : "?");
			free(subject);
		}
		msg_add(&line, ")\n");
		msg_end(&line);
	}
	free(done);
}
