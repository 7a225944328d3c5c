"""Every notice template the source enqueues has its texts (English ids, Chinese catalogue):
found from the source with ``ast`` — a literal ``template=`` of ``outbox.enqueue``, and where
a helper passes one of its parameters (``_notify(conn, r, "x.y", …)``, an f-string
``f"supervision.arrears.{what}"``) every literal its callers in that module pass."""
import ast
from pathlib import Path

from shebao.notices.render import TEMPLATES, catalogue_ids, used_ids

SRC = Path(__file__).resolve().parents[3] / "src" / "shebao"


def _enqueued_templates(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    helpers: dict[str, tuple[int, str]] = {}   # function -> (param index, prefix)
    for fn in ast.walk(tree):
        if not isinstance(fn, ast.FunctionDef):
            continue
        params = [a.arg for a in fn.args.args]
        for call in ast.walk(fn):
            if not (isinstance(call, ast.Call) and getattr(call.func, "attr", None) == "enqueue"):
                continue
            for kw in call.keywords:
                if kw.arg != "template":
                    continue
                v = kw.value
                if isinstance(v, ast.Constant):
                    found.add(v.value)
                elif isinstance(v, ast.Name) and v.id in params:
                    helpers[fn.name] = (params.index(v.id), "")
                elif isinstance(v, ast.JoinedStr):
                    prefix = "".join(x.value for x in v.values if isinstance(x, ast.Constant))
                    names = [x.value.id for x in v.values if isinstance(x, ast.FormattedValue)
                             and isinstance(x.value, ast.Name)]
                    assert len(names) == 1 and names[0] in params, ast.dump(v)
                    helpers[fn.name] = (params.index(names[0]), prefix)
    for call in ast.walk(tree):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) \
                and call.func.id in helpers:
            i, prefix = helpers[call.func.id]
            arg = call.args[i] if i < len(call.args) else None
            if isinstance(arg, ast.Constant):
                found.add(prefix + arg.value)
    return found


def test_every_enqueued_template_has_texts_and_chinese():
    used = set()
    for path in SRC.rglob("*.py"):
        used |= _enqueued_templates(ast.parse(path.read_text(encoding="utf-8")))
    assert {"case.received", "case.decided"} <= used          # the finder finds them
    missing = sorted(used - set(TEMPLATES))
    assert not missing, f"notice templates without texts in notices/render.py: {missing}"
    assert used_ids() - catalogue_ids() == set()
