/*
 * Directory trees on disk as flat package members, and back:
 *  - tree_payload(): a directory as a component's Payload (gzip'd odc
 *    cpio) and Bom, for flatten of an --full directory and build --root;
 *  - tree_scripts(): a directory as a Scripts archive;
 *  - tree_extract(): a Payload or Scripts archive into a new directory,
 *    never writing outside it nor through a symlink (expand --full);
 *  - flat_writer: the output file, its signer and XAR writer, shared by
 *    flatten and build.
 */
#ifndef PKGFLAT_TREE_H
#define PKGFLAT_TREE_H

#include "convert.h"
#include "flat_read.h"
#include "source.h"
#include "xar_write.h"

/* The owners a component's old Bom gives its paths (flatten keeps them:
 * an expanded directory holds them only when expanded as root). */
typedef struct bom_owners bom_owners;
pkgflat_status bom_owners_load(const char *bom_path, bom_owners **out,
    pkgflat_error *err);
void bom_owners_free(bom_owners *o);

struct tree_job {
	const char *dir;          /* the tree on disk */
	const char *name;         /* how errors name it: "X/Foo.pkg/Payload" */
	xar_writer *xw;
	uint64_t parent;          /* component directory in the archive */
	const bom_owners *owners; /* owners of the paths it lists, or NULL */
	enum pkgflat_ownership ownership; /* for every other owner on disk */
	int threads;
	pkgflat_error *err;
};

/* Payload and Bom into job->parent; res as payload_convert() fills it
 * (the caller spill_close()s res->bom and frees the strings). */
pkgflat_status tree_payload(const struct tree_job *job,
    struct payload_result *res);

/* The files of job->dir as a Scripts archive (gzip'd odc cpio, owners
 * root:wheel); *pre and *post say whether preinstall and postinstall are
 * there (may be NULL). */
pkgflat_status tree_scripts(const struct tree_job *job, int *pre, int *post);

/* Extract the payload or scripts archive read from `in` (gzip'd or plain
 * cpio or tar, or pbzx) into the directory dirfd. Owners are set when
 * running as root. `name` labels errors. */
pkgflat_status tree_extract(src_stream *in, int dirfd, const char *name,
    pkgflat_error *err);

/* Remove what is below dirfd, never following a symlink. */
void tree_remove_below(int dirfd);

/* Creation time: opt's timestamp, else SOURCE_DATE_EPOCH, else now. */
int64_t flat_pick_time(int64_t timestamp);

struct flat_writer {
	pkgflat_output *of;
	xar_writer *xw;
	struct sign_ctx *sctx;
	int64_t now;
	char *note;               /* the signer's reservation note, or NULL */
};

/* Open opt->output for writing, with a signer when opt has an identity. */
pkgflat_status flat_writer_open(struct flat_writer *fw,
    const pkgflat_flatten_options *opt, pkgflat_error *err);
/* Finish the archive and put it into place. */
pkgflat_status flat_writer_commit(struct flat_writer *fw, pkgflat_error *err);
/* Drop whatever is left (after commit too). */
void flat_writer_close(struct flat_writer *fw);

/* The PackageInfo XML with <payload numberOfFiles installKBytes> set, from
 * `xml` (malloc'd, *len). */
pkgflat_status package_info_set_payload(const unsigned char *xml, size_t n,
    const char *name, uint64_t files, uint64_t kbytes, unsigned char **out,
    size_t *len, pkgflat_error *err);

/* The Distribution XML with installKBytes set on the pkg-refs of each
 * re-archived component (named by its directory, as in the pkg-ref's URL),
 * from `xml` (malloc'd, *len). */
struct comp_size {
	const char *name;
	uint64_t kbytes;
};
pkgflat_status dist_set_kbytes(const unsigned char *xml, size_t n,
    const char *name, const struct comp_size *sizes, size_t nsizes,
    unsigned char **out, size_t *len, pkgflat_error *err);

/* Copy the file `inner` of source s into the archive as parent/name, with
 * the encoding flat_member_encoding() gives it; buf has FLAT_COPY_BUF
 * bytes. */
#define FLAT_COPY_BUF (256 * 1024)
pkgflat_status flat_copy_member(xar_writer *xw, uint64_t parent,
    const char *name, src *s, const char *inner, unsigned char *buf,
    pkgflat_error *err);

/* The member `inner` of directory source s into the archive as
 * parent/name: a file (a symlink is followed only to a file inside the
 * directory: a loop, a link out of it or to a directory is an error), or
 * a directory and what it holds, at most FLAT_MAX_DEPTH deep (depth: how
 * deep inner is already). */
#define FLAT_MAX_DEPTH 64
pkgflat_status flat_add_any(xar_writer *xw, src *s, const char *inner,
    uint64_t parent, const char *name, unsigned char *buf, int depth,
    pkgflat_error *err);

/* Call fn for every <pkg-ref> of a Distribution that names a component
 * (has a URL), in document order, with its id ("" when none) and the
 * component name the URL gives. Fails on XML without an
 * <installer-gui-script>; `file` names it in errors. */
typedef pkgflat_status (*flat_ref_fn)(void *ctx, const char *id,
    const char *name, pkgflat_error *err);
pkgflat_status flat_each_ref(const char *xml, size_t len, const char *file,
    flat_ref_fn fn, void *ctx, pkgflat_error *err);

/* How flat archives hold a member: Payload and Scripts stored, the rest
 * zlib-compressed (as productbuild and pkgbuild write them). */
enum xar_encoding flat_member_encoding(const char *name);

#endif
