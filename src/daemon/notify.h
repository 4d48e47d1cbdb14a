/* Readiness and status notifications to the service manager: systemd's
 * sd_notify() datagram protocol, implemented directly so that volrep needs
 * no libsystemd. With NOTIFY_SOCKET unset (not started by systemd as
 * Type=notify) every call is a no-op. */
#ifndef VOLREP_DAEMON_NOTIFY_H
#define VOLREP_DAEMON_NOTIFY_H

/* Take NOTIFY_SOCKET from the environment and remove it there, so that
 * worker processes do not inherit it (only the main process may speak for
 * the service). Returns 1 when notifications are enabled, 0 when not,
 * -EINVAL for an unusable address. */
int notify_init(void);

/* Send one datagram, e.g. "READY=1", "STATUS=2 jobs running",
 * "STOPPING=1". Returns 0 (also when disabled) or -errno. */
int notify_send(const char *msg);

/* Forget the socket (tests). */
void notify_reset(void);

#endif
