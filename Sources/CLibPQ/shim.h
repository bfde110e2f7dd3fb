// CLibPQ: the system libpq, for PostgresDriver only. Debian keeps the header under
// /usr/include/postgresql, which pkg-config adds to the search path.
#ifndef FIELDSYNC_CLIBPQ_SHIM_H
#define FIELDSYNC_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
