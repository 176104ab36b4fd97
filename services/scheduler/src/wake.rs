//! Listens for wake-ups on Redis (`{prefix}wake`) and pokes the loops. Lost wake-ups only cost
//! the loops' fallback poll, so errors are retried quietly.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lifeline_store::{RedisKeys, wake};
use tokio::sync::Notify;

pub(crate) async fn listen(
    client: redis::Client,
    keys: RedisKeys,
    deadlines: Arc<Notify>,
    deliveries: Arc<Notify>,
) {
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => {
                if let Err(e) = pubsub.subscribe(keys.wake()).await {
                    tracing::debug!(error = %e, "cannot subscribe to wake-ups");
                } else {
                    // Anything may have happened while we were not listening.
                    deadlines.notify_one();
                    deliveries.notify_one();
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let text: String = message.get_payload().unwrap_or_default();
                        let woken = wake::parse(&text);
                        if woken.deadlines {
                            deadlines.notify_one();
                        }
                        if woken.deliveries {
                            deliveries.notify_one();
                        }
                    }
                }
            }
            Err(e) => tracing::debug!(error = %e, "cannot connect for wake-ups"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
