#!/usr/bin/env python3
"""lossyfs: a FUSE passthrough that forgets everything not fsynced when told to "lose power".

    python3 lossyfs.py [--control SOCKET] [--log FILE] [--allow-other] BACKING_DIR MOUNTPOINT
    python3 lossyfs.py ctl SOCKET crash|status      # client; returns once the command is done
    kill -USR1 <pid>                                # same crash, but asynchronous

BACKING_DIR always holds exactly the durable state; the volatile state (what programs see
through MOUNTPOINT) lives in memory. See README.md for the model and its limits.
"""
import collections, errno, itertools, os, shutil, signal, socket, stat, sys, time

try:
    import pyfuse3, trio
except ImportError:
    # Debian's python3-pyfuse3 only exists for the system interpreter (pyenv may shadow it).
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

ROOT = pyfuse3.ROOT_INODE
RENAME_NOREPLACE, RENAME_EXCHANGE = 1, 2


def refuse(condition, code):
    if condition:
        raise pyfuse3.FUSEError(code)


class Node:
    """One inode. The same class holds the volatile and the durable copy of each inode."""
    def __init__(self, mode, uid=0, gid=0, rdev=0):
        self.mode, self.uid, self.gid, self.rdev, self.nlink = mode, uid, gid, rdev, 1
        self.data = bytearray() if stat.S_ISREG(mode) else None
        self.entries = {} if stat.S_ISDIR(mode) else None     # name -> inode
        self.target = b""
        self.atime = self.mtime = self.ctime = time.time_ns()

    def clone(self, fresh=False):
        # fresh: the inode as the durable layer first sees it, before any fsync of its own.
        n = Node.__new__(Node)
        n.__dict__.update(self.__dict__)
        if self.data is not None:
            n.data = bytearray() if fresh else bytearray(self.data)
        if self.entries is not None:
            n.entries = {} if fresh else dict(self.entries)
        return n

    def isdir(self):
        return self.entries is not None


class LossyFS(pyfuse3.Operations):
    def __init__(self, backing, logfile=None):
        super().__init__()
        self.backing = os.fsencode(os.path.abspath(backing))
        self.log_file = open(logfile, "a", buffering=1) if logfile else None
        self.v, self.d = {}, {}                 # inode -> Node: volatile view, durable view
        self.handles = {}                       # fh -> [inode, O_APPEND?, generation, readdir listing]
        self.fhs, self.inos = itertools.count(1), itertools.count(ROOT + 1)
        self.lookups, self.generation = collections.Counter(), 0
        self._load(self.backing, ROOT, {})
        self.d = {ino: n.clone() for ino, n in self.v.items()}

    def log(self, *words):
        if self.log_file:
            text = " ".join(os.fsdecode(w) if isinstance(w, bytes) else str(w) for w in words)
            self.log_file.write(f"{time.strftime('%H:%M:%S')} {text}\n")

    def _load(self, path, ino, seen):
        st = os.lstat(path)
        n = self.v[ino] = Node(st.st_mode, st.st_uid, st.st_gid, st.st_rdev)
        n.atime, n.mtime, n.ctime = st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns
        if n.isdir():
            for name in sorted(os.listdir(path)):
                cst = os.lstat(os.path.join(path, name))
                if (cst.st_dev, cst.st_ino) in seen:    # a hard link in the backing dir stays one inode
                    n.entries[name] = seen[cst.st_dev, cst.st_ino]
                    self.v[n.entries[name]].nlink += 1
                else:
                    n.entries[name] = seen[cst.st_dev, cst.st_ino] = next(self.inos)
                    self._load(os.path.join(path, name), n.entries[name], seen)
        elif n.data is not None:
            with open(path, "rb") as f:
                n.data[:] = f.read()
        elif stat.S_ISLNK(st.st_mode):
            n.target = os.readlink(path)

    # ---- volatile state ----------------------------------------------------------------
    def _node(self, ino):
        refuse(ino not in self.v, errno.ENOENT)   # e.g. an inode that did not survive the crash
        return self.v[ino]

    def _dir(self, ino):
        n = self._node(ino)
        refuse(not n.isdir(), errno.ENOTDIR)
        return n

    def _child(self, parent, name):
        p = self._dir(parent)
        refuse(name not in p.entries, errno.ENOENT)
        return p, p.entries[name], self.v[p.entries[name]]

    def _attr(self, ino):
        n, a = self._node(ino), pyfuse3.EntryAttributes()
        a.st_ino, a.st_mode, a.st_uid, a.st_gid, a.st_rdev = ino, n.mode, n.uid, n.gid, n.rdev
        if n.isdir():
            a.st_nlink = (n.nlink and 2) + sum(1 for c in n.entries.values() if self.v[c].isdir())
            a.st_size = 4096
        else:
            a.st_nlink = n.nlink
            a.st_size = len(n.data) if n.data is not None else len(n.target)
        a.st_blksize, a.st_blocks = 4096, (a.st_size + 511) // 512
        a.st_atime_ns, a.st_mtime_ns, a.st_ctime_ns = n.atime, n.mtime, n.ctime
        a.entry_timeout = a.attr_timeout = 0    # the kernel must not trust a cache across a crash
        return a

    def _looked_up(self, ino):
        self.lookups[ino] += 1
        return self._attr(ino)

    @staticmethod
    def _touch(*nodes):
        for n in nodes:
            n.mtime = n.ctime = time.time_ns()

    def _add(self, parent, name, node, ctx):
        p = self._dir(parent)
        refuse(name in p.entries, errno.EEXIST)
        node.uid, node.gid, ino = ctx.uid, ctx.gid, next(self.inos)
        self.v[ino], p.entries[name] = node, ino
        self._touch(p)
        return self._looked_up(ino)

    def _drop_entry(self, p, name):
        n = self.v[p.entries.pop(name)]
        n.nlink = 0 if n.isdir() else n.nlink - 1
        n.ctime = time.time_ns()
        self._touch(p)

    def _handle(self, fh):
        h = self.handles[fh]
        # The process owning this fd did not survive the power cut.
        refuse(h[2] != self.generation or h[0] not in self.v, errno.EIO)
        return h

    def _maybe_free(self, ino):
        n = self.v.get(ino)
        if n is not None:
            if n.nlink or self.lookups.get(ino) or any(h[0] == ino for h in self.handles.values()):
                return
            del self.v[ino]
        if ino != ROOT and not any(ino in dn.entries.values() for dn in self.d.values() if dn.isdir()):
            self.d.pop(ino, None)

    # ---- durable state: self.d, mirrored into the backing directory ---------------------
    def _dwalk(self):
        """(inode, backing path) of everything reachable in the durable tree."""
        out, stack, seen = [(ROOT, self.backing)], [(ROOT, self.backing)], {ROOT}
        while stack:
            ino, path = stack.pop()
            for name, c in self.d[ino].entries.items():
                out.append((c, os.path.join(path, name)))
                if self.d[c].isdir() and c not in seen:
                    seen.add(c)
                    stack.append(out[-1])
        return out

    def _dpaths(self, ino):
        return [p for c, p in self._dwalk() if c == ino]

    def _render(self, path, ino):
        n = self.d[ino]
        if n.isdir():
            os.mkdir(path)
            for name, c in n.entries.items():
                self._render(os.path.join(path, name), c)
        elif n.data is not None:
            with open(path, "wb") as f:
                f.write(n.data)
        elif stat.S_ISLNK(n.mode):
            os.symlink(n.target, path)
        else:
            os.mknod(path, n.mode, n.rdev)
        self._meta(path, n)

    @staticmethod
    def _meta(path, n):
        if not stat.S_ISLNK(n.mode):
            os.chmod(path, stat.S_IMODE(n.mode))
        if os.geteuid() == 0:
            os.lchown(path, n.uid, n.gid)
        os.utime(path, ns=(n.atime, n.mtime), follow_symlinks=False)

    @staticmethod
    def _remove(path):
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)

    def _sync_file(self, ino):
        old, new = self.d.get(ino), self.v[ino].clone()
        # An append only needs its tail written, which keeps fsync-per-record spools linear.
        grown = old is not None and len(new.data) >= len(old.data) and new.data.startswith(old.data)
        self.d[ino] = new
        paths = self._dpaths(ino)
        for p in paths:
            with open(p, "ab" if grown else "wb") as f:
                f.write(memoryview(new.data)[len(old.data):] if grown else new.data)
            self._meta(p, new)
        self.log("DURABLE data ino", ino, "size", len(new.data), "at", [os.fsdecode(p) for p in paths])

    def _sync_dir(self, ino):
        new = dict(self.v[ino].entries)
        old = dict(self.d[ino].entries) if ino in self.d else {}
        for name, c in new.items():
            if c not in self.d:
                self.d[c] = self.v[c].clone(fresh=True)
            elif self.d[c].isdir() and old.get(name) != c:
                self._detach_dir(c)   # a directory has one durable parent: its move is atomic
        self.d[ino] = self.v[ino].clone()
        self.d[ino].entries = new
        changed = sorted(name for name in set(old) | set(new) if old.get(name) != new.get(name))
        for path in self._dpaths(ino):
            for name in changed:
                self._remove(os.path.join(path, name))
                if name in new:
                    self._render(os.path.join(path, name), new[name])
            self._meta(path, self.d[ino])
        for name in changed:
            if name in old and old[name] not in new.values():
                self._maybe_free(old[name])
        self.log("DURABLE dir ino", ino, "changed", [os.fsdecode(n) for n in changed])

    def _detach_dir(self, child):
        for pino, dn in list(self.d.items()):
            for name in [k for k, c in (dn.entries or {}).items() if c == child]:
                for path in self._dpaths(pino):
                    self._remove(os.path.join(path, name))
                del dn.entries[name]

    def _durably(self, op, ino):
        try:
            op(ino)
        except OSError as e:
            self.log("ERROR writing the backing dir:", e)
            raise pyfuse3.FUSEError(errno.EIO)

    def crash(self):
        """The power cut: the volatile state becomes the durable one; open fds die."""
        reachable = {c for c, _ in self._dwalk()}
        self.d = {ino: n for ino, n in self.d.items() if ino in reachable}
        self.v = {ino: n.clone() for ino, n in self.d.items()}
        links = collections.Counter(c for n in self.v.values() if n.isdir() for c in n.entries.values())
        for ino, n in self.v.items():
            n.nlink = links[ino] or int(ino == ROOT)
        self.generation += 1
        self.log("CRASH", self.generation, "- volatile state dropped,", len(self.v), "inodes survive")

    # ---- FUSE operations -----------------------------------------------------------------
    async def lookup(self, parent, name, ctx=None):
        return self._looked_up(self._child(parent, name)[1])

    async def forget(self, inode_list):
        for ino, count in inode_list:
            self.lookups[ino] -= count
            if self.lookups[ino] <= 0:
                del self.lookups[ino]
                self._maybe_free(ino)

    async def getattr(self, ino, ctx=None):
        return self._attr(ino)

    async def setattr(self, ino, attr, fields, fh, ctx):
        n = self._node(ino)
        changed = [f for f in ("size", "mode", "uid", "gid", "atime", "mtime") if getattr(fields, "update_" + f)]
        self.log("setattr ino", ino, *changed, "size", attr.st_size if fields.update_size else "-")
        if fields.update_size:
            refuse(n.data is None, errno.EINVAL)
            del n.data[attr.st_size:]
            n.data.extend(bytes(attr.st_size - len(n.data)))
            self._touch(n)
        if fields.update_mode:
            n.mode = stat.S_IFMT(n.mode) | stat.S_IMODE(attr.st_mode)
        n.uid = attr.st_uid if fields.update_uid else n.uid
        n.gid = attr.st_gid if fields.update_gid else n.gid
        n.atime = attr.st_atime_ns if fields.update_atime else n.atime
        n.mtime = attr.st_mtime_ns if fields.update_mtime else n.mtime
        n.ctime = time.time_ns()
        return self._attr(ino)

    async def readlink(self, ino, ctx):
        refuse(not stat.S_ISLNK(self._node(ino).mode), errno.EINVAL)
        return self.v[ino].target

    async def mknod(self, parent, name, mode, rdev, ctx):
        self.log("mknod", parent, name, oct(mode))
        return self._add(parent, name, Node(mode, rdev=rdev), ctx)

    async def mkdir(self, parent, name, mode, ctx):
        self.log("mkdir", parent, name)
        return self._add(parent, name, Node(stat.S_IFDIR | stat.S_IMODE(mode)), ctx)

    async def symlink(self, parent, name, target, ctx):
        self.log("symlink", parent, name, "->", target)
        node = Node(stat.S_IFLNK | 0o777)
        node.target = target
        return self._add(parent, name, node, ctx)

    async def link(self, ino, new_parent, new_name, ctx):
        self.log("link", ino, new_parent, new_name)
        n, p = self._node(ino), self._dir(new_parent)
        refuse(n.isdir(), errno.EPERM)
        refuse(new_name in p.entries, errno.EEXIST)
        p.entries[new_name] = ino
        n.nlink += 1
        self._touch(p)
        return self._looked_up(ino)

    async def unlink(self, parent, name, ctx):
        self.log("unlink", parent, name)
        p, _, n = self._child(parent, name)
        refuse(n.isdir(), errno.EISDIR)
        self._drop_entry(p, name)

    async def rmdir(self, parent, name, ctx):
        self.log("rmdir", parent, name)
        p, ino, n = self._child(parent, name)
        refuse(self._dir(ino).entries, errno.ENOTEMPTY)
        self._drop_entry(p, name)

    async def rename(self, p_old, n_old, p_new, n_new, flags, ctx):
        self.log("rename", p_old, n_old, "->", p_new, n_new, "flags", flags)
        src, ino, moving = self._child(p_old, n_old)
        dst = self._dir(p_new)
        target = dst.entries.get(n_new)
        if flags & RENAME_EXCHANGE:
            refuse(target is None, errno.ENOENT)
            src.entries[n_old], dst.entries[n_new] = target, ino
        else:
            if target is not None:
                replaced = self.v[target]
                refuse(flags & RENAME_NOREPLACE, errno.EEXIST)
                if target == ino:
                    return
                refuse(replaced.isdir() != moving.isdir(), errno.EISDIR if replaced.isdir() else errno.ENOTDIR)
                refuse(replaced.isdir() and replaced.entries, errno.ENOTEMPTY)
                self._drop_entry(dst, n_new)
            dst.entries[n_new] = src.entries.pop(n_old)
        self._touch(src, dst)

    def _open(self, ino, flags, listing=None):
        fh = next(self.fhs)
        self.handles[fh] = [ino, bool(flags & os.O_APPEND), self.generation, listing]
        # direct_io: every read and write reaches us, so no page cache outlives a crash.
        return pyfuse3.FileInfo(fh=fh, direct_io=True, keep_cache=False)

    async def open(self, ino, flags, ctx):
        self.log("open ino", ino, "flags", oct(flags))
        n = self._node(ino)
        if flags & os.O_TRUNC and n.data is not None:
            del n.data[:]
            self._touch(n)
        return self._open(ino, flags)

    async def create(self, parent, name, mode, flags, ctx):
        self.log("create", parent, name, oct(mode), "flags", oct(flags))
        attr = self._add(parent, name, Node(stat.S_IFREG | stat.S_IMODE(mode)), ctx)
        return self._open(attr.st_ino, flags), attr

    async def read(self, fh, off, size):
        return bytes(self.v[self._handle(fh)[0]].data[off:off + size])

    async def write(self, fh, off, buf):
        ino, append = self._handle(fh)[:2]
        n = self.v[ino]
        if append:        # without writeback cache, FUSE leaves O_APPEND to the filesystem
            off = len(n.data)
        n.data.extend(bytes(max(0, off - len(n.data))))
        n.data[off:off + len(buf)] = buf
        self._touch(n)
        self.log("write ino", ino, "off", off, "len", len(buf))
        return len(buf)

    async def flush(self, fh):
        pass              # close() is not a durability point

    async def release(self, fh):
        self._maybe_free(self.handles.pop(fh)[0])

    async def fsync(self, fh, datasync):
        ino = self._handle(fh)[0]
        self.log("fsync ino", ino, "datasync", datasync)
        if self.v[ino].data is not None:
            self._durably(self._sync_file, ino)

    async def opendir(self, ino, ctx):
        self._dir(ino)
        return self._open(ino, 0).fh

    async def readdir(self, fh, start_id, token):
        h = self._handle(fh)
        if start_id == 0 or h[3] is None:   # a snapshot keeps offsets stable while listing
            h[3] = sorted(self.v[h[0]].entries.items())
        for i, (name, ino) in list(enumerate(h[3]))[start_id:]:
            if ino in self.v:
                if not pyfuse3.readdir_reply(token, name, self._attr(ino), i + 1):
                    break
                self.lookups[ino] += 1

    async def releasedir(self, fh):
        self.handles.pop(fh)

    async def fsyncdir(self, fh, datasync):
        ino = self._handle(fh)[0]
        self.log("fsyncdir ino", ino)
        self._durably(self._sync_dir, ino)

    async def statfs(self, ctx):
        sv, s = os.statvfs(self.backing), pyfuse3.StatvfsData()
        for f in ("bsize", "frsize", "blocks", "bfree", "bavail", "files", "ffree", "favail", "namemax"):
            setattr(s, "f_" + f, getattr(sv, "f_" + f))
        return s


async def serve_control(fs, path):
    if os.path.lexists(path):
        os.unlink(path)
    sock = trio.socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    await sock.bind(path)
    sock.listen()

    async def handle(stream):
        async with stream:
            command = (await stream.receive_some(256)).decode(errors="replace").strip()
            if command == "crash":
                fs.crash()
                reply = f"ok crash {fs.generation}"
            elif command == "status":
                reply = f"ok crashes={fs.generation} inodes={len(fs.v)} durable_inodes={len(fs.d)}"
            else:
                reply = f"error unknown command {command!r}"
            await stream.send_all(reply.encode() + b"\n")

    await trio.serve_listeners(handle, [trio.SocketListener(sock)])


async def serve_signals(fs):
    with trio.open_signal_receiver(signal.SIGUSR1, signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            if signum == signal.SIGUSR1:
                fs.crash()
            else:
                fs.log("signal", signum, "- unmounting")
                pyfuse3.terminate()


async def run(fs, control):
    async with trio.open_nursery() as nursery:
        nursery.start_soon(serve_signals, fs)
        if control:
            nursery.start_soon(serve_control, fs, control)
        await pyfuse3.main()
        nursery.cancel_scope.cancel()


def client(path, command):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(path)
        s.sendall(command.encode() + b"\n")
        s.shutdown(socket.SHUT_WR)
        reply = s.makefile().read().strip()
    print(reply)
    return 0 if reply.startswith("ok") else 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "ctl":
        return client(sys.argv[2], sys.argv[3])
    import argparse
    ap = argparse.ArgumentParser(description="FUSE passthrough that loses unsynced changes on a simulated power cut")
    ap.add_argument("backing")
    ap.add_argument("mountpoint")
    ap.add_argument("--control", help="Unix socket accepting 'crash' and 'status'")
    ap.add_argument("--log", help="append a line per operation and per change made durable")
    ap.add_argument("--allow-other", action="store_true", help="let other users use the mount")
    args = ap.parse_args()
    fs = LossyFS(args.backing, args.log)
    options = set(pyfuse3.default_options) | {"fsname=lossyfs"} | ({"allow_other"} if args.allow_other else set())
    pyfuse3.init(fs, args.mountpoint, options)
    fs.log("mounted", args.backing, "at", args.mountpoint)
    try:
        trio.run(run, fs, args.control)
    finally:
        pyfuse3.close(unmount=True)
        if args.control and os.path.exists(args.control):
            os.unlink(args.control)
        fs.log("unmounted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
