//! Examples for the OpenAPI document: answers recorded from a hotel flow
//! (一业一证开办酒店) against the running stack, ids and times included,
//! trimmed to a few entries each. Real answers keep the examples valid
//! against the schemas and realistic; the files are JSON so they stay
//! readable. The root crate's example check refuses a missing or `null`
//! example.

use serde_json::Value;
use yizhan_kit::openapi::example;

/// An application accepted into parallel review (`ApplicationView`).
pub fn application() -> Value {
    example(include_str!("examples/application.json"))
}

/// An application in a list (`ApplicationSummary`).
pub fn application_summary() -> Value {
    example(include_str!("examples/application_summary.json"))
}

/// An approved task (`TaskView`).
pub fn task() -> Value {
    example(include_str!("examples/task.json"))
}

/// A catalog cut down to the hotel scenario and two of its items
/// (`Catalog`, read and published).
pub fn catalog() -> Value {
    example(include_str!("examples/catalog.json"))
}

/// The one-time notice for a hotel, two items shown (`Notice`).
pub fn notice() -> Value {
    example(include_str!("examples/notice.json"))
}

/// The scenarios on offer (`ScenarioList`).
pub fn scenario_list() -> Value {
    example(include_str!("examples/scenario_list.json"))
}

/// The hotel scenario with its questionnaire (`ScenarioDetail`).
pub fn scenario() -> Value {
    example(include_str!("examples/scenario.json"))
}

/// Timeliness figures of a day with one bundle concluded (`Statistics`).
pub fn statistics() -> Value {
    example(include_str!("examples/statistics.json"))
}
