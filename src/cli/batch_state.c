/* pkgflat batch: the state file that makes a second run skip inputs whose
 * output is up to date (format in cmd_batch.c), and the options digest. */
#include <errno.h>
#include <string.h>

#include "batch.h"

/* State between runs                                                 */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else
			fputc(*s, f);
	}
}

void batch_unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

static int is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* A state file that is not what batch_state_write() writes is reported, not
 * trusted: a damaged line is skipped (its input converted again), a file
 * without the header is set aside whole. Lines that parse are safe to keep:
 * an output counts as up to date only when its digest matches too. */
void batch_state_read(struct batch *b)
{
	char *path = batch_xprintf("%s/%s", b->outdir, STATE_NAME);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0, first_bad = 0;
	int no_header = 0;
	ssize_t len;

	if (!f) {
		if (errno != ENOENT)
			fprintf(stderr, "%s: warning: %s: cannot read: %s; every input "
			    "is converted again\n", progname, path, strerror(errno));
		free(path);
		return;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if ((no_header = strcmp(line, STATE_HEADER) != 0))
				break;
			continue;
		}
		char *f1 = strtok(line, "\t"), *f2 = strtok(NULL, "\t"),
		    *f3 = strtok(NULL, "\t"), *f4 = strtok(NULL, "\t");
		if (!f4 || strtok(NULL, "\t") || !is_hex64(f2) || !is_hex64(f3) ||
		    !is_hex64(f4) || (size_t)len != strlen(f1) + 3 * 65) {
			if (!bad++)
				first_bad = lineno;
			continue;
		}
		b->state = batch_xrealloc(b->state, (b->nstate + 1) * sizeof *b->state);
		struct state_entry *e = &b->state[b->nstate++];
		batch_unescape(f1);
		e->rel = batch_xstrdup(f1);
		memcpy(e->in, f2, 65);
		memcpy(e->opt, f3, 65);
		memcpy(e->out, f4, 65);
	}
	if (ferror(f))
		fprintf(stderr, "%s: warning: %s: cannot read: %s; inputs after "
		    "line %zu are converted again\n", progname, path,
		    strerror(errno), lineno);
	else if (no_header || lineno == 0)
		fprintf(stderr, "%s: warning: %s: %s: not a batch state file "
		    "(no '%s' header); ignored: every input is converted again "
		    "and the file rewritten\n", progname, path,
		    lineno ? "line 1" : "empty", STATE_HEADER);
	else if (bad)
		fprintf(stderr, "%s: warning: %s: line %zu: not 'OUTPUT<TAB>three "
		    "SHA-256s' (%zu damaged line%s ignored: %s converted again)\n",
		    progname, path, first_bad, bad, bad == 1 ? "" : "s",
		    bad == 1 ? "its input is" : "their inputs are");
	free(line);
	fclose(f);
	free(path);
}

struct state_entry *batch_state_find(struct batch *b, const char *rel)
{
	for (size_t i = 0; i < b->nstate; i++)
		if (!strcmp(b->state[i].rel, rel))
			return &b->state[i];
	return NULL;
}

int batch_state_write(struct batch *b)
{
	char *path = batch_xprintf("%s/%s", b->outdir, STATE_NAME);
	pkgflat_output *tmp;
	FILE *f = output_fopen(path, &tmp);
	int rc = EXIT_ERROR;

	if (f) {
		fprintf(f, "%s\n", STATE_HEADER);
		for (size_t i = 0; i < b->nstate; i++) {
			put_escaped(f, b->state[i].rel);
			fprintf(f, "\t%s\t%s\t%s\n", b->state[i].in, b->state[i].opt,
			    b->state[i].out);
		}
		rc = output_fclose(f, tmp, path);
	}
	free(path);
	return rc;
}

void batch_state_update(struct batch *b, const struct item *it)
{
	struct state_entry *e = batch_state_find(b, it->rel);

	if (it->st != ST_CONVERTED && it->st != ST_SKIPPED) {
		if (e) { /* failed: try again next time */
			free(e->rel);
			*e = b->state[--b->nstate];
		}
		return;
	}
	if (!e) {
		b->state = batch_xrealloc(b->state, (b->nstate + 1) * sizeof *b->state);
		e = &b->state[b->nstate++];
		e->rel = batch_xstrdup(it->rel);
	}
	memcpy(e->in, it->in_sha, 65);
	memcpy(e->opt, b->opt_sha, 65);
	memcpy(e->out, it->out_sha, 65);
}

/* Every option that can change an output, in a stable order. */
void batch_options_digest(struct batch *b)
{
	char **v = batch_xrealloc(NULL, (b->co.ngiven + 1) * sizeof *v);
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *text = batch_xprintf("pkgflat %s\nSOURCE_DATE_EPOCH=%s\n",
	    PKGFLAT_VERSION, sde ? sde : "");

	for (size_t i = 0; i < b->co.ngiven; i++)
		v[i] = b->co.given[i];
	if (b->co.ngiven)
		qsort(v, b->co.ngiven, sizeof *v, batch_cmp_str);
	for (size_t i = 0; i < b->co.ngiven; i++) {
		char *t = batch_xprintf("%s%s\n", text, v[i]);
		free(text);
		text = t;
	}
	pkgflat_digest_data(text, strlen(text), b->opt_sha);
	free(text);
	free(v);
}
