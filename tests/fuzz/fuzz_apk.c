/*
 * libFuzzer target: any bytes as an .apk / APKINDEX.tar.gz, then as
 * APKINDEX text and .PKGINFO.  Must never crash, hang or leak.
 *   make fuzz            (clang; runs each target for FUZZ_SECONDS)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "apk/pkg.h"
#include "apk/read.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct dd_apk_file f;
	struct dd_apk_pkg *pkgs = NULL, p;
	size_t n = 0;
	int fd = memfd_create("fuzz", 0);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	if (dd_apk_read(path, &f) == 0)
		dd_apk_file_release(&f);
	close(fd);
	if (dd_apkindex_parse((struct dd_blob){ (const char *)data, size }, &pkgs, &n) == 0)
		dd_apk_pkgs_free(pkgs, n);
	memset(&p, 0, sizeof(p));
	dd_pkginfo_parse((struct dd_blob){ (const char *)data, size }, &p);
	dd_apk_pkg_release(&p);
	return 0;
}
