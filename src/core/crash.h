/* Crash tests: die at a named point, as a power cut or kill -9 would. */
#ifndef DD_CORE_CRASH_H
#define DD_CORE_CRASH_H

/* When $DRYDOCK_CRASH_AT equals point, die by SIGKILL. */
void dd_crash_point(const char *point);

#endif
