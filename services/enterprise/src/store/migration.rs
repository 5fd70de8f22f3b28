//! The enterprise service's migrations: the backbone's (outbox, inbox,
//! idempotency, audit), the approval engine's (`workflow_timeline` holds a
//! 诉求's history as it holds an application's), then this service's own.
//! Appended only: a deployed database has run the ones before.

use sea_orm_migration::prelude::*;

/// The enterprise service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(yizhan_workflow::migration::CreateWorkflow));
        all.push(Box::new(super::benefits_schema::CreateBenefits));
        all.push(Box::new(
            super::requests::migration::CreateRequestsAndRatings,
        ));
        all.push(Box::new(super::licences::MoveLicencesOut));
        all
    }
}
