/* The first header of every translation unit: the Makefile compiles each
 * file with -include src/base/common.h, so no file can forget it. It
 * brings the system headers that declare the banned functions first,
 * then base/banned.h, whose macros would otherwise break those
 * declarations; a later #include of the same system header is a no-op. */
#ifndef VOLREP_BASE_COMMON_H
#define VOLREP_BASE_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/banned.h"

#endif
