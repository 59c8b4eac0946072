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

/* The shared library is built with -fvisibility=hidden: what is declared
 * here, and only that, is its API. */
#if defined(__GNUC__)
#pragma GCC visibility push(default)
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
	PKGFLAT_E_INTERNAL,
	PKGFLAT_E_DIFFERS      /* a comparison found differences (convert --check) */
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
/* Progress                                                           */

/*
 * Long operations (convert, sign, verify, diff) report how far they are
 * through a callback in their options: bytes of input (or output) done out
 * of a total known up front (0 when not known), and the component being
 * worked on. Called from the thread that runs the operation, often: the
 * caller decides how seldom to show it. The library never prints.
 */
typedef struct pkgflat_progress {
	uint64_t done;          /* bytes done so far, never decreasing */
	uint64_t total;         /* bytes in all, or 0 when not known */
	const char *component;  /* identifier or name of the current
	                           component, or NULL; valid during the call */
	const char *phase;      /* "converting", "signing", "verifying",
	                           "comparing", or NULL */
} pkgflat_progress;
typedef void (*pkgflat_progress_fn)(const pkgflat_progress *p, void *ctx);

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
	/* SHA-256 of the file's bytes: set (has_sha256 1) by
	 * pkgflat_component_list_payload_digest() for regular files and hard
	 * links that carry data. */
	unsigned char sha256[32];
	int has_sha256;
} pkgflat_entry;

/* Return 0 to go on; anything else stops the walk, which then fails with
 * PKGFLAT_E_USAGE and the message "stopped by the caller". */
typedef int (*pkgflat_entry_fn)(const pkgflat_entry *entry, void *ctx);

/* ------------------------------------------------------------------ */
/* Legacy packages                                                    */

typedef struct pkgflat_package pkgflat_package; /* what was opened */
/* One node of a package's tree: a legacy .pkg or .mpkg bundle, a flat
 * product or a flat component package. */
typedef struct pkgflat_component pkgflat_component;

enum pkgflat_bundle_kind {
	PKGFLAT_BUNDLE_COMPONENT = 1, /* Foo.pkg: one payload */
	PKGFLAT_BUNDLE_METAPACKAGE,   /* Foo.mpkg with IFPkgFlagPackageList */
	PKGFLAT_BUNDLE_DISTRIBUTION,  /* Foo.mpkg with a Tiger .dist only */
	PKGFLAT_BUNDLE_HYBRID,        /* both a package list and a .dist */
	PKGFLAT_BUNDLE_PRODUCT,       /* flat product archive (Distribution) */
	PKGFLAT_BUNDLE_FLAT_COMPONENT /* flat component (PackageInfo) */
};

enum pkgflat_container {
	PKGFLAT_CONTAINER_DIRECTORY = 1,
	PKGFLAT_CONTAINER_ARCHIVE,    /* .zip, .tar, .tar.gz, .tgz */
	PKGFLAT_CONTAINER_XAR,        /* a flat package file */
	PKGFLAT_CONTAINER_IMAGE       /* a disk image: .dmg, .dmg.gz, raw */
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
/* The script a file in Contents/Resources is run as, by its name: the
 * names above, and the 10.0/10.1 ones "<Name>.pre_install",
 * ".pre_upgrade", ".post_install", ".post_upgrade" (which run as
 * preinstall, preupgrade, postinstall, postupgrade); -1 for any other. */
int pkgflat_script_from_name(const char *name);

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
	int unread;              /* the entries could not be read: an Apple
	                            Archive compressed with LZFSE, which no
	                            Debian library decodes */
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
 * Open a package: a legacy .pkg or .mpkg directory, or such a directory
 * inside a .zip, .tar, .tar.gz or .tgz file; a flat package file (XAR,
 * container PKGFLAT_CONTAINER_XAR), or a directory expanded from one
 * (Distribution or PackageInfo at its top). Reads and checks all metadata
 * (plists or Distribution and PackageInfo, resources, scripts, the package
 * tree); payloads and BOMs are read only when asked for.
 *
 * A flat product's root is a PKGFLAT_BUNDLE_PRODUCT whose children are
 * PKGFLAT_BUNDLE_FLAT_COMPONENTs in choices-outline order; a lone flat
 * component is the root itself. For those, fields map back the way
 * convert maps them out: restart from the Distribution's onConclusion (or
 * PackageInfo postinstall-action), selection and required from the choice,
 * claimed size from installKBytes, creator from generator-version, and the
 * bundle keys are PackageInfo's attributes.
 */
pkgflat_status pkgflat_package_open(const char *path, pkgflat_package **out,
    pkgflat_error *err);
void pkgflat_package_free(pkgflat_package *pkg);

enum pkgflat_container pkgflat_package_container(const pkgflat_package *pkg);
const char *pkgflat_package_path(const pkgflat_package *pkg);
const pkgflat_component *pkgflat_package_root(const pkgflat_package *pkg);
/* The component packages in install order, nested metapackages flattened. */
size_t pkgflat_package_component_count(const pkgflat_package *pkg);
const pkgflat_component *pkgflat_package_component(const pkgflat_package *pkg,
    size_t i);
/* Things that are odd but not fatal, in the order they were found. */
size_t pkgflat_package_warning_count(const pkgflat_package *pkg);
const char *pkgflat_package_warning(const pkgflat_package *pkg, size_t i);

enum pkgflat_bundle_kind pkgflat_component_kind(const pkgflat_component *b);
const char *pkgflat_component_kind_name(enum pkgflat_bundle_kind kind);
/* A leaf that installs something: PKGFLAT_BUNDLE_COMPONENT or
 * PKGFLAT_BUNDLE_FLAT_COMPONENT. */
int pkgflat_component_is_leaf(const pkgflat_component *b);
const char *pkgflat_component_get(const pkgflat_component *b,
    enum pkgflat_field f);
/* The identifier a component goes by: PKGFLAT_F_IDENTIFIER, or for one
 * without (10.0/10.1 packages, some distribution metapackages) a fallback
 * made from its bundle name: "pkgflat.Foo" for Foo.pkg ("pkgflat.Foo-2"
 * when another component of the package has that already). convert writes
 * it, diff pairs by it, so a package and its conversion pair up. */
const char *pkgflat_component_identifier(const pkgflat_component *b);
const char *pkgflat_field_name(enum pkgflat_field f);
int pkgflat_component_flag(const pkgflat_component *b, enum pkgflat_flag f);
const char *pkgflat_flag_name(enum pkgflat_flag f);
/* Path (inside the input) of the script, or NULL when the bundle has none.
 * A flat component has only preinstall and postinstall, as PackageInfo
 * names them; their path is the Scripts archive's joined with the member
 * name ("Foo.pkg/Scripts/postinstall"): read them with
 * pkgflat_component_list_scripts(). */
const char *pkgflat_component_script(const pkgflat_component *b,
    enum pkgflat_script s);
size_t pkgflat_component_child_count(const pkgflat_component *b);
const pkgflat_component *pkgflat_component_child(const pkgflat_component *b,
    size_t i);
size_t pkgflat_component_resource_count(const pkgflat_component *b);
const pkgflat_resource *pkgflat_component_resource(const pkgflat_component *b,
    size_t i);
size_t pkgflat_component_localization_count(const pkgflat_component *b);
const char *pkgflat_component_localization(const pkgflat_component *b,
    size_t i);
size_t pkgflat_component_requirement_count(const pkgflat_component *b);
const pkgflat_requirement *pkgflat_component_requirement(
    const pkgflat_component *b,
    size_t i);
/* Every top-level key of Info.plist, in file order, with its value as text
 * ("(array)", "(dictionary)" for containers). */
size_t pkgflat_component_key_count(const pkgflat_component *b);
const char *pkgflat_component_key(const pkgflat_component *b, size_t i,
    const char **value);
size_t pkgflat_component_string_count(const pkgflat_component *b);
const pkgflat_string *pkgflat_component_string(const pkgflat_component *b,
    size_t i);
/* The installed size the package claims (IFPkgFlagInstalledSize or
 * Archive.sizes), in KiB; -1 when it does not say. */
int64_t pkgflat_component_claimed_kbytes(const pkgflat_component *b);
int pkgflat_component_has_payload(const pkgflat_component *b);
int pkgflat_component_has_bom(const pkgflat_component *b);

/*
 * Read every payload and BOM in the package once: fills the statistics
 * below and adds warnings where a BOM and its payload disagree (paths,
 * types, modes, owners, sizes, link targets) or the claimed size is off.
 */
pkgflat_status pkgflat_package_scan(pkgflat_package *pkg, pkgflat_error *err);
/* After pkgflat_package_scan(); NULL before, or when there is none. */
const pkgflat_payload_stats *pkgflat_component_payload_stats(
    const pkgflat_component *b);
const pkgflat_bom_stats *pkgflat_component_bom_stats(
    const pkgflat_component *b);

/* Stream the payload of a component, calling fn for each entry. */
pkgflat_status pkgflat_component_list_payload(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);
/* The same walk, with each regular file's SHA-256 computed while its bytes
 * stream past (entry->sha256, has_sha256); memory does not grow with file
 * sizes. Works for legacy and flat components alike. */
pkgflat_status pkgflat_component_list_payload_digest(const pkgflat_component *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);

/* One file of a component's scripts, for pkgflat_component_list_scripts(). */
typedef struct pkgflat_script_file {
	/* Where the file sits the way a flat Scripts archive holds it:
	 * "./postinstall" (a flat script or wrapper), or
	 * "./Contents/Resources/preflight" (a legacy script, which is also where
	 * `pkgflat convert` puts the original inside Scripts). */
	const char *path;
	int script;        /* enum pkgflat_script when the bundle runs this file
	                      as that script, else -1 */
	uint32_t mode;     /* permission bits */
	uint64_t size;
	const unsigned char *data; /* the bytes, or NULL when over max_size */
	unsigned char sha256[32];  /* of the bytes, always */
} pkgflat_script_file;
typedef int (*pkgflat_script_fn)(const pkgflat_script_file *f, void *ctx);

/*
 * Walk the regular files of a component's scripts with their content: for
 * a flat component every file of its Scripts archive (helpers included),
 * for a legacy one each install script it has (preflight, ..., with the
 * checks InstallationCheck and VolumeCheck). Files over max_size bytes
 * come with data NULL but their digest. fn returning non-zero stops the
 * walk as in pkgflat_entry_fn.
 */
pkgflat_status pkgflat_component_list_scripts(const pkgflat_component *b,
    size_t max_size, pkgflat_script_fn fn, void *ctx, pkgflat_error *err);

/* Walk the component's Archive.bom. */
pkgflat_status pkgflat_component_list_bom(const pkgflat_component *b,
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
/* The same with each regular file's SHA-256 (see
 * pkgflat_component_list_payload_digest). */
pkgflat_status pkgflat_payload_list_file_digest(const char *path,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);


/* ------------------------------------------------------------------ */
/* Converting to a flat product archive                               */

enum pkgflat_ownership {
	PKGFLAT_OWNERSHIP_PRESERVE = 0, /* keep the payload's owners */
	/* the default: a packager's personal owner (uid 500 and up, but for
	 * nobody) becomes root, and its group wheel when it was staff (20) or
	 * personal (gid 500 and up); a personal group under a system owner
	 * becomes wheel; system owners and groups (below 500, nobody) are kept
	 * exactly. Modes are kept. */
	PKGFLAT_OWNERSHIP_RECOMMENDED,
	PKGFLAT_OWNERSHIP_ROOT          /* everything root:wheel (0:0), modes kept */
};

/* Apply a policy to one owner; 1 when it changed them. */
int pkgflat_ownership_apply(enum pkgflat_ownership mode, uint32_t *uid,
    uint32_t *gid);
/* "preserve", "recommended", "root"; and back (-1: unknown name). */
const char *pkgflat_ownership_name(enum pkgflat_ownership mode);
int pkgflat_ownership_from_name(const char *name);

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
	/* With p12 holding several identities: the one whose certificate's
	 * common name contains this text, as productsign --sign picks one
	 * from a keychain; NULL takes the only one (several is an error
	 * listing their names). */
	const char *name;
} pkgflat_identity_spec;

pkgflat_status pkgflat_identity_load(const pkgflat_identity_spec *spec,
    pkgflat_identity **out, pkgflat_error *err);
void pkgflat_identity_free(pkgflat_identity *id);
/* The leaf certificate's common name, and its organizational unit (the
 * team identifier in Apple's certificates; NULL when it has none). */
const char *pkgflat_identity_name(const pkgflat_identity *id);
const char *pkgflat_identity_team(const pkgflat_identity *id);
/* 1 when the identity's chain ends at one of the bundled Apple roots (a
 * Developer ID or Mac App Store identity), so that productsign's habit of
 * timestamping by default applies. */
int pkgflat_identity_apple_root(const pkgflat_identity *id);
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
	int check;                   /* before renaming the output into place,
	                                compare it with the input (pkgflat_diff)
	                                and fail with PKGFLAT_E_DIFFERS when it
	                                would install anything differently */
	unsigned int check_ignore;   /* pkgflat_diff_ignore bits for the check */
	int threads;                 /* compression threads (at most 8); 0
	                                means one per online core. The output
	                                is the same whatever the number */
	pkgflat_progress_fn progress; /* or NULL; bytes of payload read */
	void *progress_ctx;
} pkgflat_convert_options;

/* Defaults: recommended ownership, SHA-1, no minimum OS, timestamp -1. */
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
/* The hostArchitectures the Distribution got (--arch, or the union of the
 * payloads' Mach-O architectures), or NULL when it has none. */
const char *pkgflat_convert_host_archs(const pkgflat_convert_result *r);

/* ------------------------------------------------------------------ */
/* Expanding, flattening and building flat packages                  */

typedef struct pkgflat_expand_options {
	/* Payload and Scripts extracted into directories of those names
	 * (modes and times kept, owners too when running as root) instead of
	 * kept as archives; as pkgutil --expand-full. */
	int full;
} pkgflat_expand_options;

/*
 * Write the members of the flat package file `pkg` into the new directory
 * `dir` (which must not exist), as pkgutil --expand does: Distribution,
 * Resources, and each component as a directory with PackageInfo, Bom,
 * Payload and Scripts. Nothing is written outside dir nor through a
 * symlink; dir appears only complete (it is filled under a temporary name
 * beside it and renamed).
 */
pkgflat_status pkgflat_expand(const char *pkg, const char *dir,
    const pkgflat_expand_options *opt, pkgflat_error *err);

/* Where and how flatten and build write a flat package. */
typedef struct pkgflat_flatten_options {
	const char *output;           /* the .pkg to write (required) */
	enum pkgflat_toc_checksum toc_checksum;
	int64_t timestamp;            /* -1: SOURCE_DATE_EPOCH when set, or now */
	const pkgflat_identity *identity; /* sign while writing, or NULL */
	const char *timestamp_url;    /* RFC 3161 server for the CMS, or NULL */
	int timestamp_timeout;        /* seconds; 0 means 30 */
	/* Owners of files read from a directory tree (an --full Payload
	 * directory, build's root). ownership_given 0: for flatten, owners the
	 * component's Bom lists for a path, and the recommended policy for the
	 * rest; for build, recommended. Given: the policy applied to the
	 * owners on disk. */
	int ownership_given;
	enum pkgflat_ownership ownership;
	int threads;                  /* compression threads; 0: one per core */
} pkgflat_flatten_options;
void pkgflat_flatten_options_init(pkgflat_flatten_options *opt);

/*
 * Archive the directory `dir`, as expand (or pkgutil --expand, xar -x)
 * left it and perhaps edited, into the flat package opt->output. With a
 * Distribution at its top it is a product archive, with PackageInfo a
 * component package. A component's Payload or Scripts that is a directory
 * (expand --full) is archived again as gzip'd odc cpio, with a fresh Bom
 * and PackageInfo's numberOfFiles and installKBytes set to match.
 * Symlinks outside such directories are followed only to files inside
 * dir. The output appears only when complete and may not lie inside dir.
 */
pkgflat_status pkgflat_flatten(const char *dir,
    const pkgflat_flatten_options *opt, pkgflat_error *err);

typedef struct pkgflat_build_options {
	pkgflat_flatten_options out;  /* where and how to write */
	/* A component package, as pkgbuild --root makes it. */
	const char *root;             /* the files to install */
	const char *identifier, *version;
	const char *install_location; /* NULL: "/" */
	const char *scripts;          /* directory with preinstall, postinstall
	                                 and what they use, or NULL */
	/* A product archive, as productbuild makes it: a Distribution from
	 * a file, or synthesized (one choice per component) when NULL. */
	const char *distribution;
	const char *const *package_paths; /* where the Distribution's
	                                     components are looked for */
	size_t package_path_count;
	const char *const *packages;  /* component packages to synthesize from */
	size_t package_count;
	const char *title;            /* a synthesized Distribution's title */
	const char *min_os;           /* ...its allowed-os-versions, "10.9" */
	const char *resources;        /* a product's Resources directory
	                                 (background, license, readme), or
	                                 NULL */
} pkgflat_build_options;
void pkgflat_build_options_init(pkgflat_build_options *opt);

/* A flat component package from opt->root (and opt->scripts). */
pkgflat_status pkgflat_build_component(const pkgflat_build_options *opt,
    pkgflat_error *err);
/* A flat product archive from component packages (flat component files). */
pkgflat_status pkgflat_build_product(const pkgflat_build_options *opt,
    pkgflat_error *err);
/* The Distribution pkgflat_build_product() synthesizes from opt->packages
 * (malloc'd XML in *xml, *len bytes), as productbuild --synthesize does. */
pkgflat_status pkgflat_build_synthesize(const pkgflat_build_options *opt,
    char **xml, size_t *len, pkgflat_error *err);

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
	pkgflat_progress_fn progress; /* or NULL; bytes of heap copied */
	void *progress_ctx;
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
 * pkgflat_sign() in two calls, so that the caller can read the key while
 * the package is being copied: pkgflat_sign_begin() checks `in` (and that
 * `out` may be written) and, for a large heap, starts copying it into a
 * hidden new file on another thread; pkgflat_sign_finish() signs with
 * `id`, waits for the copy and puts `out` in place. Either frees the job
 * when it fails, finish always; pkgflat_sign_cancel() frees a job that
 * will not be finished, and nothing is written. The output is the one
 * pkgflat_sign() writes.
 */
typedef struct pkgflat_sign_job pkgflat_sign_job;
pkgflat_status pkgflat_sign_begin(const char *in, const char *out,
    pkgflat_sign_job **job, pkgflat_error *err);
pkgflat_status pkgflat_sign_finish(pkgflat_sign_job *job,
    const pkgflat_identity *id, const pkgflat_sign_options *opt,
    pkgflat_sign_result *res, pkgflat_error *err);
void pkgflat_sign_cancel(pkgflat_sign_job *job);

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
 * ticket NULL, remove it (no ticket there: PKGFLAT_OK, the file is left
 * untouched). The file is replaced only when complete.
 */
pkgflat_status pkgflat_staple(const char *path, const char *ticket,
    pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* Comparing two packages                                             */

/* What pkgflat_diff may leave out (bits for pkgflat_diff_options.ignore). */
enum pkgflat_diff_ignore {
	PKGFLAT_DIFF_IGNORE_MTIME = 1 << 0,
	PKGFLAT_DIFF_IGNORE_OWNER = 1 << 1,    /* uid and gid */
	PKGFLAT_DIFF_IGNORE_MODE = 1 << 2,     /* permission bits */
	PKGFLAT_DIFF_IGNORE_CONTENT = 1 << 3,  /* size and SHA-256 of files */
	PKGFLAT_DIFF_IGNORE_LINKS = 1 << 4,    /* symlink targets, hard links */
	PKGFLAT_DIFF_IGNORE_BOM = 1 << 5,      /* each side's BOM vs its payload */
	PKGFLAT_DIFF_IGNORE_SCRIPTS = 1 << 6,
	PKGFLAT_DIFF_IGNORE_VERSION = 1 << 7,
	PKGFLAT_DIFF_IGNORE_CHECKS = 1 << 8    /* requirement checks */
};

enum pkgflat_diff_only {
	PKGFLAT_DIFF_ALL = 0,
	PKGFLAT_DIFF_ONLY_PAYLOAD,  /* installed files (and BOM agreement) */
	PKGFLAT_DIFF_ONLY_METADATA  /* identifiers, versions, scripts, ... */
};

typedef struct pkgflat_diff_options {
	unsigned int ignore;            /* enum pkgflat_diff_ignore bits */
	int only;                       /* enum pkgflat_diff_only */
	const char *const *map;         /* "OLD=NEW" component identifier renames */
	size_t map_count;
	/* The ownership policy a conversion between a legacy side and a flat
	 * side followed: owners it changed that way are a note, not a
	 * difference. ownership_given 0: learn it from the flat side
	 * (PackageInfo generator-version "pkgflat-X (ownership MODE)"); none
	 * stated means every owner must match. */
	int ownership_given;
	enum pkgflat_ownership ownership;
	pkgflat_progress_fn progress; /* or NULL; payload bytes read, both sides */
	void *progress_ctx;
} pkgflat_diff_options;

/* The names --ignore takes ("mtime", "owner", ...), and their bit; 0 for
 * an unknown name. */
unsigned int pkgflat_diff_ignore_bit(const char *name);

/* One difference. Values are text in a fixed form ("0644", "501", a hex
 * SHA-256, a path); a or b is NULL when that side has nothing. */
typedef struct pkgflat_difference {
	const char *component;  /* identifier on side A (B's when only there) */
	const char *category;   /* "component", "metadata", "script", "payload",
	                           "within-a", "within-b", or "note" (B
	                           differs in form only: a legacy script
	                           another converter renamed, not wrapped) */
	const char *change;     /* "added" (only in B), "removed" (only in A),
	                           "changed" */
	const char *attribute;  /* "file", "type", "mode", "uid", "gid", "mtime",
	                           "size", "content", "link", "hardlink", "rdev",
	                           or a metadata name ("install-location", ...) */
	const char *path;       /* install path or script name, or NULL */
	const char *a, *b;
	int inherited;          /* within-b: A has the same one */
} pkgflat_difference;

/* A pair of components (or one without a partner). */
typedef struct pkgflat_diff_pair {
	const char *a, *b;          /* identifiers; NULL when unmatched */
	uint64_t entries_a, entries_b; /* payload entries */
	uint64_t differences;       /* all, notes included */
	uint64_t notes;             /* those inside A alone, or inherited */
} pkgflat_diff_pair;

typedef struct pkgflat_diff_result pkgflat_diff_result;

/*
 * Compare what a and b install: components matched by identifier (or
 * opt->map), for each pair the full installed file set (install path,
 * type, mode, owner, mtime, size, SHA-256 of the content, symlink target,
 * hard-link groups, device numbers), each side's BOM against its own
 * payload, and the metadata that changes install behaviour. Each payload is
 * read once, streamed; memory grows with the number of entries only.
 * Succeeds whether or not there are differences: count them.
 */
pkgflat_status pkgflat_diff(pkgflat_package *a, pkgflat_package *b,
    const pkgflat_diff_options *opt, pkgflat_diff_result **result,
    pkgflat_error *err);
void pkgflat_diff_result_free(pkgflat_diff_result *r);
size_t pkgflat_diff_count(const pkgflat_diff_result *r);
const pkgflat_difference *pkgflat_diff_get(const pkgflat_diff_result *r,
    size_t i);
/* One line of text: "changed mode 0644 -> 0664: /usr/local/bin/x",
 * "removed file: PATH", "within A: BOM and payload disagree on gid ...";
 * truncated with "..." to fit; returns buf. */
const char *pkgflat_difference_text(const pkgflat_difference *d, char *buf,
    size_t size);
/* 1 when B installs what A does: no differences but those inside A alone
 * and the ones inside B that A has too (A is the reference: its own quirks
 * are reported, not held against B). */
int pkgflat_diff_equivalent(const pkgflat_diff_result *r);
size_t pkgflat_diff_pair_count(const pkgflat_diff_result *r);
const pkgflat_diff_pair *pkgflat_diff_pair_get(const pkgflat_diff_result *r,
    size_t i);

/* ------------------------------------------------------------------ */
/* Verifying a flat package                                           */

/*
 * pkgflat_verify() runs a fixed list of checks over a flat package, each
 * with its own result, and all of them even when an earlier one fails
 * (a check that needs what a failed one could not provide is skipped):
 *   xar-structure   header, TOC, every heap range inside the heap and no
 *                   two overlapping, bytes after the heap (stapled ticket)
 *   toc-checksum    the stored TOC checksum against the compressed TOC
 *   file-checksums  every file's archived and extracted checksums
 *   rsa-signature   <signature style="RSA"> with the KeyInfo leaf's key
 *   cms-signature   <x-signature style="CMS">, detached over the checksum
 *   chain           KeyInfo leaf to a trusted root
 *   policy          Developer ID Installer or Mac Installer Distribution
 *   time            certificate validity at the trusted timestamp, or at
 *                   the given time, or now
 */
enum pkgflat_check_result {
	PKGFLAT_CHECK_PASS = 0,
	PKGFLAT_CHECK_FAIL,
	PKGFLAT_CHECK_SKIPPED,  /* not run: what it needs is missing or broken,
	                           or options.signature_only left it out */
	PKGFLAT_CHECK_NA        /* does not apply: no such signature */
};
/* "pass", "fail", "skipped", "not-applicable" */
const char *pkgflat_check_result_name(enum pkgflat_check_result r);

/* The overall answer, in pkgutil --check-signature's terms. */
enum pkgflat_verdict {
	PKGFLAT_VERDICT_DEVELOPER_ID = 0, /* all passed: Developer ID Installer
	                                     under a bundled Apple root */
	PKGFLAT_VERDICT_APPLE_TRUSTED,    /* all passed: other installer
	                                     certificate under an Apple root */
	PKGFLAT_VERDICT_CA_TRUSTED,       /* all passed: under a root from
	                                     options.ca_files */
	PKGFLAT_VERDICT_UNSIGNED,         /* no signature, nothing else wrong */
	PKGFLAT_VERDICT_INVALID,          /* structure or checksums are wrong */
	PKGFLAT_VERDICT_BAD_SIGNATURE,    /* a signature does not verify */
	PKGFLAT_VERDICT_UNTRUSTED,        /* no chain to a trusted root */
	PKGFLAT_VERDICT_NOT_INSTALLER,    /* not an installer certificate */
	PKGFLAT_VERDICT_EXPIRED           /* not valid at the time judged */
};
/* "developer-id", "apple-trusted", "ca-trusted", "unsigned", "invalid",
 * "bad-signature", "untrusted", "not-installer", "expired" */
const char *pkgflat_verdict_name(enum pkgflat_verdict v);

enum pkgflat_policy {
	PKGFLAT_POLICY_NEITHER = 0,       /* or unknown: no leaf */
	PKGFLAT_POLICY_DEVELOPER_ID,      /* Developer ID Installer */
	PKGFLAT_POLICY_MAC_INSTALLER      /* Mac Installer Distribution */
};

typedef struct pkgflat_verify_options {
	const char *const *ca_files; /* PEM files of more trusted roots */
	size_t ca_count;
	int no_apple_roots;    /* trust ca_files only, not the bundled roots */
	int64_t at;            /* judge certificates at this time when there
	                          is no timestamp; -1: now */
	int signature_only;    /* leave out the package-structure checks */
	pkgflat_progress_fn progress; /* or NULL; heap bytes checked */
	void *progress_ctx;
} pkgflat_verify_options;
void pkgflat_verify_options_init(pkgflat_verify_options *opt);

typedef struct pkgflat_check {
	const char *name;      /* "xar-structure", "rsa-signature", ... */
	enum pkgflat_check_result result;
	const char *message;   /* what was found or what is wrong; never NULL */
} pkgflat_check;

typedef struct pkgflat_cert {
	const char *subject;     /* one line, RFC 2253 */
	const char *common_name; /* CN, or the subject when it has none */
	char sha256[65];         /* lowercase hex of the DER */
	int64_t not_before, not_after;
	int from_store;          /* a trusted root added from the trust store,
	                            not carried by the package */
} pkgflat_cert;

typedef struct pkgflat_verify_facts {
	int is_signed;          /* <signature> or <x-signature> present */
	int has_rsa, has_cms;
	const char *rsa_form;   /* "digestinfo" (DigestInfo(sha1) || checksum)
	                           or "hash-of-hash" (DigestInfo over a hash of
	                           the checksum); NULL when not verified */
	int has_timestamp;      /* the CMS carries an RFC 3161 token */
	int timestamp_trusted;  /* ...and it verifies */
	int64_t timestamp;      /* its time, when it has one */
	int64_t judged_at;      /* when certificate validity was judged */
	const char *judged_by;  /* "timestamp", "given time" or "now" */
	enum pkgflat_policy policy;
	int apple_root;         /* the chain ends at a bundled Apple root */
	int stapled;            /* a notarization ticket after the heap */
	uint64_t ticket_length;
	char ticket_key[64];    /* "2/1/<hex>" */
} pkgflat_verify_facts;

typedef struct pkgflat_verify_report pkgflat_verify_report;

/*
 * Verify the flat package at path. Returns an error (and no report) only
 * when the file cannot be read at all or is not a XAR; everything wrong
 * inside it is a failed check in the report.
 */
pkgflat_status pkgflat_verify(const char *path,
    const pkgflat_verify_options *opt, pkgflat_verify_report **out,
    pkgflat_error *err);
void pkgflat_verify_report_free(pkgflat_verify_report *r);
size_t pkgflat_verify_check_count(const pkgflat_verify_report *r);
const pkgflat_check *pkgflat_verify_check(const pkgflat_verify_report *r,
    size_t i);
size_t pkgflat_verify_failures(const pkgflat_verify_report *r);
enum pkgflat_verdict pkgflat_verify_verdict(const pkgflat_verify_report *r);
const pkgflat_verify_facts *pkgflat_verify_get_facts(
    const pkgflat_verify_report *r);
/* The certificate chain, leaf first: as verified when the chain check
 * passed, else as the package carries it. */
size_t pkgflat_verify_cert_count(const pkgflat_verify_report *r);
const pkgflat_cert *pkgflat_verify_cert(const pkgflat_verify_report *r,
    size_t i);
/* Notes: ways the package differs from what Apple's current tools write
 * that Installer accepts (an older writer's spelling, a count convention,
 * a payload read only in part). They never fail a check. */
typedef struct pkgflat_verify_note {
	const char *check;     /* the check that noticed it */
	const char *text;
} pkgflat_verify_note;
size_t pkgflat_verify_note_count(const pkgflat_verify_report *r);
const pkgflat_verify_note *pkgflat_verify_get_note(
    const pkgflat_verify_report *r, size_t i);
/* Batch conversion: inputs                                           */

/*
 * The bundle packages (.pkg and .mpkg directories) inside a zip or tar,
 * outermost only (a metapackage's components are part of it), in byte
 * order of their paths inside the archive. *members is an array of
 * *count allocated paths; free it with pkgflat_archive_packages_free().
 */
pkgflat_status pkgflat_archive_packages(const char *path, char ***members,
    size_t *count, pkgflat_error *err);
void pkgflat_archive_packages_free(char **members, size_t count);
/* Open the bundle at path `member` inside the archive (as listed above);
 * member NULL or "" is pkgflat_package_open(). */
pkgflat_status pkgflat_package_open_member(const char *archive,
    const char *member, pkgflat_package **out, pkgflat_error *err);
/*
 * SHA-256, as 64 lowercase hex digits, of a regular file's bytes or of a
 * directory tree: a listing (relative path, type, mode, size, mtime, link
 * target of every entry, in byte order, symlinks not followed) and the
 * bytes of each file. *bytes (may be NULL) gets the file bytes read.
 */
pkgflat_status pkgflat_digest_path(const char *path, char out[65],
    uint64_t *bytes, pkgflat_error *err);
void pkgflat_digest_data(const void *data, size_t len, char out[65]);

/*
 * Output files that appear only when complete: written unnamed (O_TMPFILE)
 * and linked into place by commit, so that a killed process leaves nothing;
 * where the filesystem cannot, a temporary ".pkgflat-PID-XXXXXX-NAME"
 * beside the output that the next open in that directory removes once its
 * process is gone. Every package pkgflat writes goes this way.
 */
typedef struct pkgflat_output pkgflat_output;
pkgflat_status pkgflat_output_open(const char *path, pkgflat_output **out,
    pkgflat_error *err);
int pkgflat_output_fd(const pkgflat_output *o);
/* fsync (when durable or PKGFLAT_FSYNC), mode 0644, into place; frees o. */
pkgflat_status pkgflat_output_commit(pkgflat_output *o, int durable,
    pkgflat_error *err);
/* Drop an output that is not wanted; frees o (NULL is fine). */
void pkgflat_output_discard(pkgflat_output *o);
/* Remove temporary files beside path that dead processes left. */
void pkgflat_output_clean(const char *path);
/*
 * PKGFLAT_E_USAGE when writing output would destroy or change input: the
 * same file by any name (symlink, hard link), or, for a directory input, a
 * path inside it. PKGFLAT_OK otherwise, also when input does not exist.
 */
pkgflat_status pkgflat_output_check(const char *output, const char *input,
    pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* Notarization: Apple's notary service and ticket lookup             */

/* Where the services are. Apple's S3 bucket is named in each answer, not
 * its endpoint: "{bucket}" in the S3 URL is replaced by the bucket name;
 * without it, the URL is a path-style base ("URL/bucket/object"). */
#define PKGFLAT_NOTARY_URL "https://appstoreconnect.apple.com/notary/v2"
#define PKGFLAT_NOTARY_S3_URL "https://{bucket}.s3.us-west-2.amazonaws.com"
#define PKGFLAT_NOTARY_S3_REGION "us-west-2"
#define PKGFLAT_TICKET_URL "https://api.apple-cloudkit.com/database/1/" \
	"com.apple.gk.ticket-delivery/production/public/records/lookup"

typedef struct pkgflat_notary pkgflat_notary;

/* What a session reports while it works (all optional). */
enum pkgflat_notary_event {
	PKGFLAT_NOTARY_SUBMITTED = 1, /* text: the submission id (before upload) */
	PKGFLAT_NOTARY_UPLOADED,      /* text: the submission id */
	PKGFLAT_NOTARY_RETRY,         /* text: what failed and is tried again */
	PKGFLAT_NOTARY_STATUS,        /* text: the status after a poll */
	PKGFLAT_NOTARY_TOKEN_RENEWED, /* text: NULL */
	PKGFLAT_NOTARY_TICKET_WAIT    /* text: the record not yet published */
};

typedef struct pkgflat_notary_config {
	const char *api_url;      /* NULL: PKGFLAT_NOTARY_URL */
	const char *s3_url;       /* NULL: PKGFLAT_NOTARY_S3_URL */
	const char *s3_region;    /* NULL: PKGFLAT_NOTARY_S3_REGION */
	const char *ticket_url;   /* NULL: PKGFLAT_TICKET_URL */
	const char *ca_file;      /* NULL: the system's trust store */
	int timeout;              /* seconds per HTTP request; 0: 120 */
	int token_lifetime;       /* seconds a token lives (at most 1200, Apple's
	                             limit); 0: 600. Renewed before it ends. */
	uint64_t part_size;       /* multipart upload: bytes per part (at least
	                             5 MiB on S3); 0: 16 MiB */
	uint64_t multipart_above; /* files larger are uploaded in parts; 0: 64 MiB */
	int retries;              /* attempts after a failed part or a server
	                             error answer; 0: 4 */
	unsigned poll_ms;         /* first wait between status polls; 0: 5000 */
	unsigned poll_max_ms;     /* the backoff stops growing here; 0: 60000 */
	void (*event)(void *ctx, enum pkgflat_notary_event what, const char *text);
	void *event_ctx;
} pkgflat_notary_config;

/* An App Store Connect API key, as notarytool takes it (key_file: the
 * AuthKey_ID.p8 PEM, key_id, issuer) or as rcodesign's JSON key file
 * (api_key_file: {"issuer_id", "key_id", "private_key": base64 DER}).
 * Files only: the private key is never taken as a string. It is held by the
 * session (to renew tokens) and wiped when the session is freed. */
typedef struct pkgflat_notary_key {
	const char *key_file, *key_id, *issuer;
	const char *api_key_file;
} pkgflat_notary_key;

/* A session. key may be NULL for ticket lookups and stapling alone. */
pkgflat_status pkgflat_notary_open(const pkgflat_notary_config *cfg,
    const pkgflat_notary_key *key, pkgflat_notary **out, pkgflat_error *err);
void pkgflat_notary_free(pkgflat_notary *n);

typedef struct pkgflat_notary_submission {
	char id[128];
	char name[256];
	char status[32];      /* "In Progress", "Accepted", "Invalid", "Rejected" */
	char created[64];     /* as the service wrote it (ISO 8601) */
	char sha256[65];      /* of the bytes uploaded (submit only) */
} pkgflat_notary_submission;

/* Hash the file, create the submission (PKGFLAT_NOTARY_SUBMITTED fires with
 * its id), upload the file to S3 with the temporary credentials (SigV4;
 * multipart above multipart_above, each part retried). */
pkgflat_status pkgflat_notary_submit(pkgflat_notary *n, const char *path,
    pkgflat_notary_submission *sub, pkgflat_error *err);
/* One status query. */
pkgflat_status pkgflat_notary_status(pkgflat_notary *n, const char *id,
    pkgflat_notary_submission *sub, pkgflat_error *err);
/* Poll with backoff until the status is no longer "In Progress", timeout
 * seconds pass (0: no limit) or *stop becomes non-zero (a signal handler's
 * flag); PKGFLAT_OK in every case, sub->status says which. */
pkgflat_status pkgflat_notary_wait(pkgflat_notary *n, const char *id,
    int timeout, volatile int *stop, pkgflat_notary_submission *sub,
    pkgflat_error *err);
/* The most recent submissions of the team, newest first; fn returns
 * non-zero to stop. */
pkgflat_status pkgflat_notary_history(pkgflat_notary *n,
    int (*fn)(const pkgflat_notary_submission *s, void *ctx), void *ctx,
    pkgflat_error *err);

/* A submission's developer log. */
typedef struct pkgflat_notary_log pkgflat_notary_log;
typedef struct pkgflat_notary_issue {
	const char *severity;     /* "error", "warning"; NULL when not given */
	const char *path;         /* inside the submission */
	const char *architecture;
	const char *message;
	const char *doc_url;
	const char *code;
} pkgflat_notary_issue;

pkgflat_status pkgflat_notary_log_fetch(pkgflat_notary *n, const char *id,
    pkgflat_notary_log **out, pkgflat_error *err);
/* The log as the service wrote it (JSON). */
const char *pkgflat_notary_log_text(const pkgflat_notary_log *log);
/* A top-level string of the log: "status", "statusSummary", "sha256",
 * "archiveFilename", "jobId", "uploadDate"; NULL when absent. */
const char *pkgflat_notary_log_field(const pkgflat_notary_log *log,
    const char *name);
size_t pkgflat_notary_log_issue_count(const pkgflat_notary_log *log);
const pkgflat_notary_issue *pkgflat_notary_log_issue(
    const pkgflat_notary_log *log, size_t i);
void pkgflat_notary_log_free(pkgflat_notary_log *log);

/*
 * Look up the ticket of a flat package (its record: "2/<digest type>/<hex of
 * the first 20 bytes of the TOC checksum>", the key stapler uses), asking
 * again with backoff while it is not published, up to wait seconds (0: ask
 * once) or until *stop; then staple it and check the stapled file (the
 * trailer holds exactly these bytes, under the same record). With
 * expect_sha256 (hex), a package whose bytes no longer have that digest is
 * refused before any lookup. record (at least 64 bytes) receives the record
 * name; may be NULL.
 */
pkgflat_status pkgflat_notary_staple(pkgflat_notary *n, const char *path,
    const char *expect_sha256, int wait, volatile int *stop, char *record,
    pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* Disk images (.dmg, .dmg.gz, raw; HFS+/HFSX volumes), read-only      */

typedef struct pkgflat_image pkgflat_image;

typedef struct pkgflat_image_opts {
	uint64_t max_image_size; /* cap on the expanded disk; 0: 8 GiB */
	int force;               /* read journaled volumes not cleanly unmounted */
} pkgflat_image_opts;

/* The options images opened by pkgflat_package_open() and friends get
 * (process-wide; NULL restores the defaults). */
void pkgflat_image_set_defaults(const pkgflat_image_opts *opts);
/* 1 when path looks like a disk image (by content, or .dmg by name). */
int pkgflat_file_is_image(const char *path);
/* Refuses, with PKGFLAT_E_UNSUPPORTED and the kind's name: encrypted,
 * sparse and segmented images, NDIF, APFS, classic HFS, LZFSE runs. */
pkgflat_status pkgflat_image_open(const char *path,
    const pkgflat_image_opts *opts, pkgflat_image **out, pkgflat_error *err);
void pkgflat_image_free(pkgflat_image *im);
/* A UDIF's three CRC-32 checksums (data fork, each partition, master);
 * PKGFLAT_OK for images that carry none. */
pkgflat_status pkgflat_image_verify(pkgflat_image *im, pkgflat_error *err);

/* What the image is, as (key, value) text pairs in a fixed order: kind,
 * codecs, partition (one per entry of the map), volume (one per volume). */
typedef void (*pkgflat_image_field_fn)(void *ctx, const char *key,
    const char *value);
void pkgflat_image_describe(pkgflat_image *im, pkgflat_image_field_fn fn,
    void *ctx);

enum {
	PKGFLAT_IMAGE_RSRC = 1,   /* has a resource fork */
	PKGFLAT_IMAGE_FINFO = 2,  /* has Finder info */
	PKGFLAT_IMAGE_XATTR = 4,  /* has extended attributes */
	PKGFLAT_IMAGE_ALIAS = 8   /* is a Finder alias */
};

typedef struct pkgflat_image_entry {
	const char *path;     /* relative to the image's root, stored bytes (NFD) */
	char type;            /* 'f' file, 'd' directory, 'l' symlink */
	uint32_t mode;
	uint64_t size;
	const char *link;     /* symlink target */
	unsigned extras;      /* PKGFLAT_IMAGE_* */
} pkgflat_image_entry;
/* Every entry in path order; fn returns non-zero to stop. */
pkgflat_status pkgflat_image_list(pkgflat_image *im,
    int (*fn)(void *ctx, const pkgflat_image_entry *e), void *ctx,
    pkgflat_error *err);

enum pkgflat_image_found {
	PKGFLAT_FOUND_BUNDLE = 1,  /* a .pkg/.mpkg bundle: convertible */
	PKGFLAT_FOUND_FLAT         /* a flat package: already flat */
};
typedef struct pkgflat_image_package {
	char *member;   /* path on the image; "Inner.dmg//Foo.pkg" inside a
	                   nested image (one level deep) */
	enum pkgflat_image_found kind;
} pkgflat_image_package;
/* Every package on the image and on images it holds, outermost bundles
 * only, in path order. Free with pkgflat_image_packages_free(). */
pkgflat_status pkgflat_image_packages(pkgflat_image *im,
    pkgflat_image_package **list, size_t *count, pkgflat_error *err);
void pkgflat_image_packages_free(pkgflat_image_package *list, size_t count);

/* The RFC 3161 server productsign uses. */
#define PKGFLAT_APPLE_TSA "http://timestamp.apple.com/ts01"

/* ------------------------------------------------------------------ */
/* Deprecated names                                                   */

/*
 * The component type was called pkgflat_bundle before flat packages were
 * read too; these names stay, exported, as thin wrappers (compat.c) so that
 * existing callers build and link unchanged; a GNU C compiler warns where
 * one is used and names its replacement. Define PKGFLAT_DEPRECATED(msg)
 * as nothing before including this header to silence the warnings.
 */
#ifndef PKGFLAT_DEPRECATED
#if defined(__GNUC__)
#define PKGFLAT_DEPRECATED(msg) __attribute__((deprecated(msg)))
#else
#define PKGFLAT_DEPRECATED(msg)
#endif
#endif

typedef pkgflat_component pkgflat_bundle;

PKGFLAT_DEPRECATED("use pkgflat_component_kind")
enum pkgflat_bundle_kind pkgflat_bundle_kind(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_kind_name")
const char *pkgflat_bundle_kind_name(enum pkgflat_bundle_kind kind);
PKGFLAT_DEPRECATED("use pkgflat_component_is_leaf")
int pkgflat_bundle_is_component(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_get")
const char *pkgflat_bundle_get(const pkgflat_bundle *b, enum pkgflat_field f);
PKGFLAT_DEPRECATED("use pkgflat_component_identifier")
const char *pkgflat_bundle_identifier(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_flag")
int pkgflat_bundle_flag(const pkgflat_bundle *b, enum pkgflat_flag f);
PKGFLAT_DEPRECATED("use pkgflat_component_script")
const char *pkgflat_bundle_script(const pkgflat_bundle *b,
    enum pkgflat_script s);
PKGFLAT_DEPRECATED("use pkgflat_component_child_count")
size_t pkgflat_bundle_child_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_child")
const pkgflat_bundle *pkgflat_bundle_child(const pkgflat_bundle *b, size_t i);
PKGFLAT_DEPRECATED("use pkgflat_component_resource_count")
size_t pkgflat_bundle_resource_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_resource")
const pkgflat_resource *pkgflat_bundle_resource(const pkgflat_bundle *b,
    size_t i);
PKGFLAT_DEPRECATED("use pkgflat_component_localization_count")
size_t pkgflat_bundle_localization_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_localization")
const char *pkgflat_bundle_localization(const pkgflat_bundle *b, size_t i);
PKGFLAT_DEPRECATED("use pkgflat_component_requirement_count")
size_t pkgflat_bundle_requirement_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_requirement")
const pkgflat_requirement *pkgflat_bundle_requirement(const pkgflat_bundle *b,
    size_t i);
PKGFLAT_DEPRECATED("use pkgflat_component_key_count")
size_t pkgflat_bundle_key_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_key")
const char *pkgflat_bundle_key(const pkgflat_bundle *b, size_t i,
    const char **value);
PKGFLAT_DEPRECATED("use pkgflat_component_string_count")
size_t pkgflat_bundle_string_count(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_string")
const pkgflat_string *pkgflat_bundle_string(const pkgflat_bundle *b, size_t i);
PKGFLAT_DEPRECATED("use pkgflat_component_claimed_kbytes")
int64_t pkgflat_bundle_claimed_kbytes(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_has_payload")
int pkgflat_bundle_has_payload(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_has_bom")
int pkgflat_bundle_has_bom(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_payload_stats")
const pkgflat_payload_stats *pkgflat_bundle_payload_stats(
    const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_bom_stats")
const pkgflat_bom_stats *pkgflat_bundle_bom_stats(const pkgflat_bundle *b);
PKGFLAT_DEPRECATED("use pkgflat_component_list_payload")
pkgflat_status pkgflat_bundle_list_payload(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);
PKGFLAT_DEPRECATED("use pkgflat_component_list_payload_digest")
pkgflat_status pkgflat_bundle_list_payload_digest(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_payload_stats *stats,
    pkgflat_error *err);
PKGFLAT_DEPRECATED("use pkgflat_component_list_scripts")
pkgflat_status pkgflat_bundle_list_scripts(const pkgflat_bundle *b,
    size_t max_size, pkgflat_script_fn fn, void *ctx, pkgflat_error *err);
PKGFLAT_DEPRECATED("use pkgflat_component_list_bom")
pkgflat_status pkgflat_bundle_list_bom(const pkgflat_bundle *b,
    pkgflat_entry_fn fn, void *ctx, pkgflat_bom_stats *stats,
    pkgflat_error *err);

/* ------------------------------------------------------------------ */
/* Mach-O binaries in payloads, and the notarization pre-flight       */

/* Architecture families of a binary's slices. */
#define PKGFLAT_ARCH_ARM64  0x1u   /* arm64, arm64e */
#define PKGFLAT_ARCH_X86_64 0x2u   /* x86_64, x86_64h */
#define PKGFLAT_ARCH_I386   0x4u
#define PKGFLAT_ARCH_PPC    0x8u   /* ppc, ppc7400, ppc970, ppc64 */
#define PKGFLAT_ARCH_OTHER  0x10u

/* Why Apple's notary service would reject a binary (bits). */
enum pkgflat_notary_reason {
	PKGFLAT_NOTARY_UNSIGNED       = 1u << 0,
	PKGFLAT_NOTARY_ADHOC          = 1u << 1,
	PKGFLAT_NOTARY_NO_RUNTIME     = 1u << 2,  /* hardened runtime off */
	PKGFLAT_NOTARY_NO_TIMESTAMP   = 1u << 3,  /* no secure timestamp */
	PKGFLAT_NOTARY_GET_TASK_ALLOW = 1u << 4,
	PKGFLAT_NOTARY_NOT_DEVID      = 1u << 5,  /* not Developer ID Application */
	PKGFLAT_NOTARY_OTHER_TEAM     = 1u << 6,  /* not the installer's team */
	PKGFLAT_NOTARY_OLD_SDK        = 1u << 7,  /* SDK older than 10.9 */
	PKGFLAT_NOTARY_UNREADABLE     = 1u << 8,  /* malformed Mach-O */
	PKGFLAT_NOTARY_BAD_SIGNATURE  = 1u << 9,  /* CMS does not match its
	                                             CodeDirectory */
	PKGFLAT_NOTARY_CODE_MODIFIED  = 1u << 10  /* a code page does not match
	                                             its CodeDirectory hash */
};
/* A short name for one reason bit: "unsigned", "ad-hoc", "no-runtime",
 * "no-timestamp", "get-task-allow", "not-developer-id", "other-team",
 * "old-sdk", "unreadable", "signature-invalid", "code-modified"; NULL for
 * anything else. */
const char *pkgflat_notary_reason_name(unsigned int reason);

/*
 * One Mach-O file (thin or universal) of executable code in a payload:
 * an executable, dylib, bundle, dynamic linker or kext. Object files and
 * dSYM companions are not listed. A file that starts like Mach-O but is
 * malformed is listed with error set and notary PKGFLAT_NOTARY_UNREADABLE.
 */
typedef struct pkgflat_binary {
	const char *component;  /* identifier of the component holding it */
	const char *path;       /* in the payload: "./Library/..." */
	const char *archs;      /* its slices in file order: "x86_64,arm64" */
	unsigned int arch_mask; /* PKGFLAT_ARCH_* over its slices */
	int universal;          /* a fat file */
	const char *filetype;   /* "execute", "dylib", "bundle", ... */
	const char *min_os;     /* lowest minimum macOS over its slices, or NULL */
	const char *sdk;        /* lowest SDK over its slices, or NULL */
	int is_signed;          /* every slice has a code signature */
	int adhoc;              /* ...and one is ad-hoc */
	int runtime;            /* every signed slice has the hardened runtime */
	int timestamp;          /* every CMS signature carries a timestamp */
	const char *identifier; /* CodeDirectory identifier, or NULL */
	const char *team_id;    /* CodeDirectory team identifier, or NULL */
	const char *signer;     /* common name of the signing certificate */
	const char *signer_team;/* its organizational unit (the team) */
	const char *installer_team; /* the team judged against, or NULL */
	unsigned int notary;    /* enum pkgflat_notary_reason bits; 0: fine */
	const char *error;      /* why it could not be read, or NULL */
	unsigned int bad_page;  /* PKGFLAT_NOTARY_CODE_MODIFIED: the first code
	                           page (4096 bytes) that differs */
	int code_pages;         /* every signed slice's code pages matched its
	                           CodeDirectory: 1; one differs: -1; 0: not
	                           (all) compared (unsigned, or a layout not
	                           judged: other page sizes, SHA-384, ...) */
} pkgflat_binary;

typedef struct pkgflat_binaries pkgflat_binaries;

/*
 * Every binary in the payloads of pkg's components (legacy or flat), read
 * as the payloads stream, keeping only headers and signatures in memory.
 * team is the installer's signing team for PKGFLAT_NOTARY_OTHER_TEAM
 * (NULL: that reason is not judged).
 */
pkgflat_status pkgflat_package_binaries(pkgflat_package *pkg,
    const char *team, pkgflat_binaries **out, pkgflat_error *err);
void pkgflat_binaries_free(pkgflat_binaries *b);
size_t pkgflat_binaries_count(const pkgflat_binaries *b);
const pkgflat_binary *pkgflat_binaries_get(const pkgflat_binaries *b,
    size_t i);
/* PKGFLAT_ARCH_* over every readable binary. */
unsigned int pkgflat_binaries_archs(const pkgflat_binaries *b);
/* The hostArchitectures their union asks for ("arm64,x86_64", "x86_64",
 * "arm64"), or NULL when no binary has an arm64 or x86_64 slice. */
const char *pkgflat_binaries_host_archs(const pkgflat_binaries *b);
/* How many binaries the notary service would reject. */
size_t pkgflat_binaries_rejected(const pkgflat_binaries *b);
/* The installer's team the binaries were judged against, or NULL. */
const char *pkgflat_binaries_team(const pkgflat_binaries *b);
/* Every reason of b, "; "-separated, with what was found ("signed by
 * team OTHERTEAM9, the installer by TEAMID1234"); "" when none. */
const char *pkgflat_binary_notary_text(const pkgflat_binary *b, char *buf,
    size_t size);

/*
 * The notarization pre-flight: every binary of the package at path (a
 * flat package, legacy bundle, or anything pkgflat_package_open() takes),
 * judged against the team of the package's signing certificate (its OU;
 * unsigned packages: team not judged). PKGFLAT_OK whatever the binaries
 * are: see pkgflat_binaries_rejected(). For notarize and batch.
 */
pkgflat_status pkgflat_notary_preflight(const char *path,
    pkgflat_binaries **out, pkgflat_error *err);

#if defined(__GNUC__)
#pragma GCC visibility pop
#endif

#ifdef __cplusplus
}
#endif
#endif
