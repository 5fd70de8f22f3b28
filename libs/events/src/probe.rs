//! Probe events for backbone tests and the benchmark: a table of effects and
//! a dispatcher that records each applied `ProbeRecorded` (and, optionally,
//! its commit-to-effect latency). Services never use it.

use std::sync::{Arc, Mutex};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement};
use sea_orm_migration::prelude::*;

use crate::Envelope;
use crate::consumer::Dispatcher;
use crate::contracts::ProbeRecorded;

/// Backbone tables plus `probe_effects`.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = crate::migration::backbone_migrations();
        all.push(Box::new(CreateEffects));
        all
    }
}

struct CreateEffects;

impl MigrationName for CreateEffects {
    fn name(&self) -> &str {
        "m9000_probe_effects"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateEffects {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("probe_effects")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string("key"))
                    .col(big_integer("seq"))
                    .to_owned(),
            )
            .await
    }
}

/// Records each probe in `probe_effects` (in applied order); refuses poison.
#[derive(Default)]
pub struct ProbeHandler {
    /// When set, commit-to-effect latencies in microseconds are pushed here.
    pub latencies: Option<Arc<Mutex<Vec<i64>>>>,
}

#[async_trait::async_trait]
impl Dispatcher for ProbeHandler {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let probe: ProbeRecorded = event.decode()?;
        if probe.poison {
            anyhow::bail!("poison probe {} refused by handler", probe.seq);
        }
        let backend = txn.get_database_backend();
        let sql = match backend {
            DbBackend::Postgres => "INSERT INTO probe_effects (key, seq) VALUES ($1, $2)",
            _ => "INSERT INTO probe_effects (key, seq) VALUES (?, ?)",
        };
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [probe.key.into(), (probe.seq as i64).into()],
        ))
        .await?;
        if let Some(latencies) = &self.latencies {
            let now = chrono::Utc::now().timestamp_micros();
            if let Ok(mut l) = latencies.lock() {
                l.push(now - probe.sent_at_micros);
            }
        }
        Ok(())
    }
}
