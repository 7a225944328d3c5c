"""What each request costs the server: routing by the first path segment (every route answers
exactly as through FastAPI's own router), the collector kept off what the worker built at start."""
import re

from starlette.routing import Match
from starlette.testclient import TestClient

from shebao.channels.web import create_app, route_index


def _whole_router_match(app, scope):
    for route in app.router.routes:
        match, _ = route.matches(dict(scope))
        if match == Match.FULL:
            return route
    return None


def test_every_route_is_in_its_partition_and_partitions_keep_the_order(tmp_path):
    app = create_app(f"sqlite:///{tmp_path}/x.db", mode="dev", secret_key="k" * 40)
    index = app.router.middleware_stack
    assert isinstance(index, route_index.RouteIndex)
    assert set(index.partitions) >= {"api", "me", "staff", "employer", "static", "login"}
    # far fewer routes tried for a page than the app has
    assert len(index.partitions["me"].routes) < len(app.router.routes) / 2
    order = {id(r): k for k, r in enumerate(app.router.routes)}
    for part in index.partitions.values():
        ks = [order[id(r)] for r in part.routes]
        assert ks == sorted(ks)
    for path in [r.path for r in app.routes if hasattr(r, "path")] + [
            "/me", "/me/reads", "/api/v1/persons/12", "/staff", "/login", "/static/app.css",
            "/", "/nowhere", "/api/v1/nowhere"]:
        concrete = re.sub(r"\{[^}]+\}", "1", path)
        scope = {"type": "http", "path": concrete, "method": "GET", "root_path": "",
                 "headers": []}
        first = concrete[1:].split("/", 1)[0]
        part = index.partitions.get(first, index.rest)
        whole = _whole_router_match(app, scope)
        assert whole is None or whole in part.routes, concrete


def test_answers_are_those_of_the_whole_router(tmp_path):
    app = create_app(f"sqlite:///{tmp_path}/x.db", mode="dev", secret_key="k" * 40)
    with TestClient(app) as tc:
        assert tc.get("/login").status_code == 200
        assert tc.get("/static/app.css").status_code == 200
        assert tc.get("/nowhere").status_code == 404
        assert tc.get("/api/v1/nowhere").status_code == 404
        assert tc.get("/me", follow_redirects=False).status_code in (303, 401)
        r = tc.get("/api/v1/persons/1")
        assert r.status_code == 401
        assert tc.get("/api/v1/openapi.json").status_code == 200

        async def late():
            return {"late": True}
        app.add_api_route("/late-route", late)   # added after the index was built
        assert tc.get("/late-route").json() == {"late": True}


def test_a_running_worker_keeps_its_start_out_of_the_collectors_sight(tmp_path):
    """What the app built at start is frozen (a full collection scans only what requests made
    since) while it serves, and given back to the collector when it stops."""
    import gc
    gc.unfreeze()
    app = create_app(f"sqlite:///{tmp_path}/x.db", mode="dev", secret_key="k" * 40)
    with TestClient(app) as tc:
        assert gc.get_freeze_count() > 10_000
        assert tc.get("/login").status_code == 200
    assert gc.get_freeze_count() == 0
