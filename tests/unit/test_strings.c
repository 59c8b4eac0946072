/* .strings tables. */
#include <stdlib.h>

#include "strtab.h"
#include "test.h"

struct got {
	char k[8][64], v[8][128];
	int n;
};

static int collect(const char *key, const char *value, void *p)
{
	struct got *g = p;
	if (g->n < 8) {
		snprintf(g->k[g->n], sizeof g->k[0], "%s", key);
		snprintf(g->v[g->n], sizeof g->v[0], "%s", value);
		g->n++;
	}
	return 0;
}

TEST(strings_utf8_with_comments)
{
	static const char s[] = "/* head */\n\"16\" = \"Needs \\\"10.3\\\"\";\n"
	    "// line comment\n\"17\"=\"caf\\U00e9\" ; bare = word;\n";
	struct got g = { .n = 0 };
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(strings_parse((const unsigned char *)s, sizeof s - 1, "x",
	    collect, &g, &err), PKGFLAT_OK);
	CHECK_EQ_INT(g.n, 3);
	CHECK_EQ_STR(g.k[0], "16");
	CHECK_EQ_STR(g.v[0], "Needs \"10.3\"");
	CHECK_EQ_STR(g.v[1], "caf\xc3\xa9");
	CHECK_EQ_STR(g.k[2], "bare");
	CHECK_EQ_STR(g.v[2], "word");
}

TEST(strings_utf16be)
{
	const char *s = "\"16\" = \"\xe2\x9c\x93\";";
	unsigned char buf[64];
	size_t n = 0;
	struct got g = { .n = 0 };
	pkgflat_error err;

	buf[n++] = 0xfe;
	buf[n++] = 0xff;
	for (const char *c = s; *c; c++) {
		if ((unsigned char)*c == 0xe2) { /* U+2713 */
			buf[n++] = 0x27;
			buf[n++] = 0x13;
			c += 2;
			continue;
		}
		buf[n++] = 0;
		buf[n++] = (unsigned char)*c;
	}
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(strings_parse(buf, n, "x", collect, &g, &err), PKGFLAT_OK);
	CHECK_EQ_INT(g.n, 1);
	CHECK_EQ_STR(g.v[0], "\xe2\x9c\x93");
}

TEST(strings_errors_have_lines)
{
	static const char *const bad[] = {
		"\"a\" = \"b\";\n\"c\" \"d\";",
		"\"a\" = \"b\"\n\n",
		"\"a\" = \"unterminated;\n",
		"\"a\" = \"\\U12\";",
		"= \"x\";",
	};
	static const char *const where[] = { "line 2", "line 3", "line 1",
	    "line 1", "line 1" };
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		struct got g = { .n = 0 };
		pkgflat_error err;
		pkgflat_error_clear(&err);
		CHECK_EQ_INT(strings_parse((const unsigned char *)bad[i],
		    strlen(bad[i]), "t.strings", collect, &g, &err), PKGFLAT_E_FORMAT);
		CHECK_EQ_STR(err.where, where[i]);
		CHECK_EQ_STR(err.file, "t.strings");
	}
}
