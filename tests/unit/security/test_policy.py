import pytest

from shebao.core.actor import Actor
from shebao.core.errors import PermissionDenied
from shebao.security import policy

CLERK_101 = Actor("c1", "collection_clerk", "310101")
CITY = Actor("i1", "inspector", "310100")
CITIZEN = Actor("me", "citizen", "310101", person_id=7)
FIRM = Actor("firm", "employer", "310101", employer_id=3)


@pytest.mark.parametrize("region,ok", [("310101", True), ("310104", False), ("310100", False),
                                       ("110105", False), (None, False), ("garbage", False)])
def test_district_clerk_sees_only_its_subtree(region, ok):
    assert policy.in_region(CLERK_101, region) is ok


def test_city_scope_covers_its_districts_not_other_cities():
    assert policy.in_region(CITY, "310104") and policy.in_region(CITY, "310101")
    assert not policy.in_region(CITY, "320102")


def test_public_roles_never_pass_on_region_alone():
    assert not policy.in_region(CITIZEN, "310101")
    assert not policy.in_region(FIRM, "310101")


def test_citizen_sees_only_themself():
    assert policy.can_see_person(CITIZEN, 7, "310104")
    assert not policy.can_see_person(CITIZEN, 8, "310101")


def test_employer_sees_only_its_employees():
    assert policy.can_see_person(FIRM, 9, "310104", employer_ids={3, 5})
    assert not policy.can_see_person(FIRM, 9, "310101", employer_ids={5})


def test_roles_hold_only_their_permissions():
    assert policy.has(CLERK_101, "person.write")
    assert not policy.has(CITY, "person.write")          # inspectors read, never write
    assert not policy.has(CLERK_101, "pension.approve")
    assert not policy.has(CITIZEN, "audit.read")
    with pytest.raises(PermissionDenied, match="may not user.manage"):
        policy.require(CLERK_101, "user.manage")


def test_unknown_permission_is_a_programming_error():
    with pytest.raises(KeyError):
        policy.require(CLERK_101, "person.delete")


def test_every_permission_names_known_roles_only():
    for perm, roles in policy.PERMISSIONS.items():
        assert roles <= set(policy.ACCOUNT_ROLES), perm
