//! Catalog persistence: versions are written whole and never changed, so an
//! application that names a version always sees the catalog it was made on.

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr, EntityTrait, QueryOrder, Set};

use super::entities::catalog_version;
use crate::domain::catalog::Catalog;

/// Seeds `catalog` as version 1 when no version exists. Safe to run at
/// every start and from several replicas at once: a replica that loses the
/// insert race sees the winner's row.
pub async fn ensure_seeded(db: &DatabaseConnection, catalog: &Catalog) -> Result<(), DbErr> {
    let problems = catalog.problems();
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!(
            "seed catalog is inconsistent: {}",
            problems.join("; ")
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
