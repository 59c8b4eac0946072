/* Growable buffers in unlinked temporary files (spill.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spill.h"

const char *pf_temp_dir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && dir[0] ? dir : "/tmp";
}

int pf_temp_fd(void)
{
	const char *dir = pf_temp_dir();
	char *tmpl;
	int fd;

#ifdef O_TMPFILE
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
#endif
	if (!(tmpl = pf_asprintf("%s/pkgflat-tmp-XXXXXX", dir))) {
		errno = ENOMEM;
		return -1;
	}
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	free(tmpl);
	return fd;
}

void spill_init(struct spill *s)
{
	s->p = NULL;
	s->len = s->cap = s->trimmed = 0;
	s->fd = -1;
	s->open = 0;
	s->statm = 0;
	s->shared = 0;
	s->anon = 0;
}

/* Shared (file-backed) resident pages of this process; 0 when unknown. */
static unsigned long shared_pages(struct spill *s)
{
	char buf[128];
	unsigned long size, res, shared;

	if (!s->statm) {
		int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
		s->statm = fd >= 0 ? fd + 1 : -1;
	}
	if (s->statm < 0)
		return 0;
	ssize_t n = pread(s->statm - 1, buf, sizeof buf - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%lu %lu %lu", &size, &res, &shared) != 3)
		return 0;
	return shared;
}

/*
 * No temporary file to be had (TMPDIR missing, read-only or full): go on
 * in anonymous memory, which costs what the spill holds but changes no
 * result. Trims are then no-ops: they would lose the bytes.
 */
static pkgflat_status go_anon(struct spill *s, size_t want, pkgflat_error *err)
{
	void *p = mmap(NULL, want, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return fail_nomem(err);
	if (s->p) {
		memcpy(p, s->p, s->cap);
		munmap(s->p, s->cap);
	}
	if (s->open)
		close(s->fd);
	s->fd = -1;
	s->open = 0;
	s->anon = 1;
	s->p = p;
	s->cap = want;
	return PKGFLAT_OK;
}

pkgflat_status spill_reserve(struct spill *s, size_t cap, pkgflat_error *err)
{
	size_t want;
	void *p;

	if (cap <= s->cap)
		return PKGFLAT_OK;
	want = s->cap ? s->cap : 65536;
	while (want < cap) {
		if (want > SIZE_MAX / 2)
			return fail_nomem(err);
		want *= 2;
	}
	if (s->anon) {
		p = mremap(s->p, s->cap, want, MREMAP_MAYMOVE);
		if (p == MAP_FAILED)
			return fail_nomem(err);
		s->p = p;
		s->cap = want;
		return PKGFLAT_OK;
	}
	if (!s->open) {
		if ((s->fd = pf_temp_fd()) < 0)
			return go_anon(s, want, err);
		s->open = 1;
	}
	/* The new bytes read as zero. They are allocated now: a page of a
	 * shared mapping that finds the disk full when first written would
	 * be SIGBUS, not an error. */
	if (posix_fallocate(s->fd, 0, (off_t)want) != 0)
		return go_anon(s, want, err);
	if (s->p)
		p = mremap(s->p, s->cap, want, MREMAP_MAYMOVE);
	else
		p = mmap(NULL, want, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd,
		    0);
	if (p == MAP_FAILED)
		return go_anon(s, want, err);
	s->p = p;
	s->cap = want;
	return PKGFLAT_OK;
}

void spill_trim(struct spill *s)
{
	if (s->anon)
		return;
	/* A shared file mapping: the pages leave this process, the bytes
	 * stay in the file. */
	if (s->p)
		(void)madvise(s->p, s->cap, MADV_DONTNEED);
	s->trimmed = s->len;
}

void spill_trim_every(struct spill *s, size_t every)
{
	if (s->len - s->trimmed >= every || s->len < s->trimmed)
		spill_trim(s);
}

void spill_trim_over(struct spill *s, size_t budget)
{
	if (s->anon)
		return;
	unsigned long now = shared_pages(s);
	long page = sysconf(_SC_PAGESIZE);

	if (!now || page <= 0 || now < s->shared ||
	    (now - s->shared) * (unsigned long)page > budget) {
		spill_trim(s);
		s->shared = shared_pages(s);
	}
}

void spill_close(struct spill *s)
{
	if (s->p)
		munmap(s->p, s->cap);
	if (s->open)
		close(s->fd);
	if (s->statm > 0)
		close(s->statm - 1);
	spill_init(s);
}
