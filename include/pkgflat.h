/*
 * pkgflat: read legacy macOS bundle installer packages (.pkg/.mpkg) and turn
 * them into flat product archives.
 *
 * Contracts that hold for every function here:
 *  - the library never prints and never exits;
 *  - functions that can fail return a pkgflat_status and, when given a
 *    non-NULL error object, fill it with the status, the file the problem
 *    is in, the place inside that file and a message;
 *  - strings returned by accessors belong to the object they came from and
 *    live as long as it does;
 *  - every _free() accepts NULL.
 */
#ifndef PKGFLAT_H
#define PKGFLAT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PKGFLAT_VERSION "0.1.0"

/* ------------------------------------------------------------------ */
/* Errors                                                             */

typedef enum pkgflat_status {
	PKGFLAT_OK = 0,
	PKGFLAT_E_USAGE,       /* the caller passed something invalid */
	PKGFLAT_E_IO,          /* the operating system said no */
	PKGFLAT_E_FORMAT,      /* the input is malformed */
	PKGFLAT_E_UNSUPPORTED, /* well-formed, but not something we handle */
	PKGFLAT_E_NOMEM,
	PKGFLAT_E_CRYPTO,
	PKGFLAT_E_INTERNAL
} pkgflat_status;

typedef struct pkgflat_error {
	pkgflat_status status;
	int sys_errno;          /* errno when status is PKGFLAT_E_IO, else 0 */
	char file[1024];        /* the file the problem is in, as the user named it */
	char where[256];        /* the place inside it: a key, a line, an offset */
	char message[512];      /* what is wrong, lowercase, no final period */
} pkgflat_error;

void pkgflat_error_clear(pkgflat_error *err);
const char *pkgflat_status_name(pkgflat_status status);
/* "file: where: message", truncated to fit; returns buf. */
const char *pkgflat_error_text(const pkgflat_error *err, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Entries of a payload or a BOM                                      */

enum pkgflat_entry_type {
	PKGFLAT_ENTRY_FILE = 1,
	PKGFLAT_ENTRY_DIR,
	PKGFLAT_ENTRY_SYMLINK,
	PKGFLAT_ENTRY_HARDLINK, /* payload only: a link to an earlier entry */
	PKGFLAT_ENTRY_DEVICE,
	PKGFLAT_ENTRY_FIFO,
	PKGFLAT_ENTRY_SOCKET
};

typedef struct pkgflat_entry {
	const char *path;        /* "." or "./a/b", UTF-8 as stored */
	const char *link_target; /* symlink target, or NULL */
	const char *hardlink;    /* path of the entry this one links to, or NULL */
	int type;                /* enum pkgflat_entry_type */
	uint32_t mode;           /* permission bits and type bits, like st_mode */
	uint32_t uid, gid;
	int64_t mtime;
	uint64_t size;           /* bytes of file data; 0 for other types */
	uint32_t crc;            /* POSIX cksum CRC (BOM only) */
	int has_crc;
	uint32_t rdev;           /* device number for devices */
	uint64_t ino;
	uint32_t nlink;
} pkgflat_entry;

/* Return 0 to go on; anything else stops the walk, which then fails with
 * PKGFLAT_E_USAGE and the message "stopped by the caller". */
typedef int (*pkgflat_entry_fn)(const pkgflat_entry *entry, void *ctx);

/* ------------------------------------------------------------------ */
/* Legacy packages                                                    */

typedef struct pkgflat_package pkgflat_package; /* what was opened */
typedef struct pkgflat_bundle pkgflat_bundle;   /* one .pkg or .mpkg bundle */

enum pkgflat_bundle_kind {
	PKGFLAT_BUNDLE_COMPONENT = 1, /* Foo.pkg: one payload */
	PKGFLAT_BUNDLE_METAPACKAGE,   /* Foo.mpkg with IFPkgFlagPackageList */
	PKGFLAT_BUNDLE_DISTRIBUTION,  /* Foo.mpkg with a Tiger .dist only */
	PKGFLAT_BUNDLE_HYBRID         /* both a package list and a .dist */
};

enum pkgflat_container {
	PKGFLAT_CONTAINER_DIRECTORY = 1,
	PKGFLAT_CONTAINER_ARCHIVE     /* .zip, .tar, .tar.gz, .tgz */
};

/* Text fields of a bundle; NULL when the package does not say. */
enum pkgflat_field {
	PKGFLAT_F_NAME = 0,         /* bundle directory name, "Foo.pkg" */
	PKGFLAT_F_PATH,             /* bundle path inside the input */
	PKGFLAT_F_IDENTIFIER,       /* CFBundleIdentifier (or fallbacks) */
	PKGFLAT_F_VERSION,          /* CFBundleShortVersionString (or fallbacks) */
	PKGFLAT_F_TITLE,            /* Description.plist IFPkgDescriptionTitle */
	PKGFLAT_F_DESCRIPTION,      /* IFPkgDescriptionDescription */
	PKGFLAT_F_DELETE_WARNING,   /* IFPkgDescriptionDeleteWarning */
	PKGFLAT_F_INSTALL_LOCATION, /* IFPkgFlagDefaultLocation, "/" when absent */
	PKGFLAT_F_AUTH,             /* "none", "admin" or "root" */
	PKGFLAT_F_RESTART,          /* "none", "recommended-restart", "restart",
	                               "logout", "shutdown" */
	PKGFLAT_F_SELECTION,        /* in a metapackage: "selected", "unselected",
	                               "required" */
	PKGFLAT_F_BACKGROUND_ALIGNMENT,
	PKGFLAT_F_BACKGROUND_SCALING,
	PKGFLAT_F_CREATOR,          /* IFPkgCreator */
	PKGFLAT_F_COMPONENT_DIRECTORY, /* IFPkgFlagComponentDirectory */
	PKGFLAT_F_DIST_FILE,        /* Tiger distribution script, if any */
	PKGFLAT_F_PAYLOAD_PATH,     /* "Contents/Archive.pax.gz" or Cheetah name */
	PKGFLAT_F_BOM_PATH,
	PKGFLAT_F_DEVELOPMENT_REGION,
	PKGFLAT_F_INFO_SOURCE,      /* "Info.plist", "Cheetah .info" */
	PKGFLAT_F_COUNT_
};

/* Yes/no fields: 1 yes, 0 no, -1 the package does not say. */
enum pkgflat_flag {
	PKGFLAT_FLAG_RELOCATABLE = 0,
	PKGFLAT_FLAG_OVERWRITE_PERMISSIONS,
	PKGFLAT_FLAG_FOLLOW_LINKS,
	PKGFLAT_FLAG_ROOT_VOLUME_ONLY,
	PKGFLAT_FLAG_ALLOW_BACK_REV,
	PKGFLAT_FLAG_REQUIRED,      /* IFPkgFlagIsRequired */
	PKGFLAT_FLAG_INSTALL_FAT,
	PKGFLAT_FLAG_USE_USER_MASK,
	PKGFLAT_FLAG_UPDATE_INSTALLED_LANGUAGES,
	PKGFLAT_FLAG_COUNT_
};

/* The install-time programs a bundle can carry, in legacy run order. */
enum pkgflat_script {
	PKGFLAT_SCRIPT_INSTALLATION_CHECK = 0,
	PKGFLAT_SCRIPT_VOLUME_CHECK,
	PKGFLAT_SCRIPT_PREFLIGHT,
	PKGFLAT_SCRIPT_PREINSTALL,
	PKGFLAT_SCRIPT_PREUPGRADE,
	PKGFLAT_SCRIPT_POSTINSTALL,
	PKGFLAT_SCRIPT_POSTUPGRADE,
	PKGFLAT_SCRIPT_POSTFLIGHT,
	PKGFLAT_SCRIPT_COUNT_
};
const char *pkgflat_script_name(enum pkgflat_script script);

typedef struct pkgflat_resource {
	const char *path;     /* relative to Contents/Resources, "en.lproj/ReadMe" */
	const char *lang;     /* "en" for en.lproj/..., NULL at top level */
	const char *role;     /* "welcome", "readme", "license", "conclusion",
	                         "background", "description", "script", "strings",
	                         "package-version", "sizes", "cheetah", "other" */
	const char *mime;     /* sniffed from content, or NULL for directories */
	const char *link_target; /* for symlinks, else NULL */
	uint64_t size;
	uint32_t mode;        /* permission bits of the file (after symlinks) */
	int is_dir;
} pkgflat_resource;

typedef struct pkgflat_requirement {
	const char *level;         /* "requires" or "recommends" */
	const char *spec_type;     /* "sysctl", "gestalt", "file", "bundle", "plist" */
	const char *spec_argument;
	const char *spec_property;
	const char *test_operator; /* as written: "eq", "<=", ... */
	const char *test_object;   /* rendered as text */
	const char *label_key, *title_key, *message_key;
} pkgflat_requirement;

/* One entry of a check's message table (InstallationCheck.strings,
 * VolumeCheck.strings, IFRequirements.strings), decoded to UTF-8. */
typedef struct pkgflat_string {
	const char *table;   /* "InstallationCheck", "VolumeCheck", "IFRequirements" */
	const char *lang;    /* the .lproj it came from, NULL at top level */
	const char *key;     /* "16" */
	const char *value;
} pkgflat_string;

typedef struct pkgflat_payload_stats {
	const char *format;      /* "odc cpio", "newc cpio", "ustar", "pax", ... */
	const char *compression; /* "gzip", "none", "bzip2", ... */
	uint64_t entries;        /* all entries, "." included */
	uint64_t files, dirs, symlinks, hardlinks, others;
	uint64_t file_bytes;     /* sum of regular file sizes */
	uint64_t install_kbytes; /* file_bytes rounded up to KiB */
	int has_dot_root;        /* first entry is "." */
	int dot_slash_names;     /* names start with "./" */
} pkgflat_payload_stats;

typedef struct pkgflat_bom_stats {
	uint32_t paths;          /* entries listed in Paths */
	uint32_t info_paths;     /* BomInfo numberOfPaths */
	uint32_t hardlink_sets;  /* entries in HLIndex */
	uint32_t size64_entries;
	uint32_t vindex_entries;
	uint64_t file_bytes;
} pkgflat_bom_stats;

/*
 * Open a legacy package: a .pkg or .mpkg directory, or such a directory
 * inside a .zip, .tar, .tar.gz or .tgz file. Reads and checks all metadata
 * (plists, resources, scripts, the package tree); payloads and BOMs are read
 * only when asked for.
 */
pkgflat_status pkgflat_package_open(const char *path, pkgflat_package **out,
    pkgflat_error *err);
void pkgflat_package_free(pkgflat_package *pkg);

enum pkgflat_container pkgflat_package_container(const pkgflat_package *pkg);
const char *pkgflat_package_path(const pkgflat_package *pkg);
const pkgflat_bundle *pkgflat_package_root(const pkgflat_package *pkg);
/* The component packages in install order, nested metapackages flattened. */
size_t pkgflat_package_component_count(const pkgflat_package *pkg);
const pkgflat_bundle *pkgflat_package_component(const pkgflat_package *pkg,
    size_t i);
/* Things that are odd but not fatal, in the order they were found. */
size_t pkgflat_package_warning_count(const pkgflat_package *pkg);
const char *pkgflat_package_warning(const pkgflat_package *pkg, size_t i);

enum pkgflat_bundle_kind pkgflat_bundle_kind(const pkgflat_bundle *b);
const char *pkgflat_bundle_kind_name(enum pkgflat_bundle_kind kind);
const char *pkgflat_bundle_get(const pkgflat_bundle *b, enum pkgflat_field f);
const char *pkgflat_field_name(enum pkgflat_field f);
int pkgflat_bundle_flag(const pkgflat_bundle *b, enum pkgflat_flag f);
const char *pkgflat_flag_name(enum pkgflat_flag f);
/* Path (inside the input) of the script, or NULL when the bundle has none. */
const char *pkgflat_bundle_script(const pkgflat_bundle *b,
    enum pkgflat_script s);
size_t pkgflat_bundle_child_count(const pkgflat_bundle *b);
const pkgflat_bundle *pkgflat_bundle_child(const pkgflat_bundle *b, size_t i);
size_t pkgflat_bundle_resource_count(const pkgflat_bundle *b);
const pkgflat_resource *pkgflat_bundle_resource(const pkgflat_bundle *b,
    size_t i);
size_t pkgflat_bundle_localization_count(const pkgflat_bundle *b);
const char *pkgflat_bundle_localization(const pkgflat_bundle *b, size_t i);
size_t pkgflat_bundle_requirement_count(const pkgflat_bundle *b);
const pkgflat_requirement *pkgflat_bundle_requirement(const pkgflat_bundle *b,
    size_t i);
/* Every top-level key of Info.plist, in file order, with its value as text
 * ("(array)", "(dictionary)" for containers). */
size_t pkgflat_bundle_key_count(const pkgflat_bundle *b);
const char *pkgflat_bundle_key(const pkgflat_bundle *b, size_t i,
    const char **value);
size_t pkgflat_bundle_string_count(const pkgflat_bundle *b);
const pkgflat_string *pkgflat_bundle_string(const pkgflat_bundle *b, size_t i);
/* The installed size the package claims (IFPkgFlagInstalledSize or
 * Archive.sizes), in KiB; -1 when it does not say. */
int64_t pkgflat_bundle_claimed_kbytes(const pkgflat_bundle *b);
int pkgflat_bundle_has_payload(const pkgflat_bundle *b);
int pkgflat_bundle_has_bom(const pkgflat_bundle *b);

/*
 * Read every payload and BOM in the package once: fills the statistics
 * below and adds warnings where a BOM and its payload disagree (paths,
 * types, modes, owners, sizes, link targets) or the claimed size is off.
 */
pkgflat_status pkgflat_package_scan(pkgflat_package *pkg, pkgflat_error *err);
/* After pkgflat_package_scan(); NULL before, or when there is none. */
const pkgflat_payload_stats *pkgflat_bundle_payload_stats(
    const pkgflat_bundle *b);
const pkgflat_bom_stats *pkgflat_bundle_bom_stats(const pkgflat_bundle *b);

/* Stream the payload of a component, calling fn for each entry. */
pkgflat_status pkgflat_bundle_list_payload(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);
/* Walk the component's Archive.bom. */
pkgflat_status pkgflat_bundle_list_bom(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_bom_stats *stats,
    pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* Stand-alone files                                                  */

/* What a file on disk is, by its content. */
enum pkgflat_file_kind {
	PKGFLAT_FILE_UNKNOWN = 0,
	PKGFLAT_FILE_BOM,     /* "BOMStore" */
	PKGFLAT_FILE_XAR,     /* "xar!": a flat package */
	PKGFLAT_FILE_PAYLOAD, /* a cpio or tar stream, maybe compressed */
	PKGFLAT_FILE_ARCHIVE  /* zip or tar that may hold a bundle */
};
enum pkgflat_file_kind pkgflat_file_sniff(const char *path);

/* List a BOM file (Archive.bom, or Bom from a flat package). */
pkgflat_status pkgflat_bom_list_file(const char *path, pkgflat_entry_fn fn,
    void *ctx, pkgflat_bom_stats *stats, pkgflat_error *err);
/* List a payload file (Archive.pax.gz, or Payload from a flat package). */
pkgflat_status pkgflat_payload_list_file(const char *path, pkgflat_entry_fn fn,
    void *ctx, pkgflat_payload_stats *stats, pkgflat_error *err);


/* ------------------------------------------------------------------ */
/* Converting to a flat product archive                               */

enum pkgflat_ownership {
	PKGFLAT_OWNERSHIP_PRESERVE = 0, /* keep the payload's owners */
	PKGFLAT_OWNERSHIP_RECOMMENDED   /* root:wheel (0:0), modes kept */
};

enum pkgflat_toc_checksum {
	PKGFLAT_TOC_SHA1 = 1,   /* what every macOS reads; the default */
	PKGFLAT_TOC_SHA256 = 3, /* 10.10 and later only */
	PKGFLAT_TOC_SHA512 = 4
};

/* ------------------------------------------------------------------ */
/* Signing identities                                                 */

typedef struct pkgflat_identity pkgflat_identity;

typedef struct pkgflat_identity_spec {
	const char *p12;    /* PKCS#12 with key, leaf and chain, or */
	const char *key;    /* a private key (PEM or DER file, or a pkcs11:
	                       URI for a token; the module is p11-kit's unless
	                       PKGFLAT_PKCS11_MODULE names one; --pass gives
	                       the PIN) ... */
	const char *cert;   /* ... and its certificate (PEM/DER; more PEM
	                       certificates after it are taken as chain) */
	const char *chain;  /* intermediates and root; replaces any other */
	const char *pass;   /* "env:VAR", "file:PATH" or "fd:N"; never the
	                       passphrase itself */
	/*
	 * With cert and neither key nor sign_command: a certificate-only
	 * identity, for pkgflat_sign_prepare().
	 *
	 * An external signer instead of a key (with cert): run through
	 * /bin/sh -c, it gets a DER DigestInfo (SHA-1, 35 bytes) on standard
	 * input and must write the RSA PKCS#1 v1.5 signature of it, as many
	 * bytes as the key's modulus, on standard output, and exit 0; as
	 * `openssl pkeyutl -sign -inkey KEY` does. It runs twice: for the RSA
	 * signature and for the CMS one. Every signature is checked against
	 * the certificate's public key.
	 */
	const char *sign_command;
} pkgflat_identity_spec;

pkgflat_status pkgflat_identity_load(const pkgflat_identity_spec *spec,
    pkgflat_identity **out, pkgflat_error *err);
void pkgflat_identity_free(pkgflat_identity *id);
/* Refuse a leaf that cannot sign installers at time `now`: outside its
 * validity, no digitalSignature, or neither the Developer ID Installer nor
 * the Mac Installer Distribution EKU. */
pkgflat_status pkgflat_identity_check(const pkgflat_identity *id,
    int64_t now, pkgflat_error *err);

typedef struct pkgflat_convert_options {
	const char *output;          /* the .pkg to write (required) */
	enum pkgflat_ownership ownership;
	enum pkgflat_toc_checksum toc_checksum;
	const char *min_os;          /* "10.9": adds allowed-os-versions */
	const char *title;           /* overrides the package's title */
	const char *identifier;      /* single-component input only */
	const char *host_arch;       /* hostArchitectures, e.g. "arm64,x86_64" */
	int64_t timestamp;           /* creation time; -1 means now, or
	                                SOURCE_DATE_EPOCH when set */
	const pkgflat_identity *identity; /* sign while writing, or NULL */
	const char *timestamp_url;   /* RFC 3161 server for the CMS, or NULL */
	int timestamp_timeout;       /* seconds; 0 means 30 */
} pkgflat_convert_options;

/* Defaults: preserve owners, SHA-1, no minimum OS, timestamp -1. */
void pkgflat_convert_options_init(pkgflat_convert_options *opt);

/* One decision of the conversion: a legacy key, file or script and what
 * it became (flat is NULL when it was dropped; note says why). */
typedef struct pkgflat_mapping {
	const char *component;  /* bundle name, or NULL for the product */
	const char *legacy;     /* "IFPkgFlagRelocatable", "postflight", ... */
	const char *value;      /* the legacy value, or NULL */
	const char *flat;       /* "PackageInfo relocatable=\"false\"", or NULL */
	const char *note;
} pkgflat_mapping;

typedef struct pkgflat_converted {
	const char *name;        /* component directory in the archive */
	const char *identifier;
	const char *version;
	const char *payload;     /* "copied", "transcoded" or "none" */
	uint64_t entries;        /* numberOfFiles */
	uint64_t install_kbytes;
	int preinstall, postinstall;
} pkgflat_converted;

typedef struct pkgflat_convert_result pkgflat_convert_result;

/*
 * Write pkg as a flat product archive to opt->output. The file appears
 * only when everything succeeded (written to a temporary file in the same
 * directory, then renamed); the input is never modified.
 */
pkgflat_status pkgflat_convert(pkgflat_package *pkg,
    const pkgflat_convert_options *opt, pkgflat_convert_result **result,
    pkgflat_error *err);
void pkgflat_convert_result_free(pkgflat_convert_result *r);
size_t pkgflat_convert_component_count(const pkgflat_convert_result *r);
const pkgflat_converted *pkgflat_convert_component(
    const pkgflat_convert_result *r, size_t i);
size_t pkgflat_convert_mapping_count(const pkgflat_convert_result *r);
const pkgflat_mapping *pkgflat_convert_mapping(const pkgflat_convert_result *r,
    size_t i);
size_t pkgflat_convert_warning_count(const pkgflat_convert_result *r);
const char *pkgflat_convert_warning(const pkgflat_convert_result *r, size_t i);

/* ------------------------------------------------------------------ */
/* Signing an existing flat package                                   */

/*
 * Sign (or re-sign) the flat package `in` into `out` as productsign does:
 * old signatures, checksum and any stapled ticket are dropped, the TOC is
 * rewritten with every file offset shifted, the heap is copied once. `out`
 * may equal `in`; it is replaced only when the new file is complete.
 * timestamp: creation/signing time as in pkgflat_convert_options; tsa_url:
 * an RFC 3161 server to timestamp the CMS signature (NULL: none), waited
 * for at most tsa_timeout seconds (0: 30).
 */
pkgflat_status pkgflat_sign_file(const char *in, const char *out,
    const pkgflat_identity *id, int64_t timestamp, const char *tsa_url,
    int tsa_timeout, pkgflat_error *err);

/* productsign's room for the CMS signature; more is reserved (and said in
 * pkgflat_sign_result) when the chain and timestamp need it. */
#define PKGFLAT_CMS_RESERVE 9216

typedef struct pkgflat_sign_options {
	int64_t timestamp;    /* signing time in the CMS; -1: now */
	const char *tsa_url;  /* RFC 3161 server, or NULL: no timestamp */
	int tsa_timeout;      /* seconds; 0: 30 */
	/* fsync the output before renaming it into place, for durability
	 * across power loss (also when PKGFLAT_FSYNC is set and not "0").
	 * Without it the output is still never partial after an error or an
	 * interrupt: it is written to a temporary file and renamed. */
	int fsync;
} pkgflat_sign_options;
void pkgflat_sign_options_init(pkgflat_sign_options *opt);

typedef struct pkgflat_sign_result {
	int64_t signing_time;
	size_t rsa_size;      /* bytes of the RSA signature */
	size_t cms_size;      /* DER bytes of the CMS, 0 after prepare */
	size_t cms_reserved;  /* heap bytes kept for it */
	/* Set when cms_reserved > PKGFLAT_CMS_RESERVE: says why (for a
	 * warning); lives as long as the result (pkgflat_sign_result_clear). */
	char *note;
} pkgflat_sign_result;
void pkgflat_sign_result_clear(pkgflat_sign_result *res);

/* pkgflat_sign_file() with options; res may be NULL. */
pkgflat_status pkgflat_sign(const char *in, const char *out,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err);

/*
 * Two-step signing, for keys on another machine.
 *
 * pkgflat_sign_prepare() lays out the signed package for `in` with the
 * certificates of `id` (no key needed) and writes the directory `req`
 * (which must not exist; it appears complete or not at all):
 *   rsa.tbs, cms.tbs    35-byte DER DigestInfo (SHA-1) each: the bytes to
 *                       sign, the same a --sign-command gets on stdin
 *   rsa.sha1, cms.sha1  the 20-byte SHA-1 inside each, for signers that
 *                       build the DigestInfo themselves
 *   README              these instructions, for whoever holds the key
 *   state, head, certs.pem   what inject needs: the new header and TOC,
 *                       signing time, reservation, the SHA-1 of the TOC,
 *                       and the SHA-256 and size of `in`
 * Room for a timestamp is always reserved, so inject may add one.
 *
 * The key holder writes rsa.sig and cms.sig into `req`: the RSA PKCS#1
 * v1.5 signature of rsa.tbs and of cms.tbs, as many bytes as the modulus
 * (`openssl pkeyutl -sign -inkey KEY -in rsa.tbs -out rsa.sig`).
 *
 * pkgflat_sign_inject() checks both signatures against the certificate,
 * checks that `in` is the very file prepared (size and SHA-256), adds an
 * RFC 3161 timestamp when opt->tsa_url says so, and writes `out` (which
 * may equal `in`) exactly as pkgflat_sign() would have with the key.
 * opt->timestamp is ignored: the signing time is the prepared one.
 */
pkgflat_status pkgflat_sign_prepare(const char *in, const char *req,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err);
pkgflat_status pkgflat_sign_inject(const char *req, const char *in,
    const char *out, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err);

/* What a flat package is, from its header and TOC (no checks: see
 * verify). */
typedef struct pkgflat_flat_info {
	unsigned int toc_checksum;  /* header algorithm: 1 sha1, 3 sha256, ... */
	uint64_t toc_length;        /* compressed */
	uint64_t heap_offset;       /* where the heap starts in the file */
	uint64_t heap_used;         /* end of the last range in the heap */
	uint64_t file_size;
	uint64_t files;             /* <file> elements, directories included */
	int product;                /* has a Distribution: a product archive */
	int has_rsa, has_cms;       /* <signature>, <x-signature> */
	int certs;                  /* certificates in the first KeyInfo */
	char signer[256];           /* subject of the first certificate */
	uint64_t trailing;          /* bytes after heap_used */
	int stapled;                /* ...that are a notarization ticket */
	uint64_t ticket_length;
	char ticket_key[64];        /* CloudKit record name: "2/1/<hex>" */
} pkgflat_flat_info;

pkgflat_status pkgflat_flat_inspect(const char *path, pkgflat_flat_info *info,
    pkgflat_error *err);

/*
 * Staple a notarization ticket to a flat package (the "t8lr" trailer after
 * the heap that stapler writes), replacing any ticket already there; with
 * ticket NULL, remove it. The file is replaced only when complete.
 */
pkgflat_status pkgflat_staple(const char *path, const char *ticket,
    pkgflat_error *err);

/* The RFC 3161 server productsign uses. */
#define PKGFLAT_APPLE_TSA "http://timestamp.apple.com/ts01"

#ifdef __cplusplus
}
#endif
#endif
