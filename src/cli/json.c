/* A small JSON writer: enough for reports, always valid UTF-8 out. */
#include <string.h>

#include "cli.h"

static void indent(json *j)
{
	fputc('\n', j->f);
	for (int i = 0; i < j->depth; i++)
		fputs("  ", j->f);
}

static void put_string(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	while (*p) {
		unsigned c = *p;
		if (c == '"' || c == '\\') {
			fputc('\\', f);
			fputc((int)c, f);
			p++;
		} else if (c < 0x20) {
			static const char esc[] = "btn?fr";
			if (c >= 8 && c <= 13 && c != 11)
				fprintf(f, "\\%c", esc[c - 8]);
			else
				fprintf(f, "\\u%04x", c);
			p++;
		} else if (c < 0x80) {
			fputc((int)c, f);
			p++;
		} else {
			/* Copy a valid UTF-8 sequence; replace anything else. */
			int n = c >= 0xf0 && c < 0xf5 ? 4 : c >= 0xe0 ? 3 :
			    c >= 0xc2 && c < 0xe0 ? 2 : 0;
			int ok = n > 0;
			for (int i = 1; ok && i < n; i++)
				if ((p[i] & 0xc0) != 0x80)
					ok = 0;
			if (ok) {
				fwrite(p, 1, (size_t)n, f);
				p += n;
			} else {
				fputs("\\ufffd", f);
				p++;
			}
		}
	}
	fputc('"', f);
}

static void key(json *j, const char *k)
{
	if (j->depth > 0) {
		if (j->need_comma[j->depth])
			fputc(',', j->f);
		indent(j);
	}
	j->need_comma[j->depth] = 1;
	if (k) {
		put_string(j->f, k);
		fputs(": ", j->f);
	}
}

static void open_(json *j, const char *k, int c)
{
	key(j, k);
	fputc(c, j->f);
	if (j->depth < 63)
		j->depth++;
	j->need_comma[j->depth] = 0;
}

static void close_(json *j, int c)
{
	int had = j->need_comma[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (had)
		indent(j);
	fputc(c, j->f);
}

void json_begin_object(json *j, const char *k) { open_(j, k, '{'); }
void json_end_object(json *j) { close_(j, '}'); }
void json_begin_array(json *j, const char *k) { open_(j, k, '['); }
void json_end_array(json *j) { close_(j, ']'); }

void json_string(json *j, const char *k, const char *v)
{
	key(j, k);
	if (v)
		put_string(j->f, v);
	else
		fputs("null", j->f);
}

void json_int(json *j, const char *k, long long v)
{
	key(j, k);
	fprintf(j->f, "%lld", v);
}

void json_uint(json *j, const char *k, unsigned long long v)
{
	key(j, k);
	fprintf(j->f, "%llu", v);
}

void json_bool(json *j, const char *k, int v)
{
	key(j, k);
	fputs(v < 0 ? "null" : v ? "true" : "false", j->f);
}

void json_finish(json *j)
{
	fputc('\n', j->f);
}
