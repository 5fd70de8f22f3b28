//! Catalog versions: written whole, never changed, so a stage application
//! naming a version always sees the catalog it was made on (storage:
//! `yizhan_workflow::catalogs`).

use sea_orm::{DatabaseConnection, DbErr};
use yizhan_workflow::catalogs;

use crate::domain::catalog::Catalog;

/// Stores `seed` as the first version unless a version exists, and answers
/// the newest. Both are checked: a seed or a stored catalog with dangling
/// references or a material code that is not (or no longer) a material
/// type is refused, so the service does not start on it.
pub async fn publish_seed(db: &DatabaseConnection, seed: &Catalog) -> Result<Catalog, DbErr> {
    let problems = seed.problems();
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!(
            "construction seed catalog: {}",
            problems.join("; ")
        )));
    }
    catalogs::seed(db, seed.version, seed).await?;
    let found: Catalog = catalogs::newest(db)
        .await?
        .ok_or_else(|| DbErr::Custom("no construction catalog stored".into()))?;
    let problems = found.problems();
    if !problems.is_empty() {
        return Err(DbErr::Custom(format!(
            "construction catalog v{} cannot be used: {}",
            found.version,
            problems.join("; ")
        )));
    }
    Ok(found)
}

/// One stored version.
pub async fn version(db: &DatabaseConnection, version: i32) -> Result<Option<Catalog>, DbErr> {
    catalogs::version(db, version).await
}
