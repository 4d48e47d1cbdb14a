/* Functions volrep does not use, after git's banned.h: a call fails to
 * compile with "sorry_<name>_is_a_banned_function" undeclared. Included
 * in every translation unit through base/common.h (the Makefile passes
 * -include), after the system headers that declare them.
 *
 * Why each is banned, and what to use instead:
 *  - strcpy, strcat, strncpy, strncat, sprintf, vsprintf: unbounded or
 *    easy to truncate silently; use strbuf (base/strbuf.h), or snprintf
 *    into a buffer whose size is checked;
 *  - gets: unbounded; strtok: hidden state between calls (strtok_r or
 *    strvec_split);
 *  - system, popen: a shell; processes start only from src/exec with an
 *    argv array (exec/spawn.h);
 *  - asctime, ctime, gmtime, localtime: static buffers; the _r forms, or
 *    base/time-util.h;
 *  - mktemp, tmpnam: racy names; mkstemp, mkdtemp. */
#ifndef VOLREP_BASE_BANNED_H
#define VOLREP_BASE_BANNED_H

#define BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) BANNED(strcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) BANNED(strncat)

#undef sprintf
#undef vsprintf
#define sprintf(...) BANNED(sprintf)
#define vsprintf(...) BANNED(vsprintf)

#undef gets
#define gets(x) BANNED(gets)
#undef strtok
#define strtok(x, y) BANNED(strtok)

#undef system
#define system(x) BANNED(system)
#undef popen
#define popen(x, y) BANNED(popen)

#undef asctime
#define asctime(t) BANNED(asctime)
#undef ctime
#define ctime(t) BANNED(ctime)
#undef gmtime
#define gmtime(t) BANNED(gmtime)
#undef localtime
#define localtime(t) BANNED(localtime)

#undef mktemp
#define mktemp(x) BANNED(mktemp)
#undef tmpnam
#define tmpnam(x) BANNED(tmpnam)

#endif
