/* The XML writers' helpers, for PackageInfo and the Distribution
 * (convert_xml.c). */
#ifndef PKGFLAT_CONVERT_XML_H
#define PKGFLAT_CONVERT_XML_H

#include <libxml/xmlwriter.h>

#include "mapping.h"

xmlTextWriterPtr xml_begin(xmlBufferPtr *buf);
/* An attribute; none when value is NULL. */
void xml_attr(xmlTextWriterPtr w, const char *name, const char *value);
void xml_attrf(xmlTextWriterPtr w, const char *name, const char *fmt, ...)
    PF_PRINTF(3, 4);
void xml_empty(xmlTextWriterPtr w, const char *name);
/* Finish the document into *out (malloc'd). */
pkgflat_status xml_finish(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, const char *name, char **out, size_t *len);
/* Finish the document and store it, zlib'd, in the archive. */
pkgflat_status xml_store(struct conv *c, xmlTextWriterPtr w,
    xmlBufferPtr buf, uint64_t parent, const char *name);

#endif
