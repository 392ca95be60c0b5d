#!/usr/bin/env python3
"""The bare-client floor for bench/log-wait: `ENGINE logs --follow --tail 0` read by a plain
program. Pokes the container through its FIFO and times, on the monotonic clock, from just before
the write to the moment the echoed line arrives on the client's stdout.

    log-wait-floor.py ENGINE CONTAINER FIFO COUNT TAG  ->  prints "floor SECONDS" COUNT times
"""
import os
import random
import select
import subprocess
import sys
import time

engine, container, fifo, count, tag = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
follower = subprocess.Popen([engine, "logs", "--follow", "--tail", "0", container],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
buffered = b""


def poke(token):
    with open(fifo, "w") as f:   # returns once the container's `read` has the FIFO open
        start = time.monotonic()
        f.write(token + "\n")
    return start


def wait_for(line, timeout):
    """Reads the follower's output until `line` arrives; False on timeout."""
    global buffered
    deadline = time.monotonic() + timeout
    want = line.encode()
    while True:
        while b"\n" in buffered:
            got, buffered = buffered.split(b"\n", 1)
            if got.rstrip(b"\r") == want:
                return True
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        ready, _, _ = select.select([follower.stdout], [], [], left)
        if ready:
            chunk = os.read(follower.stdout.fileno(), 65536)
            if not chunk:
                return False
            buffered += chunk


try:
    # The follower needs a moment to attach: poke until a sync line comes through.
    for attempt in range(50):
        poke(f"{tag}-sync{attempt}")
        if wait_for(f"poke {tag}-sync{attempt}", 0.2):
            break
    else:
        sys.exit(f"{engine} logs --follow never showed a line")
    for i in range(count):
        token = f"{tag}-{i}"
        start = poke(token)
        if not wait_for(f"poke {token}", 10):
            sys.exit(f"line {token} did not arrive within 10 s")
        print(f"floor {time.monotonic() - start:.6f}")
        time.sleep(0.02 + random.random() * 0.3)   # a random gap, so pokes do not fall in step with a poll
finally:
    follower.kill()
    follower.wait()
