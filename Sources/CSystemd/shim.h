#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>
#include <sys/uio.h>
#include <sys/socket.h>

/* Non-variadic entry points for Swift. */
static inline int rnnd_sd_notify(const char *state) { return sd_notify(0, state); }
