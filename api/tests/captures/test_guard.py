"""Which URLs and addresses captures may reach (pixtag.net.guard), rule by rule."""

import ipaddress

import pytest
from yarl import URL

from pixtag.net.guard import CheckedResolver, Policy, Refused

REFUSED = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_global_addresses_are_refused(address):
    with pytest.raises(Refused) as refused:
        Policy().check_address(address, ipaddress.ip_address(address))
    assert refused.value.code == "refused_address"
    assert refused.value.message == f"{address} is not a public address"


@pytest.mark.parametrize("address", ALLOWED)
def test_global_addresses_pass(address):
    Policy().check_address(address, ipaddress.ip_address(address))


def test_the_allow_list_opens_networks_and_hosts_only():
    policy = Policy.from_lists(["10.0.0.0/8", "Intranet.Example."], [])
    policy.check_address("a", ipaddress.ip_address("10.9.8.7"))
    policy.check_address("a", ipaddress.ip_address("::ffff:10.9.8.7"))
    policy.check_address("intranet.example", ipaddress.ip_address("192.168.0.1"))
    with pytest.raises(Refused):
        policy.check_address("other.example", ipaddress.ip_address("192.168.0.1"))


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("ftp://example.com/a.png", "scheme"),
        ("file:///etc/passwd", "scheme"),
        ("http://user:pw@example.com/a.png", "credentials"),
        ("http://cdn.Blocked.example./a.png", "blocked_domain"),
        ("http://blocked.example/a.png", "blocked_domain"),
        ("http://[::ffff:127.0.0.1]/a.png", "refused_address"),
        ("http://127.0.0.1:8080/a.png", "refused_address"),
    ],
)
def test_urls_are_refused_before_any_lookup(url, code):
    with pytest.raises(Refused) as refused:
        Policy.from_lists([], ["blocked.example"]).check_url(URL(url))
    assert refused.value.code == code


def test_a_domain_merely_ending_like_a_blocked_one_passes():
    Policy.from_lists([], ["blocked.example"]).check_url(URL("http://notblocked.example/a"))


async def test_the_resolver_refuses_a_name_resolving_to_loopback():
    resolver = CheckedResolver(Policy())
    try:
        with pytest.raises(Refused) as refused:
            await resolver.resolve("localhost", 80)
        assert refused.value.message.startswith("localhost resolves to ")
        allowed = CheckedResolver(Policy.from_lists(["localhost"], []))
        found = await allowed.resolve("localhost", 80)
        assert found
        assert all(ipaddress.ip_address(r["host"]).is_loopback for r in found)
        await allowed.close()
    finally:
        await resolver.close()
