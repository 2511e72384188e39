#!/usr/bin/env python3
"""Self-test for lossyfs: mounts it in a temp dir and checks crash semantics with real syscalls.

    python3 Tests/powerloss/selftest.py       (as root, or any user allowed to mount FUSE)

Exits non-zero and lists the failed checks if any.
"""
import errno, fcntl, os, signal, socket, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
failures, passed = [], 0


def check(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def write(path, data, sync=True, flags=os.O_WRONLY | os.O_CREAT | os.O_TRUNC):
    fd = os.open(path, flags, 0o644)
    os.write(fd, data)
    if sync:
        os.fsync(fd)
    os.close(fd)


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)


def expect_errno(code, fn, *args):
    try:
        fn(*args)
    except OSError as e:
        return e.errno == code
    return False


class Mount:
    def __init__(self, root):
        self.backing, self.mnt, self.ctl = (os.path.join(root, n) for n in ("backing", "mnt", "ctl"))
        os.mkdir(self.backing)
        os.mkdir(self.mnt)
        self.log = os.path.join(root, "lossyfs.log")
        self.proc = subprocess.Popen([sys.executable, os.path.join(HERE, "lossyfs.py"), "--control", self.ctl,
                                      "--log", self.log, self.backing, self.mnt])
        deadline = time.time() + 15
        while not (os.path.ismount(self.mnt) and os.path.exists(self.ctl)):
            if self.proc.poll() is not None or time.time() > deadline:
                sys.exit("lossyfs did not mount")
            time.sleep(0.05)

    def crash(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(self.ctl)
            s.sendall(b"crash\n")
            s.shutdown(socket.SHUT_WR)
            assert s.makefile().read().startswith("ok"), "crash command failed"

    def fresh_dir(self, name):
        """A durable, empty folder for one test case."""
        path = os.path.join(self.mnt, name)
        os.mkdir(path)
        fsync_dir(self.mnt)
        return path


def test_unsynced_data_lost(m):
    d = m.fresh_dir("a")
    f = os.path.join(d, "f")
    write(f, b"version 1")
    fsync_dir(d)
    write(f, b"v2", sync=False)                      # rewritten and closed, never fsynced
    write(os.path.join(d, "new"), b"never synced", sync=False)
    check(read(f) == b"v2", "(a) running programs see unsynced data")
    m.crash()
    check(read(f) == b"version 1", f"(a) unsynced rewrite lost after crash, got {read(f)!r}")
    check(read(os.path.join(d, "new")) is None, "(a) unsynced new file gone after crash")
    check(read(os.path.join(m.backing, "a", "f")) == b"version 1", "(a) backing dir holds the durable state")


def test_unsynced_entries_lost(m):
    d = m.fresh_dir("b")
    write(os.path.join(d, "f"), b"data")              # file fsynced, folder never fsynced
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    write(os.path.join(sub, "g"), b"data")
    fsync_dir(sub)                                    # sub's own entry in d never fsynced
    m.crash()
    check(not os.path.exists(os.path.join(d, "f")), "(b) fsynced file whose folder was not fsynced is gone")
    check(not os.path.exists(sub), "(b) fsynced file in an unsynced new folder is gone")


def test_synced_survives(m):
    d = m.fresh_dir("c")
    sub = os.path.join(d, "sub")
    os.mkdir(sub)
    fsync_dir(d)
    write(os.path.join(sub, "g"), b"kept")
    fsync_dir(sub)
    write(os.path.join(d, "empty"), b"not fsynced", sync=False)
    fsync_dir(d)                                      # entry durable, data not
    m.crash()
    check(read(os.path.join(sub, "g")) == b"kept", "(c) file fsynced + folder fsynced survives")
    check(read(os.path.join(d, "empty")) == b"", "(c) durable entry of a never-fsynced file is empty")


ATOMIC_STEPS = ["create tmp", "write tmp", "fsync tmp", "rename tmp over final", "fsync folder"]


def atomic_replace(d, data, stop_after, fsync_tmp=True):
    tmp, final = os.path.join(d, "final.tmp"), os.path.join(d, "final")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    for step in range(1, len(ATOMIC_STEPS)):
        if step > stop_after:
            break
        if step == 1:
            os.write(fd, data)
        elif step == 2 and fsync_tmp:
            os.fsync(fd)
        elif step == 3:
            os.close(fd)
            fd = None
            os.rename(tmp, final)
        elif step == 4:
            fsync_dir(d)
    if fd is not None:
        os.close(fd)


def test_atomic_write(m):
    old, new = b"OLD" * 1000, b"NEW" * 2000
    for stop in range(len(ATOMIC_STEPS)):
        d = m.fresh_dir(f"d{stop}")
        write(os.path.join(d, "final"), old)
        fsync_dir(d)
        atomic_replace(d, new, stop)
        m.crash()
        got = read(os.path.join(d, "final"))
        want = new if stop == len(ATOMIC_STEPS) - 1 else old
        check(got == want, f"(d) crash after '{ATOMIC_STEPS[stop]}': want {want[:3]!r}*, got {got and got[:12]!r} "
                           f"len {got and len(got)}")
        check(not os.path.exists(os.path.join(d, "final.tmp")), f"(d) no tmp left after '{ATOMIC_STEPS[stop]}'")
    d = m.fresh_dir("d-broken")                        # the bug the pattern exists for: no fsync of tmp
    write(os.path.join(d, "final"), old)
    fsync_dir(d)
    atomic_replace(d, new, len(ATOMIC_STEPS) - 1, fsync_tmp=False)
    m.crash()
    check(read(os.path.join(d, "final")) == b"", "(d) skipping the tmp fsync is caught: final is empty")


def test_appends(m):
    d = m.fresh_dir("e")
    f = os.path.join(d, "spool")
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.write(fd, b"rec1\n")
    os.fsync(fd)
    fsync_dir(d)
    os.write(fd, b"rec2\n")
    os.fdatasync(fd)
    os.write(fd, b"rec3\n")
    os.close(fd)
    fd = os.open(f, os.O_WRONLY | os.O_APPEND)
    check(os.lseek(fd, 0, os.SEEK_END) == 15, "(e) lseek(SEEK_END) sees all appends")
    os.pwrite(fd, b"rec4\n", 0)                       # O_APPEND ignores the offset, as on Linux
    os.close(fd)
    check(read(f) == b"rec1\nrec2\nrec3\nrec4\n", f"(e) O_APPEND appends, got {read(f)!r}")
    m.crash()
    check(read(f) == b"rec1\nrec2\n", f"(e) fsynced appends kept, later ones lost, got {read(f)!r}")
    fd = os.open(f, os.O_RDWR)                        # ftruncate + pwrite/pread, then crash
    os.ftruncate(fd, 5)
    os.pwrite(fd, b"XY", 10)
    os.fsync(fd)
    os.ftruncate(fd, 1)
    check(os.pread(fd, 100, 0) == b"r", "(e) ftruncate visible")
    os.close(fd)
    m.crash()
    check(read(f) == b"rec1\n\0\0\0\0\0XY", f"(e) fsynced ftruncate+pwrite kept, got {read(f)!r}")


def test_renames(m):
    d = m.fresh_dir("f")
    a, b = os.path.join(d, "a"), os.path.join(d, "b")
    write(a, b"A")
    write(b, b"B")
    fsync_dir(d)
    os.rename(a, b)                                   # replaces b, not made durable
    check(read(b) == b"A" and read(a) is None, "(f) rename visible before crash")
    m.crash()
    check(read(a) == b"A" and read(b) == b"B", "(f) rename without folder fsync reverts")
    os.unlink(a)
    m.crash()
    check(read(a) == b"A", "(f) unlink without folder fsync reverts")
    os.unlink(a)
    fsync_dir(d)
    m.crash()
    check(read(a) is None, "(f) unlink + folder fsync is durable")
    src, dst = m.fresh_dir("f-src"), m.fresh_dir("f-dst")
    write(os.path.join(src, "x"), b"X")
    fsync_dir(src)
    os.rename(os.path.join(src, "x"), os.path.join(dst, "x"))
    fsync_dir(dst)
    fsync_dir(src)
    m.crash()
    check(os.listdir(src) == [] and read(os.path.join(dst, "x")) == b"X", "(f) cross-folder rename, both fsynced")


def test_misc(m):
    d = m.fresh_dir("g")
    f = os.path.join(d, "f")
    write(f, b"secret")
    os.symlink(f, os.path.join(d, "link"))
    fsync_dir(d)
    link = os.path.join(d, "link")
    check(os.readlink(link) == f and os.path.islink(link), "(g) symlink/readlink/lstat")
    check(expect_errno(errno.ELOOP, os.open, link, os.O_RDONLY | os.O_NOFOLLOW), "(g) O_NOFOLLOW refuses a symlink")
    check(expect_errno(errno.EEXIST, os.open, f, os.O_WRONLY | os.O_CREAT | os.O_EXCL), "(g) O_EXCL on existing")
    os.mkdir(os.path.join(d, "sub"))
    check(expect_errno(errno.ENOTEMPTY, os.rmdir, d), "(g) rmdir of a non-empty folder fails")
    os.rmdir(os.path.join(d, "sub"))
    check(sorted(os.listdir(d)) == ["f", "link"], f"(g) readdir, got {sorted(os.listdir(d))}")
    check(os.stat(f).st_size == 6 and os.lstat(link).st_size == len(f), "(g) stat/lstat sizes")
    fd = os.open(f, os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)    # handled by the kernel, locally
    fd2 = os.open(f, os.O_RDONLY)
    check(expect_errno(errno.EWOULDBLOCK, fcntl.flock, fd2, fcntl.LOCK_EX | fcntl.LOCK_NB), "(g) flock excludes")
    os.close(fd2)
    m.crash()
    check(read(link) == b"secret", "(g) fsynced symlink survives")
    check(expect_errno(errno.EIO, os.read, fd, 10), "(g) fds opened before the crash are dead (EIO)")
    os.close(fd)
    os.kill(m.proc.pid, signal.SIGUSR1)                # the asynchronous crash trigger
    time.sleep(0.3)
    check(read(link) == b"secret", "(g) SIGUSR1 crash keeps durable state")


def main():
    with tempfile.TemporaryDirectory(prefix="lossyfs-selftest-") as root:
        m = Mount(root)
        try:
            for test in (test_unsynced_data_lost, test_unsynced_entries_lost, test_synced_survives,
                         test_atomic_write, test_appends, test_renames, test_misc):
                try:
                    test(m)
                    print("ran", test.__name__)
                except Exception as e:
                    failures.append(f"{test.__name__} raised {e!r}")
                    print("FAIL:", failures[-1])
        finally:
            m.proc.send_signal(signal.SIGTERM)
            code = m.proc.wait(timeout=15)
            check(code == 0 and not os.path.ismount(m.mnt), f"SIGTERM unmounts cleanly (exit {code})")
            if failures:
                print("--- lossyfs log tail ---")
                print("".join(open(m.log).readlines()[-30:]))
    print(f"{passed} checks passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
