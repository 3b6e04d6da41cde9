"""Push: canonical changes to the connections that should have them (DESIGN.md "Push").

`plan` compares the desired state with what each target holds and plans creates, updates, archivals and
unsupported operations; `drain` queues the plan in the outbox and sends it at the target's pace; `wire`
maps an entity for one target and tells which targets hold its content already; `run` is one push cycle
(or its dry run). The push never imports the pull (`tests/unit/test_layering.py`).
"""
