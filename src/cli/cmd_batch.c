/*
 * pkgflat batch: convert many legacy packages in one run.
 *
 * The parent finds the inputs (bundle directories, archives of them,
 * directories searched for both), names their outputs, then forks one
 * worker per input, at most -j at a time. A worker digests its input,
 * decides whether the output is up to date, converts if not, and leaves a
 * small result record in the run's temporary directory; the parent reaps
 * it, updates the state file and the progress display, and writes the
 * report at the end. A worker that dies cannot take the run with it.
 *
 * State (OUTDIR/.pkgflat-batch-state, rewritten after every input): one
 * line per output, "REL\tINPUT-SHA256\tOPTIONS-SHA256\tOUTPUT-SHA256",
 * REL with '\\', tab and newline escaped. An input is up to date when its
 * output exists and the three digests match.
 *
 * Worker result record: lines "KEY VALUE" (VALUE with '\\' and newline
 * escaped): status, in, in-bytes, out, out-bytes, error, warning...
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static const char batch_help[] =
    "usage: pkgflat batch [options] -o OUTDIR PATH...\n"
    "\n"
    "Convert many legacy packages at once. Each PATH is a bundle package\n"
    "(Foo.pkg or Foo.mpkg), a zip or tar holding one or more, or a directory\n"
    "searched for both (bundles are not searched inside: their component\n"
    "packages belong to them; flat .pkg files are ignored and listed in the\n"
    "report). Each input becomes OUTDIR/<its directory below PATH>/<name>.pkg;\n"
    "an archive of several packages is taken as a directory of that name.\n"
    "Names that clash (case-insensitively) get -2, -3, ... in the order the\n"
    "inputs are found: PATHs left to right, directories in byte order.\n"
    "\n"
    "Inputs whose output is up to date (same input digest, same options) are\n"
    "skipped. One failing input never stops the others. SIGINT or SIGTERM\n"
    "stops the workers, leaves no partial output and writes the report; run\n"
    "again to finish. The report, OUTDIR/pkgflat-report.json, gives for each\n"
    "input its status (converted, up-to-date, failed, interrupted), output,\n"
    "SHA-256 of input and output, duration, warnings and error.\n"
    "\n"
    "options:\n"
    "  -o, --output OUTDIR      where the flat packages go (created if needed)\n"
    "  -j, --jobs N             convert N inputs at a time (default: one per\n"
    "                           online core)\n"
    "  --threads N              compression threads of each worker (default:\n"
    "                           cores/N, at least 1; the output is the same)\n"
    "  --force                  convert every input, even those up to date\n"
    "                           (convert's --force is --force-sign here)\n"
    "  --force-sign             sign even with an unfit certificate\n"
    "  --junit FILE             also write JUnit XML: one test case per input\n"
    "  --html FILE              also write the HTML report there (it is always\n"
    "                           written as OUTDIR/pkgflat-report.html): one\n"
    "                           self-contained file, a sortable table of the\n"
    "                           inputs with status, sizes, time, warnings and\n"
    "                           mapping decisions\n"
    "  --progress MODE          auto (default): one status line redrawn on a\n"
    "                           terminal, else plain; plain: one line per\n"
    "                           input; tty: the status line, which counts the\n"
    "                           bytes workers have in flight\n"
    "  --no-progress            neither: only errors and the summary\n"
    "  -v, --verbose            the line per input, and each input's warnings\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -h, --help               show this help\n"
    "\n"
    "conversion options, applied to every input (see 'pkgflat convert'):\n"
    "%s"  /* convert_options_help */
    "\n"
    "An input's digest is a SHA-256 over its files (for a directory: every\n"
    "path, type, mode, size, mtime and content; for an archive: its bytes).\n"
    "SOURCE_DATE_EPOCH, when set, makes every output reproducible; it is part\n"
    "of the options digest. For tests only: PKGFLAT_BATCH_TEST_DELAY=SECONDS\n"
    "makes each worker wait before it starts; PKGFLAT_BATCH_TEST_CRASH=TEXT\n"
    "makes the workers of inputs whose path holds TEXT abort.\n"
    "\n"
    "OUTDIR may lie inside a directory that is searched (it is skipped), not\n"
    "inside an input bundle; an output that would replace an input, or\n"
    "--junit naming one, is refused before any work (exit 2).\n"
    "\n"
    "exit status: 0 every input converted or up to date, 1 some failed or\n"
    "the run was interrupted, 2 usage error, 3 the run could not start (no\n"
    "inputs, OUTDIR not usable)\n";

#define STATE_NAME ".pkgflat-batch-state"
#define STATE_HEADER "pkgflat-batch-state 1"
#define REPORT_NAME "pkgflat-report.json"
#define HTML_NAME "pkgflat-report.html"

enum item_status { ST_PENDING = 0, ST_RUNNING, ST_CONVERTED, ST_SKIPPED,
	ST_FAILED, ST_INTERRUPTED };

static const char *const status_names[] = {
	[ST_PENDING] = "interrupted", [ST_RUNNING] = "interrupted",
	[ST_CONVERTED] = "converted", [ST_SKIPPED] = "up-to-date",
	[ST_FAILED] = "failed", [ST_INTERRUPTED] = "interrupted",
};

struct item {
	char *input;          /* as found: "dir/zips/Foo.zip" */
	char *member;         /* the bundle inside the archive, or NULL */
	int shared;           /* the archive holds other inputs too */
	char *key;            /* realpath + member: finds duplicates */
	char *wanted;         /* output name before clashes were resolved */
	char *rel;            /* output, relative to OUTDIR */
	char *out;            /* OUTDIR/rel */
	uint64_t size;        /* bytes of its files, for progress */
	enum item_status st;
	pid_t pid;
	struct timespec t0;
	double seconds;
	char in_sha[65], out_sha[65];
	uint64_t in_bytes, out_bytes;
	char *error;
	char **warnings;
	size_t nwarnings;
	char **mappings;      /* the conversion's decisions, one line each */
	size_t nmappings;
};

struct state_entry {
	char *rel;
	char in[65], opt[65], out[65];
};

struct batch {
	const char *outdir;
	dev_t out_dev;
	ino_t out_ino;
	struct item *items;
	size_t n, cap;
	char **ignored;       /* path, reason, path, reason, ... */
	size_t nignored;
	struct state_entry *state;
	size_t nstate;
	struct convert_opts co;
	char opt_sha[65];
	int jobs, threads, force, quiet, tty, plain, verbose;
	const char *junit;
	const char *html;     /* --html FILE, besides OUTDIR's own */
	struct inflight fl;   /* what each worker has done so far */
	char tmpdir[4096];
	size_t done, failed, skipped, converted;
	uint64_t total_bytes, done_bytes;
	struct timespec t0;
	int status_shown;
};

static volatile sig_atomic_t stop_signal;
static int wake_fd[2] = { -1, -1 };

static void on_signal(int sig)
{
	int saved = errno;

	if (sig != SIGCHLD)
		stop_signal = sig;
	if (wake_fd[1] >= 0 && write(wake_fd[1], "x", 1) < 0) {
		/* full: the parent wakes up anyway */
	}
	errno = saved;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		exit(EXIT_ERROR);
	}
	return q;
}

static char *xstrdup(const char *s)
{
	return s ? strcpy(xrealloc(NULL, strlen(s) + 1), s) : NULL;
}

static char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		exit(EXIT_ERROR);
	}
	return s;
}

static double since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static int has_suffix_ci(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcasecmp(s + a - b, suffix);
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');

	return s ? s + 1 : p;
}

static int is_bundle(const char *name)
{
	return has_suffix_ci(name, ".pkg") || has_suffix_ci(name, ".mpkg");
}

static const char *const archive_exts[] = {
	".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".tar", ".tgz", ".tbz",
	".tbz2", ".txz",
};

/* name without its package or archive extension */
static char *stem(const char *name)
{
	static const char *const exts[] = { ".pkg", ".mpkg" };
	size_t len = strlen(name);

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
		if (has_suffix_ci(name, exts[i]) && len > strlen(exts[i]))
			return xprintf("%.*s", (int)(len - strlen(exts[i])), name);
	for (size_t i = 0; i < sizeof archive_exts / sizeof *archive_exts; i++)
		if (has_suffix_ci(name, archive_exts[i]) &&
		    len > strlen(archive_exts[i]))
			return xprintf("%.*s", (int)(len - strlen(archive_exts[i])),
			    name);
	return xstrdup(name);
}

static int is_archive_name(const char *name)
{
	for (size_t i = 0; i < sizeof archive_exts / sizeof *archive_exts; i++)
		if (has_suffix_ci(name, archive_exts[i]))
			return 1;
	return 0;
}

static char *join(const char *dir, const char *name)
{
	return dir[0] ? xprintf("%s/%s", dir, name) : xstrdup(name);
}

/* ------------------------------------------------------------------ */
/* Finding the inputs                                                 */

static char *pkg_name(const char *rel, const char *name)
{
	char *p = join(rel, name), *r = xprintf("%s.pkg", p);

	free(p);
	return r;
}

static void ignore(struct batch *b, const char *path, const char *reason)
{
	b->ignored = xrealloc(b->ignored, (b->nignored + 2) * sizeof *b->ignored);
	b->ignored[b->nignored++] = xstrdup(path);
	b->ignored[b->nignored++] = xstrdup(reason);
}

static uint64_t tree_size(const char *path, int depth)
{
	struct stat sb;
	uint64_t sum = 0;

	if (lstat(path, &sb) != 0)
		return 0;
	if (S_ISREG(sb.st_mode))
		return (uint64_t)sb.st_size;
	if (!S_ISDIR(sb.st_mode) || depth > 64)
		return 0;
	DIR *d = opendir(path);
	struct dirent *de;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *p = xprintf("%s/%s", path, de->d_name);
		sum += tree_size(p, depth + 1);
		free(p);
	}
	closedir(d);
	return sum;
}

static void item_free(struct item *it)
{
	free(it->input);
	free(it->member);
	free(it->key);
	free(it->wanted);
	free(it->rel);
	free(it->out);
	free(it->error);
	for (size_t k = 0; k < it->nwarnings; k++)
		free(it->warnings[k]);
	free(it->warnings);
	for (size_t k = 0; k < it->nmappings; k++)
		free(it->mappings[k]);
	free(it->mappings);
}

static void add_item(struct batch *b, const char *input, const char *member,
    char *wanted)
{
	char *real = realpath(input, NULL);
	char *key = xprintf("%s\n%s", real ? real : input, member ? member : "");

	free(real);
	for (size_t i = 0; i < b->n; i++) {
		if (!strcmp(b->items[i].key, key)) {
			free(key);
			free(wanted);
			return; /* the same input named twice */
		}
	}
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = xrealloc(b->items, b->cap * sizeof *b->items);
	}
	struct item *it = &b->items[b->n++];
	memset(it, 0, sizeof *it);
	it->input = xstrdup(input);
	it->member = xstrdup(member);
	it->key = key;
	it->wanted = wanted;
	it->size = tree_size(input, 0);
}

/* An archive: one input, or one per package when it holds several. */
static void add_archive(struct batch *b, const char *path, const char *rel,
    int named)
{
	char **members = NULL;
	size_t count = 0;
	pkgflat_error err;
	char *s = stem(base_name(path));

	pkgflat_error_clear(&err);
	if (pkgflat_archive_packages(path, &members, &count, &err) || count < 2) {
		/* An unreadable archive is a failed input: its worker says why. */
		if (named || err.status || count == 1)
			add_item(b, path, count == 1 ? members[0] : NULL,
			    pkg_name(rel, s));
		else
			ignore(b, path, "an archive with no bundle package in it");
		pkgflat_archive_packages_free(members, count);
		free(s);
		return;
	}
	size_t first = b->n;
	for (size_t i = 0; i < count; i++) {
		char *dir = join(rel, s);
		char *mdir = xstrdup(members[i]);
		char *slash = strrchr(mdir, '/');
		char *ms = stem(base_name(members[i]));
		char *d2;
		if (slash) {
			*slash = '\0';
			d2 = join(dir, mdir);
		} else
			d2 = xstrdup(dir);
		add_item(b, path, members[i], xprintf("%s/%s.pkg", d2, ms));
		free(dir);
		free(mdir);
		free(ms);
		free(d2);
	}
	for (size_t i = first; i < b->n; i++) {
		b->items[i].shared = 1;
		if (i > first)
			b->items[i].size = 0; /* the archive's bytes count once */
	}
	pkgflat_archive_packages_free(members, count);
	free(s);
}

static void add_file(struct batch *b, const char *path, const char *rel,
    int named)
{
	enum pkgflat_file_kind k;

	if (!named && !is_archive_name(base_name(path)) &&
	    !has_suffix_ci(path, ".pkg") && !has_suffix_ci(path, ".mpkg"))
		return; /* README.txt and such */
	k = pkgflat_file_sniff(path);
	if (k == PKGFLAT_FILE_XAR)
		ignore(b, path, "a flat package already");
	else if (k == PKGFLAT_FILE_ARCHIVE)
		add_archive(b, path, rel, named);
	else if (named)
		add_item(b, path, NULL, xprintf("%s.pkg", base_name(path)));
	else
		ignore(b, path, "neither a bundle package nor an archive");
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void walk(struct batch *b, const char *dir, const char *rel, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	if (!d || depth > 64) {
		if (d)
			closedir(d);
		ignore(b, dir, d ? "nested too deeply" : strerror(errno));
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, "__MACOSX"))
			continue;
		names = xrealloc(names, (n + 1) * sizeof *names);
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, cmp_str);
	for (size_t i = 0; i < n; i++) {
		char *p = xprintf("%s/%s", dir, names[i]);
		struct stat sb;
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode) &&
		    !(sb.st_dev == b->out_dev && sb.st_ino == b->out_ino)) {
			if (is_bundle(names[i])) {
				char *s = stem(names[i]);
				add_item(b, p, NULL, pkg_name(rel, s));
				free(s);
			} else {
				char *r = join(rel, names[i]);
				walk(b, p, r, depth + 1);
				free(r);
			}
		} else if (lstat(p, &sb) == 0 && S_ISREG(sb.st_mode))
			add_file(b, p, rel, 0);
		free(p);
		free(names[i]);
	}
	free(names);
}

/* One PATH argument; EXIT_ERROR when it cannot be read at all. */
static int add_path(struct batch *b, const char *path)
{
	struct stat sb;

	if (stat(path, &sb) != 0) {
		fprintf(stderr, "%s: %s: cannot open: %s\n", progname, path,
		    strerror(errno));
		return EXIT_ERROR;
	}
	if (S_ISDIR(sb.st_mode)) {
		char *trimmed = xstrdup(path);
		size_t len = strlen(trimmed);
		while (len > 1 && trimmed[len - 1] == '/')
			trimmed[--len] = '\0';
		if (is_bundle(base_name(trimmed))) {
			char *s = stem(base_name(trimmed));
			add_item(b, trimmed, NULL, xprintf("%s.pkg", s));
			free(s);
		} else
			walk(b, trimmed, "", 0);
		free(trimmed);
	} else
		add_file(b, path, "", 1);
	return EXIT_OK;
}

/* A metapackage's components may sit beside it (IFPkgFlagComponentDirectory
 * ".."): found on their own they would be converted twice. */
static void drop_components(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *m = &b->items[i];
		pkgflat_package *pkg = NULL;
		pkgflat_error err;

		if (m->member || !has_suffix_ci(m->input, ".mpkg") ||
		    pkgflat_package_open(m->input, &pkg, &err))
			continue; /* its worker will say what is wrong */
		char *dir = xstrdup(m->input), *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		for (size_t c = 0; c < pkgflat_package_component_count(pkg); c++) {
			const char *p = pkgflat_bundle_get(
			    pkgflat_package_component(pkg, c), PKGFLAT_F_PATH);
			char *full = slash ? xprintf("%s/%s", dir, p) : xstrdup(p);
			char *real = realpath(full, NULL);
			char *key = real ? xprintf("%s\n", real) : NULL;
			for (size_t k = 0; key && k < b->n; k++) {
				struct item *it = &b->items[k];
				if (k == i || strcmp(it->key, key))
					continue;
				char *why = xprintf("a component of %s", m->input);
				ignore(b, it->input, why);
				free(why);
				item_free(it);
				memmove(it, it + 1, (b->n - k - 1) * sizeof *it);
				b->n--;
				if (k < i)
					i--, m--;
				break;
			}
			free(full);
			free(real);
			free(key);
		}
		free(dir);
		pkgflat_package_free(pkg);
	}
}

/* Foo.pkg, Foo-2.pkg, ...: the first found keeps the name. */
static void name_outputs(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct item *it = &b->items[i];
		const char *w = it->wanted;
		size_t wl = strlen(w) - 4; /* without ".pkg" */
		for (unsigned k = 1;; k++) {
			char *cand = k == 1 ? xstrdup(w) :
			    xprintf("%.*s-%u.pkg", (int)wl, w, k);
			size_t j;
			for (j = 0; j < i; j++)
				if (!strcasecmp(b->items[j].rel, cand))
					break;
			if (j == i) {
				it->rel = cand;
				break;
			}
			free(cand);
		}
		it->out = xprintf("%s/%s", b->outdir, it->rel);
	}
}

/*
 * No output may be written over an input or inside an input bundle:
 * OUTDIR inside a directory that is searched is fine (the search skips it),
 * inside Foo.pkg/ it is not. EXIT_USAGE, said, before any work.
 */
/* path resolved, when its last parts do not exist yet: those as given */
static char *realpath_missing(const char *path)
{
	char *head = xstrdup(path), *real, *slash;

	while (!(real = realpath(head, NULL)) && (slash = strrchr(head, '/')) &&
	    slash != head)
		*slash = '\0';
	if (!real && !strchr(head, '/'))
		real = realpath(".", NULL), head[0] = '\0';
	if (!real) {
		free(head);
		return NULL;
	}
	const char *rest = path + strlen(head);
	char *r = xprintf("%s%s%s", real, head[0] || *rest == '/' ? "" : "/",
	    rest);
	free(real);
	free(head);
	return r;
}

static int refuse_inputs(struct batch *b)
{
	char *outreal = realpath_missing(b->outdir);
	char **reals = xrealloc(NULL, (b->n + 1) * sizeof *reals);
	int rc = EXIT_OK;

	for (size_t i = 0; i < b->n; i++)
		reals[i] = strndup(b->items[i].key, strcspn(b->items[i].key, "\n"));
	for (size_t i = 0; outreal && rc == EXIT_OK && i < b->n; i++) {
		size_t l = strlen(reals[i]);
		struct stat sb;
		if (reals[i][0] == '/' && !strncmp(outreal, reals[i], l) &&
		    (outreal[l] == '/' || !outreal[l]) && stat(reals[i], &sb) == 0 &&
		    S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "%s: %s: is inside the input %s: writing there "
			    "would change the input\n", progname, b->outdir,
			    b->items[i].input);
			rc = EXIT_USAGE;
		}
	}
	if (outreal && rc == EXIT_OK) {
		qsort(reals, b->n, sizeof *reals, cmp_str);
		for (size_t i = 0; rc == EXIT_OK && i < b->n; i++) {
			char *o = xprintf("%s/%s", outreal, b->items[i].rel);
			if (bsearch(&o, reals, b->n, sizeof *reals, cmp_str)) {
				fprintf(stderr, "%s: %s: is an input: writing it would "
				    "destroy the input\n", progname, b->items[i].out);
				rc = EXIT_USAGE;
			}
			free(o);
		}
	}
	if ((b->junit || b->html) && rc == EXIT_OK) {
		const char **in = xrealloc(NULL, (b->n + 1) * sizeof *in);
		for (size_t i = 0; i < b->n; i++)
			in[i] = b->items[i].input;
		if (b->junit)
			rc = refuse_overwrite(b->junit, in, b->n);
		if (b->html && !rc)
			rc = refuse_overwrite(b->html, in, b->n);
		free(in);
	}
	for (size_t i = 0; i < b->n; i++)
		free(reals[i]);
	free(reals);
	free(outreal);
	return rc;
}

/* ------------------------------------------------------------------ */
/* State between runs                                                 */

static void put_escaped(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\\\", f);
		else if (*s == '\n')
			fputs("\\n", f);
		else if (*s == '\t')
			fputs("\\t", f);
		else
			fputc(*s, f);
	}
}

static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1]) {
			s++;
			*o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
		} else
			*o++ = *s;
	}
	*o = '\0';
}

static int is_hex64(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

/* A state file that is not what state_write() writes is reported, not
 * trusted: a damaged line is skipped (its input converted again), a file
 * without the header is set aside whole. Lines that parse are safe to keep:
 * an output counts as up to date only when its digest matches too. */
static void state_read(struct batch *b)
{
	char *path = xprintf("%s/%s", b->outdir, STATE_NAME);
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0, first_bad = 0;
	int no_header = 0;
	ssize_t len;

	if (!f) {
		if (errno != ENOENT)
			fprintf(stderr, "%s: warning: %s: cannot read: %s; every input "
			    "is converted again\n", progname, path, strerror(errno));
		free(path);
		return;
	}
	while ((len = getline(&line, &cap, f)) > 0) {
		lineno++;
		if (line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if ((no_header = strcmp(line, STATE_HEADER) != 0))
				break;
			continue;
		}
		char *f1 = strtok(line, "\t"), *f2 = strtok(NULL, "\t"),
		    *f3 = strtok(NULL, "\t"), *f4 = strtok(NULL, "\t");
		if (!f4 || strtok(NULL, "\t") || !is_hex64(f2) || !is_hex64(f3) ||
		    !is_hex64(f4) || (size_t)len != strlen(f1) + 3 * 65) {
			if (!bad++)
				first_bad = lineno;
			continue;
		}
		b->state = xrealloc(b->state, (b->nstate + 1) * sizeof *b->state);
		struct state_entry *e = &b->state[b->nstate++];
		unescape(f1);
		e->rel = xstrdup(f1);
		memcpy(e->in, f2, 65);
		memcpy(e->opt, f3, 65);
		memcpy(e->out, f4, 65);
	}
	if (ferror(f))
		fprintf(stderr, "%s: warning: %s: cannot read: %s; inputs after "
		    "line %zu are converted again\n", progname, path,
		    strerror(errno), lineno);
	else if (no_header || lineno == 0)
		fprintf(stderr, "%s: warning: %s: %s: not a batch state file "
		    "(no '%s' header); ignored: every input is converted again "
		    "and the file rewritten\n", progname, path,
		    lineno ? "line 1" : "empty", STATE_HEADER);
	else if (bad)
		fprintf(stderr, "%s: warning: %s: line %zu: not 'OUTPUT<TAB>three "
		    "SHA-256s' (%zu damaged line%s ignored: %s converted again)\n",
		    progname, path, first_bad, bad, bad == 1 ? "" : "s",
		    bad == 1 ? "its input is" : "their inputs are");
	free(line);
	fclose(f);
	free(path);
}

static struct state_entry *state_find(struct batch *b, const char *rel)
{
	for (size_t i = 0; i < b->nstate; i++)
		if (!strcmp(b->state[i].rel, rel))
			return &b->state[i];
	return NULL;
}

static int state_write(struct batch *b)
{
	char *path = xprintf("%s/%s", b->outdir, STATE_NAME);
	pkgflat_output *tmp;
	FILE *f = output_fopen(path, &tmp);
	int rc = EXIT_ERROR;

	if (f) {
		fprintf(f, "%s\n", STATE_HEADER);
		for (size_t i = 0; i < b->nstate; i++) {
			put_escaped(f, b->state[i].rel);
			fprintf(f, "\t%s\t%s\t%s\n", b->state[i].in, b->state[i].opt,
			    b->state[i].out);
		}
		rc = output_fclose(f, tmp, path);
	}
	free(path);
	return rc;
}

static void state_update(struct batch *b, const struct item *it)
{
	struct state_entry *e = state_find(b, it->rel);

	if (it->st != ST_CONVERTED && it->st != ST_SKIPPED) {
		if (e) { /* failed: try again next time */
			free(e->rel);
			*e = b->state[--b->nstate];
		}
		return;
	}
	if (!e) {
		b->state = xrealloc(b->state, (b->nstate + 1) * sizeof *b->state);
		e = &b->state[b->nstate++];
		e->rel = xstrdup(it->rel);
	}
	memcpy(e->in, it->in_sha, 65);
	memcpy(e->opt, b->opt_sha, 65);
	memcpy(e->out, it->out_sha, 65);
}

/* Every option that can change an output, in a stable order. */
static void options_digest(struct batch *b)
{
	char **v = xrealloc(NULL, (b->co.ngiven + 1) * sizeof *v);
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *text = xprintf("pkgflat %s\nSOURCE_DATE_EPOCH=%s\n",
	    PKGFLAT_VERSION, sde ? sde : "");

	for (size_t i = 0; i < b->co.ngiven; i++)
		v[i] = b->co.given[i];
	if (b->co.ngiven)
		qsort(v, b->co.ngiven, sizeof *v, cmp_str);
	for (size_t i = 0; i < b->co.ngiven; i++) {
		char *t = xprintf("%s%s\n", text, v[i]);
		free(text);
		text = t;
	}
	pkgflat_digest_data(text, strlen(text), b->opt_sha);
	free(text);
	free(v);
}

/* ------------------------------------------------------------------ */
/* The worker                                                         */

static void rec_put(FILE *f, const char *k, const char *v)
{
	fprintf(f, "%s ", k);
	for (; *v; v++) {
		if (*v == '\\')
			fputs("\\\\", f);
		else if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
	fputc('\n', f);
}

static int file_exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static void test_hooks(const struct item *it)
{
	const char *delay = getenv("PKGFLAT_BATCH_TEST_DELAY");
	const char *crash = getenv("PKGFLAT_BATCH_TEST_CRASH");

	if (delay && *delay) {
		double s = atof(delay);
		struct timespec ts = { (time_t)s,
		    (long)((s - (double)(time_t)s) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	if (crash && *crash && strstr(it->input, crash)) {
		/* abort(): sanitizers leave SIGABRT alone, unlike SIGSEGV */
		struct rlimit no_core = { 0, 0 };
		setrlimit(RLIMIT_CORE, &no_core);
		abort();
	}
}

static void worker(struct batch *b, struct item *it, const char *record)
{
	pkgflat_error err;
	pkgflat_package *pkg = NULL;
	pkgflat_convert_result *res = NULL;
	pkgflat_convert_options opt = b->co.opt;
	char text[2048], in[65] = "", out[65] = "";
	uint64_t in_bytes = 0, out_bytes = 0;
	const char *status = "failed";
	FILE *f = fopen(record, "w");

	if (!f)
		_exit(EXIT_ERROR);
	test_hooks(it);
	pkgflat_error_clear(&err);
	text[0] = '\0';
	if (pkgflat_digest_path(it->input, in, &in_bytes, &err))
		goto failed;
	if (it->shared) { /* the archive's digest and the member's name */
		char *s = xprintf("%s\n%s", in, it->member);
		pkgflat_digest_data(s, strlen(s), in);
		free(s);
	}
	struct state_entry *e = state_find(b, it->rel);
	if (!b->force && e && !strcmp(e->in, in) && !strcmp(e->opt, b->opt_sha) &&
	    file_exists(it->out) &&
	    !pkgflat_digest_path(it->out, out, &out_bytes, &err) &&
	    !strcmp(out, e->out)) {
		status = "up-to-date";
		goto done;
	}
	pkgflat_error_clear(&err);
	opt.output = it->out;
	opt.threads = b->threads;
	if (b->fl.bytes) {
		opt.progress = inflight_cb;
		opt.progress_ctx = &b->fl.bytes[it - b->items];
	}
	if (pkgflat_package_open_member(it->input, it->member, &pkg, &err) ||
	    pkgflat_convert(pkg, &opt, &res, &err) ||
	    pkgflat_digest_path(it->out, out, &out_bytes, &err))
		goto failed;
	status = "converted";
	for (size_t i = 0; i < pkgflat_convert_warning_count(res); i++)
		rec_put(f, "warning", pkgflat_convert_warning(res, i));
	for (size_t i = 0; i < pkgflat_convert_mapping_count(res); i++) {
		const pkgflat_mapping *m = pkgflat_convert_mapping(res, i);
		char *line = xprintf("%s: %s%s%s -> %s%s%s%s", m->component ?
		    m->component : "product", m->legacy, m->value ? "=" : "",
		    m->value ? m->value : "", m->flat ? m->flat : "dropped",
		    m->note ? " (" : "", m->note ? m->note : "", m->note ? ")" : "");
		rec_put(f, "mapping", line);
		free(line);
	}
	goto done;
failed:
	pkgflat_error_text(&err, text, sizeof text);
done:
	rec_put(f, "status", status);
	rec_put(f, "in", in);
	fprintf(f, "in-bytes %llu\n", (unsigned long long)in_bytes);
	rec_put(f, "out", out);
	fprintf(f, "out-bytes %llu\n", (unsigned long long)out_bytes);
	if (text[0])
		rec_put(f, "error", text);
	pkgflat_convert_result_free(res);
	pkgflat_package_free(pkg);
	_exit(fclose(f) == 0 ? EXIT_OK : EXIT_ERROR);
}

/* The record a worker left; 0 when it was complete. */
static int read_record(struct item *it, const char *record)
{
	FILE *f = fopen(record, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int have_status = 0;

	if (!f)
		return -1;
	while ((len = getline(&line, &cap, f)) > 0) {
		if (line[len - 1] != '\n')
			break; /* cut short */
		line[--len] = '\0';
		char *v = strchr(line, ' ');
		if (!v)
			continue;
		*v++ = '\0';
		unescape(v);
		if (!strcmp(line, "status")) {
			have_status = 1;
			it->st = !strcmp(v, "converted") ? ST_CONVERTED :
			    !strcmp(v, "up-to-date") ? ST_SKIPPED : ST_FAILED;
		} else if (!strcmp(line, "in") && strlen(v) < 65)
			strcpy(it->in_sha, v);
		else if (!strcmp(line, "out") && strlen(v) < 65)
			strcpy(it->out_sha, v);
		else if (!strcmp(line, "in-bytes"))
			it->in_bytes = strtoull(v, NULL, 10);
		else if (!strcmp(line, "out-bytes"))
			it->out_bytes = strtoull(v, NULL, 10);
		else if (!strcmp(line, "error")) {
			free(it->error);
			it->error = xstrdup(v);
		} else if (!strcmp(line, "warning")) {
			it->warnings = xrealloc(it->warnings, (it->nwarnings + 1) *
			    sizeof *it->warnings);
			it->warnings[it->nwarnings++] = xstrdup(v);
		} else if (!strcmp(line, "mapping")) {
			it->mappings = xrealloc(it->mappings, (it->nmappings + 1) *
			    sizeof *it->mappings);
			it->mappings[it->nmappings++] = xstrdup(v);
		}
	}
	free(line);
	fclose(f);
	return have_status ? 0 : -1;
}

/* ------------------------------------------------------------------ */
/* Progress                                                           */

static void clear_status(struct batch *b)
{
	if (b->tty && b->status_shown) {
		fputs("\r\033[K", stderr);
		b->status_shown = 0;
	}
}

static void draw_status(struct batch *b)
{
	char done[32], rate[32], eta[32] = "--:--";
	double t = since(&b->t0);
	/* Finished inputs and what the running workers have done of theirs:
	 * counting only finished ones, the first estimates would be far off
	 * while a big input is in flight. */
	uint64_t bytes = b->done_bytes;
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].st == ST_RUNNING)
			bytes += inflight_get(&b->fl, i, b->items[i].size);
	double r = t > 0 ? (double)bytes / t : 0;

	if (!b->tty)
		return;
	human_size(done, sizeof done, (double)bytes);
	human_size(rate, sizeof rate, r);
	if (r > 0 && b->total_bytes >= bytes)
		human_duration(eta, sizeof eta, (double)(b->total_bytes - bytes) / r);
	fprintf(stderr, "\r\033[K%s batch: %zu/%zu done, %zu failed, %s, %s/s, "
	    "ETA %s", progname, b->done, b->n, b->failed, done, rate, eta);
	fflush(stderr);
	b->status_shown = 1;
}

static void report_item(struct batch *b, const struct item *it)
{
	clear_status(b);
	if (it->st == ST_FAILED) {
		fprintf(stderr, "%s: ", progname);
		print_text(stderr, it->error ? it->error : "failed");
		fputc('\n', stderr);
	}
	if (b->plain && !b->quiet) {
		fprintf(stderr, "[%zu/%zu] %-11s ", b->done, b->n,
		    status_names[it->st]);
		print_text(stderr, it->input);
		if (it->member) {
			fputc('(', stderr);
			print_text(stderr, it->member);
			fputc(')', stderr);
		}
		if (it->st == ST_CONVERTED || it->st == ST_SKIPPED) {
			fputs(" -> ", stderr);
			print_text(stderr, it->out);
		}
		if (it->st == ST_CONVERTED && it->nwarnings)
			fprintf(stderr, " (%.1f s, %zu warning%s)", it->seconds,
			    it->nwarnings, it->nwarnings == 1 ? "" : "s");
		else if (it->st == ST_CONVERTED)
			fprintf(stderr, " (%.1f s)", it->seconds);
		fputc('\n', stderr);
	}
	if (b->verbose && it->nwarnings) {
		clear_status(b);
		warnings_print(stderr, (const char *const *)it->warnings,
		    it->nwarnings);
	}
	if (!b->quiet)
		draw_status(b);
}

/* ------------------------------------------------------------------ */
/* Running                                                            */

static int mkdirs(const char *path)
{
	char *p = xstrdup(path);
	int rc = 0;

	for (char *s = p + 1; *s && !rc; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0777) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	if (!rc && mkdir(p, 0777) != 0 && errno != EEXIST)
		rc = -1;
	free(p);
	return rc;
}

static char *record_path(struct batch *b, size_t i)
{
	return xprintf("%s/%zu", b->tmpdir, i);
}

static void start(struct batch *b, size_t i)
{
	struct item *it = &b->items[i];
	char *dir = xstrdup(it->out);
	char *rec = record_path(b, i);

	*strrchr(dir, '/') = '\0';
	clock_gettime(CLOCK_MONOTONIC, &it->t0);
	if (mkdirs(dir) != 0) {
		it->st = ST_FAILED;
		it->error = xprintf("%s: cannot create directory: %s", dir,
		    strerror(errno));
		goto out;
	}
	fflush(NULL);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0) {
		/* A worker dies with the run: a killed batch leaves no worker
		 * writing on (the parent may have died before prctl). */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(EXIT_ERROR);
		struct sigaction sa = { .sa_handler = SIG_DFL };
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGCHLD, &sa, NULL);
		close(wake_fd[0]);
		close(wake_fd[1]);
		worker(b, it, rec);
	}
	if (pid < 0) {
		it->st = ST_FAILED;
		it->error = xprintf("%s: cannot start a worker: %s", it->input,
		    strerror(errno));
		goto out;
	}
	it->pid = pid;
	it->st = ST_RUNNING;
out:
	free(dir);
	free(rec);
}

static void finish(struct batch *b, size_t i, int wstatus)
{
	struct item *it = &b->items[i];
	char *rec = record_path(b, i);

	it->pid = 0;
	it->seconds = since(&it->t0);
	if (WIFSIGNALED(wstatus)) {
		int sig = WTERMSIG(wstatus);
		if (stop_signal && (sig == SIGTERM || sig == SIGINT)) {
			it->st = ST_INTERRUPTED;
			pkgflat_output_clean(it->out);
		} else {
			it->st = ST_FAILED;
			it->error = xprintf("%s: worker killed by signal SIG%s (%s)",
			    it->input, sigabbrev_np(sig) ? sigabbrev_np(sig) : "?",
			    strsignal(sig));
			pkgflat_output_clean(it->out);
		}
	} else if (read_record(it, rec) != 0) {
		it->st = ST_FAILED;
		it->error = xprintf("%s: the worker left no result (exit %d)",
		    it->input, WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);
		pkgflat_output_clean(it->out);
	}
	unlink(rec);
	free(rec);
}

/* After start() or finish(): count it, show it, remember it. */
static void settle(struct batch *b, struct item *it)
{
	if (it->st == ST_INTERRUPTED || it->st == ST_RUNNING)
		return;
	b->done++;
	b->done_bytes += it->size;
	if (it->st == ST_FAILED)
		b->failed++;
	else if (it->st == ST_SKIPPED)
		b->skipped++;
	else
		b->converted++;
	state_update(b, it);
	state_write(b);
	report_item(b, it);
}

static void run_all(struct batch *b)
{
	size_t next = 0, running = 0;
	int killed = 0;

	clock_gettime(CLOCK_MONOTONIC, &b->t0);
	if (!b->quiet)
		draw_status(b);
	while (next < b->n || running) {
		while (!stop_signal && running < (size_t)b->jobs && next < b->n) {
			struct item *it = &b->items[next++];
			start(b, (size_t)(it - b->items));
			if (it->st == ST_RUNNING)
				running++;
			else
				settle(b, it);
		}
		if (stop_signal && !killed) {
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].pid > 0)
					kill(b->items[i].pid, SIGTERM);
			killed = 1;
		}
		if (!running)
			break;
		struct pollfd p = { .fd = wake_fd[0], .events = POLLIN };
		if (poll(&p, 1, b->tty && !b->quiet ? 500 : 5000) > 0) {
			char buf[64];
			while (read(wake_fd[0], buf, sizeof buf) > 0)
				;
		}
		int ws;
		pid_t pid;
		while ((pid = waitpid(-1, &ws, WNOHANG)) > 0) {
			for (size_t i = 0; i < b->n; i++)
				if (b->items[i].pid == pid) {
					running--;
					finish(b, i, ws);
					settle(b, &b->items[i]);
					break;
				}
		}
		if (!b->quiet && b->tty)
			draw_status(b);
	}
	for (size_t i = 0; i < b->n; i++)
		if (b->items[i].st == ST_PENDING)
			b->items[i].st = ST_INTERRUPTED;
	clear_status(b);
}

/* ------------------------------------------------------------------ */
/* Reports                                                            */

static int write_report(struct batch *b)
{
	char *path = xprintf("%s/%s", b->outdir, REPORT_NAME);
	pkgflat_output *tmp;
	FILE *f = output_fopen(path, &tmp);
	int rc;

	if (!f) {
		free(path);
		return EXIT_ERROR;
	}
	json j = { .f = f };
	json_begin_object(&j, NULL);
	json_string(&j, "pkgflat", PKGFLAT_VERSION);
	json_string(&j, "outdir", b->outdir);
	json_begin_array(&j, "options");
	for (size_t i = 0; i < b->co.ngiven; i++)
		json_string(&j, NULL, b->co.given[i]);
	json_end_array(&j);
	json_string(&j, "options_sha256", b->opt_sha);
	json_bool(&j, "interrupted", stop_signal != 0);
	json_begin_object(&j, "summary");
	json_uint(&j, "inputs", b->n);
	json_uint(&j, "converted", b->converted);
	json_uint(&j, "up-to-date", b->skipped);
	json_uint(&j, "failed", b->failed);
	json_uint(&j, "interrupted", b->n - b->done);
	json_end_object(&j);
	json_begin_array(&j, "inputs");
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		int done = it->st == ST_CONVERTED || it->st == ST_SKIPPED;
		json_begin_object(&j, NULL);
		json_string(&j, "input", it->input);
		json_string(&j, "member", it->member);
		json_string(&j, "status", status_names[it->st]);
		json_string(&j, "output", it->out);
		char *wanted = strcmp(it->wanted, it->rel) ?
		    xprintf("%s/%s", b->outdir, it->wanted) : NULL;
		json_string(&j, "renamed_from", wanted);
		free(wanted);
		json_string(&j, "input_sha256", it->in_sha[0] ? it->in_sha : NULL);
		json_string(&j, "output_sha256", done ? it->out_sha : NULL);
		if (it->in_sha[0])
			json_uint(&j, "input_bytes", it->in_bytes);
		if (done)
			json_uint(&j, "output_bytes", it->out_bytes);
		json_int(&j, "duration_ms", (long long)(it->seconds * 1000 + 0.5));
		json_begin_array(&j, "warnings");
		for (size_t k = 0; k < it->nwarnings; k++)
			json_string(&j, NULL, it->warnings[k]);
		json_end_array(&j);
		json_string(&j, "error", it->error);
		/* --check: what the comparison of output and input said. */
		if (b->co.opt.check)
			json_string(&j, "check", it->st == ST_CONVERTED ? "equivalent" :
			    it->error && strstr(it->error, "--check:") ? "different" :
			    NULL);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_begin_array(&j, "ignored");
	for (size_t i = 0; i + 1 < b->nignored; i += 2) {
		json_begin_object(&j, NULL);
		json_string(&j, "path", b->ignored[i]);
		json_string(&j, "reason", b->ignored[i + 1]);
		json_end_object(&j);
	}
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
	rc = output_fclose(f, tmp, path);
	free(path);
	return rc;
}

static int write_html(struct batch *b, const char *path)
{
	struct html_input *rows = xrealloc(NULL, (b->n ? b->n : 1) * sizeof *rows);
	int rc;

	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		rows[i] = (struct html_input){
			.input = it->input, .status = status_names[it->st],
			.output = it->out, .error = it->error,
			.in_bytes = it->in_bytes, .out_bytes = it->out_bytes,
			.seconds = it->seconds,
			.warnings = (const char *const *)it->warnings,
			.nwarnings = it->nwarnings,
			.mappings = (const char *const *)it->mappings,
			.nmappings = it->nmappings,
		};
	}
	rc = html_batch_write(path, b->outdir, rows, b->n);
	free(rows);
	return rc;
}

static int write_junit(struct batch *b)
{
	pkgflat_output *tmp;
	FILE *f = output_fopen(b->junit, &tmp);
	double total = since(&b->t0);
	size_t skipped = b->n - b->done;

	if (!f)
		return EXIT_ERROR;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<testsuites tests=\"%zu\" failures=\"%zu\" errors=\"0\" "
	    "time=\"%.3f\">\n"
	    "  <testsuite name=\"pkgflat batch\" tests=\"%zu\" failures=\"%zu\" "
	    "errors=\"0\" skipped=\"%zu\" time=\"%.3f\">\n",
	    b->n, b->failed, total, b->n, b->failed, skipped, total);
	for (size_t i = 0; i < b->n; i++) {
		const struct item *it = &b->items[i];
		fputs("    <testcase classname=\"pkgflat.batch\" name=\"", f);
		markup_text(f, it->input);
		if (it->member) {
			fputc('(', f);
			markup_text(f, it->member);
			fputc(')', f);
		}
		fprintf(f, "\" time=\"%.3f\">\n", it->seconds);
		if (it->st == ST_FAILED) {
			fputs("      <failure message=\"", f);
			markup_text(f, it->error ? it->error : "failed");
			fputs("\"/>\n", f);
		} else if (it->st != ST_CONVERTED && it->st != ST_SKIPPED)
			fputs("      <skipped message=\"interrupted\"/>\n", f);
		fputs("      <system-out>", f);
		markup_text(f, status_names[it->st]);
		fputs(": ", f);
		markup_text(f, it->out);
		for (size_t k = 0; k < it->nwarnings; k++) {
			fputs("\nwarning: ", f);
			markup_text(f, it->warnings[k]);
		}
		fputs("</system-out>\n    </testcase>\n", f);
	}
	fputs("  </testsuite>\n</testsuites>\n", f);
	return output_fclose(f, tmp, b->junit);
}

/* ------------------------------------------------------------------ */

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		item_free(&b->items[i]);
	free(b->items);
	for (size_t i = 0; i < b->nignored; i++)
		free(b->ignored[i]);
	free(b->ignored);
	for (size_t i = 0; i < b->nstate; i++)
		free(b->state[i].rel);
	free(b->state);
	convert_opts_free(&b->co);
}

static int parse_jobs(const char *s, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > 1024)
		return -1;
	*out = (int)v;
	return 0;
}

enum { OPT_FORCE = 256, OPT_JUNIT, OPT_PROGRESS, OPT_THREADS, OPT_HTML,
	OPT_NO_PROGRESS };

int cmd_batch(int argc, char **argv)
{
	static const struct option own[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "force-sign", no_argument, NULL, 'F' },
		{ "junit", required_argument, NULL, OPT_JUNIT },
		{ "progress", required_argument, NULL, OPT_PROGRESS },
		{ "no-progress", no_argument, NULL, OPT_NO_PROGRESS },
		{ "html", required_argument, NULL, OPT_HTML },
		{ "verbose", no_argument, NULL, 'v' },
		{ "threads", required_argument, NULL, OPT_THREADS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *opts = options_table(own);
	struct batch b = { 0 };
	const char *progress = "auto";
	int c, rc = EXIT_OK;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct stat sb;

	convert_opts_init(&b.co);
	if (!opts) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		return EXIT_ERROR;
	}
	b.jobs = cores < 1 ? 1 : (int)cores;
	optind = 1;
	opterr = 0;
	while ((c = next_option("batch", argc, argv, ":o:j:vqh", opts, &b.co, &rc)) != -1) {
		if (c == -2)
			goto out;
		switch (c) {
		case 'o': b.outdir = optarg; break;
		case 'j':
			if (parse_jobs(optarg, &b.jobs)) {
				rc = usage_error("batch", "-j takes a number from 1 to "
				    "1024, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_THREADS:
			if (parse_jobs(optarg, &b.threads) || b.threads > 8) {
				rc = usage_error("batch", "--threads takes a number from "
				    "1 to 8, not '%s'", optarg);
				goto out;
			}
			break;
		case OPT_FORCE: b.force = 1; break;
		case OPT_JUNIT: b.junit = optarg; break;
		case OPT_PROGRESS: progress = optarg; break;
		case OPT_NO_PROGRESS: progress = "none"; break;
		case OPT_HTML: b.html = optarg; break;
		case 'v': b.verbose = 1; b.quiet = 0; break;
		case 'q': b.quiet = 1; b.verbose = 0; break;
		case 'h': printf(batch_help, convert_options_help); goto out;
		default: rc = option_error_table("batch", c, argv, opts); goto out;
		}
	}
	if (strcmp(progress, "auto") && strcmp(progress, "plain") &&
	    strcmp(progress, "tty") && strcmp(progress, "none")) {
		rc = usage_error("batch", "--progress takes auto, plain or tty, "
		    "not '%s'", progress);
		goto out;
	}
	if (!b.outdir || !b.outdir[0]) {
		rc = usage_error("batch", "no output directory: use -o OUTDIR");
		goto out;
	}
	if (optind == argc) {
		rc = usage_error("batch", "no input named");
		goto out;
	}
	if ((rc = convert_opts_finish("batch", &b.co)))
		goto out;
	b.tty = !strcmp(progress, "tty") ||
	    (!strcmp(progress, "auto") && isatty(STDERR_FILENO));
	/* --no-progress: neither the status line nor a line per input. */
	b.plain = !b.tty && strcmp(progress, "none");
	if (b.co.id)
		tsa_decide(&b.co.tsa, b.co.id, &(struct ui){ .verbose = b.verbose });
	b.co.opt.timestamp_url = b.co.tsa.url;
	if (!b.threads) /* the workers share the cores */
		b.threads = b.jobs >= cores ? 1 : (int)(cores / b.jobs);
	if (stat(b.outdir, &sb) == 0) {
		if (!S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "%s: %s: not a directory\n", progname,
			    b.outdir);
			rc = EXIT_ERROR;
			goto out;
		}
		b.out_dev = sb.st_dev; /* not to be searched for inputs */
		b.out_ino = sb.st_ino;
	}
	for (int i = optind; i < argc; i++)
		if ((rc = add_path(&b, argv[i])))
			goto out;
	if (!b.n) {
		fprintf(stderr, "%s: no legacy package found in what was named\n",
		    progname);
		rc = EXIT_ERROR;
		goto out;
	}
	drop_components(&b);
	name_outputs(&b);
	if ((rc = refuse_inputs(&b)))
		goto out;
	if (mkdirs(b.outdir) != 0) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", progname,
		    b.outdir, strerror(errno));
		rc = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		b.total_bytes += b.items[i].size;
		if (strcmp(b.items[i].wanted, b.items[i].rel) && !b.quiet) {
			fprintf(stderr, "%s: ", progname);
			print_text(stderr, b.items[i].input);
			fputs(": output renamed to ", stderr);
			print_text(stderr, b.items[i].rel);
			fprintf(stderr, ": %s is taken\n", b.items[i].wanted);
		}
	}
	if (!b.quiet && b.plain)
		for (size_t i = 0; i + 1 < b.nignored; i += 2) {
			fprintf(stderr, "%s: ignored ", progname);
			print_text(stderr, b.ignored[i]);
			fprintf(stderr, ": %s\n", b.ignored[i + 1]);
		}
	state_read(&b);
	options_digest(&b);
	const char *tmpdir = getenv("TMPDIR");
	snprintf(b.tmpdir, sizeof b.tmpdir, "%s/pkgflat-batch.XXXXXX",
	    tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(b.tmpdir)) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", progname, b.tmpdir,
		    strerror(errno));
		rc = EXIT_ERROR;
		goto out;
	}
	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, "%s batch: cannot create a pipe: %s\n", progname,
		    strerror(errno));
		rmdir(b.tmpdir);
		rc = EXIT_ERROR;
		goto out;
	}
	/* Best effort: without it the progress counts finished inputs only. */
	inflight_open(&b.fl, b.n);
	struct sigaction sa = { .sa_handler = on_signal }, old_int, old_term,
	    old_chld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGCHLD, &sa, &old_chld);
	run_all(&b);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	close(wake_fd[0]);
	close(wake_fd[1]);
	wake_fd[0] = wake_fd[1] = -1;
	rmdir(b.tmpdir);

	inflight_close(&b.fl);
	rc = write_report(&b);
	if (b.junit && write_junit(&b))
		rc = EXIT_ERROR;
	char *html = xprintf("%s/%s", b.outdir, HTML_NAME);
	if (write_html(&b, html) || (b.html && write_html(&b, b.html)))
		rc = EXIT_ERROR;
	free(html);
	if (!b.quiet) {
		fprintf(stderr, "%s batch: %zu converted, %zu up to date, %zu "
		    "failed", progname, b.converted, b.skipped, b.failed);
		if (b.done < b.n)
			fprintf(stderr, ", %zu interrupted (run again to finish)",
			    b.n - b.done);
		fprintf(stderr, "; report: %s/%s\n", b.outdir, REPORT_NAME);
	} else if (b.done < b.n)
		fprintf(stderr, "%s batch: interrupted; run again to finish\n",
		    progname);
	if (!rc && (b.failed || b.done < b.n))
		rc = EXIT_NEGATIVE;
out:
	batch_free(&b);
	free(opts);
	return rc;
}
