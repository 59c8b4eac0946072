/*
 * Output files that appear whole or not at all, and never over an input.
 *
 * An output is written to an unnamed O_TMPFILE in its directory and linked
 * into place when complete, so a process killed at any moment leaves
 * nothing behind. Replacing an existing file needs a name for the rename:
 * the file is linked to a temporary name and renamed at once, a window of
 * two system calls. Where O_TMPFILE is missing (or /proc is not mounted to
 * link it) the file is named from the start.
 *
 * Every temporary name is ".pkgflat-PID-XXXXXX-NAME": the owner's process
 * id, a random part, and the output's name cut to 64 bytes. The owner holds
 * an flock on it. Opening an output removes those beside it whose owner is
 * gone: the process id is dead and the lock is free (both, so that neither
 * process-id reuse nor another pid namespace removes a live file).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "outfile.h"

#define TEMP_PREFIX ".pkgflat-"
#define TEMP_NAME_MAX 64

struct pkgflat_output {
	int fd;
	char *path;   /* where it goes */
	char *dir;    /* its directory: "." for a bare name */
	char *tmp;    /* the named temporary file, or NULL for O_TMPFILE */
};

/* The directory of path, as something open() takes. */
static char *dir_of(const char *path)
{
	const char *s = strrchr(path, '/');

	if (!s)
		return pf_strdup(".");
	if (s == path)
		return pf_strdup("/");
	return pf_strndup(path, (size_t)(s - path));
}

/* "DIR/.pkgflat-PID-XXXXXX-NAME"; the X's are at suffix_len from the end. */
static char *temp_template(const char *dir, const char *path, int *suffix_len)
{
	const char *base = path_base(path);
	size_t bl = strlen(base);

	if (bl > TEMP_NAME_MAX)
		bl = TEMP_NAME_MAX;
	*suffix_len = (int)bl + 1;
	return pf_asprintf("%s/" TEMP_PREFIX "%ld-XXXXXX-%.*s", dir,
	    (long)getpid(), (int)bl, base);
}

/* The process id in a temporary name of ours, or 0 when it is not one. */
static pid_t temp_owner(const char *name)
{
	const char *p = name + strlen(TEMP_PREFIX);
	char *end;

	if (strncmp(name, TEMP_PREFIX, strlen(TEMP_PREFIX)) || *p < '1' ||
	    *p > '9')
		return 0;
	errno = 0;
	long pid = strtol(p, &end, 10);
	if (errno || pid <= 0 || pid > INT_MAX || *end != '-' ||
	    strlen(end) < 8 || end[7] != '-')
		return 0;
	return (pid_t)pid;
}

/* Whether pid runs: a zombie does not (its parent may be gone and nobody
 * reaps it, as in a container without an init). */
static int pid_runs(pid_t pid)
{
	char path[64], buf[512];
	FILE *f;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return 0;
	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if (!(f = fopen(path, "re")))
		return 1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	const char *paren = strrchr(buf, ')');
	return !(paren && paren[1] == ' ' && paren[2] == 'Z');
}

/* A request directory holds plain files only: empty it, then remove it. */
static void remove_dir(int dfd, const char *name, int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	unlinkat(dfd, name, AT_REMOVEDIR);
	closedir(d);
}

void pkgflat_output_clean(const char *path)
{
	char *dir = path ? dir_of(path) : NULL;
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;

	free(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		pid_t pid = temp_owner(de->d_name);
		if (!pid || pid == getpid() || pid_runs(pid))
			continue;
		int fd = openat(dirfd(d), de->d_name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		struct stat st;
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &st) != 0) {
			close(fd);
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			remove_dir(dirfd(d), de->d_name, fd);
			continue;
		}
		if (S_ISREG(st.st_mode))
			unlinkat(dirfd(d), de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/* /proc/self/fd/N: how an unnamed file is linked without privileges. */
static void proc_path(int fd, char *buf, size_t size)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

pkgflat_status pkgflat_output_open(const char *path, pkgflat_output **out,
    pkgflat_error *err)
{
	pkgflat_output *o;
	int suffix;

	*out = NULL;
	if (!path || !path[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no output file named");
	if (!(o = pf_calloc(1, sizeof *o)))
		return fail_nomem(err);
	o->fd = -1;
	if (!(o->path = pf_strdup(path)) || !(o->dir = dir_of(path))) {
		pkgflat_output_discard(o);
		return fail_nomem(err);
	}
	pkgflat_output_clean(path);
#ifdef O_TMPFILE
	o->fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (o->fd >= 0) {
		char proc[64];
		proc_path(o->fd, proc, sizeof proc);
		if (access(proc, F_OK) == 0) {
			flock(o->fd, LOCK_EX | LOCK_NB);
			*out = o;
			return PKGFLAT_OK;
		}
		close(o->fd); /* no /proc: could not be linked */
		o->fd = -1;
	}
#endif
	if (!(o->tmp = temp_template(o->dir, path, &suffix))) {
		pkgflat_output_discard(o);
		return fail_nomem(err);
	}
	if ((o->fd = mkostemps(o->tmp, suffix, O_CLOEXEC)) < 0) {
		pkgflat_status rc = fail_errno(err, path, "cannot create");
		free(o->tmp);
		o->tmp = NULL;
		pkgflat_output_discard(o);
		return rc;
	}
	flock(o->fd, LOCK_EX | LOCK_NB);
	*out = o;
	return PKGFLAT_OK;
}

int pkgflat_output_fd(const pkgflat_output *o)
{
	return o ? o->fd : -1;
}

const char *output_reopen_path(const pkgflat_output *o, char *buf,
    size_t size)
{
	if (o->tmp)
		return o->tmp;
	proc_path(o->fd, buf, size);
	return buf;
}

/* Link the unnamed file at `to`; EEXIST when `to` exists. */
static int link_unnamed(int fd, const char *to)
{
	char proc[64];

	if (linkat(fd, "", AT_FDCWD, to, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno == EEXIST)
		return -1;
	proc_path(fd, proc, sizeof proc);
	return linkat(AT_FDCWD, proc, AT_FDCWD, to, AT_SYMLINK_FOLLOW);
}

/* A temporary name beside path with a fresh random part. */
static char *temp_candidate(const char *dir, const char *path, int tries)
{
	static const char alnum[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct timespec ts;
	int suffix;
	char *t = temp_template(dir, path, &suffix);

	if (!t) {
		errno = ENOMEM;
		return NULL;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	unsigned long r = (unsigned long)ts.tv_nsec * 2654435761u +
	    (unsigned long)tries * 40503u;
	char *x = t + strlen(t) - suffix - 6;
	for (int i = 0; i < 6; i++, r /= 36)
		x[i] = alnum[r % 36];
	return t;
}

/* Link the unnamed output to a fresh temporary name, for a rename. */
static int link_temp(pkgflat_output *o)
{
	for (int tries = 0; tries < 100; tries++) {
		char *t = temp_candidate(o->dir, o->path, tries);
		if (!t)
			return -1;
		if (link_unnamed(o->fd, t) == 0) {
			o->tmp = t;
			return 0;
		}
		free(t);
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

int output_mkdtemp(const char *path, char **tmp)
{
	char *dir = dir_of(path);

	*tmp = NULL;
	if (!dir) {
		errno = ENOMEM;
		return -1;
	}
	pkgflat_output_clean(path);
	for (int tries = 0; tries < 100; tries++) {
		char *t = temp_candidate(dir, path, tries);
		if (!t)
			break;
		if (mkdir(t, 0700) == 0) {
			int fd = open(t, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0) {
				int e = errno;
				rmdir(t);
				free(t);
				errno = e;
				break;
			}
			flock(fd, LOCK_EX | LOCK_NB);
			free(dir);
			*tmp = t;
			return fd;
		}
		free(t);
		if (errno != EEXIST)
			break;
	}
	free(dir);
	return -1;
}

pkgflat_status pkgflat_output_commit(pkgflat_output *o, int durable,
    pkgflat_error *err)
{
	pkgflat_status rc = PKGFLAT_OK;
	int named = o->tmp != NULL;

	if ((want_fsync(durable) && fsync(o->fd) != 0) || fchmod(o->fd, 0644)) {
		rc = fail_errno(err, o->path, "cannot write");
		goto out;
	}
	if (named) {
		int c = close(o->fd);
		o->fd = -1;
		if (c != 0) {
			rc = fail_errno(err, o->path, "cannot write");
			goto out;
		}
	} else if (link_unnamed(o->fd, o->path) == 0) {
		goto done;
	} else if (errno != EEXIST || link_temp(o) != 0) {
		rc = fail_errno(err, o->path, "cannot create");
		goto out;
	}
	if (rename(o->tmp, o->path) != 0) {
		rc = fail_errno(err, o->path, "cannot rename into place");
		goto out;
	}
	free(o->tmp);
	o->tmp = NULL;
done:
	if (want_fsync(durable)) {
		int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
	}
out:
	pkgflat_output_discard(o);
	return rc;
}

void pkgflat_output_discard(pkgflat_output *o)
{
	if (!o)
		return;
	if (o->tmp)
		unlink(o->tmp);
	if (o->fd >= 0)
		close(o->fd);
	free(o->tmp);
	free(o->dir);
	free(o->path);
	free(o);
}

/* ------------------------------------------------------------------ */
/* Outputs that would overwrite an input                              */

/* The deepest existing directory on path's way, resolved. */
static char *real_parent(const char *path)
{
	char *dir = dir_of(path), *real = NULL;

	while (dir && !(real = realpath(dir, NULL))) {
		char *up = strcmp(dir, ".") && strcmp(dir, "/") ? dir_of(dir) : NULL;
		free(dir);
		dir = up;
	}
	free(dir);
	return real;
}

pkgflat_status pkgflat_output_check(const char *output, const char *input,
    pkgflat_error *err)
{
	struct stat in, out;
	pkgflat_status rc = PKGFLAT_OK;

	if (!output || !input || stat(input, &in) != 0)
		return PKGFLAT_OK; /* reading the input will say what is wrong */
	if (stat(output, &out) == 0 && out.st_dev == in.st_dev &&
	    out.st_ino == in.st_ino)
		return fail(err, PKGFLAT_E_USAGE, output, NULL,
		    "is the input %s%s: writing it would destroy the input", input,
		    strcmp(input, output) ? " (the same file by another name)" : "");
	if (!S_ISDIR(in.st_mode))
		return PKGFLAT_OK;
	/* Inside a directory input: every directory up from the output. */
	for (char *p = real_parent(output), *slash; p; ) {
		struct stat st;
		if (stat(p, &st) == 0 && st.st_dev == in.st_dev &&
		    st.st_ino == in.st_ino) {
			rc = fail(err, PKGFLAT_E_USAGE, output, NULL,
			    "is inside the input %s: writing it would change the "
			    "input", input);
			free(p);
			break;
		}
		if (!strcmp(p, "/") || !(slash = strrchr(p, '/'))) {
			free(p);
			break;
		}
		slash[slash == p] = '\0';
	}
	return rc;
}

pkgflat_status output_in_place(const char *output, const char *input,
    char **target, pkgflat_error *err)
{
	char *ro = realpath(output, NULL), *ri = realpath(input, NULL);
	pkgflat_status rc = PKGFLAT_OK;

	if (target)
		*target = NULL;
	if (ro && ri && !strcmp(ro, ri)) {
		if (target) {
			*target = ri;
			ri = NULL;
		}
	} else if (!(rc = pkgflat_output_check(output, input, err)) && target &&
	    !(*target = pf_strdup(output)))
		rc = fail_nomem(err);
	free(ro);
	free(ri);
	return rc;
}
