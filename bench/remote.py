"""Remote vs local: `lrdoctor diagnose s3://...` on a local S3 server against the same directory on disk.

    python bench/remote.py ../shared/bench/public/runs            # median of 3 each (needs .[remote-test])
    python bench/remote.py DIR --repeat 5 --prefix some/key/runs

Starts moto's S3 server (tests/remote_s3_server.py) on a free localhost port, uploads DIR to
``s3://bench/<prefix>`` (default: the directory's parent's and own names, so that run ids match), then runs
``lrdoctor diagnose URL --format json`` and ``lrdoctor diagnose DIR --format json`` alternately in
fresh subprocesses, and reports the median wall time of each (and the CPU time of the lrdoctor
process: the server's own work is not in it), the requests the server answered for
one remote diagnose (by HTTP method), and whether the two JSON reports are equal once the paths are
(``source``, problem paths) set aside.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "..", "tests", "remote_s3_server.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _requests(endpoint: str, method: str = "GET") -> dict:
    with urllib.request.urlopen(urllib.request.Request(f"{endpoint}/_requests", method=method), timeout=5) as answer:
        return json.loads(answer.read())


def _wait(endpoint: str, server: subprocess.Popen) -> None:
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"the S3 server exited with code {server.returncode}")
        try:
            _requests(endpoint)
            return
        except OSError:
            time.sleep(0.2)
    sys.exit("the S3 server did not answer within 60 s")


def _diagnose(target: str, env: dict) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the lrdoctor process, its JSON)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lrdoctor", "diagnose", target, "--format", "json",
                           "--fail-on", "never"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        sys.exit(f"lrdoctor diagnose {target} exited {done.returncode}:\n{done.stderr}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)  # only reaped children: not the server
    return wall, after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, done.stdout


def _without_paths(text: str, root: str) -> dict:
    return json.loads(text.replace(json.dumps(root)[1:-1], "ROOT"))


def _last_two(path: str) -> str:
    """The directory's parent and own name: a run's id hashes the last two names of its path (for a
    LOGDIR that is itself a run, its parent's name too), so that the ids match."""
    return "/".join(path.rstrip(os.sep).split(os.sep)[-2:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("logdir")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--prefix", default=None,
                        help="key prefix in the bucket (default: the directory's parent's and own names)")
    args = parser.parse_args()
    logdir = os.path.abspath(args.logdir)
    port = _free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, SERVER, str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1"}
    os.environ.update(env)
    try:
        _wait(endpoint, server)
        import s3fs

        fs = s3fs.S3FileSystem()
        fs.mkdir("bench")
        key = f"bench/{args.prefix or _last_two(logdir)}"
        fs.put(logdir, key, recursive=True)
        url = f"s3://{key}"
        files = sum(len(f) for _, _, f in os.walk(logdir))
        remote, local, counts = [], [], None
        for _ in range(args.repeat):
            _requests(endpoint, "DELETE")
            *seconds, remote_json = _diagnose(url, env)
            remote.append(seconds)
            counts = counts or _requests(endpoint)["counts"]
            *seconds, local_json = _diagnose(logdir, env)
            local.append(seconds)
        same = _without_paths(remote_json, url) == _without_paths(local_json, logdir)
        print(f"{files} files, {len(json.loads(local_json)['runs'])} runs")
        for what, times in ((f"remote {url}", remote), (f"local  {logdir}", local)):
            walls, cpus = [w for w, _ in times], [c for _, c in times]
            print(f"{what}: median {statistics.median(walls):.2f} s wall of {[round(w, 2) for w in walls]}, "
                  f"{statistics.median(cpus):.2f} s CPU (the lrdoctor process)")
        print(f"requests for one remote diagnose: {counts}")
        print(f"JSON equal but for paths: {same}")
    finally:
        server.kill()
        server.wait()


if __name__ == "__main__":
    main()
