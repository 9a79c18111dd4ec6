"""PNG screenshots of built pages with headless Chromium, for review notes and release mails.
Needs a Chromium binary (Debian: `apt-get install chromium`); nothing else."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

# Flags that keep a headless run from touching the network or a profile: the pages are offline.
HEADLESS_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary on PATH, or None."""
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    return None


def take_screenshots(
    pages: Iterable[Path],
    output_dir: Path,
    *,
    chromium: str | None = None,
    window_size: tuple[int, int] = (1400, 2400),
    render_wait_ms: int = 10000,
) -> list[Path]:
    """One PNG per page, named after it, in `output_dir` (e.g. <output>/screenshots/); returns
    their paths. Raises RuntimeError when no Chromium is found or a screenshot fails."""
    chromium = chromium or find_chromium()
    if chromium is None:
        raise RuntimeError("no Chromium found on PATH (Debian: apt-get install chromium)")
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    shots = []
    for page in pages:
        page = Path(page).resolve()
        shot = output_dir / f"{page.stem}.png"
        with tempfile.TemporaryDirectory(prefix="batchtrack-chromium-") as profile:
            completed = subprocess.run(
                [
                    chromium,
                    *HEADLESS_FLAGS,
                    f"--user-data-dir={profile}",
                    f"--window-size={window_size[0]},{window_size[1]}",
                    f"--virtual-time-budget={render_wait_ms}",
                    f"--screenshot={shot}",
                    page.as_uri(),
                ],
                capture_output=True,
                text=True,
                timeout=120,
            )
        if completed.returncode != 0 or not shot.exists() or shot.stat().st_size == 0:
            raise RuntimeError(f"screenshot of {page} failed: {completed.stderr[-2000:]}")
        shots.append(shot)
    return shots
