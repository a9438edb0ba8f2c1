"""YAML read safely: every file and text the platform reads as YAML goes through `read_yaml`,
which bounds its size, how deeply it nests and how many values its aliases expand to (a few
lines of nested aliases, "billion laughs", can otherwise stand for billions of values), and
says what is wrong and where rather than running out of memory or of recursion."""

from __future__ import annotations

from typing import Any

import yaml

#: a file's size in bytes, how deep its mappings and lists may nest, and how many values it may
#: hold once its aliases are expanded
MAX_BYTES = 20 * 2**20
MAX_DEPTH = 64
MAX_NODES = 1_000_000


class YamlRefused(ValueError):
    """YAML that is not read, with the line it is about (1-based) when there is one."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message, self.line = message, line


def _measure(root: yaml.Node, max_nodes: int) -> None:
    """Refuses a document nested deeper than MAX_DEPTH or holding more than `max_nodes` values
    once aliases are expanded (each shared node counted once per use, walked once)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if depth > MAX_DEPTH:
            raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep", node.start_mark.line + 1)
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            children = []
        if done:
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children)
            if sizes[id(node)] > max_nodes:
                raise YamlRefused(f"expands to more than {max_nodes:,} values through its aliases")
        else:
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children if id(child) not in sizes)


def read_yaml(text: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> tuple[Any, yaml.Node | None]:
    """The data a YAML text holds and its node tree (for the lines things came from); None, None
    for an empty text. YamlRefused says why a text is not read."""
    if len(text.encode("utf-8")) > max_bytes:
        raise YamlRefused(f"longer than {max_bytes / 2**20:g} MB")
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlRefused(f"not valid YAML: {reason}", mark.line + 1 if mark else None) from None
    except RecursionError:  # the parser recurses once per level of nesting
        raise YamlRefused(f"nested more than {MAX_DEPTH} levels deep") from None
    if node is None:
        return None, None
    _measure(node, max_nodes)
    try:
        return yaml.SafeLoader("").construct_document(node), node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        reason = getattr(exc, "problem", None) or str(exc)
        raise YamlRefused(f"not valid YAML: {reason}", mark.line + 1 if mark else None) from None
