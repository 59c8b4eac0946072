/*
 * Where cpio members must lie (see struct cpio_track in payload.h). A
 * member is a header, the NUL-terminated name (namesize bytes, the NUL
 * counted) and the data (filesize bytes); the formats differ in header
 * size and padding:
 *
 *   odc   76-byte octal header, no padding
 *   newc  110-byte hex header, header + name and data each padded to 4
 *   bin   26-byte binary header, name and data each padded to 2
 *
 * The archive ends with a member named "TRAILER!!!". libarchive gives the
 * position of each header in the decoded stream, and each entry's name and
 * size; the name libarchive reports stops at the first NUL, so a name
 * holding one puts the next header further than this name says.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

struct layout {
	int64_t header, name_align, data_align;
};

static int layout_of(int fmt, struct layout *l)
{
	switch (fmt) {
	case ARCHIVE_FORMAT_CPIO_POSIX:
		*l = (struct layout){ 76, 1, 1 };
		return 1;
	case ARCHIVE_FORMAT_CPIO_SVR4_NOCRC:
	case ARCHIVE_FORMAT_CPIO_SVR4_CRC:
		*l = (struct layout){ 110, 4, 4 };
		return 1;
	case ARCHIVE_FORMAT_CPIO_BIN_LE:
	case ARCHIVE_FORMAT_CPIO_BIN_BE:
		*l = (struct layout){ 26, 2, 2 };
		return 1;
	default:
		return 0;   /* tar, afio: not checked here */
	}
}

static int64_t align(int64_t v, int64_t a)
{
	return (v + a - 1) / a * a;
}

/* Bytes from a header's start to the next header's. */
static int64_t member_len(const struct layout *l, int64_t namesize,
    int64_t size)
{
	return align(l->header + namesize, l->name_align) +
	    align(size, l->data_align);
}

int cpio_track_entry(struct cpio_track *t, struct archive *a,
    struct archive_entry *e, char *msg, size_t n)
{
	struct layout l;
	int64_t at = archive_read_header_position(a);
	const char *name = archive_entry_pathname(e);

	if (t->next >= 0 && at != t->next) {
		snprintf(msg, n, "its name holds a NUL byte, or its header is "
		    "corrupt: it ends at offset %lld of the decoded archive, the "
		    "next header starts at %lld", (long long)t->next,
		    (long long)at);
		return -1;
	}
	t->last = at;
	if (!layout_of(archive_format(a), &l) || !name || at < 0) {
		t->next = -1;
		return 0;
	}
	t->next = at + member_len(&l, (int64_t)strlen(name) + 1,
	    archive_entry_size(e));
	return 0;
}

int cpio_track_end(struct cpio_track *t, struct archive *a, char *msg,
    size_t n)
{
	struct layout l;
	int64_t at = archive_read_header_position(a);

	if (t->next >= 0 && at != t->next) {
		snprintf(msg, n, "its name holds a NUL byte, or its header is "
		    "corrupt: it ends at offset %lld of the decoded archive, the "
		    "end marker starts at %lld", (long long)t->next,
		    (long long)at);
		return -1;
	}
	if (!layout_of(archive_format(a), &l) || at < 0)
		return 0;
	int64_t end = archive_filter_bytes(a, 0);
	int64_t want = member_len(&l, 11, 0); /* "TRAILER!!!" and its NUL */
	if (end - at > want) {
		snprintf(msg, n, "corrupt member header at offset %lld of the "
		    "decoded archive: %lld bytes before the end marker are no "
		    "valid member, the last member would be dropped",
		    (long long)at, (long long)(end - at - want));
		return -2;
	}
	return 0;
}

int cpio_track_step(struct cpio_track *t, struct archive *a, int r,
    struct archive_entry *e, uint64_t index, const char *last, char *where,
    size_t wn, char *msg, size_t n)
{
	int off = r == ARCHIVE_EOF ? cpio_track_end(t, a, msg, n) :
	    r >= ARCHIVE_WARN ? cpio_track_entry(t, a, e, msg, n) : 0;

	if (!off)
		return 0;
	if (off == -2 || !last)
		snprintf(where, wn, "entry %llu (after %s)",
		    (unsigned long long)index, last ? last : "none");
	else /* the member before is the one out of place */
		snprintf(where, wn, "entry %llu (%s)",
		    (unsigned long long)index - 1, last);
	return off;
}
