#include "trust/trust.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "core/error.h"

const char *dd_role_str(enum dd_role r)
{
	static const char *const names[DD_N_ROLES] = { "bundle", "entitlement", "apk",
						       "provenance" };

	return names[r];
}

int dd_role_parse(const char *s, enum dd_role *r)
{
	for (int i = 0; i < DD_N_ROLES; i++)
		if (!strcmp(s, dd_role_str((enum dd_role)i))) {
			*r = (enum dd_role)i;
			return 0;
		}
	return dd_error(DD_E_USAGE, "role '%s' is not bundle, entitlement, apk or provenance", s);
}

void dd_trust_add_fpr(struct dd_trust *t, enum dd_role r, const char *fpr)
{
	DD_GROW(t->fprs[r], t->n_fprs[r]);
	snprintf(t->fprs[r][t->n_fprs[r]++], 41, "%s", fpr);
}

bool dd_trust_has(const struct dd_trust *t, enum dd_role r, const char *fpr)
{
	if (r == DD_ROLE_APK)
		return false;
	for (size_t i = 0; i < t->n_fprs[r]; i++)
		if (!strcasecmp(t->fprs[r][i], fpr))
			return true;
	return false;
}

void dd_trust_release(struct dd_trust *t)
{
	for (int r = 0; r < DD_N_ROLES; r++) {
		free(t->fprs[r]);
		t->fprs[r] = NULL;
		t->n_fprs[r] = 0;
	}
	dd_keyring_release(&t->apk);
}
