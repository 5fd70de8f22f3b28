//! Who is waiting for news of a subject (an application, a project): a
//! waiting `GET` registers the subject, the relay of the same process says
//! which subjects it is about to publish events of, and the waiters wake.
//!
//! Every state change of a subject commits an event keyed by the subject
//! (the outbox), so "an event of it was committed" is "it changed". The
//! relay reads only committed rows, so a waiter woken by it reads the new
//! state. Only the relay of this process tells: a replica whose relay did
//! not publish the row hears nothing, so waiters also look again on their
//! own every few seconds (see the caller).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::Notify;

/// The subjects someone waits for, each with the [`Notify`] its waiters
/// share. Cheap to clone; every clone is the same registry.
#[derive(Clone, Default)]
pub struct SubjectWatch {
    waiting: Arc<Mutex<HashMap<String, Waiters>>>,
    /// Set when the process stops: nobody should wait any more.
    closed: Arc<AtomicBool>,
}

struct Waiters {
    notify: Arc<Notify>,
    count: usize,
}

impl SubjectWatch {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers interest in `subject` until the returned guard is dropped.
    pub fn watch(&self, subject: &str) -> Watching {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = waiting
            .entry(subject.to_owned())
            .or_insert_with(|| Waiters {
                notify: Arc::new(Notify::new()),
                count: 0,
            });
        entry.count += 1;
        Watching {
            watch: self.clone(),
            subject: subject.to_owned(),
            notify: entry.notify.clone(),
        }
    }

    /// Wakes everyone waiting for one of `subjects`.
    pub fn changed<'a>(&self, subjects: impl IntoIterator<Item = &'a str>) {
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        if waiting.is_empty() {
            return;
        }
        for subject in subjects {
            if let Some(w) = waiting.get(subject) {
                w.notify.notify_waiters();
            }
        }
    }

    /// The process is stopping: every waiter is woken now, and
    /// [`SubjectWatch::is_closed`] tells later ones not to wait, so the
    /// HTTP server's drain is not held up by waiting reads.
    pub fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        for w in waiting.values() {
            w.notify.notify_waiters();
        }
    }

    /// Whether [`SubjectWatch::close`] was called.
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// How many subjects are watched (for tests and gauges).
    pub fn watched(&self) -> usize {
        self.waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// Interest in one subject; dropping it withdraws the interest.
pub struct Watching {
    watch: SubjectWatch,
    subject: String,
    notify: Arc<Notify>,
}

impl Watching {
    /// The subject's [`Notify`]. Create and `enable` a `notified()` future
    /// before reading the subject's state, then await it: a change
    /// announced in between is not missed.
    pub fn notify(&self) -> &Notify {
        &self.notify
    }
}

impl Drop for Watching {
    fn drop(&mut self) {
        let mut waiting = self
            .watch
            .waiting
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(w) = waiting.get_mut(&self.subject) {
            w.count -= 1;
            if w.count == 0 {
                waiting.remove(&self.subject);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::pin::pin;

    #[tokio::test]
    async fn a_change_announced_after_enabling_wakes_only_its_subjects_waiters() {
        let watch = SubjectWatch::new();
        let a = watch.watch("app-a");
        let b = watch.watch("app-b");
        {
            let mut woken_a = pin!(a.notify().notified());
            woken_a.as_mut().enable();
            let mut woken_b = pin!(b.notify().notified());
            woken_b.as_mut().enable();
            watch.changed(["app-a", "app-c"]);
            // `a` was told; `b` was not.
            tokio::time::timeout(std::time::Duration::from_secs(5), woken_a)
                .await
                .expect("the waiter of app-a is woken");
            assert!(futures_util::FutureExt::now_or_never(woken_b).is_none());
        }
        assert_eq!(watch.watched(), 2);
        let a2 = watch.watch("app-a");
        drop(a);
        assert_eq!(watch.watched(), 2, "app-a is still watched by a2");
        drop(a2);
        drop(b);
        assert_eq!(watch.watched(), 0);

        // Stopping wakes whoever still waits.
        let c = watch.watch("app-c");
        let mut woken_c = pin!(c.notify().notified());
        woken_c.as_mut().enable();
        assert!(!watch.is_closed());
        watch.close();
        assert!(watch.is_closed());
        tokio::time::timeout(std::time::Duration::from_secs(5), woken_c)
            .await
            .expect("closing wakes every waiter");
    }
}
