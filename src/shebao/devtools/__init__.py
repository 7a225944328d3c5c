"""Development tools, outside the production import graph: the demo, the sample and synthetic
worlds for tests and benchmarks, the ledger fault simulation and the scratch-database helper.
Imported only by the CLI's ``demo``/``generate`` commands (``channels/cli/demo.py``), the tests
and ``bench/``; nothing in a bureau or a channel imports them.
"""
