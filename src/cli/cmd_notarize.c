/* pkgflat notarize: submit to Apple's notary service, wait, show the log,
 * fetch and staple the ticket. Also 'pkgflat staple --fetch' (staple_fetch). */
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "cli.h"

static const char notarize_help[] =
    "usage: pkgflat notarize [options] PKG\n"
    "       pkgflat notarize [options] --status ID [PKG]\n"
    "       pkgflat notarize [options] --log ID\n"
    "       pkgflat notarize [options] --history\n"
    "\n"
    "Submit a signed flat package to Apple's notary service (the Notary API:\n"
    "the file is hashed, the submission created, then uploaded to S3 with\n"
    "the temporary credentials it returns). The submission id is printed at\n"
    "once. With --wait, poll its status until Apple is done; on Invalid or\n"
    "Rejected the developer log's issues are printed. With --staple, fetch\n"
    "the ticket (asking again while Apple publishes it), staple it to PKG and\n"
    "check the result. A package changed since it was submitted is refused.\n"
    "Before anything is sent, the notarization pre-flight ('pkgflat verify\n"
    "--notarization') reads every Mach-O binary in PKG: when the service\n"
    "would reject one, it is named with its reasons, nothing is submitted and\n"
    "the exit status is 1.\n"
    "Ctrl-C while waiting leaves the submission running at Apple and says how\n"
    "to resume: 'pkgflat notarize --status ID --wait [--staple PKG]'.\n"
    "\n"
    "options:\n"
    "  --wait[=SECONDS]   wait for the result (no limit, or at most SECONDS)\n"
    "  --staple           after Accepted, staple the ticket to PKG\n"
    "  --status ID        the status of a submission (with --wait: wait for it)\n"
    "  --log ID           print a submission's developer log\n"
    "  --history          list the team's recent submissions\n"
    "  --json             print the result as JSON (the log: as Apple wrote it)\n"
    "  --no-preflight     submit without the Mach-O pre-flight\n"
    "  --ticket-wait=SECONDS  how long a ticket may take to appear (300)\n"
    "  -h, --help         show the options\n"
    "\n"
    "the App Store Connect API key (never in argv: files only):\n"
    "  --key FILE         the private key, AuthKey_ID.p8 (PKGFLAT_NOTARY_KEY)\n"
    "  --key-id ID        its key id (PKGFLAT_NOTARY_KEY_ID)\n"
    "  --issuer UUID      the issuer id (PKGFLAT_NOTARY_ISSUER)\n"
    "  --api-key-file FILE  all three as rcodesign's JSON key file\n"
    "                     (PKGFLAT_NOTARY_API_KEY_FILE)\n"
    "\n"
    "where the services are (defaults: Apple's):\n"
    "  --notary-url URL   the Notary API base (PKGFLAT_NOTARY_URL)\n"
    "  --s3-url URL       the S3 endpoint; {bucket} is replaced by the bucket\n"
    "                     name, else path style (PKGFLAT_S3_URL)\n"
    "  --ticket-url URL   the ticket lookup (PKGFLAT_TICKET_URL)\n"
    "  --ca-file FILE     trust these CA certificates instead of the system's\n"
    "                     (PKGFLAT_CA_FILE)\n"
    "\n"
    "exit status: 0 accepted (stapled when asked), or submitted without\n"
    "--wait, or a status/log/history printed; 1 Invalid or Rejected, or\n"
    "refused by the pre-flight (nothing submitted); 2 usage\n"
    "error; 3 any other error, including a --wait that ran out of time or was\n"
    "interrupted (the id is printed: the submission goes on), a key the\n"
    "service refuses, an unreachable service, no ticket published in time,\n"
    "and a package changed since its submission\n";

static volatile int interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

struct notarize_opts {
	pkgflat_notary_config cfg;
	pkgflat_notary_key key;
	int wait, wait_limit, staple, json, history, ticket_wait, no_preflight;
	const char *status_id, *log_id;
};

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* A number from the environment; tuning knobs for tests and slow links. */
static unsigned long env_num(const char *name)
{
	const char *v = env(name);
	return v ? strtoul(v, NULL, 10) : 0;
}

static void on_event(void *ctx, enum pkgflat_notary_event what,
    const char *text)
{
	/* notarize_many() says which package: a pointer to its path. */
	const char *const *current = ctx;
	struct msg m;

	/* One write a line: the submitting threads share stderr. */
	msg_start(&m, stderr);
	msg_add(&m, "%s notarize: ", progname);
	if (current && *current) {
		msg_text(&m, *current);
		msg_add(&m, ": ");
	}
	switch (what) {
	case PKGFLAT_NOTARY_SUBMITTED:
		msg_add(&m, "submission id %s; uploading\n", text);
		break;
	case PKGFLAT_NOTARY_UPLOADED:
		msg_add(&m, "uploaded %s\n", text);
		break;
	case PKGFLAT_NOTARY_RETRY:
		msg_add(&m, "retrying after: ");
		msg_text(&m, text);
		msg_add(&m, "\n");
		break;
	case PKGFLAT_NOTARY_STATUS:
		msg_add(&m, "status: ");
		msg_text(&m, text);
		msg_add(&m, "\n");
		break;
	case PKGFLAT_NOTARY_TOKEN_RENEWED:
		msg_add(&m, "API token renewed\n");
		break;
	case PKGFLAT_NOTARY_TICKET_WAIT:
		msg_add(&m, "ticket %s not published yet\n", text);
		break;
	}
	msg_end(&m);
}

/* Service endpoints and tuning from the environment (options override). */
void notary_config_defaults(pkgflat_notary_config *c)
{
	memset(c, 0, sizeof *c);
	c->api_url = env("PKGFLAT_NOTARY_URL");
	c->s3_url = env("PKGFLAT_S3_URL");
	c->s3_region = env("PKGFLAT_S3_REGION");
	c->ticket_url = env("PKGFLAT_TICKET_URL");
	c->ca_file = env("PKGFLAT_CA_FILE");
	c->token_lifetime = (int)env_num("PKGFLAT_NOTARY_TOKEN_LIFETIME");
	c->poll_ms = (unsigned)env_num("PKGFLAT_NOTARY_POLL_MS");
	c->poll_max_ms = (unsigned)env_num("PKGFLAT_NOTARY_POLL_MAX_MS");
	c->part_size = env_num("PKGFLAT_S3_PART_SIZE");
	c->multipart_above = env_num("PKGFLAT_S3_MULTIPART_ABOVE");
	c->event = on_event;
}

/* "--wait=SECONDS" and the like: a whole number of seconds, at least 1. */
int seconds_arg(const char *cmd, const char *opt, const char *v, int *out)
{
	char *end;
	long n = strtol(v, &end, 10);

	if (!*v || *end || n < 1 || n > 7 * 24 * 3600)
		return usage_error(cmd, "%s wants a number of seconds "
		    "(1 to 604800), not '%s'", opt, v);
	*out = (int)n;
	return 0;
}

void notary_key_from_env(pkgflat_notary_key *k)
{
	k->key_file = env("PKGFLAT_NOTARY_KEY");
	k->key_id = env("PKGFLAT_NOTARY_KEY_ID");
	k->issuer = env("PKGFLAT_NOTARY_ISSUER");
	k->api_key_file = env("PKGFLAT_NOTARY_API_KEY_FILE");
}

static void print_issues(const pkgflat_notary_log *log)
{
	size_t n = pkgflat_notary_log_issue_count(log);
	const char *sum = pkgflat_notary_log_field(log, "statusSummary");

	if (sum) {
		printf("summary: ");
		print_text(stdout, sum);
		putchar('\n');
	}
	printf("issues: %zu\n", n);
	for (size_t i = 0; i < n; i++) {
		const pkgflat_notary_issue *is = pkgflat_notary_log_issue(log, i);
		printf("  %s: ", is->severity ? is->severity : "issue");
		print_text(stdout, is->path ? is->path : "(no path)");
		if (is->architecture) {
			printf(" [");
			print_text(stdout, is->architecture);
			putchar(']');
		}
		putchar('\n');
		if (is->message) {
			printf("    ");
			print_text(stdout, is->message);
			putchar('\n');
		}
		if (is->doc_url) {
			printf("    see ");
			print_text(stdout, is->doc_url);
			putchar('\n');
		}
	}
}

void notary_json_issues(json *j, const pkgflat_notary_log *log)
{
	json_string(j, "summary", pkgflat_notary_log_field(log, "statusSummary"));
	json_begin_array(j, "issues");
	for (size_t i = 0; i < pkgflat_notary_log_issue_count(log); i++) {
		const pkgflat_notary_issue *is = pkgflat_notary_log_issue(log, i);
		json_begin_object(j, NULL);
		json_string(j, "severity", is->severity);
		json_string(j, "path", is->path);
		json_string(j, "architecture", is->architecture);
		json_string(j, "message", is->message);
		json_string(j, "doc_url", is->doc_url);
		json_end_object(j);
	}
	json_end_array(j);
}

static int history_row(const pkgflat_notary_submission *s, void *ctx)
{
	json *j = ctx;

	if (j) {
		json_begin_object(j, NULL);
		json_string(j, "id", s->id);
		json_string(j, "name", s->name);
		json_string(j, "status", s->status);
		json_string(j, "created", s->created);
		json_end_object(j);
		return 0;
	}
	printf("%-24s  %-36s  %-11s  ", s->created, s->id, s->status);
	print_text(stdout, s->name);
	putchar('\n');
	return 0;
}

static int show_history(pkgflat_notary *n, int as_json)
{
	pkgflat_error err;
	json j = { stdout, 0, { 0 } };

	pkgflat_error_clear(&err);
	if (as_json)
		json_begin_array(&j, NULL);
	if (pkgflat_notary_history(n, history_row, as_json ? &j : NULL, &err)) {
		if (as_json)
			fputc('\n', stdout);
		return report_error(&err);
	}
	if (as_json) {
		json_end_array(&j);
		json_finish(&j);
	}
	return EXIT_OK;
}

static int show_log(pkgflat_notary *n, const char *id, int as_json)
{
	pkgflat_error err;
	pkgflat_notary_log *log;

	pkgflat_error_clear(&err);
	if (pkgflat_notary_log_fetch(n, id, &log, &err))
		return report_error(&err);
	if (as_json) {
		fputs(pkgflat_notary_log_text(log), stdout);
		putchar('\n');
	} else {
		const char *st = pkgflat_notary_log_field(log, "status");
		printf("id: %s\nstatus: ", id);
		print_text(stdout, st ? st : "unknown");
		putchar('\n');
		print_issues(log);
	}
	pkgflat_notary_log_free(log);
	return EXIT_OK;
}

/* The Mach-O pre-flight before a submission: EXIT_OK when the notary
 * service would take every binary; else each one is named as verify
 * --notarization names it (or the JSON says so) and EXIT_NEGATIVE. */
static int preflight(const char *pkg, int as_json)
{
	pkgflat_binaries *bs = NULL;
	pkgflat_error err;

	pkgflat_error_clear(&err);
	if (pkgflat_notary_preflight(pkg, &bs, &err))
		return report_error(&err);
	size_t bad = pkgflat_binaries_rejected(bs);
	if (bad && as_json) {
		json j = { stdout, 0, { 0 } };
		json_begin_object(&j, NULL);
		json_string(&j, "package", pkg);
		json_bool(&j, "submitted", 0);
		binaries_json_notarization(&j, bs);
		json_end_object(&j);
		json_finish(&j);
	} else if (bad)
		binaries_notary_text(bs);
	if (bad) {
		struct msg m;
		msg_start(&m, stderr);
		msg_add(&m, "%s notarize: ", progname);
		msg_text(&m, pkg);
		msg_add(&m, ": the notary service would reject %zu binar%s; "
		    "nothing submitted (--no-preflight submits anyway)\n", bad,
		    bad == 1 ? "y" : "ies");
		msg_end(&m);
	}
	pkgflat_binaries_free(bs);
	return bad ? EXIT_NEGATIVE : EXIT_OK;
}

/* Submit (or take an existing id), wait, print, staple. */
static int run(pkgflat_notary *n, struct notarize_opts *o, const char *pkg)
{
	pkgflat_notary_submission sub;
	pkgflat_notary_log *log = NULL;
	pkgflat_error err;
	char record[64] = "";
	const char *sha = NULL;
	int rc = EXIT_OK, stapled = 0, final;
	json j = { stdout, 0, { 0 } };

	pkgflat_error_clear(&err);
	if (o->status_id) {
		if (pkgflat_notary_status(n, o->status_id, &sub, &err))
			return report_error(&err);
	} else {
		if (!o->no_preflight && (rc = preflight(pkg, o->json)))
			return rc;
		if (pkgflat_notary_submit(n, pkg, &sub, &err))
			return report_error(&err);
		sha = sub.sha256;
	}
	if (o->wait && !strcmp(sub.status, "In Progress")) {
		struct sigaction sa, old_int, old_term;
		memset(&sa, 0, sizeof sa);
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		char id[sizeof sub.id];
		snprintf(id, sizeof id, "%s", sub.id);
		char sha_keep[65];
		snprintf(sha_keep, sizeof sha_keep, "%s", sub.sha256);
		int failed = pkgflat_notary_wait(n, id, o->wait_limit, &interrupted,
		    &sub, &err);
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
		snprintf(sub.sha256, sizeof sub.sha256, "%s", sha_keep);
		if (failed) {
			report_error(&err);
			fprintf(stderr, "%s notarize: submission %s goes on at Apple; "
			    "'%s notarize --status %s --wait' resumes\n", progname, id,
			    progname, id);
			return EXIT_ERROR;
		}
	}
	final = strcmp(sub.status, "In Progress") != 0;
	if (!strcmp(sub.status, "Invalid") || !strcmp(sub.status, "Rejected")) {
		rc = EXIT_NEGATIVE;
		if (pkgflat_notary_log_fetch(n, sub.id, &log, &err)) {
			report_error(&err);
			pkgflat_error_clear(&err);
		}
	}
	if (o->staple && !strcmp(sub.status, "Accepted")) {
		/* Without a submission in this run, the log says which bytes
		 * were accepted. */
		if (!sha && !pkgflat_notary_log_fetch(n, sub.id, &log, &err))
			sha = pkgflat_notary_log_field(log, "sha256");
		pkgflat_error_clear(&err);
		if (pkgflat_notary_staple(n, pkg, sha, o->ticket_wait, &interrupted,
		    record, &err))
			rc = report_error(&err);
		else
			stapled = 1;
	}
	if (o->json) {
		json_begin_object(&j, NULL);
		json_string(&j, "id", sub.id);
		json_string(&j, "name", sub.name[0] ? sub.name : NULL);
		json_string(&j, "sha256", sub.sha256[0] ? sub.sha256 : NULL);
		json_string(&j, "status", sub.status);
		json_string(&j, "record", record[0] ? record : NULL);
		json_bool(&j, "stapled", stapled);
		if (log && rc == EXIT_NEGATIVE)
			notary_json_issues(&j, log);
		json_end_object(&j);
		json_finish(&j);
	} else {
		printf("id: %s\nstatus: ", sub.id);
		print_text(stdout, sub.status);
		putchar('\n');
		if (log && rc == EXIT_NEGATIVE)
			print_issues(log);
		if (stapled)
			printf("stapled: ticket %s\n", record);
	}
	pkgflat_notary_log_free(log);
	if (o->wait && !final) {
		fprintf(stderr, "%s notarize: %s; submission %s goes on at Apple: "
		    "'%s notarize --status %s --wait%s%s' resumes\n", progname,
		    interrupted ? "interrupted" : "still In Progress after the wait",
		    sub.id, progname, sub.id, o->staple ? " --staple " : "",
		    o->staple ? pkg : "");
		return EXIT_ERROR;
	}
	if (!o->wait && !o->status_id)
		fprintf(stderr, "%s notarize: '%s notarize --status %s --wait' "
		    "waits for the result\n", progname, progname, sub.id);
	return rc;
}

int cmd_notarize(int argc, char **argv)
{
	enum { O_KEYID = 256, O_ISSUER, O_APIKEY, O_URL, O_S3, O_TICKET, O_CA,
	    O_TWAIT, O_STATUS, O_LOG, O_HISTORY, O_JSON, O_STAPLE, O_WAIT,
	    O_NOPRE };
	static const struct option opts[] = {
		{ "wait", optional_argument, NULL, O_WAIT },
		{ "staple", no_argument, NULL, O_STAPLE },
		{ "status", required_argument, NULL, O_STATUS },
		{ "log", required_argument, NULL, O_LOG },
		{ "history", no_argument, NULL, O_HISTORY },
		{ "json", no_argument, NULL, O_JSON },
		{ "no-preflight", no_argument, NULL, O_NOPRE },
		{ "ticket-wait", required_argument, NULL, O_TWAIT },
		{ "key", required_argument, NULL, 'k' },
		{ "key-id", required_argument, NULL, O_KEYID },
		{ "issuer", required_argument, NULL, O_ISSUER },
		{ "api-key-file", required_argument, NULL, O_APIKEY },
		{ "notary-url", required_argument, NULL, O_URL },
		{ "s3-url", required_argument, NULL, O_S3 },
		{ "ticket-url", required_argument, NULL, O_TICKET },
		{ "ca-file", required_argument, NULL, O_CA },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct notarize_opts o;
	pkgflat_notary *n = NULL;
	pkgflat_error err;
	const char *pkg;
	int c, rc, modes;

	memset(&o, 0, sizeof o);
	notary_config_defaults(&o.cfg);
	o.ticket_wait = 300;
	notary_key_from_env(&o.key);
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_WAIT:
			o.wait = 1;
			if (optarg && seconds_arg("notarize", "--wait", optarg, &o.wait_limit))
				return EXIT_USAGE;
			break;
		case O_STAPLE: o.staple = 1; break;
		case O_STATUS: o.status_id = optarg; break;
		case O_LOG: o.log_id = optarg; break;
		case O_HISTORY: o.history = 1; break;
		case O_JSON: o.json = 1; break;
		case O_NOPRE: o.no_preflight = 1; break;
		case O_TWAIT:
			if (seconds_arg("notarize", "--ticket-wait", optarg, &o.ticket_wait))
				return EXIT_USAGE;
			break;
		/* A key given one way replaces the environment's other way. */
		case 'k': o.key.key_file = optarg; o.key.api_key_file = NULL; break;
		case O_KEYID: o.key.key_id = optarg; break;
		case O_ISSUER: o.key.issuer = optarg; break;
		case O_APIKEY: o.key.api_key_file = optarg; o.key.key_file = NULL; break;
		case O_URL: o.cfg.api_url = optarg; break;
		case O_S3: o.cfg.s3_url = optarg; break;
		case O_TICKET: o.cfg.ticket_url = optarg; break;
		case O_CA: o.cfg.ca_file = optarg; break;
		case 'h': fputs(notarize_help, stdout); return EXIT_OK;
		default: return option_error("notarize", c, argv);
		}
	}
	modes = !!o.status_id + !!o.log_id + o.history;
	pkg = optind < argc ? argv[optind] : NULL;
	if (modes > 1)
		return usage_error("notarize", "--status, --log and --history go "
		    "one at a time");
	if (argc - optind > 1)
		return usage_error("notarize", "one package at a time");
	if (!modes && !pkg)
		return usage_error("notarize", "no package named");
	if ((o.log_id || o.history) && (pkg || o.wait || o.staple))
		return usage_error("notarize", "--log and --history take no "
		    "package, --wait or --staple");
	if (o.status_id && (pkg != NULL) != o.staple)
		return usage_error("notarize", "with --status, a package goes "
		    "with --staple (and --staple with a package)");
	if (o.staple && !o.wait && !o.status_id)
		return usage_error("notarize", "--staple needs --wait (the ticket "
		    "exists once Apple accepts)");
	pkgflat_error_clear(&err);
	if (pkgflat_notary_open(&o.cfg, &o.key, &n, &err))
		return report_error(&err);
	if (o.history)
		rc = show_history(n, o.json);
	else if (o.log_id)
		rc = show_log(n, o.log_id, o.json);
	else
		rc = run(n, &o, pkg);
	pkgflat_notary_free(n);
	return rc;
}

/* pkgflat staple --fetch [--ticket-wait=SECONDS] PKG: the lookup and staple
 * alone, no API key needed. Takes the options staple passes on. */
int staple_fetch(const char *pkg, int ticket_wait, const char *ticket_url,
    const char *ca_file)
{
	pkgflat_notary_config cfg;
	pkgflat_notary *n = NULL;
	pkgflat_error err;
	char record[64];
	int rc = EXIT_OK;

	notary_config_defaults(&cfg);
	if (ticket_url)
		cfg.ticket_url = ticket_url;
	if (ca_file)
		cfg.ca_file = ca_file;
	pkgflat_error_clear(&err);
	if (pkgflat_notary_open(&cfg, NULL, &n, &err))
		return report_error(&err);
	if (pkgflat_notary_staple(n, pkg, NULL, ticket_wait, NULL, record, &err))
		rc = report_error(&err);
	else
		printf("stapled: ticket %s\n", record);
	pkgflat_notary_free(n);
	return rc;
}
