"""bench/peers' Engine API side: the floor's jobs done through the engine's REST API on its unix
socket (Docker's, or Podman's compatible API under `podman system service`), standard library only.

It answers one question: would a ContainerRuntime that talks to the socket instead of running the
CLI be faster, and by how much. As a runtime on the socket would do it: network, every container created
concurrently, then started one after another (the order etcd comes up fastest in), every log followed
(a streaming logs request per node) until the ready line, one exec, every container removed
concurrently, network removed. One connection per thread, kept alive.

  engine_api.py SOCKET etcd NAME NODES IMAGE [podman]
  engine_api.py SOCKET execs CONTAINER COUNT
Prints "PHASE SECONDS" lines: create, start, inspect, up, exec, down; or one "exec" per call.
"""
import http.client
import json
import socket
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

READY = b"ready to serve client requests"


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Engine:
    def __init__(self, path):
        self.path = path
        self.conn = UnixConnection(path)  # kept alive between calls, as a runtime would

    def call(self, method, url, body=None, expect=(200, 201, 204, 304)):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, url, body=data, headers=headers)
        r = self.conn.getresponse()
        payload = r.read()
        if r.status not in expect:
            raise SystemExit(f"engine_api: {method} {url} answered {r.status}: {payload[:300]!r}")
        return json.loads(payload) if payload and r.getheader("Content-Type", "").startswith("application/json") else payload

    def exec(self, container, argv):
        """Runs argv in the container, returns (exit code, output): create, start (attached), inspect."""
        e = self.call("POST", f"/containers/{container}/exec",
                      {"AttachStdout": True, "AttachStderr": True, "Cmd": argv})
        # The attached start takes the connection over (raw stream until the command ends): its own.
        conn = UnixConnection(self.path)
        conn.request("POST", f"/exec/{e['Id']}/start", body=json.dumps({"Detach": False, "Tty": False}).encode(),
                     headers={"Content-Type": "application/json"})
        r = conn.getresponse()
        output = r.read()
        conn.close()
        code = self.call("GET", f"/exec/{e['Id']}/json")["ExitCode"]
        return code, output


def follow_until_ready(path, container, errors):
    """Streams the container's log (multiplexed frames) until the ready line; no polling."""
    conn = UnixConnection(path)
    try:
        conn.request("GET", f"/containers/{container}/logs?follow=1&stdout=1&stderr=1")
        r = conn.getresponse()
        seen = b""
        while True:
            chunk = r.read1(65536)
            if not chunk:
                errors.append(f"{container}: log ended before the ready line")
                return
            seen = seen[-len(READY):] + chunk
            if READY in seen:
                return
    except Exception as e:  # reported by the caller
        errors.append(f"{container}: {e}")
    finally:
        conn.close()


def say(phase, seconds):
    print(f"{phase} {seconds:.4f}", flush=True)


def etcd(path, name, nodes, image, podman):
    api = Engine(path)
    net = f"{name}-net"
    members = ",".join(f"node{i}=http://node{i}:2380" for i in range(1, nodes + 1))
    names = [f"{name}-node{i}" for i in range(1, nodes + 1)]
    t0 = time.monotonic()
    api.call("POST", "/networks/create", {"Name": net, "CheckDuplicate": True})
    def create(i):
        c = names[i - 1]
        cmd = ["etcd", "--name", f"node{i}", "--data-dir", f"/var/lib/etcd/node{i}",
               "--listen-peer-urls", "http://0.0.0.0:2380", "--listen-client-urls", "http://0.0.0.0:2379",
               "--initial-advertise-peer-urls", f"http://node{i}:2380", "--advertise-client-urls", f"http://node{i}:2379",
               "--initial-cluster", members, "--initial-cluster-token", name, "--initial-cluster-state", "new"]
        Engine(path).call("POST", f"/containers/create?name={urllib.parse.quote(c)}",
                          {"Image": image, "Cmd": cmd, "Hostname": f"node{i}", "HostConfig": {"NetworkMode": net},
                           "NetworkingConfig": {"EndpointsConfig": {net: {"Aliases": [f"node{i}"]}}}})
    # At most 4 requests at once: on 2 cores more only queue in the engine.
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(create, range(1, nodes + 1)))
    t1 = time.monotonic()
    for c in names:
        api.call("POST", f"/containers/{c}/start")
    t2 = time.monotonic()
    errors = []
    followers = [threading.Thread(target=follow_until_ready, args=(path, c, errors)) for c in names]
    for f in followers:
        f.start()
    # Addresses and states while the nodes come up, as ccm-lua reads them.
    for c in names:
        api.call("GET", f"/containers/{c}/json")
    t3 = time.monotonic()
    for f in followers:
        f.join()
    if errors:
        raise SystemExit("engine_api: " + "; ".join(errors))
    t4 = time.monotonic()
    code, out = api.exec(names[0], ["etcdctl", "--endpoints=http://127.0.0.1:2379", "endpoint", "health"])
    if code != 0:
        raise SystemExit(f"engine_api: endpoint health exited {code}: {out!r}")
    t5 = time.monotonic()
    # Podman's compatible API waits for a graceful stop unless told t=0 (as `podman rm -f -t 0`).
    query = "force=1&t=0" if podman else "force=1"
    # All at once, as `docker rm -f A B C` does.
    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        list(pool.map(lambda c: Engine(path).call("DELETE", f"/containers/{c}?{query}"), names))
    api.call("DELETE", f"/networks/{net}")
    t6 = time.monotonic()
    say("create", t1 - t0); say("start", t2 - t1); say("inspect", t3 - t2)
    say("up", t4 - t0); say("exec", t5 - t4); say("down", t6 - t5)


def execs(path, container, count):
    api = Engine(path)
    for _ in range(count):
        t0 = time.monotonic()
        code, out = api.exec(container, ["etcdctl", "--endpoints=http://127.0.0.1:2379", "get", "k"])
        if code != 0:
            raise SystemExit(f"engine_api: exec exited {code}: {out!r}")
        say("exec", time.monotonic() - t0)


def ping(path, timeout):
    """Waits until the socket answers /_ping (used right after starting `podman system service`)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn = UnixConnection(path, timeout=5)
            conn.request("GET", "/_ping")
            if conn.getresponse().status == 200:
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"engine_api: {path} did not answer within {timeout} s")
            time.sleep(0.005)  # the socket does not exist yet: nothing to wait on but time


if __name__ == "__main__":
    path, job = sys.argv[1], sys.argv[2]
    if job == "etcd":
        etcd(path, sys.argv[3], int(sys.argv[4]), sys.argv[5], len(sys.argv) > 6 and sys.argv[6] == "podman")
    elif job == "execs":
        execs(path, sys.argv[3], int(sys.argv[4]))
    elif job == "ping":
        ping(path, float(sys.argv[3]))
    else:
        raise SystemExit(f"engine_api: unknown job {job!r}")
