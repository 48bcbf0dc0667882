# SPDX-License-Identifier: BSD-3-Clause
"""egressd's DPDK telemetry socket (protocol v2), for the scripts and tests.

    import egress_telemetry            # with PYTHONPATH=<repo>/scripts
    s = egress_telemetry.connect("/var/run/dpdk/PREFIX/dpdk_telemetry.v2", 10)
    stats = egress_telemetry.ask(s, "/egress/stats")["/egress/stats"]
"""
import json
import socket
import time


def connect(path, seconds):
    """A connected socket past the greeting, retried for up to seconds (the
    socket appears once egressd has started DPDK); None if it never does."""
    deadline = time.monotonic() + seconds
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(60)  # a stuck egressd fails the caller instead of hanging it
        try:
            s.connect(path)
            s.recv(16384)  # the greeting: version, pid, max_output_len
            return s
        except OSError:
            s.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)


def ask_text(s, cmd):
    """The answer to cmd as sent (JSON text); OSError when the socket is gone."""
    s.send(cmd.encode())
    answer = s.recv(1 << 20)
    if not answer:
        raise OSError("telemetry socket closed")
    return answer.decode()


def ask(s, cmd):
    """The answer to cmd, parsed."""
    return json.loads(ask_text(s, cmd))
