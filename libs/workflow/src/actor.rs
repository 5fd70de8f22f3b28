//! Who acts: the person (or the service itself) a timeline entry and an
//! event record.

pub use yizhan_events::contracts::Actor;

/// The service itself, for automatic steps (cascades, jobs, answers from
/// other services).
pub fn system(service: &str) -> Actor {
    Actor {
        sub: service.to_owned(),
        role: "system".into(),
    }
}
