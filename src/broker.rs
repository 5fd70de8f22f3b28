//! `yizhan broker` and the `yizhan serve` processes that use it: the
//! address file they share, written atomically, and a service following
//! the broker across its restarts (an embedded broker comes back empty, on
//! a new port).

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio_util::sync::CancellationToken;

use crate::{Broker, Service, Stack, StackSettings};

/// File where `yizhan broker` records its address for `yizhan serve`.
pub fn broker_address_file(data_dir: &Path) -> PathBuf {
    data_dir.join("broker.addr")
}

/// Writes the embedded broker's address for `yizhan serve` processes:
/// to a temporary file renamed over the old one, so a reader sees the old
/// address or the new one, never an empty or half-written file.
pub fn write_broker_address(file: &Path, address: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let dir = file.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".broker.addr.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(address.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, file).with_context(|| format!("cannot replace {}", file.display()))?;
    Ok(())
}

/// Reads the address `yizhan broker` recorded. Missing or empty is an
/// error: a service must not run with no broker at all.
pub fn read_broker_address(file: &Path) -> anyhow::Result<String> {
    let address = std::fs::read_to_string(file).with_context(|| {
        format!(
            "no broker: set KAFKA_BROKERS, or start `yizhan broker` first (it writes {})",
            file.display()
        )
    })?;
    let address = address.trim();
    if address.is_empty() {
        anyhow::bail!(
            "{} is empty: `yizhan broker` is not running (or did not finish starting)",
            file.display()
        );
    }
    Ok(address.to_owned())
}

/// How often a `serve` process looks at `broker.addr` for a moved broker.
/// A file read a second is nothing, and a second is well inside the time
/// a restarted broker takes to matter; a file-watch crate would add a
/// dependency for the same effect.
const BROKER_FOLLOW_INTERVAL: Duration = Duration::from_secs(1);

/// Runs `service` on the embedded broker that `yizhan broker` records in
/// `file`, following it: when the file names a new address (the broker
/// restarted, empty, on a new port), the service's parts stop gracefully
/// and start again on the new broker inside this process, and the new
/// broker is given the retained outbox. Ends when `cancel` does.
pub async fn serve_following_broker(
    service: Service,
    settings: &StackSettings,
    file: &Path,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let mut address = read_broker_address(file)?;
    loop {
        let run = cancel.child_token();
        let stack = Stack::start_with(
            &[service],
            settings,
            Broker::Shared(address.clone()),
            run.clone(),
        )
        .await?;
        tracing::info!(
            service = service.name(),
            port = stack.port(service),
            broker = %address,
            "service started"
        );
        let mut waiter = tokio::spawn(stack.wait());
        let moved_to = loop {
            tokio::select! {
                stopped = &mut waiter => return stopped?,
                _ = tokio::time::sleep(BROKER_FOLLOW_INTERVAL) => {
                    // Missing (the broker stopped and removed it) or empty:
                    // keep going until a broker announces itself.
                    if let Ok(now) = read_broker_address(file)
                        && now != address
                    {
                        break now;
                    }
                }
            }
        };
        tracing::info!(
            service = service.name(),
            from = %address,
            to = %moved_to,
            "the broker moved: restarting the service's parts on it"
        );
        run.cancel();
        waiter.await??;
        address = moved_to;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_address_is_replaced_whole_and_an_empty_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = broker_address_file(dir.path());
        assert!(read_broker_address(&file).is_err(), "missing");
        write_broker_address(&file, "127.0.0.1:1111").unwrap();
        write_broker_address(&file, "127.0.0.1:2222").unwrap();
        assert_eq!(read_broker_address(&file).unwrap(), "127.0.0.1:2222");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("broker.addr")],
            "no temp left"
        );
        std::fs::write(&file, "  \n").unwrap();
        let err = read_broker_address(&file).unwrap_err().to_string();
        assert!(err.contains("empty"), "{err}");
    }
}
