//! Catalog persistence: versions are written whole and never changed, so an
//! application that names a version always sees the catalog it was made on.

use chrono::Utc;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryOrder, QuerySelect, Set};
use yizhan_events::contracts::CatalogPublished;
use yizhan_kit::Problem;

use super::entities::catalog_version;
use super::{Actor, SOURCE, StoreError};
use crate::domain::catalog::Catalog;

/// Seeds `catalog` as version 1 when no version exists. Safe to run at
/// every start and from several replicas at once: a replica that loses the
/// insert race sees the winner's row.
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
    let txn = yizhan_kit::db::begin_write(db).await?;
    if catalog_version::Entity::find().one(&txn).await?.is_some() {
        return txn.commit().await;
    }
    let content =
        serde_json::to_string(catalog).map_err(|e| DbErr::Custom(format!("catalog JSON: {e}")))?;
    let inserted = catalog_version::Entity::insert(catalog_version::ActiveModel {
        version: Set(catalog.version),
        content: Set(content),
        created_at: Set(Utc::now()),
    })
    .exec(&txn)
    .await;
    match inserted {
        Ok(_) => txn.commit().await,
        Err(e) if yizhan_kit::db::is_unique_violation(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The newest catalog version.
pub async fn latest(db: &DatabaseConnection) -> Result<Catalog, DbErr> {
    let row = catalog_version::Entity::find()
        .order_by_desc(catalog_version::Column::Version)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::Custom("no catalog version stored".into()))?;
    parse(&row)
}

/// One catalog version, if stored.
pub async fn version(db: &DatabaseConnection, version: i32) -> Result<Option<Catalog>, DbErr> {
    match catalog_version::Entity::find_by_id(version).one(db).await? {
        Some(row) => parse(&row).map(Some),
        None => Ok(None),
    }
}

fn parse(row: &catalog_version::Model) -> Result<Catalog, DbErr> {
    serde_json::from_str(&row.content)
        .map_err(|e| DbErr::Custom(format!("catalog version {} unreadable: {e}", row.version)))
}

/// The newest version number (cheap: replicas poll it to pick up catalogs
/// another replica published).
pub async fn latest_version(db: &DatabaseConnection) -> Result<Option<i32>, DbErr> {
    catalog_version::Entity::find()
        .select_only()
        .column_as(catalog_version::Column::Version.max(), "v")
        .into_tuple::<Option<i32>>()
        .one(db)
        .await
        .map(Option::flatten)
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
) -> Result<Catalog, StoreError> {
    let problems = catalog.problems();
    if !problems.is_empty() {
        return Err(StoreError::State(Problem::validation(problems)));
    }
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_kit::db::lock_key(&txn, "licensing-catalog").await?;
    let latest: Option<i32> = catalog_version::Entity::find()
        .select_only()
        .column_as(catalog_version::Column::Version.max(), "v")
        .into_tuple::<Option<i32>>()
        .one(&txn)
        .await?
        .flatten();
    let next = latest.unwrap_or(0) + 1;
    if catalog.version != next {
        return Err(StoreError::State(Problem::conflict(
            "catalog_version_conflict",
            format!(
                "目录当前版本为 {}，新版本号须为 {next}（提交的是 {}）；请在最新版本上修改后再发布",
                next - 1,
                catalog.version
            ),
        )));
    }
    let content =
        serde_json::to_string(&catalog).map_err(|e| DbErr::Custom(format!("catalog JSON: {e}")))?;
    let now = Utc::now();
    catalog_version::Entity::insert(catalog_version::ActiveModel {
        version: Set(catalog.version),
        content: Set(content),
        created_at: Set(now),
    })
    .exec(&txn)
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &CatalogPublished {
            version: catalog.version,
            scenario_codes: catalog.scenarios.iter().map(|s| s.code.clone()).collect(),
            item_codes: catalog.items.iter().map(|i| i.code.clone()).collect(),
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(catalog)
}
