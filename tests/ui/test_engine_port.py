"""The window's view of the engine (EngineLike) is what EngineClient and the tests' FakeEngine
both offer: the same signals with the same argument types, the same requests."""

from __future__ import annotations

import inspect
import types

import pytest
from PySide6.QtCore import QMetaMethod, QObject, Signal
from ui.fake_engine import FakeEngine

from qfinder.services.engine import EngineClient
from qfinder.ui.engine_port import EngineLike


def _members(kind: type) -> list[str]:
    return sorted({name for cls in EngineLike.__mro__ if cls.__module__ == EngineLike.__module__
                   for name, value in vars(cls).items()
                   if isinstance(value, kind) and not name.startswith("_")})


SIGNALS = _members(property)
REQUESTS = [name for name in _members(types.FunctionType) if name not in SIGNALS]


def _signal_signatures(cls: type[QObject]) -> dict[str, str]:
    meta = cls.staticMetaObject
    methods = (meta.method(i) for i in range(meta.methodOffset(), meta.methodCount()))
    return {bytes(m.name().data()).decode(): bytes(m.methodSignature().data()).decode()
            for m in methods if m.methodType() == QMetaMethod.MethodType.Signal}


def test_the_port_names_what_the_window_uses():
    assert SIGNALS == ["error", "file_failed", "index_changed", "progress", "reembed_estimate", "results", "roots",
                       "status"]
    assert "search" in REQUESTS and "set_model" in REQUESTS and "shutdown" not in REQUESTS


@pytest.mark.parametrize("engine", [EngineClient, FakeEngine])
def test_an_engine_offers_every_signal_of_the_port(engine):
    assert all(isinstance(getattr(engine, name, None), Signal) for name in SIGNALS)


def test_the_fake_signals_carry_what_the_real_ones_carry():
    real, fake = _signal_signatures(EngineClient), _signal_signatures(FakeEngine)
    assert {n: fake.get(n) for n in SIGNALS} == {n: real[n] for n in SIGNALS}


@pytest.mark.parametrize("engine", [EngineClient, FakeEngine])
@pytest.mark.parametrize("request_name", REQUESTS)
def test_an_engine_takes_every_request_as_the_port_does(engine, request_name):
    wanted = inspect.signature(getattr(EngineLike, request_name))
    offered = inspect.signature(getattr(engine, request_name))
    assert [(p.name, p.default) for p in offered.parameters.values()] == \
        [(p.name, p.default) for p in wanted.parameters.values()]
