//! Who handles which material, from the approval services' facts as
//! received by event: a case (a licensing application, a construction
//! stage application) references materials (`ApplicationSubmitted`,
//! `ApplicationResubmitted`, `StageApplicationSubmitted`, and later
//! supplements and owed 容缺 materials) and has tasks in departments
//! (`TaskCreated`, construction's `created` task changes). Window clerks
//! may read any material some case references; a department's reviewers
//! those of cases with a task in their department.

use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sea_orm_migration::prelude::*;

/// The `material_references` table: (material, application referencing it).
pub mod material_reference {
    use sea_orm::entity::prelude::*;

    /// One material referenced by one application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "material_references")]
    pub struct Model {
        /// Material id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub material_id: String,
        /// Licensing application id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `application_departments` table: (application, department with a task in it).
pub mod application_department {
    use sea_orm::entity::prelude::*;

    /// One department handling a task of one application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "application_departments")]
    pub struct Model {
        /// Licensing application id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub application_id: String,
        /// Reviewing department code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub department_code: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Records the materials an application references, replacing what an
/// earlier (pre-correction) submission recorded.
pub async fn set_application_materials(
    db: &impl ConnectionTrait,
    application_id: &str,
    material_ids: &[String],
) -> Result<(), DbErr> {
    material_reference::Entity::delete_many()
        .filter(material_reference::Column::ApplicationId.eq(application_id))
        .exec(db)
        .await?;
    add_application_materials(db, application_id, material_ids).await
}

/// Adds materials a case references later (a 补正 answer, owed 容缺
/// materials), keeping what it referenced before.
pub async fn add_application_materials(
    db: &impl ConnectionTrait,
    application_id: &str,
    material_ids: &[String],
) -> Result<(), DbErr> {
    let mut insert = Query::insert();
    insert
        .into_table(material_reference::Entity)
        .columns([
            material_reference::Column::MaterialId,
            material_reference::Column::ApplicationId,
        ])
        .on_conflict(
            OnConflict::columns([
                material_reference::Column::MaterialId,
                material_reference::Column::ApplicationId,
            ])
            .do_nothing()
            .to_owned(),
        );
    for id in material_ids {
        insert.values_panic([id.clone().into(), application_id.into()]);
    }
    if !material_ids.is_empty() {
        db.execute(&insert).await?;
    }
    Ok(())
}

/// Records that `department_code` has a task in the application.
pub async fn add_application_department(
    db: &impl ConnectionTrait,
    application_id: &str,
    department_code: &str,
) -> Result<(), DbErr> {
    let insert = Query::insert()
        .into_table(application_department::Entity)
        .columns([
            application_department::Column::ApplicationId,
            application_department::Column::DepartmentCode,
        ])
        .values_panic([application_id.into(), department_code.into()])
        .on_conflict(
            OnConflict::columns([
                application_department::Column::ApplicationId,
                application_department::Column::DepartmentCode,
            ])
            .do_nothing()
            .to_owned(),
        )
        .to_owned();
    db.execute(&insert).await.map(|_| ())
}

/// The applications referencing a material.
async fn applications_of(
    db: &impl ConnectionTrait,
    material_id: &str,
) -> Result<Vec<String>, DbErr> {
    material_reference::Entity::find()
        .select_only()
        .column(material_reference::Column::ApplicationId)
        .filter(material_reference::Column::MaterialId.eq(material_id))
        .into_tuple::<String>()
        .all(db)
        .await
}

/// Whether some application references the material (window clerks' grant).
pub async fn is_referenced(db: &impl ConnectionTrait, material_id: &str) -> Result<bool, DbErr> {
    Ok(!applications_of(db, material_id).await?.is_empty())
}

/// Whether an application referencing the material has a task in
/// `department_code` (that department's reviewers' grant).
pub async fn is_handled_by(
    db: &impl ConnectionTrait,
    material_id: &str,
    department_code: &str,
) -> Result<bool, DbErr> {
    let applications = applications_of(db, material_id).await?;
    if applications.is_empty() {
        return Ok(false);
    }
    let found = application_department::Entity::find()
        .filter(application_department::Column::ApplicationId.is_in(applications))
        .filter(application_department::Column::DepartmentCode.eq(department_code))
        .one(db)
        .await?;
    Ok(found.is_some())
}

/// Creates the grant tables.
pub struct CreateGrants;

impl MigrationName for CreateGrants {
    fn name(&self) -> &str {
        "m0300_create_material_grants"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateGrants {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("material_references")
                    .if_not_exists()
                    .col(string("material_id"))
                    .col(string("application_id"))
                    .primary_key(Index::create().col("material_id").col("application_id"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("material_references_application")
                    .table("material_references")
                    .col("application_id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("application_departments")
                    .if_not_exists()
                    .col(string("application_id"))
                    .col(string("department_code"))
                    .primary_key(Index::create().col("application_id").col("department_code"))
                    .to_owned(),
            )
            .await
    }
}
