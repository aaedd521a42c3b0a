"""domain/errors.py: each class owns its Telnyx code, title and HTTP status."""

from __future__ import annotations

import pytest

from heliograph.domain import errors
from heliograph.domain.errors import (
    TITLES,
    HeliographError,
    InvalidTo,
    MessagingRejected,
    NotCancellable,
    ValidationFailed,
    error_class,
)


def _classes() -> list[type[HeliographError]]:
    return [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, HeliographError)]


def test_every_class_carries_a_code_a_title_and_an_http_error_status() -> None:
    for cls in _classes():
        assert cls.code.isdigit() and len(cls.code) == 5, cls
        assert cls.title, cls
        assert 400 <= cls.status < 600, cls


def test_titles_are_the_classes_titles() -> None:
    for code, title in TITLES.items():
        assert error_class(code).title == title
    assert TITLES["40310"] == "Invalid 'to' address"


def test_a_raised_class_renders_its_own_code_title_and_status() -> None:
    exc = InvalidTo("The 'to' address should be a single valid number.", pointer="/to")
    assert isinstance(exc, MessagingRejected)
    assert (exc.code, exc.title, exc.status, exc.pointer) == ("40310", "Invalid 'to' address", 400, "/to")
    assert (NotCancellable.code, NotCancellable.status) == ("10015", 403)


@pytest.mark.parametrize(("code", "base"), [("10004", ValidationFailed), ("40300", MessagingRejected)])
def test_error_class_finds_the_owner_of_a_code(code: str, base: type[HeliographError]) -> None:
    assert issubclass(error_class(code), base)
    assert error_class(code).code == code


def test_a_code_nobody_owns_renders_as_error() -> None:
    exc = error_class("19999")("detail", status=422)
    assert (exc.code, exc.title, exc.status) == ("19999", "Error", 422)


def test_call_sites_raise_the_class_instead_of_passing_a_code() -> None:
    """`InvalidTo(...)`, not `MessagingRejected(..., code="40310")`: the class owns the code (issue 10 #5)."""
    import ast
    from pathlib import Path

    names = {c.__name__ for c in _classes()}
    package = Path(errors.__file__).resolve().parents[1]
    offenders = []
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in names
                and any(k.arg == "code" for k in node.keywords)
            ):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert offenders == []
