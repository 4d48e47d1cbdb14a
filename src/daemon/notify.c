#include "daemon/notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un addr;
static socklen_t addr_len;

int notify_init(void)
{
	const char *path = getenv("NOTIFY_SOCKET");
	size_t n;

	addr_len = 0;
	if (!path || !*path)
		return 0;
	n = strlen(path);
	/* a filesystem path or an abstract name ('@' stands for the leading
	 * NUL); anything else (vsock:, relative) is not for us */
	if ((path[0] != '/' && path[0] != '@') || n >= sizeof(addr.sun_path)) {
		unsetenv("NOTIFY_SOCKET");
		return -EINVAL;
	}
	memset(&addr, 0, sizeof(addr));
	addr.sun_family = AF_UNIX;
	memcpy(addr.sun_path, path, n);
	if (path[0] == '@')
		addr.sun_path[0] = '\0';
	addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (path[0] == '/' ? 1 : 0));
	unsetenv("NOTIFY_SOCKET");
	return 1;
}

int notify_send(const char *msg)
{
	int fd, r = 0;

	if (!addr_len)
		return 0;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&addr, addr_len) < 0)
		r = -errno;
	close(fd);
	return r;
}

void notify_reset(void)
{
	addr_len = 0;
}
