#!/usr/bin/env python3
# A stand-in for systemd's notify socket, for the service tests: binds a unix datagram socket at argv[1],
# prints "listening", then one JSON line per datagram (its VAR=VALUE assignments). Like systemd, it closes
# every file descriptor passed with a message, which is what completes systemd-notify's BARRIER=1 wait.
# Node has no unix datagram sockets, and socat keeps passed descriptors open, hence this small script.
import array
import json
import os
import socket
import sys

path = sys.argv[1]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(path)
print("listening", flush=True)
fd_size = array.array("i").itemsize
while True:
    data, ancillary, _flags, _addr = sock.recvmsg(65536, socket.CMSG_SPACE(16 * fd_size))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds = array.array("i")
            fds.frombytes(payload[: len(payload) - (len(payload) % fd_size)])
            for fd in fds:
                os.close(fd)
    fields = [line for line in data.decode("utf-8", "replace").split("\n") if line]
    print(json.dumps({"fields": fields}), flush=True)
