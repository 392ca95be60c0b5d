"""bench/peers' testcontainers-python side: one round of one job, as a testcontainers user writes it.

Run with the bench's venv (.build/bench-venv). The reaper (Ryuk) is off: its image cannot be had
without a registry (bench/peers sets TESTCONTAINERS_RYUK_DISABLED=true), so this script removes
what it created itself. Prints "PHASE SECONDS" lines, like bench/Peers/job.lua.

  tc_job.py etcd  NAME NODES IMAGE POLL    containers on a network, log wait strategy polled
                                           every POLL s, one endpoint health, removed
  tc_job.py light NAME NODES IMAGE         `sleep infinity` containers, started, removed
  tc_job.py execs CONTAINER COUNT          COUNT x exec `etcdctl get k` (docker-py's exec_run,
                                           what DockerContainer.exec calls)
"""
import sys
import time

t_import = time.monotonic()
from testcontainers.core.container import DockerContainer  # noqa: E402
from testcontainers.core.network import Network  # noqa: E402
from testcontainers.core.wait_strategies import LogMessageWaitStrategy  # noqa: E402

READY = "ready to serve client requests"


def say(phase, seconds):
    print(f"{phase} {seconds:.4f}", flush=True)


def cluster(name, nodes, image, poll, light):
    t0 = time.monotonic()
    network = Network()
    network.name = f"{name}-net"  # a bench name, so bench/peers can find it after a failure
    network.create()
    members = ",".join(f"node{i}=http://node{i}:2380" for i in range(1, nodes + 1))
    containers = []
    try:
        for i in range(1, nodes + 1):
            if light:
                command = ["sleep", "infinity"]
            else:
                command = ["etcd", "--name", f"node{i}", "--data-dir", f"/var/lib/etcd/node{i}",
                           "--listen-peer-urls", "http://0.0.0.0:2380", "--listen-client-urls", "http://0.0.0.0:2379",
                           "--initial-advertise-peer-urls", f"http://node{i}:2380",
                           "--advertise-client-urls", f"http://node{i}:2379",
                           "--initial-cluster", members, "--initial-cluster-token", name, "--initial-cluster-state", "new"]
            c = (DockerContainer(image).with_name(f"{name}-node{i}").with_network(network)
                 .with_network_aliases(f"node{i}").with_command(command).with_kwargs(hostname=f"node{i}"))
            # No wait strategy on start: an etcd member is ready only once a majority runs, so
            # start() waiting for each in turn would never get past the first.
            c.start()
            containers.append(c)
        if not light:
            for c in containers:
                LogMessageWaitStrategy(READY).with_poll_interval(poll).with_startup_timeout(120).wait_until_ready(c)
        t1 = time.monotonic()
        if not light:
            code, out = containers[0].exec(["etcdctl", "--endpoints=http://127.0.0.1:2379", "endpoint", "health"])
            if code != 0:
                raise SystemExit(f"tc_job: endpoint health exited {code}: {out!r}")
        t2 = time.monotonic()
    finally:
        t_down = time.monotonic()
        for c in containers:
            c.stop()
        network.remove()
        t3 = time.monotonic()
    say("up", t1 - t0)
    if not light:
        say("exec", t2 - t1)
    say("down", t3 - t_down)


def execs(container, count):
    import docker
    c = docker.from_env().containers.get(container)
    for _ in range(count):
        t0 = time.monotonic()
        code, out = c.exec_run(["etcdctl", "--endpoints=http://127.0.0.1:2379", "get", "k"])
        if code != 0:
            raise SystemExit(f"tc_job: exec exited {code}: {out!r}")
        say("exec", time.monotonic() - t0)


def main(argv):
    say("import", time.monotonic() - t_import)
    job = argv[1]
    if job == "etcd":
        cluster(argv[2], int(argv[3]), argv[4], float(argv[5]), light=False)
    elif job == "light":
        cluster(argv[2], int(argv[3]), argv[4], 1.0, light=True)
    elif job == "execs":
        execs(argv[2], int(argv[3]))
    else:
        raise SystemExit(f"tc_job: unknown job {job!r}")


if __name__ == "__main__":
    main(sys.argv)
