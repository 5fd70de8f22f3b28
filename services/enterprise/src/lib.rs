//! 企业服务 (enterprise services): the 一企一档 profile, 诉求 dispatch,
//! 免申即享 policy benefits and 好差评 ratings.
//!
//! This first slice holds the pure domain of 免申即享: the facts a policy
//! may ask about ([`domain::facts`]), the documented eligibility rule
//! language ([`domain::rules`]) and the amount rule ([`domain::amount`]).
//! The service shell (HTTP, store, events) builds on it; see
//! `docs/ENTERPRISE.md`.

#![forbid(unsafe_code)]

pub mod domain;
