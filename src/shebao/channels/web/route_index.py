"""Routing by the path's first segment: each request tries only the routes that could match it.

FastAPI (0.165) keeps every included router as one top-level route and matches a request by
trying the routes in order, each included router trying each of its own routes' patterns (and
the router that matches, once more to handle it). The app has some thirty routers: a page such
as ``/me``, whose router comes after the API's, paid ~0.25 ms of pattern matching per request
and a path that matches nothing ~0.35 ms.

:func:`install` partitions the app's top-level routes by the first segment of the paths they
can match (``/api/v1/persons/{id}`` → ``api``, ``/me/reads`` → ``me``, the ``/static`` mount →
``static``). A route whose first segment is a parameter, or whose paths cannot be listed, is in
every partition. A request is handed to a copy of the app's router holding only its
partition's routes, in their original order — the same route answers as before (a route
outside the partition cannot match that path, nor its slash-redirect twin, which has the same
first segment), and misses (404, 405, the trailing-slash redirect) are decided by the same
code. ``scope["router"]`` stays the app's whole router (``url_for`` sees every route). A route
added to the app afterwards rebuilds the partitions (routes are to be added to a router before
it is included, as FastAPI's own ``include_router`` copies them too).
"""
from __future__ import annotations

import copy

from fastapi.routing import _EffectiveRouteContext, _IncludedRouter

ANY = None     # "may match a path with any first segment"


def _first(path: str | None):
    """The first segment of a route path, or ANY where it is a parameter or unknown."""
    if not path or not path.startswith("/"):
        return ANY
    seg = path[1:].split("/", 1)[0]
    return ANY if "{" in seg else seg


def segments(route) -> set | None:
    """The first segments of every path ``route`` (a top-level route of the app) can match;
    None where that cannot be said (the route then goes in every partition)."""
    if isinstance(route, _IncludedRouter):
        if getattr(route.original_router, "_low_priority_routes", None):
            return None
        out: set = set()
        for child in route.effective_candidates():
            sub = segments(child)
            if sub is None:
                return None
            out |= sub
        return out
    if isinstance(route, _EffectiveRouteContext):
        first = _first(route.path_format or route.path)
    else:
        first = _first(getattr(route, "path_format", None) or getattr(route, "path", None))
    return None if first is ANY else {first}


class RouteIndex:
    """The app router's entry (``router.middleware_stack``): a request goes to the partition
    of its path's first segment (see the module)."""

    def __init__(self, router):
        self.router = router
        self._build()

    def _stamp(self):
        return len(self.router.routes), getattr(self.router, "_routes_version", 0)

    def _build(self) -> None:
        router = self.router
        self.stamp = self._stamp()
        parts = [(r, segments(r)) for r in router.routes]
        if getattr(router, "_low_priority_routes", None):   # not partitioned: all of them
            parts = [(r, None) for r in router.routes]
        names = set().union(*(s for _, s in parts if s is not None))
        self.partitions = {name: self._copy([r for r, s in parts if s is None or name in s])
                           for name in names}
        self.rest = self._copy([r for r, s in parts if s is None])

    def _copy(self, routes):
        part = copy.copy(self.router)
        part.routes = routes
        return part

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            await self.router.app(scope, receive, send)     # lifespan: the whole router
            return
        if self._stamp() != self.stamp:      # a route added to the app since (tests do)
            self._build()
        scope.setdefault("router", self.router)
        path = scope.get("path", "")
        first = path[1:].split("/", 1)[0] if path.startswith("/") else ""
        await self.partitions.get(first, self.rest).app(scope, receive, send)


def install(app) -> RouteIndex:
    """Route ``app``'s requests through a :class:`RouteIndex` (call once every route is
    included)."""
    if app.router.middleware_stack != app.router.app:
        raise RuntimeError("the app's router has middleware of its own: index inside it")
    index = RouteIndex(app.router)
    app.router.middleware_stack = index
    return index
