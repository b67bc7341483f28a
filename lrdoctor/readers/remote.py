"""Log directories where they live: ``s3://``, ``gs://``, ``az://``, ``hf://``, ``http(s)://``... through fsspec.

The remote tree is listed once; the files discovery would read are chosen from the listing by
discovery's own rules (remote_plan.py) and fetched in parallel, each in one whole-file or ranged read,
into a temporary directory that mirrors the tree; the local readers read that copy, and every path
they report is turned back into the URL.  Run names are relative, so a remote copy of a log directory
gives the same report as the local one but for the ``source`` and problem paths.

Credentials and endpoints are found the way each store's own library finds them (s3fs/boto:
``AWS_*`` variables, ``~/.aws``, ``AWS_ENDPOINT_URL``); fsspec's ``FSSPEC_<PROTOCOL>_<KEY>`` variables
pass any other storage option (``FSSPEC_S3_ANON=true``).  A path that cannot be listed or fetched is a
Problem naming its URL; the other runs are read as usual.
"""
from __future__ import annotations

import os
import re
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Callable, Mapping, Sequence

from ..model import Problem, Run
from .remote_plan import Fetch, plan, single_file, windows

FETCH_THREADS = 16  # requests in flight: object stores answer many at once, each one slowly
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs", "abfs": "adlfs",
             "abfss": "adlfs", "hf": "huggingface_hub", "http": "aiohttp", "https": "aiohttp"}


def is_url(path: str) -> bool:
    """``scheme://...`` (``C:\\logs`` is not one)."""
    return bool(_URL.match(path))


def read_remote_runs(url: str, tag_roles: Mapping[str, Sequence[str]] | None = None, *,
                     progress: Callable[[int, int], None] | None = None) -> tuple[list[Run], list[Problem]]:
    """discover.read_runs for a URL (module docstring)."""
    from .discover import read_runs

    def read(local: str, back: "_Renamer", failed: dict[str, str]):
        runs, problems = read_runs(local, tag_roles, progress=progress)
        runs = [back.run(run) for run in runs]
        return runs, [*_attach(failed, runs), *(back.problem(p) for p in problems)]

    found = _on_mirror(url, read)
    if isinstance(found, list):
        return [], found
    (runs, problems), _, unsafe = found
    return runs, [*unsafe, *problems]


def diagnose_remote(url: str, diagnose_local: Callable[[str], object]):
    """``diagnose_local(local_path)`` -- a Report (pipeline.diagnose_path) -- on a temporary mirror of
    ``url``, with the mirror's paths turned back into URLs; a list of Problems when nothing could be
    listed or fetched.  What could not be fetched is a problem of the run it belongs to, as in
    ``read_remote_runs``."""
    import dataclasses

    def diagnose(local: str, back: "_Renamer", failed: dict[str, str]):
        report = diagnose_local(local)
        results = [back.result(r) for r in report.runs]
        results, loose = _attach_results(failed, results)
        return dataclasses.replace(report, runs=tuple(results),
                                   problems=(*loose, *(back.problem(p) for p in report.problems)))

    found = _on_mirror(url, diagnose)
    if isinstance(found, list):
        return found
    report, _, unsafe = found
    return dataclasses.replace(report, problems=(*unsafe, *report.problems))


def _on_mirror(url: str, use: Callable):
    """(``use(local_root, renamer, failed)``, [], problems of keys with no place in a tree), with
    ``url`` fetched into a temporary directory for the call; a list of Problems when it cannot be
    listed, or is one file that cannot be fetched."""
    url = url.rstrip("/") if not url.endswith("://") else url
    fs, root = _filesystem(url)
    if isinstance(fs, Problem):
        return [fs]
    listed = _listing(fs, root, url)
    if isinstance(listed, Problem):
        return [listed]
    fetches, single = listed
    fetches, unsafe = _unsafe(fetches, url) if not single else (fetches, [])
    mirror = tempfile.mkdtemp(prefix="lrdoctor-remote-")
    try:
        local_root = os.path.join(mirror, "logdir")
        os.makedirs(local_root)  # nothing worth fetching reads as a local directory without logs
        failed = _fetch_all(fs, root, fetches, local_root, (url, single))
        if single and failed:
            return _attach(failed, [])
        local = os.path.join(local_root, fetches[0].rel) if single else local_root
        return use(local, _Renamer(local, url), failed), [], unsafe
    finally:
        shutil.rmtree(mirror, ignore_errors=True)


def _filesystem(url: str):
    """(fsspec filesystem, path inside it), or a Problem saying what to install."""
    protocol = url.split("://", 1)[0].lower()
    try:
        from fsspec.core import url_to_fs
    except ImportError:
        return Problem(url, "cannot read URLs: fsspec is not installed (pip install 'lrdoctor[remote]')"), None
    try:
        return url_to_fs(url)
    except ImportError:
        package = _PACKAGES.get(protocol, f"the fsspec package for {protocol}://")
        return Problem(url, f"cannot read {protocol}:// URLs: {package} is not installed (pip install {package})"), None
    except Exception as exc:  # an unknown protocol, bad storage options: said, never a traceback
        return Problem(url, f"cannot open: {_reason(exc)}"), None


def _listing(fs, root: str, url: str) -> tuple[list[Fetch], bool] | Problem:
    """(what to fetch, whether URL is one file), or why the URL cannot be listed."""
    try:
        found = fs.find(root, detail=True, withdirs=False)
    except Exception as exc:
        return Problem(url, f"cannot list: {_reason(exc)}")
    files = {path: info for path, info in found.items() if info.get("type", "file") == "file"}
    if not files:
        return Problem(url, "no such file or directory (nothing listed under it)")
    if list(files) == [root]:  # the URL names a file
        (info,) = files.values()
        return [single_file(root.rstrip("/").rsplit("/", 1)[-1], info.get("size"))], True
    prefix = root.rstrip("/") + "/"
    sizes = {path[len(prefix):]: info.get("size") for path, info in files.items() if path.startswith(prefix)}
    return plan(sizes), False


def _unsafe(fetches: list[Fetch], url: str) -> tuple[list[Fetch], list[Problem]]:
    """(the fetches that have a place in the mirror, a problem for each other one): an object key may
    hold '..' or empty parts, which would write outside the temporary directory or onto another file."""
    kept, problems = [], []
    for fetch in fetches:
        parts = fetch.rel.split("/")
        if any(p in ("", ".", "..") or os.sep in p or (os.altsep and os.altsep in p) or "\0" in p for p in parts):
            problems.append(Problem(f"{url}/{fetch.rel}", "not read: a key with an empty, '.' or '..' part, "
                                                          "which has no place in a directory tree"))
        else:
            kept.append(fetch)
    return kept, problems


def _fetch_all(fs, root: str, fetches: list[Fetch], local_root: str, url_single: tuple[str, bool]) -> dict[str, str]:
    """Fetch into ``local_root``: the probes first, then the files they and the names chose.  Returns
    the URL of each file that could not be fetched -> why."""
    url, single = url_single

    def remote(fetch: Fetch) -> str:
        return root if single else root.rstrip("/") + "/" + fetch.rel

    def local(fetch: Fetch) -> str:
        return os.path.join(local_root, *fetch.rel.split("/"))

    failed: dict[str, str] = {}
    probes = [f for f in fetches if f.probe]
    _in_parallel(lambda f: _fetch_windows(fs, remote(f), local(f), f), probes, failed)
    chosen = [f for f in fetches if not f.probe or (f.rel not in failed and _probe_says_log(f, local(f)))]
    _in_parallel(lambda f: _fetch_file(fs, remote(f), local(f), f), chosen, failed)
    return {url if single else f"{url}/{rel}": why for rel, why in failed.items()}


def _in_parallel(task, fetches: list[Fetch], failed: dict[str, str]) -> None:
    def run(fetch: Fetch) -> None:
        try:
            task(fetch)
        except Exception as exc:  # one path's failure is that path's problem only
            failed[fetch.rel] = _reason(exc)

    if fetches:
        with ThreadPoolExecutor(max_workers=min(FETCH_THREADS, len(fetches))) as pool:
            list(pool.map(run, fetches))


def _fetch_file(fs, rpath: str, lpath: str, fetch: Fetch) -> None:
    """The whole file in one streamed request, or its first ``fetch.limit`` bytes in one ranged one."""
    os.makedirs(os.path.dirname(lpath), exist_ok=True)
    try:
        if fetch.limit is None or (fetch.size is not None and fetch.size <= fetch.limit):
            fs.get_file(rpath, lpath)
            return
        _copy_head(fs, rpath, lpath, fetch.limit)
    except BaseException:
        _remove(lpath)  # never read half a file as if it were the whole
        raise


_CHUNK = 16 << 20


def _copy_head(fs, rpath: str, lpath: str, limit: int) -> None:
    """The first ``limit`` bytes, streamed in large reads (a few ranged requests, bounded memory)."""
    with fs.open(rpath, "rb", block_size=_CHUNK) as fh, open(lpath, "wb") as out:
        left = limit
        while left > 0:
            data = fh.read(min(left, _CHUNK))
            if not data:
                break
            out.write(data)
            left -= len(data)


def _fetch_windows(fs, rpath: str, lpath: str, fetch: Fetch) -> None:
    """The probe's byte ranges, written where they lie in a (sparse) file of the listed size."""
    os.makedirs(os.path.dirname(lpath), exist_ok=True)
    try:
        with open(lpath, "wb") as out:
            for start, end in windows(fetch):
                if end > start:
                    out.seek(start)
                    out.write(_read_range(fs, rpath, start, end, fetch.size))
            if fetch.size is not None:
                out.truncate(fetch.size)
    except BaseException:
        _remove(lpath)  # a failed probe leaves nothing for the local reader to read
        raise


def _read_range(fs, rpath: str, start: int, end: int, size: int | None) -> bytes:
    """Bytes [start, end) in one ranged request; streamed and cut when the store gave no size (a web
    server's listing: such a server may also ignore ranges; a probe then only reads from the start)."""
    if size is not None:
        return fs.cat_file(rpath, start=start, end=end)
    with fs.open(rpath, "rb") as fh:
        return fh.read(end - start)


def _probe_says_log(fetch: Fetch, lpath: str) -> bool:
    """The local decision on the probed bytes; the probe file is removed either way."""
    from .content import holds_training_log
    from .discover import FileJob
    from .log_files import big_file_worth_reading

    try:
        if fetch.probe == "content":
            return holds_training_log(lpath)
        return big_file_worth_reading(FileJob(fetch.rel, lpath, named=False))
    finally:
        _remove(lpath)


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    """One line saying why, in the store's words when it gave some."""
    if isinstance(exc, FileNotFoundError):
        what = "no such file, directory or bucket"
    elif isinstance(exc, PermissionError):
        what = "permission denied"
    else:
        what = type(exc).__name__
    detail = " ".join(str(exc).split())
    return f"{what} ({detail})" if detail and detail not in what else what


class _Renamer:
    """Turns the mirror's paths back into URLs in everything the readers report."""

    def __init__(self, local: str, url: str):
        self.local, self.url = local, url

    def text(self, text: str) -> str:
        if text.startswith(self.local):  # a source or a problem's path: '/' separators below the URL
            return self.url + text[len(self.local):].replace(os.sep, "/")
        return text.replace(self.local, self.url)  # a message naming a file

    def problem(self, problem: Problem) -> Problem:
        return replace(problem, path=self.text(problem.path), message=self.text(problem.message))

    def result(self, result):
        """A RunResult (report.py) of a run read from the mirror."""
        from dataclasses import replace as replaced

        return replaced(result, source=self.text(result.source), problems=tuple(self.problem(p) for p in result.problems))

    def run(self, run: Run) -> Run:
        run.source = self.text(run.source)
        run.problems = [self.problem(p) for p in run.problems]
        run.notes = [self.text(n) for n in run.notes]
        return run


def _unfetched(failed: dict[str, str], sources: list[str]) -> tuple[dict[int, list[Problem]], list[Problem]]:
    """Each file that could not be fetched, as a problem of the run whose directory holds it (the deepest
    such source; the run was read without it), else as a problem of its own:
    ({index of the run in ``sources``: its problems}, the others)."""
    owned: dict[int, list[Problem]] = {}
    loose = []
    for path, reason in sorted(failed.items()):
        owners = [i for i, source in enumerate(sources) if path.startswith(source.rstrip("/") + "/")]
        if owners:
            owner = max(owners, key=lambda i: len(sources[i]))
            owned.setdefault(owner, []).append(Problem(path, f"cannot fetch: {reason}; the run was read without this file"))
        else:
            loose.append(Problem(path, f"cannot fetch: {reason}"))
    return owned, loose


def _attach(failed: dict[str, str], runs: list[Run]) -> list[Problem]:
    """``_unfetched`` on runs: each run's own added to its problems; returns the others."""
    owned, loose = _unfetched(failed, [run.source for run in runs])
    for i, problems in owned.items():
        runs[i].problems.extend(problems)
    return loose


def _attach_results(failed: dict[str, str], results: list) -> tuple[list, list[Problem]]:
    """``_attach`` for RunResults (frozen): (the results, each with its run's unfetched files among its
    problems, the problems of files that belong to no run)."""
    from dataclasses import replace as replaced

    owned, loose = _unfetched(failed, [r.source for r in results])
    out = [replaced(r, problems=(*r.problems, *owned[i])) if i in owned else r for i, r in enumerate(results)]
    return out, loose
