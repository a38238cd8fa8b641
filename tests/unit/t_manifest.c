#include "test.h"

#include <stdio.h>
#include <string.h>

#include "bundle/manifest.h"
#include "core/error.h"

#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good[] =
	"{\"format\": \"drydock-bundle/1\", \"channel\": \"stable\", \"sequence\": 7,\n"
	" \"created\": \"2026-11-26T12:00:00Z\", \"expires\": \"2027-01-31\",\n"
	" \"members\": [\n"
	"  {\"path\": \"packages/a-1.0-r0.apk\", \"kind\": \"apk\", \"size\": 10, \"sha256\": "
	"\"" SHA "\"},\n"
	"  {\"path\": \"x86_64/APKINDEX.tar.gz\", \"size\": 5, \"sha256\": \"" SHA "\"},\n"
	"  {\"path\": \"b.apk\", \"size\": 1, \"sha256\": \"" SHA "\", \"unsigned\": true}]}\n";

static void t_manifest_good(void)
{
	struct dd_manifest m;
	struct dd_buf out = DD_BUF_INIT;

	CHECK_MSG(dd_manifest_parse(DD_BLOB(good), &m) == 0, "%s", dd_error_detail());
	CHECK(!strcmp(m.channel, "stable") && m.sequence == 7 && m.n_members == 3);
	CHECK(m.expires - m.created == 66 * 86400 - 12 * 3600);
	CHECK(m.members[1].kind == DD_MEMBER_APKINDEX && m.members[2].unsigned_ok);
	CHECK(dd_manifest_find(&m, "b.apk") == &m.members[2] && !dd_manifest_find(&m, "c.apk"));
	/* what create writes parses back to the same */
	dd_manifest_write(&m, &out);
	dd_manifest_release(&m);
	CHECK(dd_manifest_parse(dd_buf_blob(&out), &m) == 0);
	CHECK(m.n_members == 3 && m.members[2].unsigned_ok && m.sequence == 7);
	dd_manifest_release(&m);
	dd_buf_release(&out);
}

/* A manifest of one member whose fields are given by `member`. */
static int bad_member(const char *member, const char *want)
{
	char text[2048];
	struct dd_manifest m;
	int rc;

	snprintf(text, sizeof(text),
		 "{\"format\": \"drydock-bundle/1\", \"channel\": \"c\", "
		 "\"sequence\": 1, \"created\": \"2026-01-01\", \"expires\": \"2027-01-01\", "
		 "\"members\": [%s]}",
		 member);
	rc = dd_manifest_parse(dd_blob_str(text), &m);
	if (rc == 0)
		dd_manifest_release(&m);
	if (rc == 0 || !strstr(dd_error_detail(), want)) {
		fprintf(stderr, "  %s -> %s\n", member, rc ? dd_error_detail() : "(accepted)");
		return 0;
	}
	return 1;
}

static void t_manifest_bad_members(void)
{
	CHECK(bad_member("{\"path\": \"../x.apk\", \"size\": 1, \"sha256\": \"" SHA "\"}",
			 "'../x.apk': path not allowed"));
	CHECK(bad_member("{\"path\": \"/x.apk\", \"size\": 1, \"sha256\": \"" SHA "\"}",
			 "path not allowed"));
	CHECK(bad_member("{\"path\": \"manifest.json\", \"size\": 1, \"sha256\": \"" SHA "\"}",
			 "path not allowed"));
	CHECK(bad_member("{\"path\": \"notes.txt\", \"size\": 1, \"sha256\": \"" SHA "\"}",
			 "not a kind of file a bundle carries"));
	CHECK(bad_member("{\"path\": \"a.apk\", \"size\": 1, \"sha256\": \"ABC\"}",
			 "sha256 is not 64 lower-case hex digits"));
	CHECK(bad_member("{\"path\": \"a.apk\", \"size\": -1, \"sha256\": \"" SHA "\"}",
			 "field 'size' is missing or not a non-negative integer"));
	CHECK(bad_member(
		"{\"path\": \"a.apk\", \"kind\": \"apkindex\", \"size\": 1, \"sha256\": \"" SHA
		"\"}",
		"kind is not 'apk', which its name says"));
	CHECK(bad_member("{\"path\": \"a.apk\", \"size\": 1, \"sha256\": \"" SHA
			 "\", \"unsigned\": 1}",
			 "'unsigned' is not a boolean"));
	CHECK(bad_member("{\"path\": \"a.apk\", \"size\": 1, \"sha256\": \"" SHA "\"}, "
			 "{\"path\": \"a.apk\", \"size\": 1, \"sha256\": \"" SHA "\"}",
			 "manifest lists 'a.apk' twice"));
}

static int bad_text(const char *text, const char *want)
{
	struct dd_manifest m;
	int rc = dd_manifest_parse(dd_blob_str(text), &m);

	if (rc == 0)
		dd_manifest_release(&m);
	if (rc == 0 || !strstr(dd_error_detail(), want)) {
		fprintf(stderr, "  -> %s\n", rc ? dd_error_detail() : "(accepted)");
		return 0;
	}
	return 1;
}

static void t_manifest_bad_fields(void)
{
	CHECK(bad_text("[]", "not a JSON object"));
	CHECK(bad_text("{\"format\": \"drydock-bundle/1\",", "manifest: line"));
	CHECK(bad_text("{\"format\": \"drydock-bundle/9\"}", "format 'drydock-bundle/9' is not"));
	CHECK(bad_text("{\"format\": \"drydock-bundle/1\", \"channel\": \"c\", \"sequence\": 1, "
		       "\"created\": \"yesterday\"}",
		       "'yesterday' is not a UTC time"));
	CHECK(bad_text("{\"format\": \"drydock-bundle/1\", \"channel\": \"c\", \"channel\": \"d\"}",
		       "duplicate"));
}

static void t_entitlement(void)
{
	static const char text[] =
		"{\"format\": \"drydock-entitlements/1\", \"organization\": \"Org\", \"version\": "
		"3,"
		" \"issued\": \"2026-01-01\", \"expires\": \"2027-01-01\", \"images\": ["
		" {\"name\": \"img\", \"base\": [\"musl\"], \"packages\": ["
		"  {\"name\": \"musl\", \"version\": \"1.2.3-r2\"}]}]}";
	struct dd_entitlement e;

	CHECK_MSG(dd_entitlement_parse(DD_BLOB(text), &e) == 0, "%s", dd_error_detail());
	CHECK(e.version == 3 && e.n_images == 1 && e.images[0].n_base == 1);
	CHECK(!strcmp(e.images[0].packages[0].version, "1.2.3-r2"));
	dd_entitlement_release(&e);
	CHECK(dd_entitlement_parse(DD_BLOB("{\"format\": \"drydock-entitlements/1\", "
					   "\"organization\": \"O\", \"version\": 1, \"issued\": "
					   "\"2026-01-01\", "
					   "\"expires\": \"2027-01-01\", \"images\": [{\"name\": "
					   "\"i\", \"base\": [1], "
					   "\"packages\": []}]}"),
				   &e) == DD_E_FORMAT);
	CHECK(strstr(dd_error_detail(), "entitlements image 'i': field 'base'"));
	CHECK(dd_entitlement_parse(DD_BLOB("{\"format\": \"drydock-entitlements/1\"}"), &e) ==
	      DD_E_FORMAT);
	CHECK(strstr(dd_error_detail(), "field 'organization'"));
}

void suite_manifest(void)
{
	RUN(t_manifest_good);
	RUN(t_manifest_bad_members);
	RUN(t_manifest_bad_fields);
	RUN(t_entitlement);
}
