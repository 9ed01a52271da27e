"""Where citygraph's inputs are: the ontology, vocabularies, data, shapes and queries.

One place decides, in this order (issue 10 §1, issue 15 §2):

1. the directory given as ``--project DIR``;
2. the working tree: the working directory or the nearest parent with ``shapes/`` and
   ``ontology/citygraph.ttl`` (a checkout, a fork, a second clone);
3. the copies shipped in the installed package (``citygraph/inputs/``), so that
   ``pip install citygraph`` and ``citygraph validate my-data.ttl`` work anywhere.

A command says which it used (:meth:`Project.describe`), so that a ``citygraph`` installed from
one checkout never silently validates or builds the data of another.

>>> project = Project.at(Path("/nowhere"), origin="--project")
>>> project.shapes
PosixPath('/nowhere/shapes')
>>> project.describe()
'inputs: --project /nowhere'
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from citygraph.errors import CitygraphError

__all__ = ["Project", "ProjectError"]

Origin = Literal["--project", "working tree", "installed package"]


class ProjectError(CitygraphError):
    """The directory given with ``--project`` holds no citygraph inputs."""


@dataclass(frozen=True)
class Project:
    """A set of inputs laid out as in the repository, and where it was found."""

    root: Path
    origin: Origin

    @classmethod
    def at(cls, root: Path, *, origin: Origin) -> Project:
        """The project whose inputs are under ``root`` (nothing is checked)."""
        return cls(root=root, origin=origin)

    @classmethod
    def find(cls, explicit: Path | None = None, *, cwd: Path | None = None) -> Project:
        """``explicit``, else the working tree around ``cwd`` (default: the working directory),
        else the copies shipped with the package.

        Raises:
            ProjectError: ``explicit`` is not a directory with ``shapes/`` and
                ``ontology/citygraph.ttl``.
        """
        if explicit is not None:
            if not _is_project(explicit):
                needs = "needs shapes/ and ontology/citygraph.ttl"
                raise ProjectError(f"{explicit}: not a citygraph project ({needs})")
            return cls.at(explicit.resolve(), origin="--project")
        start = (cwd or Path.cwd()).resolve()
        for folder in (start, *start.parents):
            if _is_project(folder):
                return cls.at(folder, origin="working tree")
        return cls.shipped()

    @classmethod
    def shipped(cls) -> Project:
        """The inputs installed with the package (``citygraph/inputs/``)."""
        inputs = Path(str(resources.files("citygraph") / "inputs"))
        return cls.at(inputs, origin="installed package")

    @property
    def ontology(self) -> Path:
        """``ontology/citygraph.ttl``."""
        return self.root / "ontology" / "citygraph.ttl"

    @property
    def vocabularies(self) -> Path:
        """``ontology/vocab/``: the concept schemes."""
        return self.root / "ontology" / "vocab"

    @property
    def data(self) -> Path:
        """``data/``: the curated data."""
        return self.root / "data"

    @property
    def shapes(self) -> Path:
        """``shapes/``: the SHACL shapes."""
        return self.root / "shapes"

    @property
    def queries(self) -> Path:
        """``queries/``: the competency questions."""
        return self.root / "queries"

    def vocabulary_files(self) -> list[Path]:
        """The ontology and the concept schemes, in a stable order (what data is checked with)."""
        ontology = [self.ontology] if self.ontology.is_file() else []
        return ontology + sorted(self.vocabularies.glob("*.ttl"))

    def describe(self) -> str:
        """One line saying which inputs a command uses."""
        if self.origin == "installed package":
            return f"inputs: the copies installed with citygraph ({self.root})"
        return f"inputs: {self.origin} {self.root}"


def _is_project(folder: Path) -> bool:
    return (folder / "shapes").is_dir() and (folder / "ontology" / "citygraph.ttl").is_file()
