/* The XML writers' helpers, for PackageInfo and the Distribution. */
#include <libxml/xmlwriter.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "convert_xml.h"

xmlTextWriterPtr xml_begin(xmlBufferPtr *buf)
{
	xmlTextWriterPtr w;

	if (!(*buf = xmlBufferCreate()))
		return NULL;
	if (!(w = xmlNewTextWriterMemory(*buf, 0))) {
		xmlBufferFree(*buf);
		return NULL;
	}
	xmlTextWriterSetIndent(w, 1);
	xmlTextWriterSetIndentString(w, BAD_CAST "    ");
	xmlTextWriterStartDocument(w, NULL, "utf-8", NULL);
	return w;
}

void xml_attr(xmlTextWriterPtr w, const char *name, const char *value)
{
	if (value)
		xmlTextWriterWriteAttribute(w, BAD_CAST name, BAD_CAST value);
}

void xml_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
{
	char buf[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	xml_attr(w, name, buf);
}

void xml_empty(xmlTextWriterPtr w, const char *name)
{
	xmlTextWriterStartElement(w, BAD_CAST name);
	xmlTextWriterEndElement(w);
}

/* Finish the document into *out (malloc'd). */
pkgflat_status xml_finish(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, const char *name, char **out, size_t *len)
{
	pkgflat_status rc = PKGFLAT_OK;

	*out = NULL;
	if (xmlTextWriterEndDocument(w) < 0)
		rc = fail(c->err, PKGFLAT_E_INTERNAL, name, NULL,
		    "cannot write XML (text not valid UTF-8?)");
	xmlFreeTextWriter(w);
	if (!rc && !(*out = pf_strndup((const char *)xmlBufferContent(buf),
	    (size_t)xmlBufferLength(buf))))
		rc = fail_nomem(c->err);
	*len = rc ? 0 : (size_t)xmlBufferLength(buf);
	xmlBufferFree(buf);
	return rc;
}

/* Finish the document and store it, zlib'd, in the archive. */
pkgflat_status xml_store(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, uint64_t parent, const char *name)
{
	char *text;
	size_t len;
	pkgflat_status rc = xml_finish(c, w, buf, name, &text, &len);

	if (!rc)
		rc = xarw_add_file(c->xw, parent, name, XAR_ENC_ZLIB, text, len,
		    c->err);
	free(text);
	return rc;
}
