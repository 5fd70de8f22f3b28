//! Catalog persistence: versions are written whole and never changed, so an
//! application that names a version always sees the catalog it was made on.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};
use yizhan_events::contracts::CatalogPublished;
use yizhan_workflow::catalogs;

use super::{Actor, Error, SOURCE};
use crate::domain::catalog::Catalog;

/// Seeds `catalog` as version 1 when no version exists (see
/// `yizhan_workflow::catalogs::seed`), after checking it.
pub async fn ensure_seeded(db: &DatabaseConnection, catalog: &Catalog) -> Result<(), DbErr> {
    let problems = catalog.problems();
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!(
            "seed catalog is inconsistent: {}",
            problems
                .iter()
                .map(|p| format!("{}: {}", p.field, p.message))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    catalogs::seed(db, catalog.version, catalog).await
}

/// The newest catalog version.
pub async fn latest(db: &DatabaseConnection) -> Result<Catalog, DbErr> {
    catalogs::newest(db)
        .await?
        .ok_or_else(|| DbErr::Custom("no catalog version stored".into()))
}

/// One catalog version, if stored.
pub async fn version(db: &DatabaseConnection, version: i32) -> Result<Option<Catalog>, DbErr> {
    catalogs::version(db, version).await
}

/// The newest version number (cheap: replicas poll it to pick up catalogs
/// another replica published).
pub async fn latest_version(db: &DatabaseConnection) -> Result<Option<i32>, DbErr> {
    catalogs::latest_version(db).await
}

/// Publishes `catalog` as the next version, with a `CatalogPublished`
/// event. Every inconsistency is a field error (`items[3].department` …).
/// Its `version` must be the next one (latest + 1): two administrators
/// editing the same version cannot overwrite each other; the second gets a
/// conflict and edits the newer one. Earlier versions, and the applications
/// made on them, are untouched.
pub async fn publish(
    db: &DatabaseConnection,
    catalog: Catalog,
    actor: &Actor,
) -> Result<Catalog, Error> {
    let problems = catalog.problems();
    if !problems.is_empty() {
        return Err(Error::Invalid(problems));
    }
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_kit::db::lock_key(&txn, "licensing-catalog").await?;
    let latest = catalogs::latest_version(&txn).await?;
    let next = latest.unwrap_or(0) + 1;
    if catalog.version != next {
        return Err(Error::conflict(
            "catalog_version_conflict",
            format!(
                "目录当前版本为 {}，新版本号须为 {next}（提交的是 {}）；请在最新版本上修改后再发布",
                next - 1,
                catalog.version
            ),
        ));
    }
    let now = Utc::now();
    catalogs::insert(&txn, catalog.version, &catalog).await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &CatalogPublished {
            version: catalog.version,
            scenario_codes: catalog.scenarios.iter().map(|s| s.code.clone()).collect(),
            item_codes: catalog.items.iter().map(|i| i.code.clone()).collect(),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(catalog)
}
