/* bourse.h: the whole public plugin API in one include. */
#ifndef BOURSE_BOURSE_H
#define BOURSE_BOURSE_H

#include "errors.h"
#include "host.h"
#include "plugin.h"
#include "strategy.h"
#include "types.h"
#include "venue.h"
#include "version.h"

#endif
