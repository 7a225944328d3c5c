"""The registry: the one master record of every insured person and every employer.

For other packages (stable interface):

* Tables (:mod:`shebao.registry.tables`, migration 0002): ``person``, ``person_version``,
  ``employer``, ``employer_version``, ``employment`` (with ``wage_fen`` = declared average
  monthly wage of ``wage_year``, integer fen), ``enrolment`` (index
  ``ix_enrolment_region_scheme_status`` for set-based reads, ``ix_enrolment_person_scheme``),
  ``dedup_candidate``, ``person_merge``, ``import_run``, ``hukou_mismatch``,
  ``employment_request`` (0011). Other packages never read them directly: they call
  :mod:`shebao.registry.queries` (plain data) and reach one protected person or employer
  through :mod:`shebao.registry.access` (``access_person``, ``access_employer``,
  ``check_person``, ``check_employer``: scope check, audited read); writes go through the
  functions below.
* Vocabularies (:mod:`shebao.registry.model`): ``SCHEMES``, ``KINDS``, ``EMPLOYEE_SCHEMES``,
  ``LEAVE_REASONS`` (→ involuntary flag), statuses.
* Use cases (:mod:`shebao.registry.service`, one transaction + one audit row each):
  ``register_person``, ``change_person``, ``record_death``, ``record_emigration``,
  ``record_return``, ``find_person`` (a merged ID finds the survivor), ``resolve_person_id``,
  ``get_person``, ``person_history``, ``register_employer``, ``change_employer``,
  ``risk_class_for``, ``start_employment``, ``end_employment``, ``enrol``, ``end_enrolment``,
  ``active_enrolments`` (a select for a region, scheme and day).
* Enrolment by employers (:mod:`shebao.registry.hiring`): ``request_hire`` (a person never
  employed before needs the registered name and stays pending), ``confirm_hire`` (the person
  or a clerk of the employer's region), ``refuse_hire``, ``pending_requests``.
* Bulk (:mod:`shebao.registry.importer`; every row scope-checked, every changed person
  audited): ``import_persons``, ``import_employers``,
  ``import_employment``, ``import_hukou`` (``shebao import …``).
* Duplicates: :mod:`shebao.registry.dedup` (``run``, ``check_against_registry``, ``find_pairs``),
  :mod:`shebao.registry.merge` (``merge_persons``, ``undo_merge``, ``review_queue``,
  ``decide``).
* :mod:`shebao.registry.quality` (``report``). The synthetic region generator
  (``generate_region``, ``synth_people``) is a dev tool: :mod:`shebao.devtools.generate_region`.

Parameters: ``registry.industry_risk_class`` (GB/T 4754 division → work-injury risk class,
人社部发〔2015〕71号), ``registry.injury_float_tiers``, ``registry.dedup_threshold_lower`` /
``_upper``, ``registry.employment_min_age`` / ``_earliest_year`` / ``_max_days_ahead``.
"""
