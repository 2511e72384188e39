#include "CLinux.h"

#include <errno.h>
#include <malloc.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_renameat2
#define SYS_renameat2 316
#endif
#define RNND_RENAME_NOREPLACE 1

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

struct rnnd_open_how {
    uint64_t flags;
    uint64_t mode;
    uint64_t resolve;
};

int rnnd_openat2(int dirfd, const char *path, uint64_t flags, uint64_t mode, uint64_t resolve) {
    struct rnnd_open_how how = {flags, mode, resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

int rnnd_rename_noreplace(int olddirfd, const char *oldpath, int newdirfd, const char *newpath) {
    return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, RNND_RENAME_NOREPLACE);
}

int rnnd_limit_malloc_arenas(int arenas) {
#ifdef M_ARENA_MAX
    return mallopt(M_ARENA_MAX, arenas);
#else
    (void)arenas;
    return 0;
#endif
}
