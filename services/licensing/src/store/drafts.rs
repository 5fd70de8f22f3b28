//! 草稿 persistence: one row per enterprise and scenario, written whole on
//! every save (the last save wins), deleted when the application is filed.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use serde_json::{Map, Value};

use super::entities::draft;

/// A draft as saved and read.
#[derive(Debug, Clone)]
pub struct Draft {
    /// The enterprise it is for.
    pub enterprise_uscc: String,
    /// 情形编码.
    pub scenario_code: String,
    /// Questionnaire answers.
    pub answers: Map<String, Value>,
    /// Form values so far.
    pub form: Map<String, Value>,
    /// Material code → material id so far.
    pub materials: Map<String, Value>,
    /// Who saved it last (`sub`).
    pub saved_by: String,
    /// Last saved.
    pub updated_at: DateTime<Utc>,
}

fn object(text: &str) -> Map<String, Value> {
    serde_json::from_str(text).unwrap_or_default()
}

impl From<draft::Model> for Draft {
    fn from(row: draft::Model) -> Self {
        Self {
            answers: object(&row.answers),
            form: object(&row.form),
            materials: object(&row.materials),
            enterprise_uscc: row.enterprise_uscc,
            scenario_code: row.scenario_code,
            saved_by: row.saved_by,
            updated_at: row.updated_at,
        }
    }
}

/// Saves `draft` over any earlier one of its enterprise and scenario.
pub async fn save(db: &impl ConnectionTrait, draft: &Draft) -> Result<(), DbErr> {
    let row = draft::ActiveModel {
        enterprise_uscc: Set(draft.enterprise_uscc.clone()),
        scenario_code: Set(draft.scenario_code.clone()),
        answers: Set(super::json(&draft.answers)),
        form: Set(super::json(&draft.form)),
        materials: Set(super::json(&draft.materials)),
        saved_by: Set(draft.saved_by.clone()),
        updated_at: Set(draft.updated_at),
    };
    draft::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([draft::Column::EnterpriseUscc, draft::Column::ScenarioCode])
                .update_columns([
                    draft::Column::Answers,
                    draft::Column::Form,
                    draft::Column::Materials,
                    draft::Column::SavedBy,
                    draft::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await
        .map(|_| ())
}

/// The draft of `enterprise` for `scenario`, if saved.
pub async fn find(
    db: &impl ConnectionTrait,
    enterprise: &str,
    scenario: &str,
) -> Result<Option<Draft>, DbErr> {
    Ok(
        draft::Entity::find_by_id((enterprise.to_owned(), scenario.to_owned()))
            .one(db)
            .await?
            .map(Draft::from),
    )
}

/// The drafts of `enterprises`, last saved first.
pub async fn list(db: &impl ConnectionTrait, enterprises: &[String]) -> Result<Vec<Draft>, DbErr> {
    Ok(draft::Entity::find()
        .filter(draft::Column::EnterpriseUscc.is_in(enterprises.iter().cloned()))
        .order_by_desc(draft::Column::UpdatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(Draft::from)
        .collect())
}

/// Deletes the draft of `enterprise` for `scenario` (nothing when there
/// is none).
pub async fn delete(
    db: &impl ConnectionTrait,
    enterprise: &str,
    scenario: &str,
) -> Result<(), DbErr> {
    draft::Entity::delete_by_id((enterprise.to_owned(), scenario.to_owned()))
        .exec(db)
        .await
        .map(|_| ())
}
