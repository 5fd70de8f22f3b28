//! The stack as its users see it: services started in-process on random
//! ports against the embedded broker and a fresh database per service
//! (SQLite, and PostgreSQL when `YIZHAN_TEST_DATABASE_URL` is set), driven
//! over real HTTP.

mod common;

mod audit;
mod auth;
mod axe;
mod browser;
mod certificate_pdf;
mod certificates;
mod channels;
mod construction;
mod contract;
mod crawl_runs;
mod documents;
mod enterprise;
mod enterprise_benefits;
mod enterprise_paging;
mod enterprise_ratings;
mod enterprise_requests;
mod errors;
mod licensing;
mod licensing_more;
mod licensing_wait;
mod metrics;
mod npm;
mod numbers;
mod oidc;
mod outages;
mod parity;
mod portal;
mod portal_construction_e2e;
mod portal_crawl;
mod portal_e2e;
mod portal_enterprise_own;
mod portal_enterprise_own_http;
mod portal_enterprise_paging;
mod portal_enterprise_staff;
mod portal_errors;
mod portal_filing;
mod portal_flows_construction;
mod portal_flows_licensing;
mod portal_hardening;
mod portal_home;
mod portal_inbox;
mod portal_owed;
mod portal_pages;
mod portal_review_steps;
mod portal_search;
mod portal_viewer;
mod rate_limits;
mod security;
mod shared_keys;
mod shutdown;
mod slice;
mod standard_webhooks;
mod statistics;
mod storage;
mod traces;
mod webhooks;
mod window;
