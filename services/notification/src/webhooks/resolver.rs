//! A DNS resolver for the delivery client that drops non-public addresses.
//!
//! The URL check at registration cannot see what a host name will resolve to
//! later (DNS rebinding); this resolver applies the same address rules to
//! every lookup the worker makes, so a name that starts pointing inward
//! fails to connect instead of reaching an internal service. IP-literal URLs
//! never reach a resolver; registration already checked those.

use std::net::SocketAddr;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::target::is_public;

/// Resolves with the system resolver and keeps only public addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(format!("{host} resolves to no public address").into());
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}
