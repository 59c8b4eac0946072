/*
 * Legacy bundle package -> flat product archive (legacy-format.md §7-§9,
 * flat-format.md §3):
 *
 *   <Name>.pkg/Payload      gzip'd odc cpio       (convert_payload.c)
 *   <Name>.pkg/Bom          built from that payload
 *   <Name>.pkg/Scripts      wrappers + originals  (convert_scripts.c)
 *   <Name>.pkg/PackageInfo  identifier, version, location, flags, scripts
 *                                                 (convert_component.c)
 *   Resources/[<lang>.lproj/]Welcome, ReadMe, License, Conclusion, background
 *                                                 (convert_resources.c)
 *   Distribution            title, resources, options, domains, checks,
 *                           choices in IFPkgFlagPackageList order, pkg-refs
 *                                                 (mapping_dist.c)
 *
 * This file runs a conversion in that order into an unnamed output;
 * pkgflat_convert() (convert_check.c) checks it when asked and puts it in
 * place. What becomes of each legacy key is the mapping's (mapping.c), and
 * every mapping decision and every dropped key is recorded in the result.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "convert.h"
#include "mapping.h"
#include "outfile.h"
#include "sign.h"

static pkgflat_status write_distribution(struct conv *c, struct shown *shown,
    size_t nshown)
{
	char *text = NULL;
	size_t len = 0;
	pkgflat_status rc = conv_distribution_text(c, shown, nshown, &text, &len);

	if (!rc)
		rc = xarw_add_file(c->xw, 0, "Distribution", XAR_ENC_ZLIB, text,
		    len, c->err);
	free(text);
	return rc;
}

/* "10.5", "10.13.6", "11": a version macOS understands, compared with 10.5. */
static pkgflat_status check_min_os(const char *v, pkgflat_error *err)
{
	char *end;
	long major = strtol(v, &end, 10), minor = 0;

	if (end == v || (*end && *end != '.'))
		goto bad;
	if (*end == '.') {
		const char *p = end + 1;
		minor = strtol(p, &end, 10);
		if (end == p || (*end && *end != '.'))
			goto bad;
		if (*end == '.') {
			p = end + 1;
			strtol(p, &end, 10);
			if (end == p || *end)
				goto bad;
		}
	}
	if (major < 10 || (major == 10 && minor < 5))
		return fail(err, PKGFLAT_E_USAGE, NULL, "--min-os",
		    "flat packages need Mac OS X 10.5 or later; %s cannot be "
		    "honoured (only bundle packages installed on older systems)", v);
	return PKGFLAT_OK;
bad:
	return fail(err, PKGFLAT_E_USAGE, NULL, "--min-os",
	    "\"%s\" is not a version like 10.9 or 11.0", v);
}

static int64_t pick_time(const pkgflat_convert_options *opt)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	char *end;

	if (opt->timestamp >= 0)
		return opt->timestamp;
	if (sde && *sde) {
		long long v = strtoll(sde, &end, 10);
		if (!*end && v >= 0)
			return v;
	}
	return (int64_t)time(NULL);
}


pkgflat_status convert_product(pkgflat_package *pkg,
    const pkgflat_convert_options *opt, pkgflat_output **ofp,
    pkgflat_convert_result **result, pkgflat_error *err)
{
	struct conv c = { 0 };
	struct xar_options xo = { 0 };
	struct shown shown[5] = {
		{ "welcome", NULL, NULL }, { "readme", NULL, NULL },
		{ "license", NULL, NULL }, { "conclusion", NULL, NULL },
		{ "background", NULL, NULL },
	};
	pkgflat_status rc;
	char *dir = NULL;
	pkgflat_output *of = NULL;
	int fd;
	struct sign_ctx *sctx = NULL;

	*result = NULL;
	*ofp = NULL;
	if (!opt || !opt->output || !opt->output[0])
		return fail(err, PKGFLAT_E_USAGE, NULL, NULL, "no output file named");
	if ((rc = pkgflat_output_check(opt->output, pkg->path, err)))
		return rc;
	enum pkgflat_bundle_kind rk = pkgflat_component_kind(pkg->root);
	if (rk == PKGFLAT_BUNDLE_PRODUCT || rk == PKGFLAT_BUNDLE_FLAT_COMPONENT)
		return fail(err, PKGFLAT_E_UNSUPPORTED, pkg->path, NULL,
		    "already a flat package: nothing to convert");
	if (opt->min_os && (rc = check_min_os(opt->min_os, err)))
		return rc;
	if (!(c.res = pf_calloc(1, sizeof *c.res)))
		return fail_nomem(err);
	c.pkg = pkg;
	c.opt = opt;
	c.err = err;
	c.now = pick_time(opt);
	if (opt->toc_checksum != PKGFLAT_TOC_SHA1)
		conv_warn(&c, "a %s TOC checksum is not readable before OS X 10.10; "
		    "SHA-1 is what every macOS reads",
		    opt->toc_checksum == PKGFLAT_TOC_SHA256 ? "SHA-256" : "SHA-512");
	for (size_t i = 0; i < pkgflat_package_warning_count(pkg); i++)
		conv_warn(&c, "%s", pkgflat_package_warning(pkg, i));
	if ((rc = conv_plan(&c)))
		goto out;

	/* The output appears only when complete (outfile.c). */
	if (!(dir = path_dir(opt->output))) {
		rc = fail_nomem(err);
		goto out;
	}
	if ((rc = pkgflat_output_open(opt->output, &of, err)))
		goto out;
	fd = pkgflat_output_fd(of);
	xo.toc_cksum = (enum xar_cksum)opt->toc_checksum;
	xo.creation_time = c.now;
	if (opt->identity && (rc = signer_new(opt->identity, c.now,
	    opt->timestamp_url, opt->timestamp_timeout, &sctx, &xo.signer, err)))
		goto out;
	char *grown = signer_growth_note(sctx);
	if (grown)
		conv_warn(&c, "%s", grown);
	free(grown);
	if ((rc = xarw_new(dir[0] ? dir : ".", opt->output, &xo, &c.xw, err)))
		goto out;

	for (size_t i = 0; i < c.ncomps; i++)
		if ((rc = convert_component(&c, &c.comps[i])))
			goto out;
	const pkgflat_component *root = pkgflat_package_root(pkg);
	int carried = conv_carries_dist(root);
	if (carried) {
		if ((rc = convert_copy_resources(&c, root)))
			goto out;
	} else {
		if ((rc = convert_write_resources(&c, root, shown, 5)))
			goto out;
		for (size_t i = 0; i < pkgflat_component_resource_count(root); i++) {
			const pkgflat_resource *r = pkgflat_component_resource(root, i);
			/* Only a lone component's Resources go into its Scripts, and
			 * only when it has scripts to use them. */
			if (!strcmp(r->role, "other") && !r->is_dir && !strchr(r->path, '/')) {
				char *where = c.ncomps == 1 && c.comps[0].wrote_scripts &&
				    pkgflat_component_kind(root) == PKGFLAT_BUNDLE_COMPONENT ?
				    pf_asprintf("%s/Scripts ./Contents/Resources/%s",
				    c.comps[0].name, r->path) : NULL;
				conv_map(&c, NULL, r->path, NULL, where, where ? "not used by "
				    "Installer; kept for the scripts" :
				    "not used by Installer; dropped");
				free(where);
			}
		}
	}
	if ((rc = write_distribution(&c, shown, 5)))
		goto out;
	size_t first_map = c.res->maps.n;
	for (size_t i = 0; i < c.ncomps; i++)
		if (!c.comps[i].scripts_only)
			conv_map_component(&c, &c.comps[i]);
	if (carried)
		conv_superseded(&c, first_map);
	if (pkgflat_component_kind(root) != PKGFLAT_BUNDLE_COMPONENT)
		conv_map_remaining_keys(&c, root, NULL);

	if ((rc = xarw_finish(c.xw, fd, err)))
		goto out;
	*ofp = of;
	of = NULL;
	*result = c.res;
	c.res = NULL;
out:
	pkgflat_output_discard(of);
	xarw_free(c.xw);
	signer_free(sctx);
	conv_free_plan(&c);
	for (size_t i = 0; i < 5; i++)
		free(shown[i].file);
	free(dir);
	pkgflat_convert_result_free(c.res);
	return rc;
}
