#!/usr/bin/env python3
"""Power-loss rounds: rnnd's state folder on lossyfs, random work through the admin socket,
then kill -9 and a power cut at a random point; after each restart nothing acknowledged may
be missing and every model must load.

Usage: Tests/powerloss/rounds.py RNND_BINARY [--rounds N] [--seed S]
Prints one summary line: rounds, seed, bytes acknowledged, bytes lost, models unloadable.
"""
import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
LOSSYFS = os.path.join(HERE, "lossyfs.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


class Daemon:
    """rnnd on a state folder, with a JSON-RPC client of its admin socket."""

    def __init__(self, binary, root, state):
        self.binary, self.root, self.state = binary, root, state
        self.sock_dir = os.path.join(root, "run")
        self.process = None
        self.next_id = 1

    def start(self):
        self.process = subprocess.Popen(
            [self.binary, "--state-dir", self.state, "--socket-dir", self.sock_dir, "--log-level", "notice"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(self.root, "rnnd.log"), "ab"))
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                self.call("daemon.status")
                return
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("rnnd exited at start: see " + os.path.join(self.root, "rnnd.log"))
                time.sleep(0.05)
        raise RuntimeError("rnnd did not start")

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def call(self, method, params=None, timeout=30):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(timeout)
            s.connect(os.path.join(self.sock_dir, "rnnd.sock"))
            request = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params or {}}
            self.next_id += 1
            s.sendall((json.dumps(request) + "\n").encode())
            data = b""
            while not data.endswith(b"\n"):
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("connection closed")
                data += chunk
            reply = json.loads(data)
            if "error" in reply:
                raise RPCError(reply["error"])
            return reply["result"]


class RPCError(Exception):
    def __init__(self, error):
        super().__init__(error.get("message"))
        self.reason = (error.get("data") or {}).get("reason")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("binary")
    ap.add_argument("--rounds", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args()
    if not os.path.exists("/dev/fuse"):
        # A container without FUSE cannot run the power cuts; say so loudly rather than fail.
        print("power-loss rounds SKIPPED: this machine has no /dev/fuse (FUSE is needed for lossyfs)")
        return
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"power-loss rounds: {args.rounds}, seed {seed} (--seed {seed} repeats them)", flush=True)
    root = tempfile.mkdtemp(prefix="rnnd-powerloss-")
    backing, mount = os.path.join(root, "backing"), os.path.join(root, "mnt")
    os.makedirs(backing)
    os.makedirs(mount)
    control = os.path.join(root, "lossyfs.sock")
    fs = subprocess.Popen([PYTHON, LOSSYFS, "--control", control, backing, mount])
    for _ in range(200):
        if os.path.ismount(mount):
            break
        time.sleep(0.05)
    else:
        # FUSE present but not mountable here (no CAP_SYS_ADMIN in a container, say): say so
        # loudly; lossyfs's own failures show in its selftest.
        fs.kill()
        print("power-loss rounds SKIPPED: lossyfs could not mount here (needs root or CAP_SYS_ADMIN, "
              "fuse3 and python3-pyfuse3)")
        shutil.rmtree(root, ignore_errors=True)
        return
    daemon = Daemon(args.binary, root, os.path.join(mount, "state"))
    # What the daemon acknowledged: model -> bytes fed; deleted names are dropped.
    acknowledged, created_ever, total_acknowledged, lost, unloadable = {}, set(), 0, 0, 0
    failures = []
    try:
        daemon.start()
        for round_number in range(args.rounds):
            operations = rng.randint(1, 12)
            for _ in range(operations):
                op = rng.random()
                names = sorted(acknowledged)
                try:
                    if op < 0.2 or not names:
                        name = f"m{rng.randrange(6)}"
                        if name in acknowledged:
                            continue
                        daemon.call("model.create", {"model": name, "hidden_size": 8, "vocabulary": "bytes",
                                                     "batch_size": 4, "seq_length": 16})
                        acknowledged[name] = 0
                        created_ever.add(name)
                    elif op < 0.75:
                        name = rng.choice(names)
                        text = "".join(rng.choice("abcdefgh \n") for _ in range(rng.randint(1, 3000)))
                        result = daemon.call("train.feed", {"model": name, "text": text})
                        acknowledged[name] += result["accepted_bytes"]
                        total_acknowledged += result["accepted_bytes"]
                    elif op < 0.9:
                        daemon.call("model.save", {"model": rng.choice(names)})
                    else:
                        name = rng.choice(names)
                        daemon.call("model.delete", {"model": name})
                        del acknowledged[name]
                except RPCError as e:
                    failures.append(f"round {round_number}: {e}")
            # The cut: sometimes at once, sometimes while the learner and autosave run.
            time.sleep(rng.random() * 0.3)
            daemon.kill()
            out = subprocess.run([PYTHON, LOSSYFS, "ctl", control, "crash"], capture_output=True, text=True)
            if not out.stdout.startswith("ok"):
                sys.exit(f"lossyfs crash failed: {out.stdout} {out.stderr}")
            daemon.start()
            listed = {m["name"]: m for m in daemon.call("model.list")["models"]}
            for name, fed in acknowledged.items():
                if name not in listed:
                    failures.append(f"round {round_number}: model {name} was acknowledged and is gone")
                    lost += fed
                    continue
                info = daemon.call("model.info", {"model": name})
                if info.get("error"):
                    unloadable += 1
                    failures.append(f"round {round_number}: {name} is unloadable: {info['error']}")
                    continue
                if info["feed_total_bytes"] < fed:
                    lost += fed - info["feed_total_bytes"]
                    failures.append(
                        f"round {round_number}: {name} holds {info['feed_total_bytes']} of {fed} bytes fed")
                acknowledged[name] = info["feed_total_bytes"]
                try:
                    daemon.call("sample", {"model": name, "length": 3})
                except RPCError as e:
                    unloadable += 1
                    failures.append(f"round {round_number}: {name} cannot sample: {e}")
            for name in listed:
                if name not in acknowledged:
                    # Created or deleted without an answer before the cut: either outcome is
                    # allowed, but the model must be whole.
                    info = daemon.call("model.info", {"model": name})
                    if info.get("error"):
                        unloadable += 1
                        failures.append(f"round {round_number}: unacknowledged {name} is unloadable")
                    acknowledged[name] = info["feed_total_bytes"]
    finally:
        daemon.kill()
        fs.send_signal(signal.SIGTERM)
        fs.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
    print(f"power-loss rounds={args.rounds} seed={seed} bytes_acknowledged={total_acknowledged} "
          f"bytes_lost={lost} models_unloadable={unloadable} failures={len(failures)}")
    for f in failures[:20]:
        print("  " + f)
    sys.exit(1 if lost or unloadable or failures else 0)


if __name__ == "__main__":
    main()
