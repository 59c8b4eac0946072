/* Property lists: both encodings, lenient booleans, located errors. */
#include <stdlib.h>

#include "plist.h"
#include "test.h"

static const char xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<plist version=\"1.0\">\n<dict>\n"
    "  <key>A</key><true/>\n"
    "  <key>B</key><integer>0</integer>\n"
    "  <key>C</key><string>YES</string>\n"
    "  <key>D</key><string>maybe</string>\n"
    "  <key>N</key><integer>42</integer>\n"
    "  <key>R</key><real>0.10000000149011612</real>\n"
    "  <key>S</key><string>caf\xc3\xa9</string>\n"
    "</dict>\n</plist>\n";

TEST(plist_xml_and_lenient_booleans)
{
	plist_t p = NULL;
	pkgflat_error err;
	int odd = 0;
	int64_t n = 0;

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse((const unsigned char *)xml, sizeof xml - 1, "x",
	    &p, &err), PKGFLAT_OK);
	CHECK_EQ_INT(pl_bool(p, "A", &odd), 1);
	CHECK_EQ_INT(odd, 0);
	CHECK_EQ_INT(pl_bool(p, "B", &odd), 0);
	CHECK_EQ_INT(odd, 1);
	CHECK_EQ_INT(pl_bool(p, "C", &odd), 1);
	CHECK_EQ_INT(pl_bool(p, "D", &odd), -1);
	CHECK_EQ_INT(pl_bool(p, "missing", &odd), -1);
	CHECK(pl_int(p, "N", &n) && n == 42);
	CHECK_EQ_STR(pl_str(p, "S"), "caf\xc3\xa9");
	CHECK(pl_str(p, "N") == NULL);
	char *t = pl_text(plist_dict_get_item(p, "R"));
	CHECK_EQ_STR(t, "0.1");
	free(t);
	plist_free(p);
}

TEST(plist_utf16_xml)
{
	/* The same document in UTF-16LE with a byte-order mark. */
	unsigned char buf[2 * sizeof xml + 2];
	size_t n = 0;
	plist_t p = NULL;
	pkgflat_error err;
	const char *doc = "<?xml version=\"1.0\" encoding=\"UTF-16\"?>"
	    "<plist version=\"1.0\"><dict><key>T</key><string>ok</string></dict></plist>";

	buf[n++] = 0xff;
	buf[n++] = 0xfe;
	for (const char *c = doc; *c; c++) {
		buf[n++] = (unsigned char)*c;
		buf[n++] = 0;
	}
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse(buf, n, "x", &p, &err), PKGFLAT_OK);
	CHECK_EQ_STR(pl_str(p, "T"), "ok");
	plist_free(p);
}

TEST(plist_binary_roundtrip)
{
	plist_t p = NULL, q = NULL;
	char *bin = NULL;
	uint32_t len = 0;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse((const unsigned char *)xml, sizeof xml - 1, "x",
	    &p, &err), PKGFLAT_OK);
	plist_to_bin(p, &bin, &len);
	CHECK(bin && len > 40);
	CHECK_EQ_INT(plist_parse((unsigned char *)bin, len, "x", &q, &err),
	    PKGFLAT_OK);
	CHECK_EQ_STR(pl_str(q, "S"), "caf\xc3\xa9");
	/* Every truncation fails cleanly. */
	for (uint32_t cut = 0; cut < len; cut++) {
		plist_t r = NULL;
		pkgflat_error e;
		pkgflat_error_clear(&e);
		if (plist_parse((unsigned char *)bin, cut, "t.plist", &r, &e) ==
		    PKGFLAT_OK) {
			plist_free(r);
			continue; /* a prefix can, rarely, still be a plist */
		}
		CHECK(e.status == PKGFLAT_E_FORMAT);
		CHECK_EQ_STR(e.file, "t.plist");
	}
	free(bin);
	plist_free(p);
	plist_free(q);
}

TEST(plist_xml_error_has_line)
{
	static const char broken[] = "<?xml version=\"1.0\"?>\n<plist>\n<dict>\n"
	    "<key>A</key>\n<string>x</strin>\n</dict></plist>\n";
	plist_t p = NULL;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse((const unsigned char *)broken, sizeof broken - 1,
	    "Info.plist", &p, &err), PKGFLAT_E_FORMAT);
	CHECK_EQ_STR(err.where, "line 5");
	CHECK(strstr(err.message, "malformed XML property list") != NULL);
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse((const unsigned char *)"{ a = b; }", 10, "x", &p,
	    &err), PKGFLAT_E_UNSUPPORTED);
	pkgflat_error_clear(&err);
	CHECK_EQ_INT(plist_parse((const unsigned char *)"", 0, "x", &p, &err),
	    PKGFLAT_E_FORMAT);
}
