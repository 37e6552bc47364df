"""Load: many LL-HLS viewers as Locust users, in Locust's own processes, judged against thresholds.

The harness never imports Locust: Locust patches the standard library with gevent on import
(../shared/ecosystem-notes.md), so it runs only in its own master/worker subprocesses
(`runner.py`), with `locustfile.py` as the locustfile. The harness reads back Locust's CSVs and the
locustfile's summary (`results.py`), polls OME's stats API meanwhile (`ome_view.py`) and writes the
report (`report.py`).
"""
