/*
 * faultinj.so: an LD_PRELOAD shim for fault-injection tests. It counts the
 * calls of write, pwrite, fsync, rename, linkat, read, copy_file_range,
 * posix_fallocate ("fallocate") and malloc (with calloc and realloc) and makes the Nth call of one of them
 * fail with the errno a full or broken disk (or no memory) gives. No hook
 * in the library is needed.
 *
 *   FAULTINJ_FUNC=NAME FAULTINJ_N=N   fail the Nth call of NAME (1-based)
 *   FAULTINJ_LOG=FILE                 append "count NAME N" per function
 *                                     at exit, and "fired NAME N" when the
 *                                     fault is injected
 *   FAULTINJ_NO_TMPFILE=1             open(O_TMPFILE) fails EOPNOTSUPP, as
 *                                     on filesystems without it
 *
 * malloc failures count only calls made from the main program's own code
 * (the return address is inside its executable segment): libxml2, OpenSSL
 * and libarchive do not all survive a NULL from malloc, and what is tested
 * is pkgflat's handling. Counters are per process (after fork, a child
 * goes on from its parent's counts).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { F_WRITE, F_PWRITE, F_FSYNC, F_RENAME, F_LINKAT, F_READ, F_CFR,
	F_MALLOC, F_FALLOC, NF };
static const char *const names[NF] = { "write", "pwrite", "fsync", "rename",
	"linkat", "read", "copy_file_range", "malloc", "fallocate" };
static const int errnos[NF] = { ENOSPC, ENOSPC, EIO, EIO, EIO, EIO, EIO,
	ENOMEM, ENOSPC };

static unsigned long counts[NF];
static int target = -1;
static unsigned long target_n;
static int no_tmpfile;
static int log_fd = -1;
static uintptr_t exe_lo, exe_hi;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_falloc)(int, off_t, off_t);
static int (*real_rename)(const char *, const char *);
static int (*real_linkat)(int, const char *, int, const char *, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_cfr)(int, off_t *, int, off_t *, size_t, unsigned);
static int (*real_open)(const char *, int, ...);
static int (*real_openat)(int, const char *, int, ...);
static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym may allocate before the real allocator is known. */
static char arena[1 << 16];
static size_t arena_used;
static int resolving;

static void *arena_alloc(size_t n)
{
	size_t at = (arena_used + 15) & ~(size_t)15;

	if (at + n > sizeof arena)
		return NULL;
	arena_used = at + n;
	return arena + at;
}

static int in_arena(const void *p)
{
	return (const char *)p >= arena && (const char *)p < arena + sizeof arena;
}

static void log_line(const char *what, int f, unsigned long n)
{
	char buf[128];
	int len;

	if (log_fd < 0)
		return;
	len = snprintf(buf, sizeof buf, "%s %s %lu %ld\n", what, names[f], n,
	    (long)getpid());
	syscall(SYS_write, log_fd, buf, (size_t)len);
}

static int exe_range(struct dl_phdr_info *info, size_t size, void *ctx)
{
	(void)size;
	(void)ctx;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type == PT_LOAD && (ph->p_flags & PF_X)) {
			exe_lo = info->dlpi_addr + ph->p_vaddr;
			exe_hi = exe_lo + ph->p_memsz;
		}
	}
	return 1; /* the first object is the main program */
}

/* dlsym's void * to a function pointer, without a cast ISO C forbids. */
#define LOAD(var, name) do { \
		void *sym_ = dlsym(RTLD_NEXT, name); \
		memcpy(&(var), &sym_, sizeof(var)); \
	} while (0)

static void resolve(void)
{
	if (real_free || resolving)
		return;
	resolving = 1;
	LOAD(real_malloc, "malloc");
	LOAD(real_calloc, "calloc");
	LOAD(real_realloc, "realloc");
	LOAD(real_write, "write");
	LOAD(real_pwrite, "pwrite");
	LOAD(real_fsync, "fsync");
	LOAD(real_falloc, "posix_fallocate64");
	LOAD(real_rename, "rename");
	LOAD(real_linkat, "linkat");
	LOAD(real_read, "read");
	LOAD(real_cfr, "copy_file_range");
	LOAD(real_open, "open");
	LOAD(real_openat, "openat");
	LOAD(real_free, "free");
	resolving = 0;
}

__attribute__((constructor)) static void init(void)
{
	const char *f = getenv("FAULTINJ_FUNC"), *n = getenv("FAULTINJ_N");
	const char *lg = getenv("FAULTINJ_LOG"), *nt = getenv("FAULTINJ_NO_TMPFILE");

	resolve();
	dl_iterate_phdr(exe_range, NULL);
	for (int i = 0; f && i < NF; i++)
		if (!strcmp(f, names[i]))
			target = i;
	target_n = n ? strtoul(n, NULL, 10) : 0;
	no_tmpfile = nt && *nt == '1';
	if (lg && *lg)
		log_fd = (int)syscall(SYS_openat, AT_FDCWD, lg,
		    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
}

__attribute__((destructor)) static void fini(void)
{
	for (int i = 0; i < NF; i++)
		log_line("count", i, counts[i]);
}

/* Count the call; 1 when it is the one to fail (errno set). */
static int fault(int f)
{
	unsigned long n = __atomic_add_fetch(&counts[f], 1, __ATOMIC_SEQ_CST);

	if (f != target || n != target_n)
		return 0;
	log_line("fired", f, n);
	errno = errnos[f];
	return 1;
}

static int from_exe(const void *ret)
{
	return (uintptr_t)ret >= exe_lo && (uintptr_t)ret < exe_hi;
}

ssize_t write(int fd, const void *buf, size_t n)
{
	resolve();
	return fault(F_WRITE) ? -1 : real_write(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
	resolve();
	return fault(F_PWRITE) ? -1 : real_pwrite(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	return pwrite(fd, buf, n, off);
}

int fsync(int fd)
{
	resolve();
	return fault(F_FSYNC) ? -1 : real_fsync(fd);
}

/* posix_fallocate returns the error; errno is left alone. */
int posix_fallocate64(int fd, off_t off, off_t len)
{
	resolve();
	return fault(F_FALLOC) ? errnos[F_FALLOC] : real_falloc(fd, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
	return posix_fallocate64(fd, off, len);
}

int rename(const char *a, const char *b)
{
	resolve();
	return fault(F_RENAME) ? -1 : real_rename(a, b);
}

int linkat(int d1, const char *a, int d2, const char *b, int flags)
{
	resolve();
	return fault(F_LINKAT) ? -1 : real_linkat(d1, a, d2, b, flags);
}

ssize_t read(int fd, void *buf, size_t n)
{
	resolve();
	return fault(F_READ) ? -1 : real_read(fd, buf, n);
}

ssize_t copy_file_range(int in, off_t *ioff, int out, off_t *ooff, size_t n,
    unsigned flags)
{
	resolve();
	return fault(F_CFR) ? -1 : real_cfr(in, ioff, out, ooff, n, flags);
}

static int tmpfile_refused(int flags)
{
#ifdef O_TMPFILE
	if (no_tmpfile && (flags & O_TMPFILE) == O_TMPFILE) {
		errno = EOPNOTSUPP;
		return 1;
	}
#endif
	return 0;
}

int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	resolve();
	return tmpfile_refused(flags) ? -1 : real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	return open(path, flags, mode);
}

int openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	va_start(ap, flags);
	mode = (mode_t)va_arg(ap, int);
	va_end(ap);
	resolve();
	return tmpfile_refused(flags) ? -1 : real_openat(dfd, path, flags, mode);
}

void *malloc(size_t n)
{
	if (!real_malloc) {
		resolve();
		if (!real_malloc)
			return arena_alloc(n);
	}
	if (from_exe(__builtin_return_address(0)) && fault(F_MALLOC))
		return NULL;
	return real_malloc(n);
}

void *calloc(size_t a, size_t b)
{
	if (!real_calloc)
		resolve();
	if (!real_calloc) {
		void *p = b && a > SIZE_MAX / b ? NULL : arena_alloc(a * b);
		if (p)
			memset(p, 0, a * b);
		return p;
	}
	if (from_exe(__builtin_return_address(0)) && fault(F_MALLOC))
		return NULL;
	return real_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
	if (in_arena(p)) {
		void *q = malloc(n);
		if (q)
			memcpy(q, p, n < sizeof arena - (size_t)((char *)p - arena) ?
			    n : sizeof arena - (size_t)((char *)p - arena));
		return q;
	}
	resolve();
	if (from_exe(__builtin_return_address(0)) && fault(F_MALLOC))
		return NULL;
	return real_realloc(p, n);
}

void free(void *p)
{
	if (!p || in_arena(p))
		return;
	resolve();
	real_free(p);
}
