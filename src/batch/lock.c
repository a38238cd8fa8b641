/* OUT's batch lock (batch/batch.h). */
#include <errno.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "batch/batch.h"
#include "core/error.h"

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int dd_batch_lock(const char *path, int wait_seconds, int *fd)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int64_t until = now_ms() + (int64_t)(wait_seconds > 0 ? wait_seconds : 0) * 1000;
	int f = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	*fd = -1;
	if (f < 0)
		return dd_error_errno("%s", path);
	/* polled rather than F_SETLKW, so that the wait is bounded */
	while (fcntl(f, F_SETLK, &fl) < 0) {
		struct timespec pause = { 0, 100 * 1000 * 1000 };

		if (errno != EACCES && errno != EAGAIN) {
			int rc = dd_error_errno("%s: lock", path);

			close(f);
			return rc;
		}
		if (now_ms() >= until) {
			fl.l_type = F_WRLCK;
			fcntl(f, F_GETLK, &fl);
			close(f);
			return dd_error(DD_E_BUSY,
					"%s is held by another batch (pid %ld) after "
					"waiting %d s; let it finish, or give a longer --wait",
					path, (long)fl.l_pid, wait_seconds);
		}
		nanosleep(&pause, NULL);
		fl = (struct flock){ .l_type = F_WRLCK, .l_whence = SEEK_SET };
	}
	*fd = f;
	return 0;
}
