//! What a token change tells the ingest processes through Redis: the cached entry each leaves
//! behind, and the event each publishes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use futures_util::StreamExt;
use lifeline_domain::{HeartbeatId, TeamId};
use lifeline_store::tokens::{self, TokenTarget};
use lifeline_store::{RedisKeys, redis_conn};
use lifeline_testkit::TestDb;

fn hex(hash: &[u8; 32]) -> String {
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_rotation_buries_the_old_token_forgets_the_new_one_and_announces_both() {
    let db = TestDb::new().await;
    let keys = RedisKeys::new(db.settings.redis_prefix.clone());
    let mut redis = redis_conn::connect(&db.settings).unwrap();
    let (old, new) = ([1u8; 32], [2u8; 32]);
    let target = TokenTarget {
        heartbeat: HeartbeatId::new(),
        team: TeamId::new(),
    };
    // What caches could hold before: the old token's heartbeat, the new token unknown.
    tokens::fill_cache(&mut redis, &keys, &old, Some(target))
        .await
        .unwrap();
    tokens::fill_cache(&mut redis, &keys, &new, None)
        .await
        .unwrap();
    let mut events = redis_conn::client(&db.settings)
        .unwrap()
        .get_async_pubsub()
        .await
        .unwrap();
    events.subscribe(keys.token_events()).await.unwrap();

    tokens::announce_rotated(&mut redis, &keys, &old, &new)
        .await
        .unwrap();

    assert_eq!(
        tokens::cached(&mut redis, &keys, &old).await.unwrap(),
        Some(None),
        "the old token is known absent"
    );
    assert_eq!(
        tokens::cached(&mut redis, &keys, &new).await.unwrap(),
        None,
        "the new token is no longer remembered as unknown"
    );
    let mut announced = Vec::new();
    let mut stream = events.on_message();
    for _ in 0..2 {
        let message = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .expect("both tokens are announced")
            .unwrap();
        announced.push(message.get_payload::<String>().unwrap());
    }
    assert_eq!(announced, [hex(&old), hex(&new)]);
}
