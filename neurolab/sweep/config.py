"""What a sweep runs: recordings x a grid of parameters, checked before any task starts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

from neurolab._stats import MAX_PERMUTATIONS
from neurolab.io.fetch import RECORDINGS

__all__ = ["ANALYSES", "GRID_KEYS", "SweepConfig", "load_config", "twin"]

ANALYSES = ("cvpca", "identity", "signal_variance", "category_signal", "category")
"""The analyses a task can run (see ``neurolab.sweep.tasks``)."""

GRID_KEYS = {
    "analysis": ANALYSES[0],
    "n_pcs": 32,  # spontaneous PCs removed (SpontaneousPCs)
    "seed": 0,  # seed of a synthetic twin and of every random choice of the analysis
    "n_components": 64,  # PCA size of the category decoder's reducer
    "n_permutations": 19,  # label shuffles of the category decoder's p-value
    "n_shuffles": 20,  # label shuffles of the category-signal null
}
"""Every parameter a grid may vary, with the value a task gets when the grid does not name it."""

CONFIG_KEYS = ("recordings", "size", "grid", "name")
SIZES = ("smoke", "course", "full")


def twin(name: str) -> str:
    """'twin:<recording>': the synthetic twin of a natimg2800 recording (same layout, own seed)."""
    return f"twin:{name}"


@dataclass(frozen=True)
class SweepConfig:
    """A sweep: every recording crossed with every combination of the grid's values.

    Attributes
    ----------
    recordings : tuple of str
        Recording names (``neurolab.io.RECORDINGS``, read from the data cache or downloaded),
        paths to natimg2800 ``.mat`` files, or ``'twin:<name>'`` for the synthetic twin of one.
    grid : dict of {str: tuple}
        Values of the parameters in ``GRID_KEYS`` (each a non-empty list).
    size : {'smoke', 'course', 'full'}
        Size of the synthetic twins.
    name : str
        A label for the sweep (its results folder, its provenance).
    """

    recordings: tuple
    grid: dict = field(default_factory=dict)
    size: str = "course"
    name: str = "sweep"

    def __post_init__(self):
        _check(self)

    def tasks(self) -> list[dict]:
        """Every task: one dict per (recording x grid point), with every parameter set."""
        keys = list(self.grid)
        out = []
        for recording in self.recordings:
            for values in itertools.product(*(self.grid[k] for k in keys)):
                out.append({"recording": recording, "size": self.size, **GRID_KEYS, **dict(zip(keys, values))})
        return out


def _check(config: SweepConfig) -> None:
    if not config.recordings:
        raise ValueError("sweep config: 'recordings' is empty: name at least one recording")
    seen = {}
    for recording in config.recordings:
        if not isinstance(recording, str):
            raise ValueError(f"sweep config: 'recordings' holds {recording!r}, not a recording name")
        base = recording.removeprefix("twin:")
        is_path = recording == base and recording.lower().endswith(".mat")
        if base not in RECORDINGS and not is_path:
            raise ValueError(
                f"sweep config: unknown recording {recording!r} in 'recordings'; use one of "
                f"{', '.join(RECORDINGS)}, 'twin:<one of them>', or a path to a .mat file"
            )
        same = str(Path(recording).expanduser().resolve()) if is_path else recording
        if same in seen:
            raise ValueError(f"sweep config: 'recordings' names {recording!r} twice (as {seen[same]!r} "
                             "too): every task would run twice")
        seen[same] = recording
        if is_path and not Path(recording).expanduser().is_file():
            raise ValueError(f"sweep config: the recording file {recording!r} in 'recordings' does not "
                             "exist (or is not a file)")
    if config.size not in SIZES:
        raise ValueError(f"sweep config: 'size' is {config.size!r}; choose one of {', '.join(SIZES)}")
    if not isinstance(config.grid, dict):
        raise ValueError(f"sweep config: 'grid' must be a mapping of parameter: [values], got {config.grid!r}")
    if not config.grid:
        raise ValueError("sweep config: 'grid' is empty: name at least one parameter with its values")
    for key, values in config.grid.items():
        if key not in GRID_KEYS:
            raise ValueError(f"sweep config: unknown parameter {key!r} in 'grid'; known: {', '.join(GRID_KEYS)}")
        if not isinstance(values, (list, tuple)) or not values:
            raise ValueError(f"sweep config: grid parameter {key!r} must be a non-empty list, got {values!r}")
        for value in values:
            _check_value(key, value)
        repeated = sorted({repr(v) for v in values if sum(w == v and type(w) is type(v) for w in values) > 1})
        if repeated:
            raise ValueError(f"sweep config: grid parameter {key!r} lists {', '.join(repeated)} more than "
                             "once: the same task would run twice")
    _check_pcs(config)


def _check_pcs(config: SweepConfig) -> None:
    """Spontaneous PCs removed must fit a twin's neurons and spontaneous timepoints."""
    from neurolab.synthetic import SIZES as TWIN_SIZES

    twins = [r for r in config.recordings if r.startswith("twin:")]
    if not twins:
        return
    params = TWIN_SIZES[config.size]
    most = min(params.n_neurons, params.n_spont)
    for n_pcs in config.grid.get("n_pcs", (GRID_KEYS["n_pcs"],)):
        if n_pcs > most:
            raise ValueError(f"sweep config: grid parameter 'n_pcs' holds {n_pcs}, but the {config.size!r} "
                             f"twins have {params.n_neurons} neurons and {params.n_spont} spontaneous "
                             f"timepoints: at most {most} PCs can be removed")


def _check_value(key: str, value) -> None:
    if key == "analysis":
        if value not in ANALYSES:
            raise ValueError(f"sweep config: unknown analysis {value!r} in grid 'analysis'; known: {', '.join(ANALYSES)}")
        return
    low = {"n_pcs": 0, "seed": 0, "n_components": 1, "n_permutations": 0, "n_shuffles": 0}[key]
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise ValueError(f"sweep config: grid parameter {key!r} holds {value!r}; expected an int >= {low}")
    if key in ("n_permutations", "n_shuffles") and value > MAX_PERMUTATIONS:
        raise ValueError(f"sweep config: grid parameter {key!r} holds {value:,}; at most "
                         f"{MAX_PERMUTATIONS:,} (p down to 1e-5) are run")


class _UniqueKeyLoader:
    """A YAML SafeLoader that refuses a key given twice in one mapping (YAML keeps the last silently)."""

    @staticmethod
    def make():
        import yaml

        class Loader(yaml.SafeLoader):
            pass

        def mapping(loader, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                key = loader.construct_object(key_node, deep=deep)
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice (line {key_node.start_mark.line + 1}); "
                        "the first would be silently lost", key_node.start_mark)
                seen.add(key)
            return loader.construct_mapping(node, deep)

        Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
        return Loader


def _parse_yaml(text: str, where: str):
    import yaml

    try:
        return yaml.load(text, Loader=_UniqueKeyLoader.make())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ValueError(f"sweep config {where}: not valid YAML ({' '.join(str(error).split())})") from error


def load_config(source) -> SweepConfig:
    """A ``SweepConfig`` from a YAML file, a YAML string or a dict; errors name the key at fault.

    A ``pathlib.Path``, or a one-line string that names an existing file or ends in .yaml/.yml, is
    read as a file; other strings are YAML text. A key given twice is an error (YAML would keep
    the last one silently).

    Example YAML::

        name: seven-twins
        size: course
        recordings: [twin:M160825_MP027_2016-12-14, twin:M161025_MP030_2017-05-29]
        grid:
          analysis: [cvpca, identity, signal_variance, category_signal]
          n_pcs: [0, 32]
          seed: [0]
    """
    if isinstance(source, dict):
        data = source
    else:
        text = str(source)
        is_file = isinstance(source, Path) or ("\n" not in text and (
            Path(text).expanduser().exists() or Path(text).suffix in (".yaml", ".yml")))
        if is_file:
            path = Path(source).expanduser()
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError) as error:
                reason = "no such file" if isinstance(error, FileNotFoundError) else f"{type(error).__name__}: {error}"
                raise ValueError(f"sweep config {path}: cannot be read ({reason})") from error
        data = _parse_yaml(text, str(source) if is_file else "(text)")
    if not isinstance(data, dict):
        raise ValueError(f"sweep config: expected a mapping with keys {', '.join(CONFIG_KEYS)}, got {data!r}")
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown:
        raise ValueError(f"sweep config: unknown key(s) {unknown}; known: {', '.join(CONFIG_KEYS)}")
    if "recordings" not in data:
        raise ValueError("sweep config: the key 'recordings' is missing")
    recordings = data["recordings"]
    if isinstance(recordings, str) or not isinstance(recordings, (list, tuple)):
        raise ValueError(f"sweep config: 'recordings' must be a list of names, got {recordings!r}")
    grid = data.get("grid") or {}
    if not isinstance(grid, dict):
        raise ValueError(f"sweep config: 'grid' must be a mapping of parameter: [values], got {grid!r}")
    if not grid:
        raise ValueError("sweep config: 'grid' is empty: name at least one parameter with its values")
    return SweepConfig(recordings=tuple(recordings), grid={k: tuple(v) if isinstance(v, list) else v
                                                           for k, v in grid.items()},
                       size=data.get("size", "course"), name=str(data.get("name", "sweep")))
