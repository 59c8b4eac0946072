/*
 * pkgflat_convert(): the conversion (convert.c), then for --check the
 * output read back and compared with the input (diff.c), before the output
 * appears. Composed here so that the converter and the comparison each
 * stand alone.
 */
#include <stdlib.h>
#include <string.h>

#include "convert.h"
#include "mapping.h"
#include "outfile.h"

/*
 * convert --check: read the finished output back as a flat package and
 * compare it with the input. A difference inside the input alone (its BOM
 * disagreeing with its payload) is the input's, not the conversion's.
 */
static pkgflat_status check_output(pkgflat_package *pkg, const char *tmp,
    const pkgflat_convert_options *opt, pkgflat_error *err)
{
	pkgflat_diff_options o = { .ignore = opt->check_ignore };
	pkgflat_package *out = NULL;
	pkgflat_diff_result *r = NULL;
	const pkgflat_difference *first = NULL;
	char *map = NULL;
	const char *maps[1];
	size_t n = 0;
	pkgflat_status rc;

	/* Owners changed by the policy followed are notes; others differ. */
	o.ownership_given = 1;
	o.ownership = opt->ownership;
	if (opt->identifier && pkgflat_package_component_count(pkg) == 1) {
		const char *id = pkgflat_component_identifier(
		    pkgflat_package_component(pkg, 0));
		if (id && !(map = pf_asprintf("%s=%s", id, opt->identifier)))
			return fail_nomem(err);
		maps[0] = map;
		o.map = maps;
		o.map_count = map != NULL;
	}
	/* Test-only: make the check see a difference that a faithful
	 * conversion never has, to test what a failing check leaves. */
	const char *fault = getenv("PKGFLAT_TEST_FAULT");
	if (fault && !strcmp(fault, "check-tamper") && !map &&
	    pkgflat_package_component_count(pkg)) {
		const char *id = pkgflat_component_identifier(
		    pkgflat_package_component(pkg, 0));
		if (!(map = pf_asprintf("%s=%s.tampered", id ? id : "", id ? id : "")))
			return fail_nomem(err);
		maps[0] = map;
		o.map = maps;
		o.map_count = 1;
	}
	if (!(rc = pkgflat_package_open(tmp, &out, err)))
		rc = pkgflat_diff(pkg, out, &o, &r, err);
	for (size_t i = 0; !rc && i < pkgflat_diff_count(r); i++) {
		const pkgflat_difference *d = pkgflat_diff_get(r, i);
		if (!strcmp(d->category, "within-a") || !strcmp(d->category, "note") ||
		    d->inherited)
			continue;
		if (!n++)
			first = d;
	}
	if (!rc && !pkgflat_diff_equivalent(r)) {
		char buf[400];
		rc = fail(err, PKGFLAT_E_DIFFERS, opt->output, NULL,
		    "--check: the output would not install what the input does: "
		    "%zu difference%s, first: %s", n, n == 1 ? "" : "s",
		    pkgflat_difference_text(first, buf, sizeof buf));
	}
	pkgflat_diff_result_free(r);
	pkgflat_package_free(out);
	free(map);
	return rc;
}

pkgflat_status pkgflat_convert(pkgflat_package *pkg,
    const pkgflat_convert_options *opt, pkgflat_convert_result **result,
    pkgflat_error *err)
{
	pkgflat_convert_result *res = NULL;
	pkgflat_output *of = NULL;
	char reopen[64];
	pkgflat_status rc;

	*result = NULL;
	if ((rc = convert_product(pkg, opt, &of, &res, err)))
		return rc;
	if (opt->check && (rc = check_output(pkg, output_reopen_path(of,
	    reopen, sizeof reopen), opt, err)))
		goto out;
	rc = pkgflat_output_commit(of, 0, err);
	of = NULL;
	if (rc)
		goto out;
	*result = res;
	res = NULL;
out:
	pkgflat_output_discard(of);
	pkgflat_convert_result_free(res);
	return rc;
}
