//! The dispatch rule set (派单规则), replaced whole by an admin.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, IntoActiveModel};

use super::requests::{Error, dispatch_rule};
use crate::domain::dispatch::DispatchRules;
use crate::domain::requests::Category;

/// One category's route as given: department code, its name, limit.
#[derive(Debug, Clone)]
pub struct RouteInput {
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// Working days to answer.
    pub answer_limit_days: i32,
}

/// The stored rules in category order (empty before an admin set them).
pub async fn rules(db: &impl ConnectionTrait) -> Result<Vec<dispatch_rule::Model>, DbErr> {
    let mut all = dispatch_rule::Entity::find().all(db).await?;
    all.sort_by_key(|r| Category::from_code(&r.category));
    Ok(all)
}

/// Checks `routes` whole (`domain::dispatch`) and replaces the stored set.
pub async fn replace(
    db: &DatabaseConnection,
    routes: &BTreeMap<String, RouteInput>,
    by: &str,
    now: DateTime<Utc>,
) -> Result<Vec<dispatch_rule::Model>, Error> {
    let plain = routes
        .iter()
        .map(|(k, r)| (k.clone(), (r.department_code.clone(), r.answer_limit_days)))
        .collect();
    DispatchRules::new(&plain).map_err(|e| Error::field(e.field, "invalid_rule", e.message))?;
    if let Some((code, _)) = routes
        .iter()
        .find(|(_, r)| r.department_name.trim().is_empty())
    {
        return Err(Error::field(
            format!("routes.{code}.department_name"),
            "required",
            "请填写承办部门名称",
        ));
    }
    let txn = yizhan_kit::db::begin_write(db).await?;
    dispatch_rule::Entity::delete_many().exec(&txn).await?;
    for (category, r) in routes {
        dispatch_rule::Entity::insert(
            dispatch_rule::Model {
                category: category.clone(),
                department_code: r.department_code.clone(),
                department_name: r.department_name.trim().to_owned(),
                answer_limit_days: r.answer_limit_days,
                updated_by: by.to_owned(),
                updated_at: now,
            }
            .into_active_model(),
        )
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(rules(db).await?)
}
