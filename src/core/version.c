#include "core/version.h"

#include "alrs_build_info.h" /* generated in the build tree (cmake/build-info.cmake) */

const char *alrs_version_number(void) { return ALRS_VERSION_STRING; }

const char *alrs_git_commit(void) { return ALRS_GIT_COMMIT; }

const char *alrs_version_text(void) { return ALRS_VERSION_STRING " (git " ALRS_GIT_COMMIT ")"; }
