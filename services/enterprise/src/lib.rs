//! 企业服务 (enterprise services): the 一企一档 profile, 诉求 dispatch,
//! 免申即享 policy benefits and 好差评 ratings.
//!
//! This first slice is the pure domain (no I/O): the facts a policy may ask
//! about ([`domain::facts`]), the eligibility rule language
//! ([`domain::rules`]), amounts and budgets ([`domain::amount`]), policies
//! and candidates ([`domain::benefits`]), the 一企一档 projection
//! ([`domain::profile`]), 诉求 states, dispatch and statistics
//! ([`domain::requests`], [`domain::dispatch`], [`domain::stats`]) and
//! 好差评 ([`domain::ratings`]). The service shell (HTTP, store, events)
//! builds on it; see `docs/ENTERPRISE.md`.

#![forbid(unsafe_code)]

pub mod domain;
