"""Several scheduler threads share one checkpointer and engine."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from core.agent import service
from core.settings import Settings
from core.viewer import Viewer
from tests.agent.kit import add_tenant, record

WORKERS, PER_TENANT = 4, 15


def test_threads_process_tenants_concurrently(agent_settings: Settings) -> None:
    tenants = [
        add_tenant(agent_settings, f"t{n}", f"t{n}@acme.example")
        for n in range(WORKERS)
    ]

    def work(index: int) -> list[str]:
        tenant = tenants[index]
        results = []
        for i in range(PER_TENANT):
            email = record(id=f"m{i}", thread_key=f"k{i % 5}", to=(tenant.email,))
            outcome = service.process_email(
                tenant=tenant, email=email, settings=agent_settings
            )
            results.append(outcome.thread_id)
        return results

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(work, range(WORKERS)))

    listed = service.list_threads(viewer=Viewer.admin(), settings=agent_settings)
    assert len(listed) == WORKERS * 5
    for tenant, ids in zip(tenants, results, strict=True):
        mine = service.list_threads(
            viewer=Viewer.tenant(tenant.user_id), settings=agent_settings
        )
        assert {t.thread_id for t in mine} == set(ids)
        detail = service.get_thread(
            viewer=Viewer.tenant(tenant.user_id),
            thread_id=ids[0],
            settings=agent_settings,
        )
        assert [m["id"] for m in detail.messages] == ["m0", "m5", "m10"]
