/* Common includes for the cmocka unit tests (one file per module). */
#ifndef VOLREP_TESTS_UNIT_H
#define VOLREP_TESTS_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
