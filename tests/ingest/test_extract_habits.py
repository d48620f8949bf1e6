"""Writers' habits the extractor follows, each on a small made-up example.

Seen in the notes and write-ups the evaluation reads (bench/extract_eval.py); the values here
are invented, so that each test is about the habit and not about one report.
"""

from __future__ import annotations

from accord.ingest.extract import Finding, scan


def found(text: str) -> dict[tuple[str, str], Finding]:
    return {(f.kind, f.value): f for f in scan(text)}


def urls(text: str) -> set[str]:
    return {f.value for f in scan(text) if f.kind == "url"}


def test_url_wrapped_over_several_indented_lines() -> None:
    # Long ad and tracking URLs are broken after each "&", every piece indented.
    text = (
        "EXAMPLE OF A MALICIOUS AD:\n\n"
        "- hxxps[:]//ads.example-tracker[.]com/click?sa=L&\n"
        "  ai=AbC123&\n"
        "  ae=2&\n"
        "  gclid=XyZ-9_8\n\n"
        "LED TO:\n"
    )
    assert urls(text) == {"https://ads.example-tracker.com/click?sa=L&ai=AbC123&ae=2&gclid=XyZ-9_8"}


def test_wrapped_url_ends_at_a_line_that_does_not_break_a_url() -> None:
    text = "- hxxps[:]//evil[.]com/a?x=1&\n  y=2\n  note\n"
    assert urls(text) == {"https://evil.com/a?x=1&y=2"}


def test_address_serving_https_or_tcp_is_a_url() -> None:
    text = (
        "- 203.0.113[.]50 port 2967 - HTTPS traffic\n"
        "- 198.51.100[.]7:3232 - TLSv1 traffic\n"
        "- 192.0.2[.]8 port 443 - encoded/encrypted TCP traffic\n"
        "- 192.0.2[.]9 port 443 - attempted TCP connections: SYN from client, RST from server\n"
    )
    values = found(text)
    for url in (
        "https://203.0.113.50:2967/",
        "https://198.51.100.7:3232/",
        "tcp://192.0.2.8:443/",
        "tcp://192.0.2.9:443/",
    ):
        assert values["url", url].derived == "rebuilt from a traffic line"
    assert ("ipv4", "203.0.113.50") in values  # the address is still reported


def test_service_line_with_a_host_name_or_no_protocol_gives_no_url() -> None:
    text = (
        "- 192.0.2[.]10 port 443 - evil[.]com - HTTPS traffic\n"
        "- 192.0.2[.]11 port 443 - Backconnect traffic with a VNC\n"
    )
    assert urls(text) == set()


def test_url_running_into_a_placeholder_loses_the_empty_parameter() -> None:
    text = "- From the lure: hxxps://evil[.]com/a/b.php?id=[short alphanumeric string]\n"
    assert urls(text) == {"https://evil.com/a/b.php"}
    assert urls("hxxps://evil[.]com/?user=[recipient's email address]") == {"https://evil.com/"}


def test_traffic_path_with_a_placeholder() -> None:
    text = (
        "- port 80 - lookup[.]example-ip[.]net - GET /[public IP address of host]/city\n"
        "- 192.0.2[.]12 port 80 - 192.0.2[.]12 - POST /gate/[string with host info]\n"
    )
    assert urls(text) == {"http://192.0.2.12/gate/"}


def test_schemeless_mention_of_a_url_given_with_https() -> None:
    text = (
        "- port 443 - hxxps[:]//evil[.]com/index.aspx <-- returned base64 text\n"
        "Note: decoded from the text returned by evil[.]com/index.aspx\n"
    )
    values = found(text)
    assert urls(text) == {"https://evil.com/index.aspx"}
    assert values["url", "https://evil.com/index.aspx"].count == 2


def test_registry_key_with_a_dotted_component_is_not_a_markdown_escape() -> None:
    text = '[HKEY_CURRENT_USER\\SOFTWARE\\Classes\\.evilext\\shell\\open]\n"command" = "x"\n'
    assert ("registry-key", "HKEY_CURRENT_USER\\SOFTWARE\\Classes\\.evilext\\shell\\open") in found(
        text
    )
    assert ("domain", "evil.com") in found("the site evil\\.com")


def test_url_whose_host_does_not_decode_is_left_out() -> None:
    # `normalise_url` raises UnicodeDecodeError for it; a report must still extract.
    assert ("domain", "evil.com") in found("see hxxp://a%a9b[.]com/x and evil[.]com")
