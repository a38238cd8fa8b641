/*
 * Job files (docs/job-format.md): YAML, with apko's image keys and
 * drydock's own policy and output keys.  Loading checks every key and
 * value; errors read "FILE:LINE:COLUMN: what is wrong, what was expected".
 */
#ifndef DD_JOB_H
#define DD_JOB_H

#include <stdbool.h>
#include <stdint.h>

#include "apk/dep.h"
#include "apk/pkg.h"
#include "core/buf.h"

struct dd_job_group {
	char *name;
	uint32_t gid;
	char **members;
	size_t n_members;
};

struct dd_job_user {
	char *name;
	uint32_t uid, gid;
	bool has_gid;
	char *shell, *home;
};

enum dd_path_type {
	DD_PATH_DIRECTORY,
	DD_PATH_EMPTY_FILE,
	DD_PATH_SYMLINK,
	DD_PATH_HARDLINK,
	DD_PATH_PERMISSIONS,
};

struct dd_job_path {
	enum dd_path_type type;
	char *path, *source; /* source: link target (symlink, hardlink) */
	uint32_t uid, gid;
	unsigned mode;
	bool has_mode, recursive;
};

/* A file brought in by `include` (apko's key): the first is included by
 * the job, each next one by the one before. */
struct dd_job_include {
	char *name;         /* the include value as written */
	char *path;         /* the file read: the including file's folder joined
			       with name (for messages) */
	struct dd_buf text; /* its bytes */
	char sha256[65];
};

/* certificates.additional: a PEM certificate for the image's CA bundle. */
struct dd_job_cert {
	char *name;    /* /usr/local/share/ca-certificates/<name>.crt */
	char *content; /* exactly one PEM certificate (checked with OpenSSL) */
};

enum dd_layers { DD_LAYERS_SPLIT, DD_LAYERS_SINGLE };
enum dd_compression { DD_COMPRESS_GZIP, DD_COMPRESS_ZSTD };
enum dd_layering { DD_LAYERING_NONE, DD_LAYERING_ORIGIN };

struct dd_job {
	char *file;         /* as given */
	char *name;         /* dd_job_name(): a name for a folder */
	struct dd_buf text; /* the file's bytes */
	char sha256[65];
	char *base; /* entitled image whose base packages are the crust; NULL: none */
	struct dd_dep *packages;
	size_t n_packages;
	char **remove; /* contents.remove: always refused by policy */
	size_t n_remove;
	char **runtime_repos; /* contents.runtime_repositories: etc/apk/repositories */
	size_t n_runtime_repos;
	struct dd_job_group *groups;
	size_t n_groups;
	struct dd_job_user *users;
	size_t n_users;
	char *run_as;
	char *entrypoint, *cmd, *work_dir, *stop_signal;
	struct dd_kv *environment, *annotations;
	size_t n_environment, n_annotations;
	struct dd_job_path *paths;
	size_t n_paths;
	char **archs, **volumes;
	size_t n_archs, n_volumes;
	bool allow_unguarded;            /* policy.allow-unguarded, default false */
	int64_t timeout_ms;              /* policy.timeout in milliseconds, default 1h */
	enum dd_layers layers;           /* output.layers: split (default) or single */
	enum dd_compression compression; /* output.compression: gzip (default), zstd */
	enum dd_layering layering;       /* layering.strategy (apko's key); NONE: output.layers */
	unsigned layer_budget;           /* layering.budget: at most this many layers */
	char *tag;                       /* output.tag, default "drydock.local/<name>:latest" (the
					    name in lower case); always a valid reference */
	char *vcs_url;                   /* vcs-url as given (its annotations are added) */
	struct dd_job_cert *certs;       /* certificates.additional */
	size_t n_certs;
	struct dd_job_include *includes; /* the include chain, the job's own first */
	size_t n_includes;
	unsigned set;    /* DD_JOB_SET_*: scalars the file gave (for include) */
	char **warnings; /* "FILE:LINE:COLUMN: ..." for each apko key ignored */
	size_t n_warnings;
};

#define DD_JOB_SET_ALLOW_UNGUARDED 1u
#define DD_JOB_SET_TIMEOUT         2u
#define DD_JOB_SET_LAYERS          4u
#define DD_JOB_SET_COMPRESSION     8u
#define DD_JOB_SET_LAYERING        16u
#define DD_JOB_DEFAULT_BUDGET      10
#define DD_JOB_MAX_BUDGET          100

/* dd_job_load_flags(): the keys that are ignored with a warning
 * (contents.repositories, keyring, build_repositories, runtime_keyring)
 * are refused instead, at FILE:LINE:COLUMN. */
#define DD_JOB_STRICT 1

/*
 * The job name of a job file: its file name without directory and
 * .yaml/.yml.  It names the job's folder under OUT, so it must follow
 * core/name.h's rule; DD_E_FORMAT naming the file otherwise.  *out is
 * the caller's to free.
 */
int dd_job_name(const char *path, char **out);

#define DD_JOB_REFERENCE_FORM \
	"[HOST[:PORT]/]NAME[:TAG], NAME lower-case letters and digits in '/'-separated parts " \
	"joined by '.', '_', '__' or '-', TAG 1 to 128 letters, digits, '_', '.' or '-' " \
	"(not starting with '.' or '-'), like registry.local/team/web:1.0"

/*
 * Is ref an image reference by the OCI distribution grammar (what podman
 * and docker accept as a name to tag an image with), without a digest?
 * NULL when it is, else a short phrase saying why not.
 */
const char *dd_job_reference_check(const char *ref);

/* Load and check a job file. On error nothing is left to release. */
int dd_job_load(const char *path, struct dd_job *job);
int dd_job_load_flags(const char *path, int flags, struct dd_job *job);

/*
 * `include: FILE` (apko's key) names a file of job settings, relative to
 * the including file (at most DD_JOB_MAX_INCLUDES deep).  The including
 * file's keys override the included ones: a scalar or a list the job
 * gives replaces the included one, mappings (contents, accounts,
 * entrypoint, environment, annotations, policy, output, ...) are merged
 * key by key.  A missing file, or one that includes a file of the chain
 * again, is an error at the include's FILE:LINE:COLUMN.
 *
 * dd_job_load_recorded() takes the included files from recorded (as a
 * run's provenance holds them, in chain order) instead of the disk: for
 * a rebuild; an include that does not match the record is an error.
 */
#define DD_JOB_MAX_INCLUDES 16
int dd_job_load_recorded(const char *path, int flags, const struct dd_job_include *recorded,
			 size_t n_recorded, struct dd_job *job);
void dd_job_release(struct dd_job *job);

/* Parse a duration like "1h", "90s", "1h30m", "250ms" into milliseconds. */
int dd_duration_parse(const char *s, int64_t *out);

#endif
