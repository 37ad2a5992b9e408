#!/usr/bin/env python3
"""The module graph of the core crate holds its shape (`make test` runs this):

- the entries directly under shared/src (each file or folder is one node; every `crate::...`
  path in code is an edge) form no cycle;
- the domain (report/, check/, slo/) imports no adapter, port, telemetry or runtime, nor
  tokio, the AWS SDK, reqwest, lambda_runtime or tracing: it is pure and synchronous;
- slo/, the model both jobs share, imports neither report/ nor check/.

Prints each violation with the file and line that causes it; exits 1 if there is any.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "shared" / "src"
DOMAIN = {"report", "check", "slo"}
DOMAIN_FORBIDS_NODES = {"adapters", "ports", "telemetry", "runtime"}
DOMAIN_FORBIDS_CRATES = re.compile(r"\b(tokio|aws_[a-z_]+|reqwest|lambda_runtime|tracing)::")
CRATE_PATH = re.compile(r"\bcrate::([a-z_][a-z0-9_]*)")
GROUPED = re.compile(r"\bcrate::\{([^}]*)\}", re.S)


def node_of(path: pathlib.Path) -> str:
    first = path.relative_to(ROOT).parts[0]
    return first[:-3] if first.endswith(".rs") else first


def code_of(text: str) -> str:
    """The text with line comments (and so doc comments) blanked out, lines kept in place."""
    return "\n".join(line.split("//", 1)[0] for line in text.splitlines())


def main() -> int:
    edges: dict[str, dict[str, str]] = {}
    problems = []
    for path in sorted(ROOT.rglob("*.rs")):
        if path == ROOT / "lib.rs":
            continue
        source = node_of(path)
        where = path.relative_to(ROOT.parent.parent)
        text = code_of(path.read_text())
        targets = [(m.group(1), text[: m.start()].count("\n") + 1) for m in CRATE_PATH.finditer(text)]
        for group in GROUPED.finditer(text):
            line = text[: group.start()].count("\n") + 1
            targets += [(item.strip().split("::")[0], line) for item in group.group(1).split(",") if item.strip()]
        for target, line in targets:
            if target != source:
                edges.setdefault(source, {}).setdefault(target, f"{where}:{line}")
            if source in DOMAIN and target in DOMAIN_FORBIDS_NODES:
                problems.append(f"{where}:{line}: the domain ({source}/) imports {target}")
            if source == "slo" and target in {"report", "check"}:
                problems.append(f"{where}:{line}: slo/ imports {target}/")
        if source in DOMAIN:
            for m in DOMAIN_FORBIDS_CRATES.finditer(text):
                line = text[: m.start()].count("\n") + 1
                problems.append(f"{where}:{line}: the domain ({source}/) uses {m.group(1)}")

    # A cycle is found by depth-first search; each one is reported once, by its nodes.
    seen_cycles = set()
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in edges.get(node, {}):
            if state.get(target) == 1:
                cycle = stack[stack.index(target):] + [target]
                key = frozenset(cycle)
                if key not in seen_cycles:
                    seen_cycles.add(key)
                    steps = ", ".join(f"{a} -> {b} ({edges[a][b]})" for a, b in zip(cycle, cycle[1:]))
                    problems.append(f"cycle: {steps}")
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node)

    for problem in problems:
        print(f"check-modules: {problem}", file=sys.stderr)
    if not problems:
        nodes = sorted(set(edges) | {t for targets in edges.values() for t in targets})
        print(f"check-modules: {len(nodes)} entries, {sum(map(len, edges.values()))} edges, no cycle, the domain pure")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
