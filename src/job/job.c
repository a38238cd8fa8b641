#include "job/job.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include <openssl/evp.h>

#include "apk/read.h"
#include "core/error.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/map.h"
#include "core/name.h"
#include "trust/x509.h"

#define MAX_JOB (4u << 20)
/* Deeper nesting than any job needs; libyaml's scanner slows down with
 * every level, so deeper files are refused before they are composed. */
#define MAX_DEPTH 64

struct ctx {
	const char *file;
	yaml_document_t doc;
	struct dd_job *job;
	int flags;
	char *include; /* the file's include value, if any */
	size_t include_line, include_col;
};

typedef int (*handler)(struct ctx *c, yaml_node_t *v);

struct key {
	const char *name;
	handler fn;
};

static int err(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int err(struct ctx *c, yaml_node_t *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return dd_error(DD_E_FORMAT, "%s:%zu:%zu: %s", c->file, n->start_mark.line + 1,
			n->start_mark.column + 1, msg);
}

static yaml_node_t *node(struct ctx *c, int i)
{
	return yaml_document_get_node(&c->doc, i);
}

static const char *type_name(yaml_node_t *n)
{
	return n->type == YAML_SCALAR_NODE     ? "a scalar"
	       : n->type == YAML_SEQUENCE_NODE ? "a list"
					       : "a mapping";
}

static int scalar(struct ctx *c, yaml_node_t *n, const char *what, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return err(c, n, "%s is %s, expected a string", what, type_name(n));
	*out = (const char *)n->data.scalar.value;
	return 0;
}

static int str(struct ctx *c, yaml_node_t *n, const char *what, char **out)
{
	const char *s = NULL;
	int rc = scalar(c, n, what, &s);

	if (rc)
		return rc;
	if (*out)
		return err(c, n, "%s given twice", what);
	*out = dd_xstrdup(s);
	return 0;
}

static int boolean(struct ctx *c, yaml_node_t *n, const char *what, bool *out)
{
	const char *s = NULL;
	int rc = scalar(c, n, what, &s);

	if (rc)
		return rc;
	if (!strcmp(s, "true") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "false") || !strcmp(s, "no"))
		*out = false;
	else
		return err(c, n, "%s is '%s', expected true or false", what, s);
	return 0;
}

/* Decimal, or octal written 0o755 (YAML 1.2) or 0755 (YAML 1.1). */
static int number(struct ctx *c, yaml_node_t *n, const char *what, uint32_t max, uint32_t *out)
{
	const char *s = NULL, *p;
	unsigned long long v = 0;
	int base = 10, rc = scalar(c, n, what, &s);

	if (rc)
		return rc;
	p = s;
	if (p[0] == '0' && p[1] == 'o') {
		base = 8;
		p += 2;
	} else if (p[0] == '0' && p[1]) {
		base = 8;
		p++;
	}
	if (!*p)
		goto bad;
	for (; *p; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (d >= (unsigned)base || v > max)
			goto bad;
		v = v * (unsigned)base + d;
	}
	if (v > max)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	return err(c, n, "%s is '%s', expected a number up to %u", what, s, max);
}

/* The length of a list: arrays are sized once, not grown per item. */
static size_t n_items(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int strings(struct ctx *c, yaml_node_t *n, const char *what, char ***out, size_t *cnt)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return err(c, n, "%s is %s, expected a list of strings", what, type_name(n));
	*out = dd_xrealloc(*out, (*cnt + n_items(n) + 1) * sizeof(char *));
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		char *s = NULL;
		int rc = str(c, node(c, *i), what, &s);

		if (rc)
			return rc;
		(*out)[(*cnt)++] = s;
	}
	return 0;
}

static int string_map(struct ctx *c, yaml_node_t *n, const char *what, struct dd_kv **out,
		      size_t *cnt)
{
	struct dd_map seen = DD_MAP_INIT;
	int rc = 0;

	if (n->type != YAML_MAPPING_NODE)
		return err(c, n, "%s is %s, expected a mapping of names to strings", what,
			   type_name(n));
	*out = dd_xcalloc((size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start) + 1,
			  sizeof(**out));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const char *k = NULL, *v = NULL;
		void **slot;

		rc = scalar(c, node(c, p->key), what, &k);
		if (!rc)
			rc = scalar(c, node(c, p->value), what, &v);
		if (rc)
			break;
		slot = dd_map_put(&seen, k);
		if (*slot) {
			rc = err(c, node(c, p->key), "%s: key '%s' given twice", what, k);
			break;
		}
		*slot = (void *)1;
		(*out)[*cnt].key = dd_xstrdup(k);
		(*out)[(*cnt)++].value = dd_xstrdup(v);
	}
	dd_map_release(&seen, NULL);
	return rc;
}

/* Walk a mapping, dispatching each key; unknown and repeated keys are errors. */
static int mapping(struct ctx *c, yaml_node_t *n, const char *what, const struct key *keys,
		   void *obj, int (*item)(struct ctx *, void *, const char *, yaml_node_t *))
{
	if (n->type != YAML_MAPPING_NODE)
		return err(c, n, "%s is %s, expected a mapping", what, type_name(n));
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *kn = node(c, p->key);
		const char *k = NULL;
		const struct key *hit = NULL;
		int rc = scalar(c, kn, "a key", &k);

		if (rc)
			return rc;
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++)
			if (node(c, q->key)->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)node(c, q->key)->data.scalar.value, k))
				return err(c, kn, "key '%s' given twice in %s", k, what);
		for (const struct key *x = keys; x->name; x++)
			if (!strcmp(x->name, k))
				hit = x;
		if (!hit) {
			struct dd_buf names = DD_BUF_INIT;

			for (const struct key *x = keys; x->name; x++)
				dd_buf_addf(&names, "%s%s", x == keys ? "" : ", ", x->name);
			rc = err(c, kn, "unknown key '%s' in %s; expected one of: %s", k, what,
				 names.ptr);
			dd_buf_release(&names);
			return rc;
		}
		rc = obj ? item(c, obj, k, node(c, p->value)) : hit->fn(c, node(c, p->value));
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- contents ---------------------------------------------------------- */

static int c_packages(struct ctx *c, yaml_node_t *n)
{
	struct dd_job *j = c->job;

	if (n->type != YAML_SEQUENCE_NODE)
		return err(c, n, "contents.packages is %s, expected a list of packages",
			   type_name(n));
	j->packages =
		dd_xrealloc(j->packages, (j->n_packages + n_items(n) + 1) * sizeof(*j->packages));
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *x = node(c, *i);
		const char *s = NULL;
		int rc = scalar(c, x, "a package", &s);

		if (rc)
			return rc;
		if (dd_dep_parse(dd_blob_str(s), &j->packages[j->n_packages]))
			return err(c, x, "%s; expected NAME, NAME<op>VERSION or !NAME",
				   dd_error_detail());
		j->n_packages++;
	}
	return 0;
}

static int c_remove(struct ctx *c, yaml_node_t *n)
{
	return strings(c, n, "contents.remove", &c->job->remove, &c->job->n_remove);
}

static int c_runtime_repositories(struct ctx *c, yaml_node_t *n)
{
	return strings(c, n, "contents.runtime_repositories", &c->job->runtime_repos,
		       &c->job->n_runtime_repos);
}

/*
 * An apko key that names package sources or their keys: the mirror is
 * the only source, so the value is checked for its shape and ignored,
 * with one warning (an error under DD_JOB_STRICT).
 */
static int ignored(struct ctx *c, yaml_node_t *n, const char *what, bool entries)
{
	struct dd_job *j = c->job;
	char msg[512];

	if (n->type != YAML_SEQUENCE_NODE)
		return err(c, n, "%s is %s, expected a list", what, type_name(n));
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *x = node(c, *i);

		if (!entries ? x->type != YAML_SCALAR_NODE : x->type != YAML_MAPPING_NODE)
			return err(c, x, "an item of %s is %s, expected %s", what, type_name(x),
				   entries ? "a mapping {name, content}" : "a string");
	}
	if (c->flags & DD_JOB_STRICT)
		return err(c, n,
			   "%s is refused under --strict: the mirror is the only source of "
			   "packages and keys (import bundles with 'drydock mirror import'); "
			   "remove the key",
			   what);
	snprintf(msg, sizeof(msg), "%s:%zu:%zu: %s ignored: the mirror is the only source", c->file,
		 n->start_mark.line + 1, n->start_mark.column + 1, what);
	j->warnings = dd_xrealloc(j->warnings, (j->n_warnings + 1) * sizeof(char *));
	j->warnings[j->n_warnings++] = dd_xstrdup(msg);
	return 0;
}

static int c_repositories(struct ctx *c, yaml_node_t *n)
{
	return ignored(c, n, "contents.repositories", false);
}

static int c_keyring(struct ctx *c, yaml_node_t *n)
{
	return ignored(c, n, "contents.keyring", false);
}

static int c_build_repositories(struct ctx *c, yaml_node_t *n)
{
	return ignored(c, n, "contents.build_repositories", false);
}

static int c_runtime_keyring(struct ctx *c, yaml_node_t *n)
{
	return ignored(c, n, "contents.runtime_keyring", true);
}

static int c_baseimage(struct ctx *c, yaml_node_t *n)
{
	return err(c, n,
		   "contents.baseimage (apko's experimental base from an OCI layout) is not "
		   "supported: give 'base', an image of the entitlement manifest");
}

static const struct key contents_keys[] = {
	{ "packages", c_packages },
	{ "remove", c_remove },
	{ "repositories", c_repositories },
	{ "keyring", c_keyring },
	{ "build_repositories", c_build_repositories },
	{ "runtime_repositories", c_runtime_repositories },
	{ "runtime_keyring", c_runtime_keyring },
	{ "baseimage", c_baseimage },
	{ NULL, NULL },
};

static int k_contents(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "contents", contents_keys, NULL, NULL);
}

/* ---- accounts ---------------------------------------------------------- */

static int group_item(struct ctx *c, void *obj, const char *k, yaml_node_t *v)
{
	struct dd_job_group *g = obj;

	if (!strcmp(k, "groupname"))
		return str(c, v, "groupname", &g->name);
	if (!strcmp(k, "gid"))
		return number(c, v, "gid", UINT32_MAX - 1, &g->gid);
	return strings(c, v, "members", &g->members, &g->n_members);
}

static const struct key group_keys[] = {
	{ "groupname", NULL },
	{ "gid", NULL },
	{ "members", NULL },
	{ NULL, NULL },
};

static int user_item(struct ctx *c, void *obj, const char *k, yaml_node_t *v)
{
	struct dd_job_user *u = obj;

	if (!strcmp(k, "username"))
		return str(c, v, "username", &u->name);
	if (!strcmp(k, "uid"))
		return number(c, v, "uid", UINT32_MAX - 1, &u->uid);
	if (!strcmp(k, "gid")) {
		u->has_gid = true;
		return number(c, v, "gid", UINT32_MAX - 1, &u->gid);
	}
	if (!strcmp(k, "shell"))
		return str(c, v, "shell", &u->shell);
	return str(c, v, "homedir", &u->home);
}

static const struct key user_keys[] = {
	{ "username", NULL }, { "uid", NULL },     { "gid", NULL },
	{ "shell", NULL },    { "homedir", NULL }, { NULL, NULL },
};

/*
 * A list of named mappings (accounts.groups, accounts.users): each item
 * becomes a zeroed element of l->size bytes appended to v (grown as
 * DD_GROW grows), read by l->item; its name (a char * at l->name_at) must
 * be set, by the key l->name_key.  Returns v, grown; *rc is 0 or the
 * error.
 */
struct named_list {
	const char *what, *one, *name_key;
	size_t size, name_at;
	const struct key *keys;
	int (*item)(struct ctx *, void *, const char *, yaml_node_t *);
};

static void *named_list(struct ctx *c, yaml_node_t *n, const struct named_list *l, void *v,
			size_t *cnt, int *rc)
{
	*rc = 0;
	if (n->type != YAML_SEQUENCE_NODE) {
		*rc = err(c, n, "%s is %s, expected a list", l->what, type_name(n));
		return v;
	}
	for (yaml_node_item_t *i = n->data.sequence.items.start;
	     !*rc && i < n->data.sequence.items.top; i++) {
		char *e;

		v = dd_grow(v, *cnt, l->size);
		e = (char *)v + (*cnt)++ * l->size;
		memset(e, 0, l->size);
		*rc = mapping(c, node(c, *i), l->one, l->keys, e, l->item);
		if (!*rc && !*(char **)(e + l->name_at))
			*rc = err(c, node(c, *i), "%s without %s", l->one, l->name_key);
	}
	return v;
}

static int a_groups(struct ctx *c, yaml_node_t *n)
{
	static const struct named_list groups = {
		.what = "accounts.groups",
		.one = "a group",
		.name_key = "groupname",
		.size = sizeof(struct dd_job_group),
		.name_at = offsetof(struct dd_job_group, name),
		.keys = group_keys,
		.item = group_item,
	};
	int rc;

	c->job->groups = named_list(c, n, &groups, c->job->groups, &c->job->n_groups, &rc);
	return rc;
}

static int a_users(struct ctx *c, yaml_node_t *n)
{
	static const struct named_list users = {
		.what = "accounts.users",
		.one = "a user",
		.name_key = "username",
		.size = sizeof(struct dd_job_user),
		.name_at = offsetof(struct dd_job_user, name),
		.keys = user_keys,
		.item = user_item,
	};
	int rc;

	c->job->users = named_list(c, n, &users, c->job->users, &c->job->n_users, &rc);
	return rc;
}

static int a_run_as(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "accounts.run-as", &c->job->run_as);
}

static const struct key accounts_keys[] = {
	{ "groups", a_groups },
	{ "users", a_users },
	{ "run-as", a_run_as },
	{ NULL, NULL },
};

static int k_accounts(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "accounts", accounts_keys, NULL, NULL);
}

/* ---- paths ------------------------------------------------------------- */

static int path_item(struct ctx *c, void *obj, const char *k, yaml_node_t *v)
{
	static const char *types[] = { "directory", "empty-file", "symlink", "hardlink",
				       "permissions" };
	struct dd_job_path *p = obj;
	const char *s = NULL;
	int rc;

	if (!strcmp(k, "path"))
		return str(c, v, "path", &p->path);
	if (!strcmp(k, "source"))
		return str(c, v, "source", &p->source);
	if (!strcmp(k, "uid"))
		return number(c, v, "uid", UINT32_MAX - 1, &p->uid);
	if (!strcmp(k, "gid"))
		return number(c, v, "gid", UINT32_MAX - 1, &p->gid);
	if (!strcmp(k, "permissions")) {
		p->has_mode = true;
		return number(c, v, "permissions", 07777, &p->mode);
	}
	if (!strcmp(k, "recursive"))
		return boolean(c, v, "recursive", &p->recursive);
	rc = scalar(c, v, "type", &s);
	for (size_t i = 0; !rc && i < 5; i++)
		if (!strcmp(s, types[i])) {
			p->type = (enum dd_path_type)i;
			return 0;
		}
	return rc ? rc
		  : err(c, v,
			"path type '%s'; expected directory, empty-file, symlink, "
			"hardlink or permissions",
			s);
}

/*
 * Normalise an absolute path in the image in place: "." components and
 * repeated slashes go; ".." (which would leave the image root in the
 * layer) and the root itself (an empty member name) are refused.
 */
static int clean_path(struct ctx *c, yaml_node_t *n, const char *what, char **path)
{
	struct dd_buf out = DD_BUF_INIT;
	const char *s = *path;

	if (s[0] != '/')
		return err(c, n, "%s '%s' is not absolute; expected a path like /app/data", what,
			   s);
	while (*s) {
		size_t len;

		s += strspn(s, "/");
		len = strcspn(s, "/");
		if (len == 2 && s[0] == '.' && s[1] == '.') {
			dd_buf_release(&out);
			return err(c, n,
				   "%s '%s' has a '..' component, which would leave the image "
				   "root; give the path without it",
				   what, *path);
		}
		if (len && !(len == 1 && s[0] == '.')) {
			dd_buf_add(&out, "/", 1);
			dd_buf_add(&out, s, len);
		}
		s += len;
	}
	if (!out.len) {
		dd_buf_release(&out);
		return err(c, n,
			   "%s '%s' names the image root itself; give a path below it, "
			   "like /app",
			   what, *path);
	}
	free(*path);
	*path = dd_buf_detach(&out, NULL);
	return 0;
}

static const struct key path_keys[] = {
	{ "path", NULL },        { "type", NULL },   { "uid", NULL },       { "gid", NULL },
	{ "permissions", NULL }, { "source", NULL }, { "recursive", NULL }, { NULL, NULL },
};

static int k_paths(struct ctx *c, yaml_node_t *n)
{
	struct dd_job *j = c->job;

	if (n->type != YAML_SEQUENCE_NODE)
		return err(c, n, "paths is %s, expected a list", type_name(n));
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		yaml_node_t *x = node(c, *i);
		struct dd_job_path *p;
		int rc;

		j->paths = dd_xrealloc(j->paths, (j->n_paths + 1) * sizeof(*j->paths));
		p = &j->paths[j->n_paths++];
		memset(p, 0, sizeof(*p));
		p->type = (enum dd_path_type) - 1;
		rc = mapping(c, x, "a path", path_keys, p, path_item);
		if (rc)
			return rc;
		if (!p->path || (int)p->type < 0)
			return err(c, x, "a path needs 'path' and 'type'");
		if ((p->type == DD_PATH_SYMLINK || p->type == DD_PATH_HARDLINK) && !p->source)
			return err(c, x, "a %s needs 'source'",
				   p->type == DD_PATH_SYMLINK ? "symlink" : "hardlink");
		if ((rc = clean_path(c, x, "path", &p->path)))
			return rc;
		if (p->type == DD_PATH_HARDLINK && (rc = clean_path(c, x, "source", &p->source)))
			return rc;
	}
	return 0;
}

/* ---- image settings ---------------------------------------------------- */

static int k_base(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "base", &c->job->base);
}

static int e_command(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "entrypoint.command", &c->job->entrypoint);
}

static int e_unsupported(struct ctx *c, yaml_node_t *n)
{
	return err(c, n,
		   "entrypoint types and services are not supported; give "
		   "entrypoint.command");
}

static int e_shell_fragment(struct ctx *c, yaml_node_t *n)
{
	return err(c, n,
		   "entrypoint.shell-fragment is not supported; give entrypoint.command "
		   "(and cmd)");
}

static const struct key entrypoint_keys[] = {
	{ "command", e_command },
	{ "type", e_unsupported },
	{ "services", e_unsupported },
	{ "shell-fragment", e_shell_fragment },
	{ NULL, NULL },
};

static int k_entrypoint(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "entrypoint", entrypoint_keys, NULL, NULL);
}

static int k_cmd(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "cmd", &c->job->cmd);
}

static int k_environment(struct ctx *c, yaml_node_t *n)
{
	return string_map(c, n, "environment", &c->job->environment, &c->job->n_environment);
}

static int k_work_dir(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "work-dir", &c->job->work_dir);
}

static int k_annotations(struct ctx *c, yaml_node_t *n)
{
	return string_map(c, n, "annotations", &c->job->annotations, &c->job->n_annotations);
}

static int k_archs(struct ctx *c, yaml_node_t *n)
{
	static const char *known[][2] = {
		{ "x86_64", "x86_64" },   { "amd64", "x86_64" }, { "aarch64", "aarch64" },
		{ "arm64", "aarch64" },   { "armv7", "armv7" },  { "armhf", "armhf" },
		{ "x86", "x86" },         { "386", "x86" },      { "ppc64le", "ppc64le" },
		{ "arm/v7", "armv7" },    { "arm/v6", "armhf" }, { "s390x", "s390x" },
		{ "riscv64", "riscv64" },
	};
	struct dd_job *j = c->job;
	int rc = strings(c, n, "archs", &j->archs, &j->n_archs);

	for (size_t i = 0; !rc && i < j->n_archs; i++) {
		size_t k;

		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++)
			if (!strcmp(j->archs[i], known[k][0]))
				break;
		if (k == sizeof(known) / sizeof(known[0]))
			return err(c, node(c, n->data.sequence.items.start[i]),
				   "unknown architecture '%s'; expected x86_64, aarch64, armv7, "
				   "armhf, x86, ppc64le, s390x or riscv64",
				   j->archs[i]);
		free(j->archs[i]);
		j->archs[i] = dd_xstrdup(known[k][1]);
		for (size_t m = 0; m < i; m++)
			if (!strcmp(j->archs[m], j->archs[i]))
				return err(c, node(c, n->data.sequence.items.start[i]),
					   "architecture '%s' given twice", j->archs[i]);
	}
	return rc;
}

static int k_stop_signal(struct ctx *c, yaml_node_t *n)
{
	return str(c, n, "stop-signal", &c->job->stop_signal);
}

static int k_volumes(struct ctx *c, yaml_node_t *n)
{
	return strings(c, n, "volumes", &c->job->volumes, &c->job->n_volumes);
}

static int k_vcs_url(struct ctx *c, yaml_node_t *n)
{
	int rc = str(c, n, "vcs-url", &c->job->vcs_url);

	if (!rc && !c->job->vcs_url[0])
		rc = err(c, n,
			 "vcs-url is empty; expected a URL like "
			 "https://git.example/team/app@<commit>");
	return rc;
}

/* apko's output format: an OCI image is what drydock writes. */
static int k_format(struct ctx *c, yaml_node_t *n)
{
	const char *s = NULL;
	int rc = scalar(c, n, "format", &s);

	if (rc || !strcmp(s, "oci"))
		return rc;
	return err(c, n,
		   "format is '%s', expected oci: drydock writes OCI images (convert one "
		   "with 'skopeo copy oci-archive:image.oci.tar docker-archive:image.tar')",
		   s);
}

/* ---- drydock's own keys ------------------------------------------------ */

/* At most 64 bytes of s for a message, control characters as '?'. */
static char *printable(const char *s)
{
	size_t n = strlen(s);
	char *out = dd_xstrdup(s);

	if (n > 64)
		strcpy(out + 61, "...");
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return out;
}

static bool lower_alnum(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

static bool any_alnum(char ch)
{
	return lower_alnum(ch) || (ch >= 'A' && ch <= 'Z');
}

/* A path component: [a-z0-9]+ ((?:[._]|__|[-]+)[a-z0-9]+)* */
static bool path_component(const char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		size_t run = 0;

		while (i < len && lower_alnum(s[i]))
			i++, run++;
		if (!run)
			return false;
		if (i == len)
			return true;
		if (s[i] == '.' || (s[i] == '_' && (i + 1 == len || s[i + 1] != '_')))
			i++;
		else if (s[i] == '_')
			i += 2;
		else if (s[i] == '-')
			while (i < len && s[i] == '-')
				i++;
		else
			return false;
		if (i == len)
			return false;
	}
	return false;
}

/* host[:port]: domain components [a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?
 * joined by '.', then the port's digits.  (No bracketed IPv6 address:
 * podman's reference parser does not take one.) */
static bool domain(const char *s, size_t len)
{
	const char *colon = memchr(s, ':', len);
	size_t host = colon ? (size_t)(colon - s) : len;

	for (size_t i = 0, start = 0; i <= host; i++) {
		if (i < host && s[i] != '.')
			continue;
		if (i == start || !any_alnum(s[start]) || !any_alnum(s[i - 1]))
			return false;
		for (size_t k = start; k < i; k++)
			if (!any_alnum(s[k]) && s[k] != '-')
				return false;
		start = i + 1;
	}
	if (colon) {
		size_t digits = len - host - 1;

		if (!digits || strspn(colon + 1, "0123456789") < digits)
			return false;
	}
	return true;
}

/* Every '/'-separated component of s[0..len) is a path component. */
static bool path_components(const char *s, size_t len)
{
	while (len) {
		const char *slash = memchr(s, '/', len);
		size_t n = slash ? (size_t)(slash - s) : len;

		if (!path_component(s, n) || (slash && n + 1 == len))
			return false;
		if (!slash)
			return true;
		s += n + 1;
		len -= n + 1;
	}
	return false;
}

const char *dd_job_reference_check(const char *ref)
{
	const char *last_slash = strrchr(ref, '/'), *colon, *first_slash = strchr(ref, '/');
	size_t name_len = strlen(ref);

	if (!*ref)
		return "it is empty";
	if (strchr(ref, '@'))
		return "a digest cannot be given: the build decides it";
	colon = strrchr(last_slash ? last_slash : ref, ':');
	if (colon) {
		const char *tag = colon + 1;
		size_t tag_len = strlen(tag);

		if (!tag_len || tag_len > 128)
			return "the tag after ':' must have 1 to 128 characters";
		if (!isalnum((unsigned char)tag[0]) && tag[0] != '_')
			return "the tag must start with a letter, digit or '_'";
		for (size_t i = 0; i < tag_len; i++)
			if (!isalnum((unsigned char)tag[i]) && !strchr("_.-", tag[i]))
				return "the tag may hold only letters, digits, '_', '.' and "
				       "'-'";
		name_len = (size_t)(colon - ref);
	}
	if (name_len > 255)
		return "the name before the tag is longer than 255 characters";
	if (path_components(ref, name_len))
		return NULL;
	if (first_slash && first_slash < ref + name_len &&
	    domain(ref, (size_t)(first_slash - ref)) &&
	    path_components(first_slash + 1, name_len - (size_t)(first_slash - ref) - 1))
		return NULL;
	return "each name component must be lower-case letters and digits, separated by '.', "
	       "'_', '__' or '-', after an optional registry HOST[:PORT]/";
}

int dd_duration_parse(const char *s, int64_t *out)
{
	int64_t total = 0;
	const char *p = s;

	if (!*p)
		return -1;
	while (*p) {
		int64_t v = 0;
		int digits = 0;

		while (isdigit((unsigned char)*p) && digits < 12) {
			v = v * 10 + (*p++ - '0');
			digits++;
		}
		if (!digits)
			return -1;
		if (p[0] == 'm' && p[1] == 's') {
			total += v;
			p += 2;
			continue;
		}
		switch (*p++) {
		case 'h':
			total += v * 3600000;
			break;
		case 'm':
			total += v * 60000;
			break;
		case 's':
			total += v * 1000;
			break;
		default:
			return -1;
		}
	}
	*out = total;
	return 0;
}

static int p_allow_unguarded(struct ctx *c, yaml_node_t *n)
{
	c->job->set |= DD_JOB_SET_ALLOW_UNGUARDED;
	return boolean(c, n, "policy.allow-unguarded", &c->job->allow_unguarded);
}

static int p_timeout(struct ctx *c, yaml_node_t *n)
{
	const char *s = NULL;
	int rc = scalar(c, n, "policy.timeout", &s);

	c->job->set |= DD_JOB_SET_TIMEOUT;
	if (!rc && (dd_duration_parse(s, &c->job->timeout_ms) || c->job->timeout_ms <= 0))
		rc = err(c, n,
			 "policy.timeout is '%s', expected a duration like 30m, 1h, 1h30m or 500ms",
			 s);
	return rc;
}

static const struct key policy_keys[] = {
	{ "allow-unguarded", p_allow_unguarded },
	{ "timeout", p_timeout },
	{ NULL, NULL },
};

static int k_policy(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "policy", policy_keys, NULL, NULL);
}

static int o_layers(struct ctx *c, yaml_node_t *n)
{
	const char *s = NULL;
	int rc = scalar(c, n, "output.layers", &s);

	if (rc)
		return rc;
	if (!strcmp(s, "split") || !strcmp(s, "single")) {
		c->job->set |= DD_JOB_SET_LAYERS;
		c->job->layers = s[1] == 'p' ? DD_LAYERS_SPLIT : DD_LAYERS_SINGLE;
		return 0;
	}
	return err(c, n, "output.layers is '%s', expected split or single", s);
}

static int o_compression(struct ctx *c, yaml_node_t *n)
{
	const char *s = NULL;
	int rc = scalar(c, n, "output.compression", &s);

	if (rc)
		return rc;
	if (!strcmp(s, "gzip") || !strcmp(s, "zstd")) {
		c->job->set |= DD_JOB_SET_COMPRESSION;
		c->job->compression = s[0] == 'g' ? DD_COMPRESS_GZIP : DD_COMPRESS_ZSTD;
		return 0;
	}
	return err(c, n, "output.compression is '%s', expected gzip or zstd", s);
}

static int o_tag(struct ctx *c, yaml_node_t *n)
{
	int rc = str(c, n, "output.tag", &c->job->tag);
	const char *why;

	if (!rc && (why = dd_job_reference_check(c->job->tag))) {
		char *shown = printable(c->job->tag);

		rc = err(c, n,
			 "output.tag '%s' is not an image reference (%s); "
			 "expected " DD_JOB_REFERENCE_FORM,
			 shown, why);
		free(shown);
	}
	return rc;
}

static const struct key output_keys[] = {
	{ "layers", o_layers },
	{ "compression", o_compression },
	{ "tag", o_tag },
	{ NULL, NULL },
};

static int k_output(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "output", output_keys, NULL, NULL);
}

/* ---- certificates ------------------------------------------------------ */

static int cert_item(struct ctx *c, void *obj, const char *k, yaml_node_t *v)
{
	struct dd_job_cert *ce = obj;

	if (!strcmp(k, "name"))
		return str(c, v, "certificates.additional[].name", &ce->name);
	return str(c, v, "certificates.additional[].content", &ce->content);
}

static const struct key cert_keys[] = { { "name", NULL }, { "content", NULL }, { NULL, NULL } };

/* A certificate's name becomes a file name: letters, digits, '.', '_', '-'. */
static bool cert_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 100 || s[0] == '.' || s[0] == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n;
}

static int one_cert(struct ctx *c, yaml_node_t *x, struct dd_job_cert *ce)
{
	struct dd_buf subject = DD_BUF_INIT;
	yaml_node_t *content = NULL;
	int rc = mapping(c, x, "a certificate", cert_keys, ce, cert_item);

	if (rc)
		return rc;
	if (!ce->name || !ce->content)
		return err(c, x, "a certificate needs 'name' and 'content' (one PEM certificate)");
	if (!cert_name_ok(ce->name))
		return err(c, x,
			   "certificate name '%s': use letters, digits, '.', '_' and '-' "
			   "(it names /usr/local/share/ca-certificates/NAME.crt)",
			   ce->name);
	for (yaml_node_pair_t *p = x->data.mapping.pairs.start; p < x->data.mapping.pairs.top; p++)
		if (!strcmp((const char *)node(c, p->key)->data.scalar.value, "content"))
			content = node(c, p->value);
	rc = dd_x509_pem_check(ce->content, strlen(ce->content), &subject);
	if (rc) {
		char *why = dd_xstrdup(dd_error_detail());

		rc = err(c, content ? content : x, "certificate '%s': %s", ce->name, why);
		free(why);
	}
	dd_buf_release(&subject);
	return rc;
}

static int ce_additional(struct ctx *c, yaml_node_t *n)
{
	struct dd_job *j = c->job;

	if (n->type != YAML_SEQUENCE_NODE)
		return err(c, n,
			   "certificates.additional is %s, expected a list of {name, "
			   "content}",
			   type_name(n));
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top;
	     i++) {
		struct dd_job_cert *ce;
		int rc;

		j->certs = dd_xrealloc(j->certs, (j->n_certs + 1) * sizeof(*j->certs));
		ce = &j->certs[j->n_certs++];
		memset(ce, 0, sizeof(*ce));
		if ((rc = one_cert(c, node(c, *i), ce)))
			return rc;
		for (size_t k = 0; k + 1 < j->n_certs; k++)
			if (!strcmp(j->certs[k].name, ce->name))
				return err(c, node(c, *i), "certificate name '%s' given twice",
					   ce->name);
	}
	return 0;
}

static int ce_providers(struct ctx *c, yaml_node_t *n)
{
	return err(c, n,
		   "certificates.providers is not supported: add the packages that ship "
		   "the certificates to contents.packages, or give certificates.additional");
}

static const struct key certificates_keys[] = {
	{ "additional", ce_additional },
	{ "providers", ce_providers },
	{ NULL, NULL },
};

static int k_certificates(struct ctx *c, yaml_node_t *n)
{
	return mapping(c, n, "certificates", certificates_keys, NULL, NULL);
}

/* ---- layering (apko's key) ---------------------------------------------- */

static int l_strategy(struct ctx *c, yaml_node_t *n)
{
	const char *s = NULL;
	int rc = scalar(c, n, "layering.strategy", &s);

	if (rc)
		return rc;
	if (strcmp(s, "origin"))
		return err(c, n,
			   "layering.strategy is '%s', expected origin (packages grouped by "
			   "origin, the largest groups in layers of their own)",
			   s);
	c->job->layering = DD_LAYERING_ORIGIN;
	return 0;
}

static int l_budget(struct ctx *c, yaml_node_t *n)
{
	uint32_t v = 0;
	int rc = number(c, n, "layering.budget", DD_JOB_MAX_BUDGET, &v);

	if (!rc && v < 1)
		rc = err(c, n, "layering.budget is 0, expected 1 to %d layers", DD_JOB_MAX_BUDGET);
	c->job->layer_budget = v;
	return rc;
}

static const struct key layering_keys[] = {
	{ "strategy", l_strategy },
	{ "budget", l_budget },
	{ NULL, NULL },
};

static int k_layering(struct ctx *c, yaml_node_t *n)
{
	int rc = mapping(c, n, "layering", layering_keys, NULL, NULL);

	if (!rc && c->job->layering != DD_LAYERING_ORIGIN)
		rc = err(c, n, "layering needs strategy: origin");
	c->job->set |= DD_JOB_SET_LAYERING;
	return rc;
}

static int k_include(struct ctx *c, yaml_node_t *n)
{
	int rc = str(c, n, "include", &c->include);

	if (!rc && !c->include[0])
		rc = err(c, n,
			 "include is empty; expected a file of job settings, relative to "
			 "this file");
	c->include_line = n->start_mark.line + 1;
	c->include_col = n->start_mark.column + 1;
	return rc;
}

static const struct key top_keys[] = {
	{ "base", k_base },
	{ "contents", k_contents },
	{ "accounts", k_accounts },
	{ "entrypoint", k_entrypoint },
	{ "cmd", k_cmd },
	{ "environment", k_environment },
	{ "work-dir", k_work_dir },
	{ "paths", k_paths },
	{ "annotations", k_annotations },
	{ "archs", k_archs },
	{ "stop-signal", k_stop_signal },
	{ "volumes", k_volumes },
	{ "vcs-url", k_vcs_url },
	{ "format", k_format },
	{ "include", k_include },
	{ "certificates", k_certificates },
	{ "layering", k_layering },
	{ "policy", k_policy },
	{ "output", k_output },
	{ NULL, NULL },
};

/* ---- loading ----------------------------------------------------------- */

static int yaml_err(struct ctx *c, yaml_parser_t *p)
{
	return dd_error(DD_E_FORMAT, "%s:%zu:%zu: %s%s%s", c->file, p->problem_mark.line + 1,
			p->problem_mark.column + 1, p->problem ? p->problem : "YAML error",
			p->context ? " " : "", p->context ? p->context : "");
}

static void yaml_open(struct ctx *c, yaml_parser_t *p)
{
	yaml_parser_initialize(p);
	yaml_parser_set_input_string(p, (const unsigned char *)dd_buf_blob(&c->job->text).ptr,
				     c->job->text.len);
}

/*
 * Refuse nesting deeper than MAX_DEPTH from the event stream, before
 * libyaml composes the document: its scanner does work per open level
 * for every token, so 100,000 levels of '[' would take minutes.
 */
static int check_depth(struct ctx *c)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, rc = 0;
	bool done = false;

	yaml_open(c, &p);
	while (!rc && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			rc = yaml_err(c, &p);
			break;
		}
		if (ev.type == YAML_SEQUENCE_START_EVENT || ev.type == YAML_MAPPING_START_EVENT) {
			if (++depth > MAX_DEPTH)
				rc = dd_error(DD_E_LIMIT,
					      "%s:%zu:%zu: nesting deeper than %d levels; "
					      "a job needs at most a few",
					      c->file, ev.start_mark.line + 1,
					      ev.start_mark.column + 1, MAX_DEPTH);
		} else if (ev.type == YAML_SEQUENCE_END_EVENT ||
			   ev.type == YAML_MAPPING_END_EVENT) {
			depth--;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return rc;
}

static int parse(struct ctx *c)
{
	yaml_parser_t p;
	yaml_node_t *root;
	int rc = check_depth(c);

	if (rc)
		return rc;
	yaml_open(c, &p);
	if (!yaml_parser_load(&p, &c->doc)) {
		rc = yaml_err(c, &p);
		yaml_parser_delete(&p);
		return rc;
	}
	yaml_parser_delete(&p);
	root = yaml_document_get_root_node(&c->doc);
	if (!root)
		rc = dd_error(DD_E_FORMAT, "%s: empty job file; expected 'base:' and 'contents:'",
			      c->file);
	if (!rc)
		rc = mapping(c, root, "the job", top_keys, NULL, NULL);
	yaml_document_delete(&c->doc);
	return rc;
}

int dd_job_name(const char *path, char **out)
{
	const char *base = strrchr(path, '/');
	size_t n;
	char *name;
	int rc;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	else if (n > 4 && !strcmp(base + n - 4, ".yml"))
		n -= 4;
	name = dd_xstrdup(base);
	name[n] = 0;
	rc = dd_name_check("the job name", name);
	if (rc) {
		char *why = dd_xstrdup(dd_error_detail());

		rc = dd_error(rc,
			      "%s: %s; rename the file (the job name is its file name without "
			      ".yaml or .yml)",
			      path, why);
		free(why);
		free(name);
		*out = NULL;
		return rc;
	}
	*out = name;
	return 0;
}

/* The default tag, drydock.local/<job name in lower case>:latest. */
static int default_tag(struct dd_job *j)
{
	struct dd_buf t = DD_BUF_INIT;
	const char *why;
	int rc = 0;

	dd_buf_addf(&t, "drydock.local/%s:latest", j->name);
	for (char *p = t.ptr; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	why = dd_job_reference_check(t.ptr);
	if (why)
		rc = dd_error(DD_E_FORMAT,
			      "%s: the job name '%s' gives the default tag '%s', "
			      "which is not an image reference (%s); set output.tag",
			      j->file, j->name, t.ptr, why);
	j->tag = dd_buf_detach(&t, NULL);
	return rc;
}

/*
 * vcs-url as apko reads it: "URL@REVISION" gives the annotations
 * org.opencontainers.image.source and .revision, a URL alone the first;
 * annotations the job sets itself win.
 */
static void vcs_annotations(struct dd_job *j)
{
	const char *at = strrchr(j->vcs_url, '@'), *slash = strrchr(j->vcs_url, '/');
	char *url = dd_xstrdup(j->vcs_url), *rev = NULL;
	const char *keys[2] = { "org.opencontainers.image.source",
				"org.opencontainers.image.revision" };

	if (at && at[1] && (!slash || at > slash)) {
		url[at - j->vcs_url] = 0;
		rev = dd_xstrdup(at + 1);
	}
	for (int k = 0; k < 2; k++) {
		char *v = k ? rev : url;
		bool set = false;

		for (size_t i = 0; i < j->n_annotations && !set; i++)
			set = !strcmp(j->annotations[i].key, keys[k]);
		if (!v || set) {
			free(v);
			continue;
		}
		j->annotations = dd_xrealloc(j->annotations,
					     (j->n_annotations + 1) * sizeof(*j->annotations));
		j->annotations[j->n_annotations].key = dd_xstrdup(keys[k]);
		j->annotations[j->n_annotations++].value = v;
	}
}

int dd_job_load(const char *path, struct dd_job *job)
{
	return dd_job_load_recorded(path, 0, NULL, 0, job);
}

int dd_job_load_flags(const char *path, int flags, struct dd_job *job)
{
	return dd_job_load_recorded(path, flags, NULL, 0, job);
}

/* ---- include ------------------------------------------------------------ */

/* Move *src to *dst when dst holds nothing (pointers and counts). */
#define TAKE(field) \
	do { \
		if (!dst->field) { \
			dst->field = src->field; \
			src->field = NULL; \
		} \
	} while (0)
#define TAKE_LIST(field, count) \
	do { \
		if (!dst->count) { \
			void *t_ = dst->field; \
			dst->field = src->field; \
			dst->count = src->count; \
			src->field = t_; \
			src->count = 0; \
		} \
	} while (0)

/* dst's entries, then src's whose key dst does not have. */
static void merge_kv(struct dd_kv **dst, size_t *nd, struct dd_kv **src, size_t *ns)
{
	size_t keep = *nd;

	for (size_t i = 0; i < *ns; i++) {
		bool have = false;

		for (size_t k = 0; k < keep && !have; k++)
			have = !strcmp((*dst)[k].key, (*src)[i].key);
		if (have)
			continue;
		*dst = dd_xrealloc(*dst, (*nd + 1) * sizeof(**dst));
		(*dst)[(*nd)++] = (*src)[i];
		(*src)[i].key = (*src)[i].value = NULL;
	}
}

/* The settings of src (an included file) that dst (the including one)
 * does not give; what is taken is left NULL in src. */
static void adopt(struct dd_job *dst, struct dd_job *src)
{
	TAKE(base);
	TAKE_LIST(packages, n_packages);
	TAKE_LIST(remove, n_remove);
	TAKE_LIST(runtime_repos, n_runtime_repos);
	TAKE_LIST(groups, n_groups);
	TAKE_LIST(users, n_users);
	TAKE(run_as);
	TAKE(entrypoint);
	TAKE(cmd);
	TAKE(work_dir);
	TAKE(stop_signal);
	TAKE_LIST(paths, n_paths);
	TAKE_LIST(archs, n_archs);
	TAKE_LIST(volumes, n_volumes);
	TAKE(tag);
	TAKE(vcs_url);
	TAKE_LIST(certs, n_certs);
	merge_kv(&dst->environment, &dst->n_environment, &src->environment, &src->n_environment);
	merge_kv(&dst->annotations, &dst->n_annotations, &src->annotations, &src->n_annotations);
	unsigned take = src->set & ~dst->set;

	if (take & DD_JOB_SET_ALLOW_UNGUARDED)
		dst->allow_unguarded = src->allow_unguarded;
	if (take & DD_JOB_SET_TIMEOUT)
		dst->timeout_ms = src->timeout_ms;
	if (take & DD_JOB_SET_LAYERS)
		dst->layers = src->layers;
	if (take & DD_JOB_SET_COMPRESSION)
		dst->compression = src->compression;
	if (take & DD_JOB_SET_LAYERING) {
		dst->layering = src->layering;
		dst->layer_budget = src->layer_budget;
	}
	dst->set |= src->set;
	/* the included file's warnings first, as it was read first */
	if (src->n_warnings) {
		char **w = dd_xcalloc(src->n_warnings + dst->n_warnings + 1, sizeof(char *));

		memcpy(w, src->warnings, src->n_warnings * sizeof(char *));
		if (dst->n_warnings)
			memcpy(w + src->n_warnings, dst->warnings,
			       dst->n_warnings * sizeof(char *));
		free(dst->warnings);
		dst->warnings = w;
		dst->n_warnings += src->n_warnings;
		src->n_warnings = 0;
	}
}

/* The including file's folder joined with name (name itself when absolute). */
static char *include_path(const char *from, const char *name)
{
	const char *slash = strrchr(from, '/');
	struct dd_buf b = DD_BUF_INIT;

	if (name[0] == '/' || !slash)
		return dd_xstrdup(name);
	dd_buf_add(&b, from, (size_t)(slash - from) + 1);
	dd_buf_adds(&b, name);
	return dd_buf_detach(&b, NULL);
}

struct chain {
	const char *job;                            /* the job file */
	char *real[DD_JOB_MAX_INCLUDES + 1];        /* realpath of each file read */
	const char *shown[DD_JOB_MAX_INCLUDES + 1]; /* its path, for messages */
	const struct dd_job_include *rec;           /* recorded includes, or NULL */
	size_t n_rec;
};

/* Parse text (read from file) into job: keys only, no defaults. */
static int parse_text(const char *file, int flags, struct dd_job *job, char **include, size_t *line,
		      size_t *col)
{
	struct ctx c = { .file = file, .job = job, .flags = flags };
	int rc = parse(&c);

	*include = c.include;
	*line = c.include_line;
	*col = c.include_col;
	return rc;
}

/* Read include number d (named by `name` at from:line:col) into inc. */
static int read_include(struct chain *ch, size_t d, const char *from, const char *name, size_t line,
			size_t col, struct dd_job_include *inc)
{
	int rc = 0;

	inc->name = dd_xstrdup(name);
	if (d >= DD_JOB_MAX_INCLUDES)
		return dd_error(DD_E_LIMIT, "%s:%zu:%zu: include '%s': more than %d files deep",
				from, line, col, name, DD_JOB_MAX_INCLUDES);
	if (ch->rec) {
		if (d >= ch->n_rec || strcmp(ch->rec[d].name, name))
			return dd_error(DD_E_FORMAT,
					"%s:%zu:%zu: include '%s' is not the file the "
					"run recorded (%s)",
					from, line, col, name,
					d < ch->n_rec ? ch->rec[d].name : "none");
		inc->path = dd_xstrdup(ch->rec[d].path);
		dd_buf_add(&inc->text, ch->rec[d].text.ptr, ch->rec[d].text.len);
	} else {
		char *real;

		inc->path = include_path(from, name);
		rc = dd_read_file(inc->path, MAX_JOB, &inc->text);
		if (rc) {
			char *why = dd_xstrdup(dd_error_detail());

			rc = dd_error(rc, "%s:%zu:%zu: include '%s': %s", from, line, col, name,
				      why);
			free(why);
			return rc;
		}
		real = realpath(inc->path, NULL);
		for (size_t k = 0; real && k <= d; k++)
			if (ch->real[k] && !strcmp(ch->real[k], real)) {
				struct dd_buf loop = DD_BUF_INIT;

				for (size_t m = k; m <= d; m++)
					dd_buf_addf(&loop, "%s includes ", ch->shown[m]);
				rc = dd_error(DD_E_FORMAT,
					      "%s:%zu:%zu: include '%s' makes a cycle: "
					      "%s%s again",
					      from, line, col, name, loop.ptr, ch->shown[k]);
				dd_buf_release(&loop);
				free(real);
				return rc;
			}
		ch->real[d + 1] = real;
		ch->shown[d + 1] = inc->path;
	}
	dd_sha256_hex(inc->text.ptr, inc->text.len, inc->sha256);
	return 0;
}

/* Follow the include chain of job (which named `include` at line:col). */
static int load_includes(struct chain *ch, int flags, struct dd_job *job, char *include,
			 size_t line, size_t col)
{
	struct dd_job *inc = dd_xcalloc(DD_JOB_MAX_INCLUDES + 1, sizeof(*inc));
	const char *from = job->file;
	size_t n = 0;
	int rc = 0;

	while (include && !rc) {
		struct dd_job_include *r;

		DD_GROW(job->includes, job->n_includes);
		r = &job->includes[job->n_includes++];
		memset(r, 0, sizeof(*r));
		rc = read_include(ch, n, from, include, line, col, r);
		free(include);
		include = NULL;
		if (rc)
			break;
		inc[n].file = dd_xstrdup(r->path);
		inc[n].text = r->text; /* borrowed for parsing */
		rc = parse_text(r->path, flags, &inc[n], &include, &line, &col);
		inc[n].text = (struct dd_buf)DD_BUF_INIT;
		from = r->path;
		n++;
	}
	free(include);
	if (!rc && ch->rec && n < ch->n_rec)
		rc = dd_error(DD_E_FORMAT,
			      "%s: the run recorded %zu included file(s), the job "
			      "includes %zu",
			      job->file, ch->n_rec, n);
	/* the deepest file first: each including file wins over what it includes */
	for (size_t k = n; !rc && k-- > 0;)
		adopt(k ? &inc[k - 1] : job, &inc[k]);
	for (size_t k = 0; k < n; k++)
		dd_job_release(&inc[k]);
	free(inc);
	return rc;
}

int dd_job_load_recorded(const char *path, int flags, const struct dd_job_include *recorded,
			 size_t n_recorded, struct dd_job *job)
{
	struct chain ch = { .job = path, .rec = recorded, .n_rec = n_recorded };
	char *include = NULL;
	size_t line = 0, col = 0;
	int rc;

	memset(job, 0, sizeof(*job));
	job->file = dd_xstrdup(path);
	job->timeout_ms = 3600000;
	rc = dd_job_name(path, &job->name);
	if (!rc)
		rc = dd_read_file(path, MAX_JOB, &job->text);
	if (!rc)
		rc = parse_text(path, flags, job, &include, &line, &col);
	if (!rc && include) {
		ch.real[0] = recorded ? NULL : realpath(path, NULL);
		ch.shown[0] = path;
		rc = load_includes(&ch, flags, job, include, line, col);
		include = NULL;
	} else if (!rc && recorded && n_recorded) {
		rc = dd_error(DD_E_FORMAT,
			      "%s: the run recorded %zu included file(s), the job "
			      "includes none",
			      path, n_recorded);
	}
	free(include);
	for (size_t k = 0; k <= DD_JOB_MAX_INCLUDES; k++)
		free(ch.real[k]);
	if (!rc && !job->tag)
		rc = default_tag(job);
	if (rc) {
		dd_job_release(job);
		return rc;
	}
	if (job->vcs_url)
		vcs_annotations(job);
	dd_sha256_hex(job->text.ptr, job->text.len, job->sha256);
	if (job->layering == DD_LAYERING_ORIGIN && !job->layer_budget)
		job->layer_budget = DD_JOB_DEFAULT_BUDGET;
	if (!job->n_archs) {
		job->archs = dd_xcalloc(1, sizeof(char *));
		job->archs[job->n_archs++] = dd_xstrdup("x86_64");
	}
	return 0;
}

static void free_strings(char **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(s[i]);
	free(s);
}

static void free_kv(struct dd_kv *kv, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(kv[i].key);
		free(kv[i].value);
	}
	free(kv);
}

void dd_job_release(struct dd_job *j)
{
	free(j->file);
	free(j->name);
	dd_buf_release(&j->text);
	free(j->base);
	dd_deps_free(j->packages, j->n_packages);
	free_strings(j->remove, j->n_remove);
	free_strings(j->runtime_repos, j->n_runtime_repos);
	for (size_t i = 0; i < j->n_groups; i++) {
		free(j->groups[i].name);
		free_strings(j->groups[i].members, j->groups[i].n_members);
	}
	free(j->groups);
	for (size_t i = 0; i < j->n_users; i++) {
		free(j->users[i].name);
		free(j->users[i].shell);
		free(j->users[i].home);
	}
	free(j->users);
	free(j->run_as);
	free(j->entrypoint);
	free(j->cmd);
	free(j->work_dir);
	free(j->stop_signal);
	free_kv(j->environment, j->n_environment);
	free_kv(j->annotations, j->n_annotations);
	for (size_t i = 0; i < j->n_paths; i++) {
		free(j->paths[i].path);
		free(j->paths[i].source);
	}
	free(j->paths);
	free_strings(j->archs, j->n_archs);
	free_strings(j->volumes, j->n_volumes);
	free(j->tag);
	free(j->vcs_url);
	for (size_t i = 0; i < j->n_certs; i++) {
		free(j->certs[i].name);
		free(j->certs[i].content);
	}
	free(j->certs);
	free_strings(j->warnings, j->n_warnings);
	for (size_t i = 0; i < j->n_includes; i++) {
		free(j->includes[i].name);
		free(j->includes[i].path);
		dd_buf_release(&j->includes[i].text);
	}
	free(j->includes);
	memset(j, 0, sizeof(*j));
}
