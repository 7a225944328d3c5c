"""Employer portal: start page (the firm's bureau pages add their own entries)."""
from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from shebao.security.service import User

from ..deps import engine
from ..render import render
from . import record
from .common import employer_user

router = APIRouter(include_in_schema=False)
NAV = {"employer": [("/employer", "My firm", 0, None)]}


@router.get("/employer")
def home(request: Request, user: User = Depends(employer_user), eng=Depends(engine)):
    summary = record.employer_summary(eng, user)
    return render(request, "employer/home.html", {"user": user, "summary": summary})
