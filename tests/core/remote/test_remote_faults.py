"""What a server does wrong reaches the client as the right error, with the right waits."""

from __future__ import annotations

import dataclasses
import threading
import time

import pytest
from support.embed_servers import Quirks

from qfinder.core.model.remote.client import RetryPolicy
from qfinder.core.model.remote.errors import IdentityMismatch, ServerRejected, ServerUnavailable


def test_wrong_key_is_refused_with_one_clear_line(serve, remote_for) -> None:
    server = serve("tei", api_key="right")
    with pytest.raises(ServerRejected) as refused:
        remote_for(server, api_key="wrong").connect()
    assert "refused the API key (401)" in str(refused.value) and "wrong" not in str(refused.value)
    remote_for(server, api_key="right").connect()  # the right one passes


def test_a_429_storm_is_waited_out_honouring_retry_after(serve, remote_for, sleeps) -> None:
    server = serve("tei", quirks=Quirks(retry_after="2"))
    remote = remote_for(server)
    remote.connect()
    server.quirks.status_storm = [429] * 5
    remote.embed_documents_with_stats(["after the storm"])
    assert sleeps == [2.0] * 5


def test_backoff_grows_with_jitter_without_retry_after(serve, remote_for, sleeps) -> None:
    server = serve("openai", quirks=Quirks(retry_after=None))
    remote = remote_for(server)
    remote.connect()
    server.quirks.status_storm = [503] * 4
    remote.embed_documents_with_stats(["after the storm"])
    assert len(sleeps) == 4 and all(0.25 * 2 ** i <= s <= 0.5 * 2 ** i for i, s in enumerate(sleeps))


def test_a_storm_longer_than_the_attempts_says_unavailable_and_when_to_retry(serve, remote_for, sleeps) -> None:
    server = serve("tei", quirks=Quirks(retry_after="7"))
    remote = remote_for(server)
    remote.connect()
    server.quirks.status_storm = [503] * 50
    with pytest.raises(ServerUnavailable) as busy:
        remote.embed_documents_with_stats(["never"])
    assert busy.value.retry_in_s == 7.0 and "503" in str(busy.value)
    assert len(sleeps) == RetryPolicy().attempts - 1


def test_a_stopped_server_is_unreachable_not_an_error(serve, remote_for, sleeps) -> None:
    server = serve("ollama")
    remote = remote_for(server)
    remote.connect()
    server.stop()
    with pytest.raises(ServerUnavailable, match="unreachable"):
        remote.embed_documents_with_stats(["nobody listens"])
    assert not remote.connected  # the next call connects and checks the probe again


def test_a_server_that_switches_models_mid_run_is_stopped(serve, remote_for) -> None:
    server = serve("openai")
    remote = remote_for(server)
    remote.embed_documents_with_stats(["first"])
    server.quirks.answered = "some-other-embedding-model"
    with pytest.raises(IdentityMismatch, match="some-other-embedding-model"):
        remote.embed_documents_with_stats(["second"])


def test_other_weights_under_the_same_name_fail_the_probe_on_reconnect(serve, remote_for, tmp_path) -> None:
    server = serve("tei")
    remote_for(server, data_dir=tmp_path).connect()  # the fingerprint is recorded
    server.quirks.perturb = True
    with pytest.raises(IdentityMismatch, match="no longer match"):
        remote_for(server, data_dir=tmp_path).connect()


def test_a_restarted_server_serving_another_model_is_stopped(serve, remote_for, tmp_path) -> None:
    server = serve("tei")
    remote_for(server, data_dir=tmp_path).connect()
    server.quirks.served = "BAAI/bge-m3"
    with pytest.raises(IdentityMismatch, match="now serves 'BAAI/bge-m3'"):
        remote_for(server, data_dir=tmp_path).connect()


def test_a_slow_server_makes_a_query_give_up_quickly(serve, remote_for) -> None:
    block = threading.Event()
    server = serve("tei", quirks=Quirks())
    remote = remote_for(server)
    remote.connect()
    remote.query_policy = RetryPolicy(attempts=1, timeout_s=0.3)
    server.quirks.block = block
    try:
        with pytest.raises(ServerUnavailable, match="timed out"):
            remote.embed_queries_with_stats(["anyone there"])
    finally:
        block.set()


def test_cancel_stops_a_request_in_flight(serve, remote_for) -> None:
    from qfinder.core.errors import CancelledError

    block = threading.Event()
    server = serve("tei")
    remote = remote_for(server)
    remote.connect()
    server.quirks.block = block
    outcome: list[BaseException] = []

    def embed() -> None:
        try:
            remote.embed_documents_with_stats(["waits for the server"])
        except BaseException as exc:  # noqa: BLE001 - the test reads it
            outcome.append(exc)

    worker = threading.Thread(target=embed)
    worker.start()
    deadline = time.monotonic() + 30  # the request reaches the server: a bound, not a pace
    while server.requests < 1:
        assert time.monotonic() < deadline, "the embed request never reached the server"
        threading.Event().wait(0.01)
    remote.cancel()
    worker.join(10)
    block.set()
    assert not worker.is_alive() and isinstance(outcome[0], CancelledError)


def test_kept_alive_connections_are_checked_once_not_per_request(serve, remote_for) -> None:
    server = serve("tei", max_batch=3)
    remote = remote_for(server)
    # one connection: with a pool, a thread idle in the first call opens its own in the second
    # (and that new connection is rightly checked)
    remote.access = dataclasses.replace(remote.access, in_flight=1)
    texts = [f"passage {i} about rivers" for i in range(12)]  # four requests of three
    remote.embed_documents_with_stats(texts)  # opens the pool's connections: checked once after
    before = server.requests
    remote.embed_documents_with_stats(texts)
    assert server.requests - before == 4  # the batches only: no probe over connections already checked


def test_queries_skip_a_server_that_just_failed_then_try_it_again(serve, remote_for, tmp_path) -> None:
    from support.gate import ManualClock

    from qfinder.core.model.identity import IdentityBook
    from qfinder.core.model.remote.fallback import SERVER_AWAY_S, QueryFallback

    server = serve("tei")
    remote = remote_for(server)
    remote.connect()
    clock = ManualClock()
    embedder = QueryFallback(remote, None, IdentityBook(tmp_path), clock=clock)
    server.quirks.status_storm = [503] * 50
    with pytest.raises(ServerUnavailable):
        embedder.embed_queries_with_stats(["first"])
    tried = server.requests
    with pytest.raises(ServerUnavailable):  # at once: no second wait for a server that is away
        embedder.embed_queries_with_stats(["second"])
    assert server.requests == tried
    server.quirks.status_storm = []
    clock.advance(SERVER_AWAY_S)
    assert embedder.embed_queries_with_stats(["third"]).vectors.shape[0] == 1
