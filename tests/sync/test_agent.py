"""The sync agent against a server model: batching, retries, refusals, auth, pagination, progress."""

from __future__ import annotations

import asyncio
import time

from field_agent.sync.agent import SyncProgress

from .memstore import MemStore


def pushes(server) -> list[dict]:
    return [body for method, path, body in server.requests if path == "/v1/push"]


async def test_pushes_the_outbox_in_batches_and_empties_it(server, make_device, make_agent) -> None:
    device = make_device()
    ids = [device.edit(values={"room": str(n)}) for n in range(1200)]
    result = await make_agent(device, batch_size=500).sync()
    assert result.error is None
    assert result.pushed == 1200
    assert [len(body["changes"]) for body in pushes(server)] == [500, 500, 200]
    assert len({body["batch_id"] for body in pushes(server)}) == 3
    assert device.pending_count() == 0
    assert set(server.records) == set(ids)


async def test_a_lost_answer_resends_the_same_batch_and_applies_it_once(server, make_device, make_agent) -> None:
    device = make_device()
    for n in range(10):
        device.edit(values={"room": str(n)})
    server.faults.append(("drop_after", None, None))
    result = await make_agent(device).sync()
    assert result.error is None and result.pushed == 10
    first, second = pushes(server)
    assert first == second
    assert server.seq == 10
    assert len(server.records) == 10


async def test_offline_keeps_the_batch_in_flight_for_the_next_run(server, make_device, make_agent) -> None:
    device = make_device()
    record = device.edit(values={"room": "1"})
    server.faults.extend([("offline", None, None)] * 4)
    result = await make_agent(device).sync()
    assert result.error == "offline: the town server could not be reached; unsent changes are kept for the next sync"
    assert result.error_kind == "offline"
    assert device.pending_count() == 1
    assert record not in server.records
    second = await make_agent(device).sync()
    assert second.error is None and second.pushed == 1
    assert server.records[record]["fields"]["room"] == "1"


async def test_backoff_grows_and_honours_retry_after(server, make_device, make_agent, sleeps) -> None:
    device = make_device()
    device.edit(values={"room": "1"})
    server.faults.extend([("status", 503, None), ("status", 429, {"Retry-After": "7"}), ("status", 503, None)])
    result = await make_agent(device).sync()
    assert result.error is None and result.pushed == 1
    assert len(sleeps) == 3
    assert sleeps[1] >= 7
    assert all(0 <= pause <= 7 for pause in sleeps)


async def test_a_refused_change_is_kept_aside_and_the_rest_goes_through(server, make_device, make_agent) -> None:
    device = make_device()
    good = [device.edit(values={"room": str(n)}) for n in range(3)]
    future = MemStore(grid="g1", now_ms=lambda: time.time_ns() // 1_000_000 + 10 * 86_400_000)
    future_record = future.edit(values={"room": "x"})
    device.outbox[future_record] = future.outbox.pop(future_record)
    too_long = device.edit(values={"n" * 80: "x"})
    result = await make_agent(device).sync()
    assert result.error is None
    assert result.pushed == 3
    assert result.refused == 2
    refused = {entry["change"]["record"]: entry for entry in device.refused_changes()}
    assert refused[future_record]["code"] == "stamp_in_future"
    assert "check the device's date and time" in refused[future_record]["reason"]
    assert refused[too_long]["code"] == "invalid_change"
    assert set(good) <= set(server.records) and too_long not in server.records
    assert device.pending_count() == 0


async def test_a_revoked_device_stops_at_once_and_says_so(server, make_device, make_agent, sleeps) -> None:
    device = make_device()
    device.edit(values={"room": "1"})
    server.devices[device.meta_get("token")]["revoked"] = True
    result = await make_agent(device).sync()
    assert result.error_kind == "auth"
    assert "revoked" in result.error
    assert len(server.requests) == 1 and sleeps == []
    assert device.pending_count() == 1


async def test_pull_pages_through_everything_and_saves_the_cursor(server, make_device, make_agent) -> None:
    writer, reader = make_device(), make_device()
    ids = {writer.edit(values={"room": str(n)}) for n in range(1200)}
    await make_agent(writer).sync()
    server.requests.clear()
    result = await make_agent(reader, page_size=500).sync()
    assert result.error is None and result.pulled == 1200
    assert len([r for r in server.requests if r[1] == "/v1/pull"]) == 3
    assert set(reader.envelopes) == ids
    assert reader.meta_get("cursor") == server.seq
    again = await make_agent(reader).sync()
    assert again.pulled == 0 and again.pushed == 0


async def test_concurrent_edits_converge_and_flag_one_conflict(server, make_device, make_agent) -> None:
    a, b = make_device(), make_device()
    record = a.edit(values={"phone": "1", "notes": "n"})
    await make_agent(a).sync()
    await make_agent(b).sync()
    a.edit(record, values={"phone": "2"})
    b.edit(record, values={"phone": "3"})
    b.edit(record, values={"notes": "b's note"})
    await make_agent(a).sync()
    result = await make_agent(b).sync()
    assert result.new_conflicts == 1 and result.conflicts == 1
    await make_agent(a).sync()
    assert a.envelopes[record] == b.envelopes[record] == server.records[record]
    assert a.envelopes[record]["fields"]["notes"] == "b's note"
    [(_envelope, _cid, conflict)] = a.open_conflicts()
    assert conflict["field"] == "phone" and {conflict["winner"]["value"], conflict["loser"]["value"]} == {"2", "3"}


async def test_pull_keeps_a_pending_local_edit_until_the_server_decides(server, make_device, make_agent) -> None:
    a, b = make_device(), make_device()
    record = a.edit(values={"phone": "1"})
    await make_agent(a).sync()
    await make_agent(b).sync()
    b.edit(record, values={"phone": "b"})
    a.edit(record, values={"phone": "a"})
    await make_agent(a).sync()
    b.apply_pulled(server.pull({"grid": "g1"}, 0, 100)["records"], server.seq)
    assert b.envelopes[record]["fields"]["phone"] == "b"
    await make_agent(b).sync()
    assert b.envelopes[record] == server.records[record]


async def test_progress_events_describe_each_phase(server, make_device, make_agent) -> None:
    device = make_device()
    for n in range(25):
        device.edit(values={"room": str(n)})
    events: list[SyncProgress] = []
    await make_agent(device, batch_size=10, page_size=10).sync(events.append)
    phases = [event.phase for event in events]
    assert phases[0] == "connect" and phases[-1] == "done"
    push = [(e.done, e.total) for e in events if e.phase == "push"]
    assert push == [(0, 25), (10, 25), (20, 25), (25, 25)]
    pulled = [e.done for e in events if e.phase == "pull"]
    assert pulled == [10, 20, 25]


async def test_stop_request_ends_the_run_between_batches(server, make_device, make_agent) -> None:
    device = make_device()
    for n in range(30):
        device.edit(values={"room": str(n)})
    agent = make_agent(device, batch_size=10)

    def stop_after_first_batch(event: SyncProgress) -> None:
        if event.phase == "push" and event.done == 10:
            agent.request_stop()

    result = await agent.sync(stop_after_first_batch)
    assert result.stopped and result.pushed == 10
    # the first answer is recorded; the next batch was frozen in the same commit but never sent
    assert device.pending_count() == 20 and device.inflight is not None
    frozen = device.inflight[0]
    pushes = [r for r in server.requests if r[1] == "/v1/push"]
    assert len(pushes) == 1 and not [r for r in server.requests if r[1] == "/v1/pull"]

    again = await agent.sync()
    assert again.ok and again.pushed == 20 and device.pending_count() == 0 and device.inflight is None
    sent = [body["batch_id"] for method, path, body in server.requests if path == "/v1/push"]
    assert len(sent) == 3 and sent[1] == frozen  # the frozen batch went first, under its own id


async def test_store_work_never_blocks_the_event_loop(server, make_device, make_agent) -> None:
    class SlowStore(MemStore):
        def next_batch(self, limit: int):  # type: ignore[no-untyped-def]
            time.sleep(0.2)
            return super().next_batch(limit)

    device = make_device()
    slow = SlowStore(grid="g1")
    slow.meta = device.meta
    slow.edit(values={"room": "1"})
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    result = await make_agent(slow).sync()
    task.cancel()
    assert result.pushed == 1
    assert ticks >= 10


async def test_a_malformed_answer_is_a_protocol_error_and_nothing_is_acknowledged(make_device) -> None:
    import httpx
    import orjson

    from field_agent.sync.agent import SyncAgent

    def handler(request: httpx.Request) -> httpx.Response:
        body = orjson.loads(request.content)
        return httpx.Response(200, content=orjson.dumps({"batch_id": body["batch_id"], "results": []}))

    device = make_device()
    device.edit(values={"room": "1"})
    result = await SyncAgent(device, transport=httpx.MockTransport(handler)).sync()
    assert result.error_kind == "protocol"
    assert "0 results for 1 changes" in result.error
    assert device.inflight is not None


async def test_an_unenrolled_store_is_told_to_enrol() -> None:
    from field_agent.sync.agent import SyncAgent

    result = await SyncAgent(MemStore()).sync()
    assert result.error_kind == "not_enrolled"
    assert "field-agent enroll" in result.error


async def test_a_stop_request_cuts_a_retry_wait_short(server, make_device) -> None:
    from field_agent.sync.agent import SyncAgent
    from field_agent.sync.backoff import RetryPolicy

    device = make_device()
    device.edit(values={"room": "1"})
    server.faults.extend([("offline", None, None)] * 3)

    class ThirtySeconds(RetryPolicy):
        def delay(self, attempt, retry_after=None, rng=None):  # type: ignore[no-untyped-def]
            return 30.0

    agent = SyncAgent(device, transport=server.transport(), retry=ThirtySeconds(attempts=3))
    loop = asyncio.get_running_loop()
    loop.call_later(0.2, agent.request_stop)
    started = time.perf_counter()
    result = await agent.sync()
    assert result.stopped and result.error is None
    assert time.perf_counter() - started < 5
    assert device.pending_count() == 1


async def test_an_answer_and_the_next_batch_are_recorded_in_one_commit(server, make_device, make_agent) -> None:
    device = make_device()
    for n in range(30):
        device.edit(values={"room": str(n)})
    commits = device.commits
    result = await make_agent(device, batch_size=10).sync(pull=False)
    assert result.ok and result.pushed == 30
    # freeze 1 | answer 1 + freeze 2 | answer 2 + freeze 3 | answer 3: four commits for three batches
    assert device.commits - commits == 4


async def test_a_failed_commit_keeps_the_answered_batch_in_flight(server, make_device, make_agent) -> None:
    from field_agent.store.errors import StoreError

    class FillingDisk(MemStore):
        """The disk is full when the first answer comes: recording it (and freezing the next batch) fails."""

        def ack_batch(self, batch_id: str, results: list) -> None:  # type: ignore[type-arg]
            super().ack_batch(batch_id, results)
            raise StoreError("no space left on device")

    device = make_device()
    store = FillingDisk(grid="g1", node_id=device.node_id)
    store.meta = device.meta
    for n in range(20):
        store.edit(values={"room": str(n)})
    agent = make_agent(store, batch_size=10)
    failed = await agent.sync()
    assert failed.error_kind == "store" and failed.pushed == 0
    assert store.inflight is not None and store.pending_count() == 20  # nothing left the outbox
    stuck = store.inflight[0]

    store.ack_batch = super(FillingDisk, store).ack_batch  # type: ignore[method-assign]  # space freed
    again = await agent.sync()
    assert again.ok and again.pushed == 20 and store.pending_count() == 0
    sent = [body["batch_id"] for _method, path, body in server.requests if path == "/v1/push"]
    assert sent.count(stuck) == 2 and len(sent) == 3  # resent under the same id, answered from the stored result
    assert len(server.batches) == 2
