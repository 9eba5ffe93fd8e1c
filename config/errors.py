"""Branded error pages with a way back (config/urls.py handler404/403/500).

404 and 403 render with the request (the top bar and the user's organisations); 500 renders with an
empty context and a standalone template, because the failure may be in what a request context needs
(the database, the session, the user).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "404.html", {"path": request.path}, status=404)


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return render(request, "403.html", {}, status=403)


def server_error(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
    return HttpResponseServerError(loader.get_template("500.html").render({}))
