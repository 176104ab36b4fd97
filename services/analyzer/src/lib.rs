//! The analyzer: trains AI heartbeats' models on a schedule ([`learning`]) and replays a
//! history offline exactly as the live service would ([`replay`]).

pub mod learning;
pub mod replay;
