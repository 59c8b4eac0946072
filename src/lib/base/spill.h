/*
 * A growable buffer kept in an unlinked temporary file and mapped shared,
 * for what grows with the number of entries (a Bom being written or read,
 * its block table). spill_trim() drops the pages from this process: their
 * bytes stay in the file (the page cache) and fault back in when touched,
 * so a large Bom costs the process a window, not its size.
 */
#ifndef PKGFLAT_SPILL_H
#define PKGFLAT_SPILL_H

#include <stddef.h>

#include "internal.h"

struct spill {
	unsigned char *p; /* the mapping, NULL until the first reserve */
	size_t len;       /* bytes in use; the file is at least this long */
	size_t cap;       /* bytes mapped, the file's length */
	size_t trimmed;   /* len at the last automatic trim */
	int fd;
	int open;         /* fd is ours: all-zero is an empty spill */
	int statm;        /* /proc/self/statm + 1, for spill_trim_over() */
	unsigned long shared; /* its shared pages after the last trim */
	int anon;         /* no temporary file: anonymous memory, no trims */
};

/* Where temporary files go: TMPDIR, else /tmp. */
const char *pf_temp_dir(void);
/* An unlinked temporary file there; -1 with errno. */
int pf_temp_fd(void);

/* Start empty; no file yet (as does a zeroed struct). */
void spill_init(struct spill *s);
/* Map at least cap bytes (grown by doubling); new bytes are zero. The
 * mapping may move: pointers into it are stale afterwards. Where no
 * temporary file can be made or grown, the spill moves to anonymous
 * memory instead (and is then never trimmed): only memory can fail it. */
pkgflat_status spill_reserve(struct spill *s, size_t cap, pkgflat_error *err);
/* Drop the resident pages; contents are kept. */
void spill_trim(struct spill *s);
/* spill_trim() once s->len has grown by `every` bytes since the last. */
void spill_trim_every(struct spill *s, size_t every);
/* spill_trim() when the process's file-backed resident pages have grown
 * by more than `budget` bytes since the last trim (or always, where
 * /proc/self/statm cannot be read). For random reads, whose faults map
 * more than the page they need: cheaper than trimming on a schedule. */
void spill_trim_over(struct spill *s, size_t budget);
void spill_close(struct spill *s);

#endif
