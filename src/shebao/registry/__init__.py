"""The registry: the one master record of every insured person and every employer.

Tables: see :mod:`shebao.registry.tables`. Use cases: :mod:`shebao.registry.service`
(single records), :mod:`shebao.registry.importer` (bulk CSV/XLSX import, hukou cross-check),
:mod:`shebao.registry.dedup` (probabilistic record linkage, review queue),
:mod:`shebao.registry.merge` (merge / undo), :mod:`shebao.registry.quality` (data quality
report), :mod:`shebao.registry.generate` (synthetic region).
"""
