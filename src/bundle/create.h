/*
 * Making a bundle on the connected side: every file of a directory
 * (packages, optionally the upstream APKINDEX.tar.gz and a signed
 * entitlement manifest) is listed with its size and sha256 in a
 * manifest, the manifest is signed with an OpenPGP key, and the lot is
 * written as a tar (optionally zstd) or a directory.
 */
#ifndef DD_BUNDLE_CREATE_H
#define DD_BUNDLE_CREATE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/receipt.h"

struct dd_create_opts {
	const char *channel;
	uint64_t sequence;
	int64_t created, expires;
	const char *sign_key;           /* OpenPGP key id of the signer */
	const char *gnupg_home;         /* its GnuPG home; NULL for the default */
	bool mark_unsigned;             /* list unsigned packages as "unsigned": true */
	uint64_t split;                 /* >0: write parts out.part-001... each below this size */
	const struct dd_receipt *since; /* leave out what this receipt says the site holds */
	size_t n_left_out;              /* out: members left out because of since */
	unsigned n_parts;               /* out: how many parts were written */
};

/* Write the bundle of dir to out: a directory when out ends in '/',
 * tar+zstd when it ends in .zst, else tar; with o->split, that tar
 * (or tar+zstd) cut into parts (bundle/parts.h).  Atomic for files;
 * parts all appear once all are written. */
int dd_bundle_create(const char *dir, struct dd_create_opts *o, const char *out);

#endif
