#include "core/leak.h"

#if defined(__SANITIZE_ADDRESS__)
#define DD_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DD_HAVE_LSAN 1
#endif
#endif

#ifdef DD_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#endif

void dd_leak_check(void)
{
#ifdef DD_HAVE_LSAN
	/* With detect_leaks=0 this checks nothing. */
	__lsan_do_recoverable_leak_check();
#endif
}
