/* Mail through the local MTA: `<sendmail> -t -oi` (recipients from the
 * message's To: header, a lone "." line is not the end), run through the
 * spawn layer with the message on stdin, never a shell. */
#ifndef VOLREP_NOTIFY_MAIL_H
#define VOLREP_NOTIFY_MAIL_H

#include "base/strbuf.h"

/* Run sendmail (an absolute path) with message on stdin; the program is
 * killed after timeout_s seconds. Returns 0, or -errno / -EIO (non-zero
 * exit, with its first line of output) with the reason in err. */
int mail_send(const char *sendmail, const char *message, unsigned timeout_s, struct strbuf *err);

#endif
