#!/usr/bin/env python3
"""Runs inside a private mount namespace (unshare --mount): puts a tmpfs over /run, binds a
fake journald socket at /run/systemd/journal/socket, starts rnnd with JOURNAL_STREAM set,
creates a model through its admin socket, stops it, and prints every journal entry it
received as one JSON array (fields parsed from journald's native protocol).

Usage: unshare --mount --propagation private python3 fake_journal.py RNND WORKDIR
"""
import json
import os
import socket
import subprocess
import sys
import time


def parse(datagram):
    fields, i = {}, 0
    while i < len(datagram):
        nl = datagram.index(b"\n", i)
        line = datagram[i:nl]
        if b"=" in line:
            k, v = line.split(b"=", 1)
            fields[k.decode()] = v.decode()
            i = nl + 1
        else:  # KEY\n<u64 le length><data>\n
            size = int.from_bytes(datagram[nl + 1:nl + 9], "little")
            fields[line.decode()] = datagram[nl + 9:nl + 9 + size].decode()
            i = nl + 9 + size + 1
    return fields


def main(rnnd, work):
    subprocess.run(["mount", "-t", "tmpfs", "tmpfs", "/run"], check=True)
    os.makedirs("/run/systemd/journal")
    journal = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    journal.bind("/run/systemd/journal/socket")
    journal.settimeout(0.2)
    env = dict(os.environ, JOURNAL_STREAM="8:1234")
    proc = subprocess.Popen([rnnd, "--state-dir", work + "/state", "--socket-dir", work + "/run"], env=env,
                            stderr=subprocess.DEVNULL)
    path = work + "/run/rnnd.sock"
    for _ in range(200):
        if os.path.exists(path):
            break
        time.sleep(0.05)
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    client.sendall(b'{"jsonrpc":"2.0","method":"model.create","params":{"model":"journaled","hidden_size":8,"vocabulary":"bytes"},"id":1}\n')
    client.recv(65536)
    client.close()
    proc.terminate()
    proc.wait(timeout=30)
    entries = []
    while True:
        try:
            entries.append(parse(journal.recv(65536)))
        except socket.timeout:
            break
    print(json.dumps(entries))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
