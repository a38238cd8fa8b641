#include "test.h"

#include <stdio.h>
#include <string.h>

#include "advisory/advisory.h"
#include "advisory/secdb.h"
#include "bundle/manifest.h"
#include "core/error.h"
#include "image/installed.h"

/* Origins as Alpine and Wolfi name them; versions where APK order is not
 * string order: _rc and _beta before the release, _p after it, -r10
 * after -r9. */
static const char feed_json[] =
	"{\"distroversion\": \"v3.20\", \"reponame\": \"main\", \"urlprefix\": \"x\","
	" \"apkurl\": \"y\", \"archs\": [\"x86_64\"], \"packages\": ["
	"{\"pkg\": {\"name\": \"openssl\", \"secfixes\": {"
	"  \"3.1.4-r1\": [\"CVE-2023-5678 CVE-2023-6129\"],"
	"  \"3.1.4-r10\": [\"CVE-2024-0727\"],"
	"  \"0\": [\"CVE-2022-0001\"]}}},"
	"{\"pkg\": {\"name\": \"curl\", \"secfixes\": {"
	"  \"8.5.0_rc2-r0\": [\"CVE-2023-46218\"],"
	"  \"8.5.0_p1-r0\": [\"GHSA-abcd-efgh-ijkl\"]}}},"
	"{\"pkg\": {\"name\": \"xen\", \"secfixes\": {"
	"  \"4.18.0-r2\": [\"XSA-446\", \"CVE-2023-46835 XSA-447\"]}}},"
	"{\"pkg\": {\"name\": \"twice\", \"secfixes\": {"
	"  \"2.0-r0\": [\"CVE-2020-0002\"], \"1.5-r0\": [\"CVE-2020-0002\"],"
	"  \"1.0-r0\": [\"CVE-2020-0003\"], \"0\": [\"CVE-2020-0003\"]}}}"
	"]}";

static struct dd_adv_db load_db(void)
{
	struct dd_adv_db db;
	struct dd_adv_feed f = { .channel = "stable", .path = "secdb/main.json", .sequence = 3 };

	memset(&db, 0, sizeof(db));
	CHECK(dd_adv_db_add(&db, &f, DD_BLOB(feed_json)) == 0);
	dd_adv_db_index(&db);
	return db;
}

static void secdb_parses_every_id(void)
{
	struct dd_secdb sd;
	size_t cves = 0, never = 0, non_cve = 0;

	CHECK(dd_secdb_parse(DD_BLOB(feed_json), "main.json", &sd) == 0);
	CHECK(sd.n_origins == 4);
	CHECK(t_str_is(sd.distroversion, "v3.20") && t_str_is(sd.reponame, "main"));
	for (size_t i = 0; i < sd.n; i++) {
		cves += !strncmp(sd.fixes[i].id, "CVE-", 4);
		never += sd.fixes[i].fixed == NULL;
		non_cve +=
			!strncmp(sd.fixes[i].id, "XSA-", 4) || !strncmp(sd.fixes[i].id, "GHSA-", 5);
		CHECK(!strchr(sd.fixes[i].id, ' '));
	}
	/* two ids in one string are two ids */
	CHECK(sd.n == 13);
	CHECK(never == 2 && non_cve == 3 && cves == 10);
	dd_secdb_release(&sd);
}

static void secdb_refuses_bad_documents(void)
{
	static const char *const bad[][2] = {
		{ "[]", "not a JSON object" },
		{ "{\"archs\": []}", "'packages' is missing" },
		{ "{\"packages\": [{\"pkg\": {}}]}", "no pkg.name" },
		{ "{\"packages\": [{\"pkg\": {\"name\": \"a\"}}]}", "'secfixes' is missing" },
		{ "{\"packages\": [{\"pkg\": {\"name\": \"a\", \"secfixes\": {\"1.x!\": "
		  "[\"CVE-1\"]}}}]}",
		  "'1.x!' is not an APK version" },
		{ "{\"packages\": [{\"pkg\": {\"name\": \"a\", \"secfixes\": {\"1.0\": "
		  "\"CVE-1\"}}}]}",
		  "not a list of ids" },
		{ "{\"packages\": [{\"pkg\": {\"name\": \"a\", \"secfixes\": {\"1.0\": "
		  "[\" \"]}}}]}",
		  "an empty id" },
		{ "{\"packages\": [{\"pkg\": {\"name\": \"a\", \"secfixes\": {\"1.0\": "
		  "[3]}}}]}",
		  "not a string" },
		{ "{\"packages\": [", "line 1" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct dd_secdb sd;
		int rc = dd_secdb_parse(dd_blob_str(bad[i][0]), "feed.json", &sd);

		CHECK_MSG(rc == DD_E_FORMAT, "%s: rc %d", bad[i][0], rc);
		CHECK_MSG(strstr(dd_error_detail(), bad[i][1]) &&
				  strstr(dd_error_detail(), "feed.json"),
			  "%s: %s", bad[i][0], dd_error_detail());
	}
}

static void member_kind_secdb(void)
{
	CHECK(dd_member_kind_of("security.json") == DD_MEMBER_SECDB);
	CHECK(dd_member_kind_of("secdb/main.json") == DD_MEMBER_SECDB);
	CHECK(dd_member_kind_of("secdb/a/main.json") < 0);
	CHECK(dd_member_kind_of("secdb/.json") < 0);
	CHECK(dd_member_kind_of("other/security.json") < 0);
	CHECK(!strcmp(dd_member_kind_str(DD_MEMBER_SECDB), "secdb"));
}

/* The state of id for one package installed at version. */
static int state_of(const struct dd_adv_db *db, const struct dd_catalog *cat, const char *name,
		    const char *origin, const char *version, const char *id, const char **fixed_in,
		    size_t *avail)
{
	struct dd_adv_pkg p = { name, version, origin, "x86_64" };
	struct dd_adv_report r;
	int st = -1;

	CHECK(dd_adv_analyze(db, cat, &p, 1, &r) == 0);
	for (size_t i = 0; i < r.n; i++)
		if (!strcmp(r.items[i].id, id)) {
			st = (int)r.items[i].state;
			if (fixed_in)
				*fixed_in = r.items[i].fixed_in;
			if (avail)
				*avail = r.items[i].avail;
		}
	dd_adv_report_release(&r);
	return st;
}

static bool fixed(const struct dd_adv_db *db, const char *origin, const char *version,
		  const char *id)
{
	return state_of(db, NULL, origin, NULL, version, id, NULL, NULL) == DD_ADV_FIXED;
}

static void version_order_decides_fixed(void)
{
	struct dd_adv_db db = load_db();

	/* -rN compares as a number: r10 is after r9 */
	CHECK(!fixed(&db, "openssl", "3.1.4-r9", "CVE-2024-0727"));
	CHECK(fixed(&db, "openssl", "3.1.4-r10", "CVE-2024-0727"));
	CHECK(fixed(&db, "openssl", "3.1.4-r11", "CVE-2024-0727"));
	CHECK(!fixed(&db, "openssl", "3.1.4-r0", "CVE-2023-5678"));
	CHECK(fixed(&db, "openssl", "3.1.4-r1", "CVE-2023-5678"));
	CHECK(fixed(&db, "openssl", "3.1.5-r0", "CVE-2023-6129"));
	CHECK(!fixed(&db, "openssl", "3.1.3-r99", "CVE-2023-6129"));
	/* _rc is before the release, _beta before _rc, _p after the release */
	CHECK(!fixed(&db, "curl", "8.5.0_beta1-r0", "CVE-2023-46218"));
	CHECK(!fixed(&db, "curl", "8.5.0_rc1-r0", "CVE-2023-46218"));
	CHECK(fixed(&db, "curl", "8.5.0_rc2-r0", "CVE-2023-46218"));
	CHECK(fixed(&db, "curl", "8.5.0-r0", "CVE-2023-46218"));
	CHECK(!fixed(&db, "curl", "8.5.0-r5", "GHSA-abcd-efgh-ijkl"));
	CHECK(fixed(&db, "curl", "8.5.0_p1-r0", "GHSA-abcd-efgh-ijkl"));
	CHECK(fixed(&db, "curl", "8.5.0_p2-r0", "GHSA-abcd-efgh-ijkl"));
	CHECK(fixed(&db, "curl", "8.5.1-r0", "GHSA-abcd-efgh-ijkl"));
	dd_adv_db_release(&db);
}

static void zero_means_not_affected(void)
{
	struct dd_adv_db db = load_db();
	const char *fixed_in = "x";

	CHECK(state_of(&db, NULL, "openssl", NULL, "1.0-r0", "CVE-2022-0001", &fixed_in, NULL) ==
	      DD_ADV_NOT_AFFECTED);
	CHECK(fixed_in == NULL);
	/* "0" wins over a version listed for the same id */
	CHECK(state_of(&db, NULL, "twice", NULL, "0.1-r0", "CVE-2020-0003", NULL, NULL) ==
	      DD_ADV_NOT_AFFECTED);
	/* listed under two versions: the lowest counts */
	CHECK(state_of(&db, NULL, "twice", NULL, "1.6-r0", "CVE-2020-0002", &fixed_in, NULL) ==
	      DD_ADV_FIXED);
	CHECK(t_str_is(fixed_in, "1.5-r0"));
	dd_adv_db_release(&db);
}

static void origin_maps_subpackages(void)
{
	struct dd_adv_db db = load_db();
	struct dd_adv_pkg pk[] = {
		{ "libssl3", "3.1.4-r1", "openssl", "x86_64" },
		{ "libcrypto3", "3.1.4-r0", "openssl", "x86_64" },
		{ "xen-libs", "4.18.0-r2", "xen", "x86_64" },
		{ "openssl-lookalike", "1.0-r0", "other", "x86_64" },
	};
	struct dd_adv_report r;
	size_t per_pkg[4] = { 0 };

	CHECK(dd_adv_analyze(&db, NULL, pk, 4, &r) == 0);
	for (size_t i = 0; i < r.n; i++)
		per_pkg[r.items[i].pkg]++;
	/* every id of the origin, for each package of it; none by name */
	CHECK(per_pkg[0] == 4 && per_pkg[1] == 4 && per_pkg[2] == 3 && per_pkg[3] == 0);
	CHECK(r.count[DD_ADV_FIXED] == 2 + 3 && r.count[DD_ADV_NOT_AFFECTED] == 2);
	CHECK(r.count[DD_ADV_FIX_NOT_HERE] == 1 + 3 && r.n == 11);
	dd_adv_report_release(&r);
	/* no origin: the name is the origin */
	CHECK(state_of(&db, NULL, "xen", NULL, "4.18.0-r1", "XSA-447", NULL, NULL) ==
	      DD_ADV_FIX_NOT_HERE);
	dd_adv_db_release(&db);
}

static void mirror_offers_the_highest_fix(void)
{
	struct dd_adv_db db = load_db();
	struct dd_apk_pkg pkgs[5];
	struct dd_catalog_pkg info[5];
	struct dd_catalog cat = { .pkgs = pkgs, .info = info, .n = 5 };
	static const char *const v[][3] = {
		{ "curl", "8.5.0_rc1-r0", "x86_64" }, { "curl", "8.5.0_p1-r0", "aarch64" },
		{ "curl", "8.5.0_p1-r0", "x86_64" },  { "curl", "8.5.0_rc2-r0", "x86_64" },
		{ "libssl3", "3.1.4-r10", "x86_64" },
	};
	const char *fixed_in;
	size_t avail = 99;

	memset(pkgs, 0, sizeof(pkgs));
	memset(info, 0, sizeof(info));
	for (size_t i = 0; i < 5; i++) {
		pkgs[i].name = (char *)v[i][0];
		pkgs[i].version = (char *)v[i][1];
		pkgs[i].arch = (char *)v[i][2];
	}
	CHECK(state_of(&db, &cat, "curl", NULL, "8.4.0-r0", "CVE-2023-46218", &fixed_in, &avail) ==
	      DD_ADV_FIX_AVAILABLE);
	CHECK(avail == 2 && t_str_is(fixed_in, "8.5.0_rc2-r0"));
	/* the only _p1 of this architecture is the one offered */
	CHECK(state_of(&db, &cat, "curl", NULL, "8.5.0-r0", "GHSA-abcd-efgh-ijkl", NULL, &avail) ==
	      DD_ADV_FIX_AVAILABLE);
	CHECK(avail == 2);
	/* a subpackage is offered by its own name, judged by its origin */
	CHECK(state_of(&db, &cat, "libssl3", "openssl", "3.1.4-r9", "CVE-2024-0727", NULL,
		       &avail) == DD_ADV_FIX_AVAILABLE);
	CHECK(avail == 4);
	CHECK(state_of(&db, &cat, "libcrypto3", "openssl", "3.1.4-r9", "CVE-2024-0727", NULL,
		       NULL) == DD_ADV_FIX_NOT_HERE);
	dd_adv_db_release(&db);
}

static void installed_db_fields(void)
{
	static const char db[] =
		"C:Q1abc=\nP:libssl3\nV:3.1.4-r0\nA:x86_64\no:openssl\n"
		"F:usr/lib\nR:libssl.so.3\nZ:Q1xyz=\n\nP:busybox\nV:1.36.1-r2\n\n\n";
	struct dd_installed in = { 0 };
	struct dd_installed_image img = { 0 };

	in.images = &img;
	CHECK(dd_installed_parse(db, sizeof(db) - 1, &img) == 0);
	CHECK(img.n == 2);
	CHECK(t_str_is(img.pkgs[0].name, "libssl3") && t_str_is(img.pkgs[0].origin, "openssl"));
	CHECK(t_str_is(img.pkgs[0].arch, "x86_64") && t_str_is(img.pkgs[1].version, "1.36.1-r2"));
	CHECK(img.pkgs[1].origin == NULL);
	in.n = 1;
	in.images = dd_xcalloc(1, sizeof(img));
	in.images[0] = img;
	dd_installed_release(&in);
	memset(&img, 0, sizeof(img));
	CHECK(dd_installed_parse("P:a\nA:x\n\n", 10, &img) == DD_E_FORMAT);
	CHECK(strstr(dd_error_detail(), "has no V: (version)"));
	in.images = dd_xcalloc(1, sizeof(img));
	in.images[0] = img;
	in.n = 1;
	dd_installed_release(&in);
}

static void fixed_between_runs(void)
{
	json_t *before = json_loads("[{\"id\": \"CVE-1\", \"package\": \"z\", \"version\": "
				    "\"1-r9\", \"state\": \"fix_available\"},"
				    " {\"id\": \"CVE-2\", \"package\": \"z\", \"version\": "
				    "\"1-r9\", \"state\": \"fix_not_here\"},"
				    " {\"id\": \"CVE-3\", \"package\": \"z\", \"version\": "
				    "\"1-r9\", \"state\": \"fixed\"},"
				    " {\"id\": \"CVE-4\", \"package\": \"y\", \"version\": \"2\", "
				    "\"state\": \"fix_available\"}]",
				    0, NULL);
	json_t *after = json_loads("[{\"id\": \"CVE-1\", \"package\": \"z\", \"version\": "
				   "\"1-r10\", \"state\": \"fixed\","
				   "  \"fixed_in\": \"1-r10\"},"
				   " {\"id\": \"CVE-2\", \"package\": \"z\", \"version\": "
				   "\"1-r10\", \"state\": \"fix_not_here\"},"
				   " {\"id\": \"CVE-3\", \"package\": \"z\", \"version\": "
				   "\"1-r10\", \"state\": \"fixed\"}]",
				   0, NULL);
	json_t *f = dd_adv_fixed_between(before, after);

	CHECK(before && after && json_array_size(f) == 1);
	CHECK(t_str_is(json_string_value(json_object_get(json_array_get(f, 0), "id")), "CVE-1"));
	CHECK(t_str_is(json_string_value(json_object_get(json_array_get(f, 0), "to")), "1-r10"));
	json_decref(f);
	f = dd_adv_fixed_between(NULL, after);
	CHECK(f && json_array_size(f) == 0);
	json_decref(f);
	json_decref(before);
	json_decref(after);
}

void suite_advisory(void)
{
	RUN(secdb_parses_every_id);
	RUN(secdb_refuses_bad_documents);
	RUN(member_kind_secdb);
	RUN(version_order_decides_fixed);
	RUN(zero_means_not_affected);
	RUN(origin_maps_subpackages);
	RUN(mirror_offers_the_highest_fix);
	RUN(installed_db_fields);
	RUN(fixed_between_runs);
}
