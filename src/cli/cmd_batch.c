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
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "batch.h"

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
    "Each output then goes through the notarization pre-flight ('pkgflat\n"
    "verify --notarization'): the report records its binaries and every one\n"
    "Apple's notary service would reject, with the reasons, each also a\n"
    "warning (legacy packages are full of unsigned binaries: without\n"
    "--notarize, no input fails for it). With --notarize, an output the\n"
    "pre-flight refuses is not submitted and its input fails; the others\n"
    "are submitted, waited for and, with --staple, stapled; the submission\n"
    "id, status, ticket and, when Invalid or Rejected, the developer log's\n"
    "issues go into the JSON and JUnit reports. The service's address comes\n"
    "from the environment as for 'pkgflat notarize' (PKGFLAT_NOTARY_URL, ...).\n"
    "A stapled output is recorded as up to date: the next run neither\n"
    "converts nor submits it again.\n"
    "\n";

/* In parts: C11 compilers need take no longer string. */
static const char batch_help_options[] =
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
    "  --no-preflight           skip the notarization pre-flight\n"
    "  --notarize               after converting (and signing: --sign is\n"
    "                           needed), submit every output the pre-flight\n"
    "                           lets through to Apple's notary service, all\n"
    "                           at once, and wait for them together\n"
    "  --staple                 staple the ticket to every accepted output\n"
    "  --wait=SECONDS           wait at most this long for the notary service\n"
    "                           (default: until every submission is done)\n"
    "  --notary-key FILE        the App Store Connect API key, AuthKey_ID.p8\n"
    "                           ('pkgflat notarize --key': here --key is the\n"
    "                           signing key) (PKGFLAT_NOTARY_KEY)\n"
    "  --key-id ID              its key id (PKGFLAT_NOTARY_KEY_ID)\n"
    "  --issuer UUID            the issuer id (PKGFLAT_NOTARY_ISSUER)\n"
    "  --api-key-file FILE      all three as rcodesign's JSON key file\n"
    "                           (PKGFLAT_NOTARY_API_KEY_FILE)\n"
    "  -v, --verbose            the line per input, and each input's warnings\n"
    "  -q, --quiet              print nothing but errors\n"
    "  -h, --help               show this help\n"
    "\n";

static const char batch_help_tail[] =
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
    "exit status: 0 every input converted or up to date (with --notarize:\n"
    "and accepted, and stapled with --staple), 1 some failed (with\n"
    "--notarize: also refused by the pre-flight, Invalid, Rejected, still in\n"
    "progress after --wait, or the service unreachable) or the run was\n"
    "interrupted, 2 usage error (--notarize without --sign, --staple or\n"
    "--wait without --notarize, an API key missing or incomplete), 3 the\n"
    "run could not start (no inputs, OUTDIR not usable)\n";

static void batch_free(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		if (b->items[i].nr)
			pkgflat_notary_log_free(b->items[i].nr->log);
		batch_item_free(&b->items[i]);
	}
	free(b->items);
	for (size_t i = 0; i < b->nignored; i++)
		free(b->ignored[i]);
	free(b->ignored);
	for (size_t i = 0; i < b->nstate; i++)
		free(b->state[i].rel);
	free(b->state);
	convert_opts_free(&b->co);
	free(b->nres);
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
	OPT_NO_PROGRESS, OPT_NOPRE, OPT_NOTARIZE, OPT_STAPLE, OPT_WAIT, OPT_NKEY,
	OPT_KEYID, OPT_ISSUER, OPT_APIKEY };

/* After the options: --notarize goes with --sign, its own options with it,
 * and the API key is loaded now (not after an hour of converting). */
static int notarize_ready(struct batch *b, int given)
{
	pkgflat_notary_config cfg;
	pkgflat_notary *n = NULL;
	pkgflat_error err;

	if (!b->notarize) {
		if (given)
			return usage_error("batch", "--staple, --wait and the API key "
			    "options go with --notarize");
		return EXIT_OK;
	}
	if (!b->co.sign)
		return usage_error("batch", "--notarize needs --sign: Apple's "
		    "notary service takes signed packages only");
	notary_config_defaults(&cfg);
	pkgflat_error_clear(&err);
	if (pkgflat_notary_open(&cfg, &b->key, &n, &err))
		return report_error(&err);
	pkgflat_notary_free(n);
	return EXIT_OK;
}

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
		{ "no-preflight", no_argument, NULL, OPT_NOPRE },
		{ "notarize", no_argument, NULL, OPT_NOTARIZE },
		{ "staple", no_argument, NULL, OPT_STAPLE },
		{ "wait", optional_argument, NULL, OPT_WAIT },
		{ "notary-key", required_argument, NULL, OPT_NKEY },
		{ "key-id", required_argument, NULL, OPT_KEYID },
		{ "issuer", required_argument, NULL, OPT_ISSUER },
		{ "api-key-file", required_argument, NULL, OPT_APIKEY },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct option *opts = options_table(own);
	struct batch b = { 0 };
	const char *progress = "auto";
	int c, rc = EXIT_OK, notary_given = 0;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct stat sb;

	convert_opts_init(&b.co);
	if (!opts) {
		fprintf(stderr, "%s batch: out of memory\n", progname);
		return EXIT_ERROR;
	}
	b.jobs = cores < 1 ? 1 : (int)cores;
	b.preflight = 1;
	notary_key_from_env(&b.key);
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
		case OPT_NOPRE: b.preflight = 0; break;
		case OPT_NOTARIZE: b.notarize = 1; break;
		case OPT_STAPLE: b.staple = notary_given = 1; break;
		case OPT_WAIT:
			notary_given = 1;
			if (optarg && seconds_arg("batch", "--wait", optarg,
			    &b.wait_limit)) {
				rc = EXIT_USAGE;
				goto out;
			}
			break;
		/* A key given one way replaces the environment's other way. */
		case OPT_NKEY:
			b.key.key_file = optarg;
			b.key.api_key_file = NULL;
			notary_given = 1;
			break;
		case OPT_KEYID: b.key.key_id = optarg; notary_given = 1; break;
		case OPT_ISSUER: b.key.issuer = optarg; notary_given = 1; break;
		case OPT_APIKEY:
			b.key.api_key_file = optarg;
			b.key.key_file = NULL;
			notary_given = 1;
			break;
		case 'v': b.verbose = 1; b.quiet = 0; break;
		case 'q': b.quiet = 1; b.verbose = 0; break;
		case 'h':
			fputs(batch_help, stdout);
			fputs(batch_help_options, stdout);
			printf(batch_help_tail, convert_options_help);
			goto out;
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
	if ((rc = convert_opts_finish("batch", &b.co)) ||
	    (rc = notarize_ready(&b, notary_given)))
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
		if ((rc = batch_add_path(&b, argv[i])))
			goto out;
	if (!b.n) {
		fprintf(stderr, "%s: no legacy package found in what was named\n",
		    progname);
		rc = EXIT_ERROR;
		goto out;
	}
	batch_drop_components(&b);
	batch_name_outputs(&b);
	if ((rc = batch_refuse_inputs(&b)))
		goto out;
	if (batch_mkdirs(b.outdir) != 0) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", progname,
		    b.outdir, strerror(errno));
		rc = EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < b.n; i++) {
		b.total_bytes += b.items[i].size;
		if (strcmp(b.items[i].wanted, b.items[i].rel) && !b.quiet) {
			struct msg m;
			msg_start(&m, stderr);
			msg_add(&m, "%s: ", progname);
			msg_text(&m, b.items[i].input);
			msg_add(&m, ": output renamed to ");
			msg_text(&m, b.items[i].rel);
			msg_add(&m, ": %s is taken\n", b.items[i].wanted);
			msg_end(&m);
		}
	}
	if (!b.quiet && b.plain)
		for (size_t i = 0; i + 1 < b.nignored; i += 2) {
			struct msg m;
			msg_start(&m, stderr);
			msg_add(&m, "%s: ignored ", progname);
			msg_text(&m, b.ignored[i]);
			msg_add(&m, ": %s\n", b.ignored[i + 1]);
			msg_end(&m);
		}
	batch_state_read(&b);
	batch_options_digest(&b);
	const char *tmpdir = getenv("TMPDIR");
	snprintf(b.tmpdir, sizeof b.tmpdir, "%s/pkgflat-batch.XXXXXX",
	    tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(b.tmpdir)) {
		fprintf(stderr, "%s: %s: cannot create: %s\n", progname, b.tmpdir,
		    strerror(errno));
		rc = EXIT_ERROR;
		goto out;
	}
	if (pipe2(batch_wake_fd, O_CLOEXEC | O_NONBLOCK) != 0) {
		fprintf(stderr, "%s batch: cannot create a pipe: %s\n", progname,
		    strerror(errno));
		rmdir(b.tmpdir);
		rc = EXIT_ERROR;
		goto out;
	}
	/* Best effort: without it the progress counts finished inputs only. */
	inflight_open(&b.fl, b.n);
	struct sigaction sa = { .sa_handler = batch_on_signal }, old_int, old_term,
	    old_chld;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGCHLD, &sa, &old_chld);
	batch_run_all(&b);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGCHLD, &old_chld, NULL);
	close(batch_wake_fd[0]);
	close(batch_wake_fd[1]);
	batch_wake_fd[0] = batch_wake_fd[1] = -1;
	rmdir(b.tmpdir);

	inflight_close(&b.fl);
	/* Interrupted: the conversions are to be finished first. */
	if (b.notarize && !batch_stop_signal)
		batch_notarize(&b);
	size_t notary_failed = 0;
	for (size_t i = 0; b.notarize && i < b.n; i++)
		notary_failed += batch_notary_failed(&b.items[i], b.staple);
	rc = batch_write_report(&b);
	if (b.junit && batch_write_junit(&b))
		rc = EXIT_ERROR;
	char *html = batch_xprintf("%s/%s", b.outdir, HTML_NAME);
	if (batch_write_html(&b, html) || (b.html && batch_write_html(&b, b.html)))
		rc = EXIT_ERROR;
	free(html);
	if (!b.quiet) {
		struct msg m;
		msg_start(&m, stderr);
		msg_add(&m, "%s batch: %zu converted, %zu up to date, %zu "
		    "failed", progname, b.converted, b.skipped, b.failed);
		if (b.done < b.n)
			msg_add(&m, ", %zu interrupted (run again to finish)",
			    b.n - b.done);
		if (b.notarize && !batch_stop_signal)
			msg_add(&m, "; notarization: %zu failed", notary_failed);
		msg_add(&m, "; report: %s/%s\n", b.outdir, REPORT_NAME);
		msg_end(&m);
	} else if (b.done < b.n)
		fprintf(stderr, "%s batch: interrupted; run again to finish\n",
		    progname);
	if (!rc && (b.failed || b.done < b.n || notary_failed))
		rc = EXIT_NEGATIVE;
out:
	batch_free(&b);
	free(opts);
	return rc;
}
