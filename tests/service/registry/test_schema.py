"""Registry's schema specifics (the generic migration = tables.py check is tests/service/db)."""
from sqlalchemy import inspect


def test_one_open_enrolment_per_person_and_scheme_is_a_unique_index(engine):
    uniq = {ix["name"]: ix for ix in inspect(engine).get_indexes("enrolment")}["uq_enrolment_one_open"]
    assert uniq["unique"] and uniq["column_names"] == ["person_id", "scheme"]
