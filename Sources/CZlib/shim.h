// CZlib: the system zlib, for SyncWire's deflate framing.
#ifndef FIELDSYNC_CZLIB_SHIM_H
#define FIELDSYNC_CZLIB_SHIM_H
#include <zlib.h>

/// deflateInit2 is a macro that passes the library version and the stream's size; Swift
/// cannot import macros with arguments, so these wrap the calls.
static inline int fieldsync_deflateInit2(z_streamp stream, int level, int windowBits, int memLevel) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

static inline int fieldsync_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}
#endif
