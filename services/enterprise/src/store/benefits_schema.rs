//! Tables of the 一企一档 profile and 免申即享 benefits, and their sea-orm
//! entities.
//!
//! The profile is stored for the matcher: one compact row per enterprise
//! whose `facts` (latest value of each fact) and `licences` (what is held)
//! columns are exactly what [`crate::domain::facts::Profile`] is built
//! from, so matching a policy reads one row per enterprise and no joins;
//! the full record (licence entries, materials, fact history) is a third
//! JSON column only the profile page and the projection read. Measured:
//! docs/BENCHMARKS.md (matching 300,000 stored profiles).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates the profile and benefit tables.
pub struct CreateBenefits;

impl MigrationName for CreateBenefits {
    fn name(&self) -> &str {
        "m0300_create_profile_and_benefits"
    }
}

/// The licensing catalog's items as seeded (`services/licensing/src/seed.rs`).
/// The enterprise service has no catalog of its own and must not call
/// licensing to publish a policy, so it knows items from two sources: this
/// seed (a policy may name an item no enterprise holds yet), and every
/// certificate issue request it consumes, whose items carry their names
/// (construction permits, items of later catalog versions). The stack's
/// tests hold it equal to the licensing seed, so the copy cannot drift.
pub const SEEDED_ITEMS: &[(&str, &str)] = &[
    ("business_licence", "营业执照"),
    ("food_business_permit", "食品经营许可"),
    ("public_health_permit", "公共场所卫生许可"),
    ("special_trade_permit_hotel", "特种行业许可（旅馆业）"),
    (
        "fire_safety_inspection",
        "公众聚集场所投入使用、营业前消防安全检查",
    ),
    ("performance_venue_filing", "演出场所备案"),
    ("drug_retail_licence", "药品经营许可（零售）"),
    ("medical_device_filing", "第二类医疗器械经营备案"),
    ("tobacco_retail_licence", "烟草专卖零售许可"),
    (
        "high_risk_sports_permit",
        "高危险性体育项目经营许可（游泳）",
    ),
    ("entertainment_venue_permit", "娱乐场所经营许可"),
    ("outdoor_sign_permit", "户外招牌设置审批"),
    ("drainage_permit", "城镇污水排入排水管网许可"),
];

#[async_trait::async_trait]
impl MigrationTrait for CreateBenefits {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("enterprise_records")
                    .if_not_exists()
                    .col(string("uscc").primary_key())
                    .col(string_null("name"))
                    .col(text("facts"))
                    .col(text("licences"))
                    .col(text("record"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_items")
                    .if_not_exists()
                    .col(string("code").primary_key())
                    .col(string("name"))
                    .to_owned(),
            )
            .await?;
        let mut seed = Query::insert();
        seed.into_table(Alias::new("benefit_items"))
            .columns([Alias::new("code"), Alias::new("name")]);
        for (code, name) in SEEDED_ITEMS {
            seed.values_panic([(*code).into(), (*name).into()]);
        }
        manager.exec_stmt(seed).await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_policies")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("title"))
                    .col(string("department"))
                    .col(text("eligibility"))
                    .col(text("amount"))
                    .col(big_integer("budget_fen"))
                    .col(big_integer("committed_fen"))
                    .col(date("valid_from"))
                    .col(date("valid_until"))
                    .col(string("published_by"))
                    .col(timestamp_with_time_zone("published_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_candidates")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("policy_id"))
                    .col(string("enterprise_uscc"))
                    .col(string_null("enterprise_name"))
                    .col(string("state"))
                    .col(big_integer_null("amount_fen"))
                    .col(text("reasons"))
                    .col(text_null("note"))
                    .col(string_null("batch_id"))
                    .col(timestamp_with_time_zone("matched_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        // One candidate per policy and enterprise, whatever matches again.
        manager
            .create_index(
                Index::create()
                    .name("benefit_candidates_policy_uscc")
                    .table("benefit_candidates")
                    .col("policy_id")
                    .col("enterprise_uscc")
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("benefit_candidates_uscc")
                    .table("benefit_candidates")
                    .col("enterprise_uscc")
                    .col("id")
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("benefit_batches")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("policy_id"))
                    .col(big_integer("total_fen"))
                    .col(string("state"))
                    .col(string("created_by"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(string_null("paid_by"))
                    .col(timestamp_with_time_zone_null("paid_at"))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }
}

/// `enterprise_records`: one enterprise's 一企一档.
pub mod record {
    use sea_orm::entity::prelude::*;

    /// One enterprise.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_records")]
    pub struct Model {
        /// 统一社会信用代码.
        #[sea_orm(primary_key, auto_increment = false)]
        pub uscc: String,
        /// Registered name, once known.
        pub name: Option<String>,
        /// Latest value of each fact, JSON object keyed by fact.
        #[sea_orm(column_type = "Text")]
        pub facts: String,
        /// Licences held, JSON array of `HeldLicence`.
        #[sea_orm(column_type = "Text")]
        pub licences: String,
        /// The whole record (entries, materials, fact history), JSON.
        #[sea_orm(column_type = "Text")]
        pub record: String,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `benefit_items`: licence items a rule may name, with their names.
pub mod item {
    use sea_orm::entity::prelude::*;

    /// One item.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benefit_items")]
    pub struct Model {
        /// Item code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        /// Chinese name.
        pub name: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `benefit_policies`: published 免申即享 policies.
pub mod policy {
    use sea_orm::entity::prelude::*;

    /// One policy.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benefit_policies")]
    pub struct Model {
        /// Policy id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Title.
        pub title: String,
        /// Responsible department code.
        pub department: String,
        /// Eligibility rule, JSON.
        #[sea_orm(column_type = "Text")]
        pub eligibility: String,
        /// Amount rule, JSON.
        #[sea_orm(column_type = "Text")]
        pub amount: String,
        /// Budget, 分.
        pub budget_fen: i64,
        /// Sum of the batches created so far, 分.
        pub committed_fen: i64,
        /// First day.
        pub valid_from: Date,
        /// Last day.
        pub valid_until: Date,
        /// The admin's `sub`.
        pub published_by: String,
        /// When.
        pub published_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `benefit_candidates`: one enterprise matched by one policy.
pub mod candidate {
    use sea_orm::entity::prelude::*;

    /// One candidate.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benefit_candidates")]
    pub struct Model {
        /// Candidate id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The policy.
        pub policy_id: String,
        /// The enterprise.
        pub enterprise_uscc: String,
        /// Its name when matched.
        pub enterprise_name: Option<String>,
        /// `matched`, `confirmed`, `excluded`, `paid`, `declined`, `objected`.
        pub state: String,
        /// Amount, 分; `None` when its fact is not on file.
        pub amount_fen: Option<i64>,
        /// Why it matched, JSON array of Chinese lines.
        #[sea_orm(column_type = "Text")]
        pub reasons: String,
        /// Exclusion, decline or objection reason.
        #[sea_orm(column_type = "Text", nullable)]
        pub note: Option<String>,
        /// The disbursement batch, once confirmed.
        pub batch_id: Option<String>,
        /// When it matched.
        pub matched_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `benefit_batches`: disbursement batches.
pub mod batch {
    use sea_orm::entity::prelude::*;

    /// One batch.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "benefit_batches")]
    pub struct Model {
        /// Batch id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The policy.
        pub policy_id: String,
        /// Sum of its amounts, 分.
        pub total_fen: i64,
        /// `confirmed` or `paid`.
        pub state: String,
        /// The officer who created it.
        pub created_by: String,
        /// When.
        pub created_at: DateTimeUtc,
        /// Who recorded the payment.
        pub paid_by: Option<String>,
        /// When it was paid.
        pub paid_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
