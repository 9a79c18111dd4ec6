"""`make dev`'s Dagster UI really starts with the project loaded: assets, schedule, sensor."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent

QUERY = """
{ assetNodes { assetKey { path } }
  repositoriesOrError { ... on RepositoryConnection { nodes {
    schedules { name scheduleState { status } } sensors { name sensorState { status } } } } } }
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def graphql(port: int) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": QUERY}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_dagster_dev_serves_the_code_location(tmp_path, dbt_manifest):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "BATCHTRACK_LANDING": str(tmp_path / "landing"),
        "BATCHTRACK_WAREHOUSE": str(tmp_path / "warehouse.duckdb"),
    }
    process = subprocess.Popen(
        [str(BIN / "dagster"), "dev", "--host", "127.0.0.1", "--port", str(port), "-m", "pipelines.definitions"],
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        answer = None
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                answer = graphql(port)
                if answer.get("data", {}).get("assetNodes"):
                    break
            except OSError:
                pass
            time.sleep(2)
        assert answer and answer["data"]["assetNodes"], answer
        keys = {"/".join(node["assetKey"]["path"]) for node in answer["data"]["assetNodes"]}
        assert {"raw/production", "marts/dim_lots", "quality/findings", "warehouse/published"} <= keys
        repository = answer["data"]["repositoriesOrError"]["nodes"][0]
        assert repository["schedules"][0]["name"] == "nightly_ingest"
        assert {sensor["name"] for sensor in repository["sensors"]} == {"landing_sensor"}
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
