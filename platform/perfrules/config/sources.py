"""Reading configuration YAML, remembering where each value came from (file and line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..problems import ConfigError, Problem, format_path
from ..yamltext import YamlRefused, read_yaml
from .schemas import KINDS


@dataclass
class SourceDocument:
    """One document (a dataset, a KPI, a template …) as written in a file."""

    kind: str
    index: int
    data: dict
    file: str | None = None
    lines: dict[tuple, int] = field(default_factory=dict)

    @property
    def slug(self) -> str | None:
        slug = self.data.get("slug") if isinstance(self.data, dict) else None
        return slug if isinstance(slug, str) else None

    def problem(self, path: tuple, message: str) -> Problem:
        line = None
        for end in range(len(path), -1, -1):
            line = self.lines.get(path[:end])
            if line is not None:
                break
        return Problem(format_path((self.kind, self.index) + path), message, self.file, line)


def yaml_files(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            found.append(path)
        else:
            raise ConfigError([Problem("", "no such file or folder", str(path))])
    return found


def read_documents(paths: list[Path]) -> tuple[list[SourceDocument], list[Problem]]:
    """Every document in the YAML files under `paths`, and the problems met reading them."""
    documents, problems = [], []
    for path in yaml_files(paths):
        docs, file_problems = parse_documents(path.read_text(encoding="utf-8"), str(path))
        documents.extend(docs)
        problems.extend(file_problems)
    return documents, problems


def parse_documents(text: str, file: str | None = None) -> tuple[list[SourceDocument], list[Problem]]:
    try:
        data, node = read_yaml(text)
    except YamlRefused as exc:
        return [], [Problem("", exc.message, file, exc.line)]
    if data is None:
        return [], []
    if not isinstance(data, dict):
        return [], [
            Problem(
                "", "a configuration file must be a mapping of sections such as datasets:, kpis:, templates:", file, 1
            )
        ]
    documents, problems = [], []
    assert node is not None, "the text holds a mapping (above), so it composes to a node"
    nodes = {key_node.value: value_node for key_node, value_node in node.value}
    for kind, items in data.items():
        kind_line = nodes[kind].start_mark.line + 1 if kind in nodes else None
        if isinstance(kind, str) and kind.startswith("x-"):
            continue  # shared pieces referenced through YAML anchors, as in docker-compose files
        if kind not in KINDS:
            problems.append(Problem(str(kind), f"unknown section; expected one of {', '.join(KINDS)}", file, kind_line))
            continue
        if not isinstance(items, list):
            problems.append(Problem(kind, "must be a list of documents", file, kind_line))
            continue
        for index, (item, item_node) in enumerate(zip(items, nodes[kind].value)):
            documents.append(SourceDocument(kind, index, item, file, _line_map(item_node)))
    return documents, problems


def _line_map(root: yaml.Node) -> dict[tuple, int]:
    lines: dict[tuple, int] = {}
    stack: list[tuple[tuple[object, ...], yaml.Node]] = [((), root)]
    while stack:
        path, node = stack.pop()
        lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                lines.setdefault(path + (key_node.value,), key_node.start_mark.line + 1)
                stack.append((path + (key_node.value,), value_node))
        elif isinstance(node, yaml.SequenceNode):
            for index, value_node in enumerate(node.value):
                stack.append((path + (index,), value_node))
    return lines


class _Dumper(yaml.SafeDumper):
    """Readable YAML: labels on one line, everything else in block style, Chinese as is."""


def _represent_dict(dumper: yaml.SafeDumper, value: dict):
    flow = set(value) == {"zh", "en"}
    return dumper.represent_mapping("tag:yaml.org,2002:map", value.items(), flow_style=flow)


_Dumper.add_representer(dict, _represent_dict)


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=False, width=100)
