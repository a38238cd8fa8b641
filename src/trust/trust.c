#include "trust/trust.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <stdio.h>

#include "core/error.h"

const char *dd_role_str(enum dd_role r)
{
	return r == DD_ROLE_BUNDLE ? "bundle" : r == DD_ROLE_ENTITLEMENT ? "entitlement" : "apk";
}

int dd_role_parse(const char *s, enum dd_role *r)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(s, dd_role_str((enum dd_role)i))) {
			*r = (enum dd_role)i;
			return 0;
		}
	return dd_error(DD_E_USAGE, "role '%s' is not bundle, entitlement or apk", s);
}

void dd_trust_add_fpr(struct dd_trust *t, enum dd_role r, const char *fpr)
{
	t->fprs[r] = dd_xrealloc(t->fprs[r], (t->n_fprs[r] + 1) * sizeof(*t->fprs[r]));
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
	free(t->fprs[0]);
	free(t->fprs[1]);
	t->fprs[0] = t->fprs[1] = NULL;
	t->n_fprs[0] = t->n_fprs[1] = 0;
	dd_keyring_release(&t->apk);
}
