//! Examples for the OpenAPI document: answers recorded from a small
//! low-risk warehouse project (立项用地规划许可 stage) against the running
//! stack, ids and times included, trimmed to a few entries each. Real
//! answers keep the examples valid against the schemas and realistic; the
//! files are JSON so they stay readable. The root crate's example check
//! refuses a missing or `null` example.

use serde_json::Value;
use yizhan_kit::openapi::example;

/// A catalog cut down to two items (`Catalog`).
pub fn catalog() -> Value {
    example(include_str!("examples/catalog.json"))
}

/// A project category and its stages (`CategoryView`).
pub fn category() -> Value {
    example(include_str!("examples/category.json"))
}

/// An answered consultation (`ConsultationView`).
pub fn consultation() -> Value {
    example(include_str!("examples/consultation.json"))
}

/// What a daily run did (`JobReport`).
pub fn job_report() -> Value {
    example(include_str!("examples/job_report.json"))
}

/// A registered project with its first stage in review (`ProjectView`).
pub fn project() -> Value {
    example(include_str!("examples/project.json"))
}

/// A project in a list (`ProjectSummary`).
pub fn project_summary() -> Value {
    example(include_str!("examples/project_summary.json"))
}

/// A stage application in parallel review (`StageView`).
pub fn stage() -> Value {
    example(include_str!("examples/stage.json"))
}

/// A stage application in a list (`StageSummary`).
pub fn stage_summary() -> Value {
    example(include_str!("examples/stage_summary.json"))
}

/// The merged form of a stage (`StageForm`).
pub fn stage_form() -> Value {
    example(include_str!("examples/stage_form.json"))
}

/// One row of the statistics (`StatisticsRow`).
pub fn statistics_row() -> Value {
    example(include_str!("examples/statistics_row.json"))
}

/// An approved task (`TaskView`).
pub fn task() -> Value {
    example(include_str!("examples/task.json"))
}

/// A joint inspection one department failed (`InspectionView`); written by
/// hand in the shape of a recorded one, as the recorded flow stops before
/// the completion stage.
pub fn inspection() -> Value {
    example(include_str!("examples/inspection.json"))
}

/// Timeliness of a month's decisions (`Timeliness`).
pub fn timeliness() -> Value {
    example(include_str!("examples/timeliness.json"))
}
