// Linux system calls that glibc 2.36 does not wrap, for the daemon's file access, and the
// glibc settings Swift's Glibc module does not export.
#ifndef CLINUX_H
#define CLINUX_H

#include <stdint.h>

/// openat2(2) with `struct open_how {flags, mode, resolve}`; -1 with errno set on failure
/// (ENOSYS before Linux 5.6, or under a seccomp filter that refuses it).
int rnnd_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve);

/// renameat2(2) with RENAME_NOREPLACE: fails with EEXIST instead of replacing `newpath`
/// (a folder renamed over an empty folder would otherwise succeed).
int rnnd_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath);

/// mallopt(M_ARENA_MAX, arenas): caps malloc's arenas (malloc.h is not in Swift's Glibc).
int rnnd_limit_malloc_arenas(int arenas);

/// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS.
#define RNND_RESOLVE_STRICT 0x0EULL

#endif
