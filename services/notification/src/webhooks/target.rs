//! Which URLs a subscription may point at.
//!
//! A webhook makes this service send requests on a partner's behalf, so a URL
//! is also a way to make it call things only it can reach (its own admin
//! ports, a cloud metadata endpoint, the database). Unless the deployment
//! says private targets are fine (a trusted network, or tests with local
//! receivers), only http(s) URLs on public addresses are accepted. The same
//! address rules are applied again when a host name is resolved at delivery
//! time (see [`super::resolver`]), so a name cannot later point inward.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use reqwest::Url;
use yizhan_kit::problem::FieldError;

/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// What the URL rules need to know about the deployment.
#[derive(Debug, Clone, Default)]
pub struct TargetPolicy {
    /// `allow_private_webhook_targets`: skip the address checks entirely.
    pub allow_private: bool,
    /// Host names of this deployment (its bind host, its public base URL host),
    /// refused as targets.
    pub own_hosts: Vec<String>,
}

/// Checks a subscription URL; the error names the field `url`.
pub fn check_url(raw: &str, policy: &TargetPolicy) -> Result<Url, FieldError> {
    let bad = |code: &str, message: &str| FieldError::new("url", code, message);
    if raw.len() > MAX_URL_LEN {
        return Err(bad("too_long", "推送地址不得超过 2048 个字符"));
    }
    let url = Url::parse(raw).map_err(|_| bad("invalid_url", "推送地址不是有效的 URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("unsupported_scheme", "推送地址只能使用 http 或 https"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        // Credentials in the URL would be shown back in every listing.
        return Err(bad(
            "credentials_not_allowed",
            "推送地址不得包含用户名或密码，请改用签名校验请求来源",
        ));
    }
    if url.fragment().is_some() {
        return Err(bad("fragment_not_allowed", "推送地址不得包含 # 片段"));
    }
    let Some(host) = url.host_str() else {
        return Err(bad("invalid_url", "推送地址缺少主机名"));
    };
    if policy.allow_private {
        return Ok(url);
    }
    let refused = || {
        bad(
            "private_target",
            "推送地址不得指向本机、内网、链路本地或本服务自身的地址",
        )
    };
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        if !is_public(ip) {
            return Err(refused());
        }
        return Ok(url);
    }
    let name = host.trim_end_matches('.').to_ascii_lowercase();
    let own = policy
        .own_hosts
        .iter()
        .any(|h| h.trim_end_matches('.').eq_ignore_ascii_case(&name));
    // A dotless name only resolves inside some private network.
    if own || name == "localhost" || name.ends_with(".localhost") || !name.contains('.') {
        return Err(refused());
    }
    Ok(url)
}

/// Whether `ip` is a globally routable unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        // 100.64.0.0/10 carrier-grade NAT, 198.18.0.0/15 benchmarking, 240/4 reserved.
        || (a == 100 && (64..128).contains(&b))
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

/// An allow-list, not a block-list: outside 2000::/3 (global unicast) every
/// range is special-purpose (loopback, IPv4-compatible `::a.b.c.d`, SIIT
/// `::ffff:0:a.b.c.d`, discard, unique and link local, site local, multicast)
/// and some reach IPv4 hosts, so only the two embeddings that name their
/// IPv4 address outright are followed, and only to a public one. Inside
/// 2000::/3 the IANA special-purpose blocks are refused, among them the
/// tunnels (Teredo, 6to4) whose IPv4 end this check cannot judge.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // ::ffff:a.b.c.d (IPv4-mapped) and 64:ff9b::a.b.c.d (NAT64, RFC 6052)
    // connect to that IPv4 address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    let global_unicast = (s[0] & 0xe000) == 0x2000;
    global_unicast
        // 2001::/23 IETF protocol assignments (Teredo 2001::/32,
        // benchmarking, ORCHID, …).
        && !(s[0] == 0x2001 && s[1] < 0x0200)
        // 2001:db8::/32 and 3fff::/20 documentation.
        && !(s[0] == 0x2001 && s[1] == 0x0db8)
        && !(s[0] == 0x3fff && s[1] < 0x1000)
        // 2002::/16 6to4.
        && s[0] != 0x2002
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strict() -> TargetPolicy {
        TargetPolicy {
            allow_private: false,
            own_hosts: vec!["notification.yizhan.svc".into()],
        }
    }

    #[test]
    fn accepts_public_http_and_https() {
        for url in [
            "https://partner.example.com/hooks",
            "http://203.0.114.9:8080/x?y=1",
            "https://[2400:3200::1]/hook",
            "https://[2a00:1450:4001:80b::200e]/hook",
            // NAT64 of a public IPv4 address (a DNS64 network's answer).
            "https://[64:ff9b::cb00:7209]/hook",
            "https://[::ffff:203.0.114.9]/hook",
        ] {
            assert!(check_url(url, &strict()).is_ok(), "{url}");
        }
    }

    #[test]
    fn refuses_private_loopback_link_local_and_own_hosts() {
        for url in [
            "http://127.0.0.1:9000/hook",
            "http://10.1.2.3/hook",
            "http://172.20.0.1/hook",
            "http://192.168.1.1/hook",
            "http://169.254.169.254/latest/meta-data",
            "http://100.64.0.1/",
            "http://0.0.0.0/",
            "http://[::1]/hook",
            "http://[fd00::1]/hook",
            "http://[fe80::1]/hook",
            "http://[::ffff:127.0.0.1]/hook",
            // IPv6 special-purpose ranges that reach inward.
            "http://[64:ff9b::a9fe:a9fe]/latest/meta-data",
            "http://[64:ff9b::7f00:1]/",
            "http://[64:ff9b:1::a9fe:a9fe]/",
            "http://[2002:a9fe:a9fe::]/",
            "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
            "http://[::127.0.0.1]/",
            "http://[fec0::1]/",
            "http://[::ffff:0:7f00:1]/",
            "http://[100::1]/",
            "http://[ff02::1]/",
            "http://[2001:db8::1]/",
            "http://[3fff::1]/",
            "http://[::]/",
            "http://localhost:8084/",
            "http://api.localhost/",
            "http://notification.yizhan.svc/",
            "http://intranet/",
        ] {
            let err = check_url(url, &strict()).unwrap_err();
            assert_eq!(err.field, "url");
            assert_eq!(err.code, "private_target", "{url}");
        }
    }

    #[test]
    fn refuses_other_schemes_credentials_and_garbage() {
        let code = |u: &str| check_url(u, &strict()).unwrap_err().code;
        assert_eq!(code("ftp://example.com/x"), "unsupported_scheme");
        assert_eq!(code("file:///etc/passwd"), "unsupported_scheme");
        assert_eq!(code("https://u:p@example.com/"), "credentials_not_allowed");
        assert_eq!(code("not a url"), "invalid_url");
        assert_eq!(
            code(&format!("https://e.com/{}", "a".repeat(2100))),
            "too_long"
        );
    }

    #[test]
    fn private_targets_pass_when_allowed() {
        let open = TargetPolicy {
            allow_private: true,
            own_hosts: vec![],
        };
        assert!(check_url("http://127.0.0.1:9000/hook", &open).is_ok());
        assert!(check_url("ftp://127.0.0.1/", &open).is_err());
    }
}
