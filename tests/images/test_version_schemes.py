"""Version order per family scheme (ADR 011): each scheme's order is its reference implementation's, the stored ranks
order SQL the same way, and two different versions never compare equal in one family."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest
import semver
from debian.debian_support import Version as DebianVersion
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.version import Version as Pep440Version

from apps.images.models import ImageFamily, ImageVersion
from apps.images.services import image_version_register
from apps.images.versioning import VersionFormatError, compare, parse_version, rank_key, ranked
from tests.factories.images import UBUNTU

# -- the observed traps ---------------------------------------------------------------------------------------------
ORDERED = {
    "debian": ["1.0~rc1-1", "1.0-1", "1.10.0-1", "1.10.0-2", "1.10.0-10", "2.0-1", "1:0.1-1", "1:1.0-1"],
    "semver": ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.10.0"],
    "pep440": ["1.10.0.dev1", "1.10.0rc1", "1.10.0", "1.10.0.post1", "1.10.0.1", "1.10.1"],
    "calver": ["2024.9.30", "2024.10.1", "2024.10.1.1", "2024.10.1.1-2", "2024.10.1.2", "2025.1"],
}


@pytest.mark.parametrize("scheme", sorted(ORDERED))
def test_each_scheme_orders_its_traps_strictly(scheme):
    versions = ORDERED[scheme]
    for low, high in zip(versions, versions[1:], strict=False):
        assert compare(scheme, low, high) == -1, (low, high)
    shuffled = versions[:]
    random.Random(7).shuffle(shuffled)
    assert ranked(scheme, shuffled) == versions


def test_more_than_five_numeric_parts_never_compare_equal():
    assert compare("pep440", "1.2.3.4.5.6", "1.2.3.4.5.7") == -1
    assert compare("calver", "2024.10.1.1-1", "2024.10.1.1-2") == -1


@pytest.mark.parametrize(
    ("scheme", "a", "b"),
    [
        ("semver", "1.0.0+build.1", "1.0.0+build.2"),
        ("pep440", "1.0", "1.0.0"),
        ("debian", "1.0-1", "1.0-01"),
        ("calver", "2024.06.1", "2024.6.1"),
    ],
)
def test_different_strings_can_order_equal_under_a_scheme(scheme, a, b):
    assert a != b and compare(scheme, a, b) == 0  # which is why registration refuses the second (below)


@pytest.mark.parametrize(
    ("scheme", "text"),
    [
        ("semver", "1.0"),
        ("semver", "01.0.0"),
        ("semver", "v1.0.0"),
        ("semver", "1.0.0-"),
        ("pep440", "1.0-foo-bar"),
        ("calver", "2024"),
        ("calver", "12345.1"),
        ("calver", "2024..1"),
        ("calver", "2024.10.x"),
        ("debian", "a1.0"),
        ("debian", "1.0 -1"),
        ("semver", ""),
        ("semver", "1" * 65),
        ("nope", "1.0.0"),
    ],
)
def test_a_version_outside_its_scheme_is_refused_readably(scheme, text):
    with pytest.raises(VersionFormatError) as caught:
        parse_version(scheme, text)
    assert "\n" not in str(caught.value)


# -- property tests against the reference implementations ----------------------------------------------------------
identifier = st.one_of(
    st.integers(min_value=0, max_value=30).map(str), st.text("abcrc", min_size=1, max_size=4).filter(str.isalpha)
)
semvers = st.builds(
    lambda core, pre, build: (
        ".".join(map(str, core)) + (f"-{'.'.join(pre)}" if pre else "") + (f"+{build}" if build else "")
    ),
    st.tuples(*(st.integers(min_value=0, max_value=12),) * 3),
    st.lists(identifier, max_size=3),
    st.sampled_from(["", "b1", "exp.sha.5114f85"]),
)
pep440s = st.builds(
    lambda rel, pre, post, dev: ".".join(map(str, rel)) + pre + post + dev,
    st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=7),
    st.sampled_from(["", "a1", "b2", "rc1", "rc10"]),
    st.sampled_from(["", ".post1", ".post2"]),
    st.sampled_from(["", ".dev3"]),
)
calvers = st.builds(
    lambda y, m, rest, n: f"{y}.{m}" + "".join(f".{p}" for p in rest) + (f"-{n}" if n else ""),
    st.integers(min_value=2019, max_value=2027),
    st.integers(min_value=1, max_value=12),
    st.lists(st.integers(min_value=0, max_value=31), max_size=2),
    st.integers(min_value=0, max_value=3),
)
debians = st.builds(
    lambda epoch, upstream, tilde, revision: f"{epoch}:" * bool(epoch) + upstream + tilde + f"-{revision}",
    st.integers(min_value=0, max_value=2).map(lambda e: str(e) if e else ""),
    st.lists(st.integers(min_value=0, max_value=20), min_size=1, max_size=4).map(lambda p: ".".join(map(str, p))),
    st.sampled_from(["", "~rc1", "~beta2", "+dfsg"]),
    st.sampled_from(["1", "2", "10", "1ubuntu1", "0.1"]),
)


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


@settings(max_examples=300, deadline=None)
@given(semvers, semvers)
def test_semver_order_is_the_reference_order(a, b):
    assert compare("semver", a, b) == semver.Version.parse(a).compare(b)


@settings(max_examples=300, deadline=None)
@given(pep440s, pep440s)
def test_pep440_order_is_the_reference_order(a, b):
    x, y = Pep440Version(a), Pep440Version(b)
    assert compare("pep440", a, b) == (x > y) - (x < y)


@settings(max_examples=300, deadline=None)
@given(calvers, calvers)
def test_calver_order_is_numeric_part_by_part(a, b):
    def parts(text):
        head, _, build = text.partition("-")
        numbers = [int(p) for p in head.split(".")]
        return (*numbers, *([0] * (6 - len(numbers))), int(build or 0))

    assert compare("calver", a, b) == _sign((parts(a) > parts(b)) - (parts(a) < parts(b)))


@settings(max_examples=60, deadline=None)
@given(debians, debians)
def test_debian_order_is_dpkgs(a, b):
    """Against dpkg itself (Debian's own implementation) where it is installed, else python-debian's."""
    dpkg = shutil.which("dpkg")
    if dpkg is None:
        expected = _sign(DebianVersion(a)._compare(DebianVersion(b)))
    else:
        lower = subprocess.run([dpkg, "--compare-versions", a, "lt", b]).returncode == 0
        higher = subprocess.run([dpkg, "--compare-versions", a, "gt", b]).returncode == 0
        expected = -1 if lower else 1 if higher else 0
    assert compare("debian", a, b) == expected


@settings(max_examples=200, deadline=None)
@given(st.lists(pep440s, min_size=1, max_size=12, unique=True))
def test_ranks_order_as_the_scheme_and_as_strings(versions):
    order = ranked("pep440", versions)
    keys = [rank_key(i) for i in range(len(order))]
    assert sorted(keys) == keys  # the stored key's string order is the rank order
    for low, high in zip(order, order[1:], strict=False):
        assert compare("pep440", low, high) <= 0


# -- registration: the family's scheme, stored order, equal versions refused ----------------------------------------
def _contract(scheme: str) -> str:
    return UBUNTU.replace("  version_scheme: semver\n", f"  version_scheme: {scheme}\n", 1)


@pytest.mark.django_db
@pytest.mark.parametrize("scheme", sorted(ORDERED))
def test_registered_in_any_order_the_database_orders_as_the_scheme(tenant_a, scheme):
    versions = ORDERED[scheme][:]
    random.Random(11).shuffle(versions)
    for version in versions:
        image_version_register(
            actor=None, organization=tenant_a.organization, contract=_contract(scheme), version=version
        )
    family = ImageFamily.objects.get(organization=tenant_a.organization)
    assert family.version_scheme == scheme
    stored = list(ImageVersion.objects.filter(family=family).order_by("version_key").values_list("version", flat=True))
    assert stored == ORDERED[scheme]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scheme", "first", "second"),
    [
        ("semver", "1.0.0+build.1", "1.0.0+build.2"),
        ("pep440", "1.0", "1.0.0"),
        ("debian", "1.0-1", "1.0-01"),
        ("calver", "2024.06.1", "2024.6.1"),
    ],
)
def test_a_version_ordering_equal_to_another_is_refused_with_409_naming_both(
    tenant_a, ci_engineer, scheme, first, second
):
    image_version_register(actor=None, organization=tenant_a.organization, contract=_contract(scheme), version=first)
    response = ci_engineer.post("/api/v1/images", {"contract": _contract(scheme), "version": second}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "version_order_conflict" and first in body["detail"] and second in body["detail"]
    assert ImageVersion.objects.count() == 1


@pytest.mark.django_db
def test_a_family_keeps_its_scheme_and_a_version_outside_it_is_400(tenant_a, ci_engineer):
    image_version_register(
        actor=None, organization=tenant_a.organization, contract=_contract("debian"), version="1.0-1"
    )
    other = ci_engineer.post("/api/v1/images", {"contract": _contract("semver"), "version": "1.0.0"}, format="json")
    assert other.status_code == 409 and other.json()["code"] == "version_scheme_conflict"
    bad = ci_engineer.post(
        "/api/v1/images", {"contract": _contract("debian"), "version": "not a version"}, format="json"
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_version"
    assert ImageVersion.objects.count() == 1


@pytest.fixture
def ci_engineer(tenant_a):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(tenant_a.users["engineer"])
    return client
