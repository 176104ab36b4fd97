//! Channel kinds, checking a channel's target when it is created, and the one predicate that
//! decides which addresses a tenant's webhook may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use lifeline_domain::ChannelKind;
use reqwest::Url;

/// Why a channel target was not accepted; the message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("{0:?} is not a valid email address: {1}")]
    InvalidEmail(String, String),
    #[error("{0:?} is not a valid URL: {1}")]
    InvalidUrl(String, String),
    #[error("{0:?} must start with http:// or https://")]
    NotHttp(String),
    #[error("the URL must not contain a user name or password")]
    Userinfo,
    #[error(
        "{host} is a private, loopback or otherwise non-public address; {} may only reach \
         public addresses unless the server's operator sets {ALLOW_PRIVATE}",
        reaching(*kind)
    )]
    PrivateAddress { kind: ChannelKind, host: String },
}

/// The operator's setting that lets webhook and Slack targets be non-public; every refusal
/// names it, so whoever runs Lifeline on an internal network learns the way out.
pub(crate) const ALLOW_PRIVATE: &str = "LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1";

/// What kind of channel reaches a target, in the words its users know: a Slack channel is
/// not told about "webhooks".
pub(crate) fn reaching(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Slack => "Slack channels",
        ChannelKind::Webhook | ChannelKind::Email => "webhooks",
    }
}

/// Checks a channel target when the channel is created, and returns it in the form to store:
/// an email address trimmed, a URL normalised. Hostnames are not resolved here: where they
/// point is checked at every send, when it matters.
pub fn validate_target(
    kind: ChannelKind,
    target: &str,
    allow_private: bool,
) -> Result<String, TargetError> {
    let target = target.trim();
    match kind {
        ChannelKind::Email => target
            .parse::<lettre::Address>()
            .map(|_| target.to_owned())
            .map_err(|e| TargetError::InvalidEmail(target.to_owned(), e.to_string())),
        ChannelKind::Webhook | ChannelKind::Slack => {
            let url = parse_http_url(target)?;
            if !url.username().is_empty() || url.password().is_some() {
                return Err(TargetError::Userinfo);
            }
            if !allow_private {
                if let Some(ip) = host_ip(&url)
                    && !is_public(ip)
                {
                    return Err(TargetError::PrivateAddress {
                        kind,
                        host: ip.to_string(),
                    });
                }
                // RFC 6761: `localhost` and `*.localhost` are loopback by definition. Other
                // names are checked when they are resolved, at send time.
                if let (None, Some(name)) = (host_ip(&url), url.host_str()) {
                    let name = name.trim_end_matches('.');
                    if name == "localhost" || name.ends_with(".localhost") {
                        return Err(TargetError::PrivateAddress {
                            kind,
                            host: name.to_owned(),
                        });
                    }
                }
            }
            Ok(url.to_string())
        }
    }
}

/// Parses an absolute http(s) URL with a host.
pub(crate) fn parse_http_url(target: &str) -> Result<Url, TargetError> {
    let url = Url::parse(target)
        .map_err(|e| TargetError::InvalidUrl(target.to_owned(), e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(TargetError::NotHttp(target.to_owned()));
    }
    if url.host().is_none() {
        return Err(TargetError::InvalidUrl(
            target.to_owned(),
            "no host".to_owned(),
        ));
    }
    Ok(url)
}

/// The host of `url` when it is an IP literal (in any of the forms the URL parser accepts,
/// e.g. `http://2130706433/` is 127.0.0.1).
pub(crate) fn host_ip(url: &Url) -> Option<IpAddr> {
    // The parser has already normalised IPv4 literals to dotted quads and wraps IPv6 ones in
    // brackets; a domain name never parses as an address.
    let host = url.host_str()?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    host.parse().ok()
}

/// Whether `ip` is a globally reachable unicast address, the only kind a tenant's webhook may
/// reach (unless the operator allows private targets). Everything else is refused: loopback,
/// private (RFC 1918), shared/CGNAT (100.64/10), link-local, unspecified, broadcast,
/// multicast, documentation, benchmarking (198.18/15), IETF protocol (192.0.0/24), reserved
/// (240/4), unique-local (fc00::/7), site-local, and IPv6 forms that carry an IPv4 address
/// (v4-mapped, NAT64, 6to4) when that IPv4 address is not public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", including 0.0.0.0
        || a == 10 // private
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT), 100.64/10
        || a == 127 // loopback
        || (a == 169 && b == 254) // link-local
        || (a == 172 && (16..32).contains(&b)) // private
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2) // TEST-NET-1
        || (a == 192 && b == 88 && c == 99) // 6to4 relay anycast (deprecated)
        || (a == 192 && b == 168) // private
        || (a == 198 && (b == 18 || b == 19)) // benchmarking, 198.18/15
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast 224/4, reserved 240/4, broadcast 255.255.255.255
    !refused
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // IPv4-mapped (::ffff:a.b.c.d): the IPv4 address is what gets connected to.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let seg = ip.segments();
    // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
    if seg[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return is_public_v4(embedded_v4(seg[6], seg[7]));
    }
    // 6to4 2002::/16 tunnels to the IPv4 address in bits 16..48.
    if seg[0] == 0x2002 {
        return is_public_v4(embedded_v4(seg[1], seg[2]));
    }
    // Only global unicast 2000::/3 is public; this excludes ::, ::1, ::/96 (v4-compatible),
    // 64:ff9b:1::/48, 100::/64, fc00::/7, fe80::/10, fec0::/10 and ff00::/8.
    if seg[0] & 0xe000 != 0x2000 {
        return false;
    }
    // 2001::/23 is IETF protocol assignments (Teredo, benchmarking, …), 2001:db8::/32 is
    // documentation.
    let refused = (seg[0] == 0x2001 && (seg[1] < 0x0200 || seg[1] == 0x0db8))
        || (seg[0] == 0x3fff && seg[1] < 0x1000); // documentation 3fff::/20
    !refused
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

/// A new secret for a webhook channel: `whsec_` and 32 random bytes, base64url without padding.
/// The whole string, prefix included, is the HMAC key (see [`sign`](crate::sign)).
pub fn new_webhook_secret() -> String {
    let bytes: [u8; 32] = rand::random();
    format!(
        "whsec_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn public_addresses() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700:4700::1111",
            "2001:4860:4860::8888",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:0808:0808::1",
        ] {
            assert!(is_public(ip(s)), "{s} should be public");
        }
    }

    #[test]
    fn non_public_addresses() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.1",
            "192.0.0.170",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::127.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:100.64.0.1",
            "::ffff:0.0.0.0",
            "64:ff9b::a00:1",
            "64:ff9b::7f00:1",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:0001::1",
            "2002:0a00:0001::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456:789a::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
        ] {
            assert!(!is_public(ip(s)), "{s} should not be public");
        }
    }

    #[test]
    fn emails() {
        assert_eq!(
            validate_target(ChannelKind::Email, "  ops@example.com \n", false).unwrap(),
            "ops@example.com"
        );
        for bad in [
            "",
            "ops",
            "ops@",
            "@example.com",
            "a@example.com, b@example.com",
            "Ops <ops@example.com>",
            "ops@exa mple.com",
        ] {
            let err = validate_target(ChannelKind::Email, bad, false).unwrap_err();
            assert!(
                matches!(err, TargetError::InvalidEmail(..)),
                "{bad}: {err:?}"
            );
        }
    }

    #[test]
    fn urls() {
        for kind in [ChannelKind::Webhook, ChannelKind::Slack] {
            assert_eq!(
                validate_target(kind, " https://hooks.example.com/x?y=1 ", false).unwrap(),
                "https://hooks.example.com/x?y=1"
            );
            assert_eq!(
                validate_target(kind, "http://8.8.8.8:8080", false).unwrap(),
                "http://8.8.8.8:8080/"
            );
            for (bad, want) in [
                ("hooks.example.com/x", "InvalidUrl"),
                ("", "InvalidUrl"),
                ("ftp://example.com/x", "NotHttp"),
                ("file:///etc/passwd", "NotHttp"),
                ("javascript:alert(1)", "NotHttp"),
                ("https://user:pw@example.com/", "Userinfo"),
                ("https://user@example.com/", "Userinfo"),
                ("http://127.0.0.1:8080/hook", "PrivateAddress"),
                ("http://2130706433/", "PrivateAddress"),
                ("http://0x7f.1/", "PrivateAddress"),
                ("http://10.1.2.3/", "PrivateAddress"),
                ("http://169.254.169.254/latest/meta-data", "PrivateAddress"),
                ("http://100.100.100.200/", "PrivateAddress"),
                ("http://[::1]/", "PrivateAddress"),
                ("http://[::ffff:192.168.0.1]/", "PrivateAddress"),
                ("http://[fd00::1]/", "PrivateAddress"),
                ("http://0.0.0.0:9000/", "PrivateAddress"),
                ("http://localhost:8080/", "PrivateAddress"),
                ("http://api.localhost./", "PrivateAddress"),
            ] {
                let err = validate_target(kind, bad, false).unwrap_err();
                assert!(format!("{err:?}").starts_with(want), "{bad}: {err:?}");
                assert!(!err.to_string().is_empty());
            }
        }
        // A refusal names the way out, in the words of the channel's kind.
        let webhook = validate_target(ChannelKind::Webhook, "http://10.0.0.1/", false);
        let slack = validate_target(ChannelKind::Slack, "http://10.0.0.1/", false);
        for (err, words) in [(webhook, "webhooks may"), (slack, "Slack channels may")] {
            let text = err.unwrap_err().to_string();
            assert!(text.contains(words), "{text}");
            assert!(text.contains("LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1"), "{text}");
        }
        let slack = validate_target(ChannelKind::Slack, "http://localhost/", false);
        assert!(!slack.unwrap_err().to_string().contains("webhook"));
        // The operator setting lets private targets through, but not malformed ones.
        assert_eq!(
            validate_target(ChannelKind::Webhook, "http://127.0.0.1:8080/hook", true).unwrap(),
            "http://127.0.0.1:8080/hook"
        );
        assert!(validate_target(ChannelKind::Webhook, "http://localhost:1/", true).is_ok());
        assert!(validate_target(ChannelKind::Webhook, "https://u:p@10.0.0.1/", true).is_err());
        // Names are not resolved when a channel is created.
        assert!(validate_target(ChannelKind::Webhook, "https://internal.example/", false).is_ok());
    }

    #[test]
    fn webhook_secrets_are_random_and_url_safe() {
        let a = new_webhook_secret();
        let b = new_webhook_secret();
        assert_ne!(a, b);
        let raw = a.strip_prefix("whsec_").unwrap();
        assert_eq!(raw.len(), 43); // 32 bytes in base64 without padding
        assert!(
            raw.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        );
    }
}
