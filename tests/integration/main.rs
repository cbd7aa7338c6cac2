//! Integration tests: a real server on 127.0.0.1:0, real HTTP, real SQLite;
//! `pg` starts a throwaway PostgreSQL for the PostgreSQL side.
#![cfg(feature = "ssr")]

mod accounts;
mod admin_api;
mod announcements;
mod api_doc;
mod assets;
mod auth;
mod categories;
mod cluster;
mod contract;
mod delivery;
mod demo;
mod escalation;
mod event_log;
mod group_commit;
mod harness;
mod host_tokens;
mod hostile_auth;
mod hostile_conn;
mod hostile_doors;
mod hostile_publish;
mod inbox_actions;
mod migration;
mod ordering;
mod pages;
mod pg;
mod provisioning;
mod push;
mod push_sink;
mod sdk;
mod service_keys;
mod smtp_sink;
mod stream;
mod webhooks;
mod wire;
