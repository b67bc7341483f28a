"""MLflow tracking server -> Runs, through mlflow's own client (extra ``lrdoctor[mlflow]``).

What to read is said by a URL given where a log directory goes:

* ``mlflow://HOST:PORT`` -- every active run of every active experiment;
* ``mlflow://HOST:PORT/EXPERIMENT`` -- one experiment, by name or by id;
* ``...?run=ID,ID`` (or ``run=ID&run=ID``) -- only these runs (then EXPERIMENT may be left out);
* ``mlflow+https://HOST[:PORT]/...`` -- a server behind TLS.  Credentials are mlflow's own
  (``MLFLOW_TRACKING_USERNAME``/``PASSWORD``/``TOKEN``).

A run becomes the same ``Run`` as the file-store reader (mlflow.py) makes of the same run: each
metric's history (``MlflowClient.get_metric_history``: the REST API serves one metric of one run per
request, so a run's metrics are fetched one after another and runs side by side in a few threads),
in logging order, as one chunk (merge.py keeps the later value of a step logged twice); params as
``hparams``, parsed as mlflow.py parses them.  The run is named by its run name (prefixed with its
experiment's name when all experiments are read; a name two runs share gets their id's start).

Every failure is one Problem naming what failed -- the server unreachable, an unknown experiment or
run, one metric whose history could not be fetched (the run's other metrics kept) -- never a
traceback.  mlflow's client retries a failed request for minutes by default; here it tries twice
with a short back-off unless ``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` etc. are set.
"""
from __future__ import annotations

import os
import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping, Sequence
from urllib.parse import parse_qs, unquote, urlsplit

from ..model import Problem, Run
from .merge import Chunk, first_few, merge_tags

INSTALL_HINT = "install lrdoctor[mlflow] to read an MLflow tracking server"
_SCHEMES = {"mlflow": "http", "mlflow+http": "http", "mlflow+https": "https"}
_THREADS = 4
_PAGE = 1000
_QUICK_FAILURE = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "1", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                  "MLFLOW_HTTP_REQUEST_TIMEOUT": "60"}


@dataclass(frozen=True)
class Target:
    tracking_uri: str  # http(s)://HOST:PORT
    experiment: str | None  # a name or an id; None: every experiment
    run_ids: tuple[str, ...]


def is_mlflow_url(path: object) -> bool:
    return isinstance(path, str) and path.split("://", 1)[0].lower() in _SCHEMES and "://" in path


def parse_url(url: str) -> Target | str:
    """The Target a URL names, or why it names none."""
    parts = urlsplit(url)
    if not parts.netloc:
        return "no server in the URL (expected mlflow://HOST:PORT[/EXPERIMENT][?run=ID,...])"
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"run"})
    if unknown:
        return f"unknown URL parameter(s) {', '.join(unknown)} (only run=ID,... is understood)"
    run_ids = tuple(r for value in query.get("run", []) for r in value.split(",") if r)
    experiment = unquote(parts.path.strip("/")) or None
    return Target(f"{_SCHEMES[parts.scheme.lower()]}://{parts.netloc}", experiment, run_ids)


@contextmanager
def _quick_failure() -> Iterator[None]:
    """Fail in seconds, not after mlflow's minutes of retries, unless the user set their own."""
    added = {k: v for k, v in _QUICK_FAILURE.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def _why(exc: Exception) -> str:
    """mlflow's error in one short line (its messages carry whole retry chains)."""
    text = str(exc)
    for marker, short in (("Connection refused", "connection refused"), ("Max retries exceeded", "no answer"),
                          ("Name or service not known", "unknown host"), ("timed out", "timed out")):
        if marker in text:
            return short
    code = getattr(exc, "error_code", None)
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    first = re.sub(r"\s+", " ", first)[:200]
    return f"{code}: {first}" if code and code not in first else first


Progress = Callable[[int, int], None]


def read_mlflow_server(url: str, tag_roles: Mapping[str, Sequence[str]] | None = None, *,
                       progress: Progress | None = None) -> tuple[list[Run], list[Problem]]:
    """Every run the URL names, read from the server; (runs, problems that belong to no run)."""
    target = parse_url(url)
    if isinstance(target, str):
        return [], [Problem(url, target)]
    try:
        from mlflow import MlflowClient
    except ImportError as exc:
        return [], [Problem(url, f"{INSTALL_HINT} ({exc})")]
    except Exception as exc:  # noqa: BLE001 - an mlflow that fails to import (clashing dependencies)
        return [], [Problem(url, f"mlflow is installed but cannot be imported: {type(exc).__name__}: {exc}")]
    with _quick_failure():
        client = MlflowClient(tracking_uri=target.tracking_uri)
        try:
            found, problems, experiment_names = _find_runs(client, target)
        except Exception as exc:  # noqa: BLE001 - mlflow raises many kinds: each is one line
            return [], [Problem(target.tracking_uri, f"cannot read the MLflow server: {_why(exc)}")]
        runs = _read_all(client, target, found, progress)
    _name_runs(runs, found, experiment_names if target.experiment is None and not target.run_ids else None)
    from ..tags import assign_roles

    for run in runs:
        assign_roles(run, tag_roles)
    return runs, problems


def _find_runs(client, target: Target) -> tuple[list, list[Problem], dict[str, str]]:
    """(mlflow Run entities, problems, experiment id -> name) of what the target names; raises when
    the server fails."""
    if target.run_ids:
        return (*_runs_by_id(client, target), {})
    experiments = _experiments(client, target)
    if isinstance(experiments, Problem):
        return [], [experiments], {}
    ids = [e.experiment_id for e in experiments]
    runs = _all_pages(lambda token: client.search_runs(ids, max_results=_PAGE, page_token=token))
    return runs, [], {e.experiment_id: e.name for e in experiments}


def _all_pages(fetch: Callable) -> list:
    """Every item of a paged mlflow search (``fetch(page_token)`` returns a PagedList)."""
    items, token = [], None
    while True:
        page = fetch(token)
        items.extend(page)
        token = page.token
        if not token:
            return items


def _runs_by_id(client, target: Target) -> tuple[list, list[Problem]]:
    runs, problems = [], []
    for run_id in target.run_ids:
        try:
            run = client.get_run(run_id)
        except Exception as exc:  # noqa: BLE001
            if _unreachable(exc):
                raise
            problems.append(Problem(f"{target.tracking_uri} run {run_id}", f"run not read: {_why(exc)}"))
            continue
        runs.append(run)
    if target.experiment is not None:
        experiment = _experiments(client, target)
        if isinstance(experiment, Problem):
            return [], [experiment]
        wanted = {e.experiment_id for e in experiment}
        for run in [r for r in runs if r.info.experiment_id not in wanted]:
            problems.append(Problem(f"{target.tracking_uri} run {run.info.run_id}",
                                    f"run not in experiment {target.experiment!r}: skipped"))
        runs = [r for r in runs if r.info.experiment_id in wanted]
    return runs, problems


def _unreachable(exc: Exception) -> bool:
    return _why(exc) in ("connection refused", "no answer", "unknown host", "timed out")


def _experiments(client, target: Target) -> list | Problem:
    """The experiment the target names (by id, else by name), or every active one."""
    if target.experiment is None:
        return _all_pages(lambda token: client.search_experiments(max_results=_PAGE, page_token=token))
    if target.experiment.isdigit():
        try:
            return [client.get_experiment(target.experiment)]
        except Exception as exc:  # noqa: BLE001 - not an id: maybe a name made of digits
            if _unreachable(exc):
                raise
    for name in (target.experiment, "/" + target.experiment):  # Databricks' names are paths: /Users/me/exp
        experiment = client.get_experiment_by_name(name)
        if experiment is not None:
            return [experiment]
    names = sorted(e.name for e in _all_pages(lambda token: client.search_experiments(max_results=_PAGE,
                                                                                      page_token=token)))
    return Problem(target.tracking_uri, f"no experiment named or numbered {target.experiment!r} on the server "
                                        f"(it has {len(names)}: {first_few(names)})")


def _read_all(client, target: Target, found: list, progress: Progress | None) -> list[Run]:
    """Every run's metric histories, runs side by side in a few threads."""
    def one(entity) -> Run:
        return _read_run(client, target, entity)

    runs = []
    with ThreadPoolExecutor(max_workers=_THREADS) as pool:
        for run in pool.map(one, found):
            runs.append(run)
            if progress is not None:
                progress(len(runs), len(found))
    return runs


def _read_run(client, target: Target, entity) -> Run:
    from .mlflow import _parse_param as parse_param  # the file store's parsing, so both agree

    info = entity.info
    source = f"{target.tracking_uri}/#/experiments/{info.experiment_id}/runs/{info.run_id}"  # the run in the UI
    problems: list[Problem] = []
    chunks: dict[str, list[Chunk]] = {}
    for key in sorted(entity.data.metrics):
        try:
            history = client.get_metric_history(info.run_id, key)
        except Exception as exc:  # noqa: BLE001 - one metric lost, the others kept
            problems.append(Problem(source, f"metric {key!r}: history not read: {_why(exc)}"))
            continue
        if history:
            chunks[key] = [_chunk(history)]
    series, restarts, notes = merge_tags(chunks)
    hparams = {key: parse_param(value) for key, value in sorted(entity.data.params.items())}
    return Run(name=info.run_name or info.run_id, source=source, format="mlflow", series=series,
               problems=problems, restarts=restarts, notes=notes, hparams=hparams)


def _chunk(history: list) -> Chunk:
    """Points in logging order (timestamp, then as the server returned them)."""
    ordered = sorted(history, key=lambda m: m.timestamp)
    return Chunk.from_lists([m.step for m in ordered], [m.value for m in ordered],
                            [m.timestamp / 1000.0 for m in ordered])


def _name_runs(runs: list[Run], found: list, experiment_names: dict[str, str] | None) -> None:
    """Run names; with every experiment read, prefixed by the experiment's name; a name two runs
    share gets the start of each one's run id."""
    if experiment_names is not None:
        for run, entity in zip(runs, found):
            run.name = f"{experiment_names.get(entity.info.experiment_id, entity.info.experiment_id)}/{run.name}"
    counts: dict[str, int] = {}
    for run in runs:
        counts[run.name] = counts.get(run.name, 0) + 1
    for run, entity in zip(runs, found):
        if counts[run.name] > 1:
            run.name = f"{run.name} [{entity.info.run_id[:8]}]"
