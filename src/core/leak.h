/* LeakSanitizer for processes that end without exit(). */
#ifndef DD_CORE_LEAK_H
#define DD_CORE_LEAK_H

/*
 * In a build with AddressSanitizer, check for leaks now and report them
 * as LeakSanitizer does at exit (to $ASAN_OPTIONS' log_path), without
 * ending the process; nothing in other builds.  For a forked child that
 * ends with _exit(), which skips the check made at exit: it releases
 * what it owns, calls this, then _exit()s.  Whatever the child's
 * parent still holds stays reachable from the stack it inherited.
 */
void dd_leak_check(void);

#endif
