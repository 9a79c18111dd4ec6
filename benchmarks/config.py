"""What one benchmark run measures and where it keeps its files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from batchtrack.settings import PROJECT_ROOT, Settings

CACHE_ROOT = PROJECT_ROOT / "benchmarks" / "cache"
DEFAULT_SCALE = "large"
DEFAULT_DAYS = 365
DEFAULT_SEED = 2026
PHASES = ("generate", "ingestion", "pipeline", "recall", "competitors")


@dataclass(frozen=True)
class BenchConfig:
    scale: str = DEFAULT_SCALE
    days: int = DEFAULT_DAYS
    seed: int = DEFAULT_SEED
    lots_per_set: int = 50
    hub_lots_per_set: int = 5  # the top lots by degree, taken before the random ones
    warm_repeats: int = 3
    skip_postgres: bool = False
    rebuild: bool = False
    phases: tuple[str, ...] = PHASES

    @property
    def dataset_name(self) -> str:
        """`large` for the default data set; other sizes get a folder of their own."""
        name = self.scale
        if self.days != DEFAULT_DAYS:
            name += f"-{self.days}d"
        if self.seed != DEFAULT_SEED:
            name += f"-s{self.seed}"
        return name

    @property
    def dataset_dir(self) -> Path:
        return CACHE_ROOT / self.dataset_name

    @property
    def landing(self) -> Path:
        return self.dataset_dir / "landing"

    @property
    def output_dir(self) -> Path:
        return Settings.from_env().output / "bench"
