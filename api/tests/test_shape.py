"""The shape of the code, checked: one way into the database, SQL only in queries modules,
storage capabilities instead of type checks, no import cycle (docs/ARCHITECTURE.md)."""

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pixtag

PACKAGE = Path(pixtag.__file__).parent
SQL = re.compile(
    r"^\s*(SELECT|INSERT|UPDATE|DELETE\s+FROM|WITH|LOCK|BEGIN|COMMIT|ROLLBACK|LISTEN|FETCH|"
    r"DECLARE|VACUUM|CREATE|DROP|ALTER|TRUNCATE)\b",
    re.IGNORECASE,
)


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        yield name, path


def in_db_layer(name: str) -> bool:
    return name == "pixtag.db" or name.startswith("pixtag.db.")


def is_queries(name: str) -> bool:
    return name.endswith(".queries") or ".queries." in name


def string_constants(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
            yield node.lineno, str(text)


def docstrings(tree: ast.AST) -> set[int]:
    """The line numbers of docstrings (prose, not SQL)."""
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                lines.add(body[0].value.lineno)
    return lines


def test_only_the_db_layer_builds_pools_connections_and_transactions():
    found = []
    for name, path in modules():
        if in_db_layer(name):
            continue
        text = path.read_text()
        for pattern in ("pool.acquire", "aiopg.connect", "aiopg.create_pool", "Transaction("):
            if pattern in text:
                found.append(f"{name}: {pattern}")
    assert found == []


def test_sql_lives_only_in_queries_modules_and_the_db_layer():
    found = []
    for name, path in modules():
        if in_db_layer(name) or is_queries(name):
            continue
        tree = ast.parse(path.read_text())
        prose = docstrings(tree)
        for line, text in string_constants(tree):
            if line not in prose and SQL.match(text) and " " in text.strip():
                found.append(f"{name}:{line}: {text.strip()[:40]}")
    assert found == []


def test_no_code_outside_storage_asks_which_backend_it_has():
    found = [
        name
        for name, path in modules()
        if not name.startswith("pixtag.storage")
        and re.search(r"isinstance\([^)]*(LocalStorage|S3Storage)", path.read_text())
    ]
    assert found == []


def loaded_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module loads: not those inside functions,
    nor those under ``if TYPE_CHECKING``."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if "TYPE_CHECKING" not in ast.unparse(node.test):
                yield from loaded_imports(node.body)
            yield from loaded_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                yield from loaded_imports(block)
        elif isinstance(node, ast.With | ast.ClassDef):
            yield from loaded_imports(node.body)


def imports_at_load(path: Path, name: str, known: set[str]) -> set[str]:
    """The pixtag modules that loading ``name`` loads."""
    base = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in loaded_imports(ast.parse(path.read_text()).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        module = node.module or ""
        if node.level:
            parent = base.rsplit(".", node.level - 1)[0] if node.level > 1 else base
            module = f"{parent}.{module}" if module else parent
        for alias in node.names:
            full = f"{module}.{alias.name}"
            found.add(full if full in known else module)
    return found & known - {name}


def test_the_package_has_no_import_cycle():
    known = {name for name, _ in modules()}
    graph = {name: imports_at_load(path, name, known) for name, path in modules()}
    # Tarjan's strongly connected components: a component of two or more is a cycle.
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    assert len(graph) > 100  # the walk saw the package
    assert cycles == []
