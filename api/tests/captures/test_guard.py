"""Which URLs and addresses captures may reach (pixtag.net.guard), rule by rule."""

import ipaddress

import pytest
from pydantic import ValidationError
from yarl import URL

from pixtag.net.guard import CheckedResolver, Policy, Refused
from pixtag.settings import Settings

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


@pytest.mark.parametrize(
    ("rule", "host", "port"),
    [
        ("127.0.0.1:8080", "127.0.0.1", 8080),
        ("10.0.0.0/8:443", "10.2.3.4", 443),
        ("[::1]:8443", "::1", 8443),
        ("[fd00::/8]:8443", "fd00::5", 8443),
        ("intranet.example:443", "intranet.example", 443),
    ],
)
def test_an_allow_rule_with_a_port_allows_that_port_only(rule, host, port):
    policy = Policy.from_lists([rule], [])
    address = ipaddress.ip_address("10.9.9.9" if host == "intranet.example" else host)
    policy.check_address(host, address, port)
    for other in (22, port + 1):
        with pytest.raises(Refused):
            policy.check_address(host, address, other)


def test_an_allow_rule_without_a_port_allows_every_port():
    policy = Policy.from_lists(["127.0.0.1/32", "::1", "intranet.example"], [])
    for port in (22, 80, 8080):
        policy.check_address("127.0.0.1", ipaddress.ip_address("127.0.0.1"), port)
        policy.check_address("::1", ipaddress.ip_address("::1"), port)
        policy.check_address("intranet.example", ipaddress.ip_address("10.0.0.1"), port)


def test_a_literal_url_is_checked_with_its_port():
    policy = Policy.from_lists(["127.0.0.1:8080"], [])
    policy.check_url(URL("http://127.0.0.1:8080/a.png"))
    with pytest.raises(Refused):
        policy.check_url(URL("http://127.0.0.1/a.png"))  # port 80


@pytest.mark.parametrize("rule", ["host:port", "10.0.0.0/8:70000", "a b", "[::1]", "::1:x"])
def test_allow_rules_that_are_no_rule_are_refused_by_the_settings(rule):
    with pytest.raises(ValidationError, match="capture_allow"):
        Settings(capture_allow=(rule,))
