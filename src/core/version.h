/* The version of alrs and the git commit it was built from (written into
 * every run's config.txt and metadata.txt, and printed by alrs --version). */
#ifndef ALRS_CORE_VERSION_H
#define ALRS_CORE_VERSION_H

/* "1.0.0" */
const char *alrs_version_number(void);
/* The short commit hash, "...-modified" when the sources differed from it,
 * "unknown" outside a git checkout. */
const char *alrs_git_commit(void);
/* "1.0.0 (git 1a2b3c4d5e6f)" */
const char *alrs_version_text(void);

#endif
